"""`make eval`: score the held-out NLU set and customer resolution; write docs/eval.md.

1. `rasa test nlu` on tests/nlu/ with the current model → intent accuracy, per-intent F1,
   entity F1, confusions.
2. Customer resolution: every held-out utterance that names a customer is resolved, as the action
   does it (whole text, admin view), against the demo CRM plus the imported test customers; the
   result must be the customer the annotation names.
"""

from __future__ import annotations

import csv
import json
import re
import subprocess
import sys
from datetime import date
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "results" / "eval"
TEST_SET = ROOT / "tests" / "nlu"
ANNOTATION = re.compile(r"\[([^\]]+)\]\(customer\)")


def run_rasa_test(model: Path) -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    from actions.ops import rasa_env

    cmd = [sys.executable, "-m", "rasa", "test", "nlu", "--nlu", str(TEST_SET), "--model", str(model),
           "--out", str(OUT), "--quiet"]
    if subprocess.run(cmd, cwd=ROOT, env=rasa_env()).returncode != 0:
        raise SystemExit("错误：rasa test nlu 失败")


def customer_index():
    from actions.core.resolver import CustomerIndex, Entry
    from actions.db.demo import build

    entries = []
    for c in build(customers=60, seed=7)["customers"]:
        entries.append((Entry(c["id"], c["name"], 1, ""), [a for a in c["aliases"].split("|") if a]))
    next_id = 10_000
    with (ROOT / "tests" / "fixtures" / "import_ok" / "customers.csv").open(encoding="utf-8") as fh:
        for r in csv.DictReader(fh):
            next_id += 1
            entries.append((Entry(next_id, r["name"], 1, ""), [a for a in r["aliases"].split("|") if a]))
    with (ROOT / "tests" / "fixtures" / "thresholds.csv").open(encoding="utf-8") as fh:
        for r in csv.DictReader(fh):
            next_id += 1
            entries.append((Entry(next_id, r["name"], 1, ""), [r["alias"]]))
    return CustomerIndex(entries)


def resolution_score() -> tuple[int, int, list[str]]:
    from actions.core.resolver import viewer_filter

    index = customer_index()
    admin = viewer_filter("admin", 0, "")
    total = ok = 0
    misses = []
    for f in sorted(TEST_SET.glob("*.yml")):
        for item in yaml.safe_load(f.read_text(encoding="utf-8"))["nlu"]:
            for line in item.get("examples", "").splitlines():
                line = line.strip()[2:]
                names = ANNOTATION.findall(line)
                if not names:
                    continue
                expected = index.resolve(names[0], admin)
                text = ANNOTATION.sub(r"\1", line)
                got = index.resolve(text, admin)
                total += 1
                if expected.status == "found" and got.status == "found" and got.id == expected.id:
                    ok += 1
                else:
                    misses.append(f"{text} → {got.status} {[index.entries[i].name for i in got.ids]}")
    return ok, total, misses


def main() -> None:
    from actions.ops import ensure_model

    model = ensure_model(quiet=True)
    run_rasa_test(model)
    report = json.loads((OUT / "intent_report.json").read_text(encoding="utf-8"))
    errors = json.loads((OUT / "intent_errors.json").read_text(encoding="utf-8")) if (OUT / "intent_errors.json").exists() else []
    entity_file = OUT / "DIETClassifier_report.json"
    entities = json.loads(entity_file.read_text(encoding="utf-8")) if entity_file.exists() else {}
    ok, total, misses = resolution_score()
    accuracy = report["accuracy"]
    lines = [
        "# NLU evaluation",
        "",
        f"Written by `make eval` on {date.today():%Y-%m-%d} with model `{model.name}` on the held-out set "
        "`tests/nlu/` (written separately from `data/nlu/`; includes imported customers that are in no training data).",
        "",
        "| measure | value | target |",
        "|---|---|---|",
        f"| intent accuracy | {accuracy:.1%} | ≥ 95% |",
        f"| customer resolution | {ok}/{total} = {ok / max(total, 1):.1%} | ≥ 98% |",
    ]
    if entities:
        w = entities.get("weighted avg") or entities.get("micro avg") or {}
        lines.append(f"| entity F1 (DIET, weighted) | {w.get('f1-score', 0):.3f} | — |")
    lines += ["", "## Per intent", "", "| intent | precision | recall | F1 | support |", "|---|---|---|---|---|"]
    for name, r in sorted(report.items()):
        if isinstance(r, dict) and "f1-score" in r and name not in ("micro avg", "macro avg", "weighted avg"):
            lines.append(f"| {name} | {r['precision']:.2f} | {r['recall']:.2f} | {r['f1-score']:.2f} | {r['support']} |")
    if entities:
        lines += ["", "## Entities (DIET)", "", "| entity | precision | recall | F1 | support |", "|---|---|---|---|---|"]
        for name, r in sorted(entities.items()):
            if isinstance(r, dict) and "f1-score" in r and name not in ("micro avg", "macro avg", "weighted avg"):
                lines.append(f"| {name} | {r['precision']:.2f} | {r['recall']:.2f} | {r['f1-score']:.2f} | {r['support']} |")
    lines += ["", "## Confusions", ""]
    if not errors:
        lines.append("None.")
    for e in errors:
        pred = e.get("intent_prediction", {})
        lines.append(f"- 「{e['text']}」 expected `{e['intent']}`, got `{pred.get('name')}` ({pred.get('confidence', 0):.2f})")
    lines += ["", "## Customer resolution misses", ""]
    lines += [f"- {m}" for m in misses] or ["None."]
    (ROOT / "docs" / "eval.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines[:10]))
    print(f"→ docs/eval.md（{len(errors)} 条意图混淆，{len(misses)} 条客户解析未命中）")


if __name__ == "__main__":
    main()
