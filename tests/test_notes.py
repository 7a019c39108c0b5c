"""The 40-note extraction set: exact dates, people, products and follow-ups (spaCy + the date reader)."""

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


def test_concurrent_first_use_loads_once(tmp_path):
    """Concurrent first use of the extractor (warm-up thread + requests) loads spaCy once, cleanly.

    The failure this guards against (half-initialised spaCy modules when two threads imported them
    in different orders) was seen in the running action server; it is timing-dependent, so this
    smoke test starts the threads together but cannot force the interleaving. The fix is structural:
    every heavy load goes through actions.core.loading.HEAVY_LOAD_LOCK.
    """
    import subprocess
    import sys
    from pathlib import Path

    code = Path(tmp_path) / "race.py"
    code.write_text(
        "import threading\n"
        "from datetime import date\n"
        "from actions.core import notes\n"
        "errors = []\n"
        "barrier = threading.Barrier(8)\n"
        "def go(fn):\n"
        "    barrier.wait()\n"
        "    try:\n"
        "        fn()\n"
        "    except Exception as e:\n"
        "        errors.append(repr(e))\n"
        "work = [lambda: notes.extract('刚见完周主任 下周三前发报价', date(2026, 11, 22))] * 4 + [notes._nlp] * 4\n"
        "ts = [threading.Thread(target=go, args=(f,)) for f in work]\n"
        "[t.start() for t in ts]; [t.join() for t in ts]\n"
        "print('ERRORS', errors)\n",
        encoding="utf-8",
    )
    out = subprocess.run([sys.executable, str(code)], capture_output=True, text=True, timeout=300,
                         cwd=Path(__file__).resolve().parents[1])
    assert "ERRORS []" in out.stdout, out.stdout[-500:] + out.stderr[-1500:]


def test_next_step_depends_on_the_note_day_not_the_clock():
    # "下周" is a week (no follow-up date) but its clause is still the next step, whatever today is
    assert extract("见了周主任 下周给方案", date(2026, 1, 10)).next_step == "下周给方案"
    assert extract("见了周主任 下周给方案", date(2030, 6, 3)).next_step == "下周给方案"
