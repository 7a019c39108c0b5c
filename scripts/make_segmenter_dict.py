"""Write actions/kb/segmenter/dict.txt: jieba's own dictionary cut to words seen at least 50 times.

The note parser's segmenter (spaCy's zh tokenizer over jieba) only needs common words to cut a note
into tokens; products, titles, contacts and customer names are added as words of their own. The
full dictionary (349k words) costs ~76 MiB in the action server; this one (~52k words) ~10 MiB.
Run again after upgrading jieba:  .venv/bin/python scripts/make_segmenter_dict.py
"""

from pathlib import Path

import jieba

MIN_FREQ = 50
SOURCE = Path(jieba.__file__).parent / "dict.txt"
TARGET = Path(__file__).resolve().parents[1] / "actions" / "kb" / "segmenter" / "dict.txt"

kept = [line for line in SOURCE.read_text(encoding="utf-8").splitlines() if int(line.split()[1]) >= MIN_FREQ]
TARGET.write_text("\n".join(kept) + "\n", encoding="utf-8")
print(f"{TARGET}: {len(kept)} words (freq ≥ {MIN_FREQ})")
