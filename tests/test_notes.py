"""The 40-note extraction set: exact dates, people, products and follow-ups (spaCy + jionlp)."""

from datetime import date
from pathlib import Path

import pytest
import yaml

from actions.core.facts import ContactFact
from actions.core.notes import extract
from actions.db.demo import CORE

TODAY = date(2026, 11, 22)
CASES = yaml.safe_load((Path(__file__).parent / "data" / "notes.yml").read_text(encoding="utf-8"))
BY_CODE = {c.code: c for c in CORE}


def test_there_are_forty_cases():
    assert len(CASES) >= 40


@pytest.mark.parametrize("case", CASES, ids=[c["text"][:14] for c in CASES])
def test_note(case):
    spec = BY_CODE[case["customer"]]
    contacts = [ContactFact(n, t, r) for n, t, r, _ in spec.contacts]
    held = [code for code, _, _ in spec.products]
    note = extract(case["text"], TODAY, contacts, held, [spec.name, *spec.aliases])
    assert note.visit_date.isoformat() == str(case["visit_date"])
    assert [p.name for p in note.people] == case["people"]
    assert sorted(note.products) == sorted(case.get("products", []))
    follow = case["follow_up"]
    assert (note.follow_up.isoformat() if note.follow_up else None) == (str(follow) if follow else None)
    for signal in case.get("signals", []):
        assert signal in note.signals
    if "mentioned" in case:
        assert [p.name for p in note.mentioned] == case["mentioned"]
    if "next_step" in case:
        assert note.next_step == case["next_step"]
    assert note.text == case["text"]
