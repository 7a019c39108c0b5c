"""Pinyin without pypinyin's phrase dictionary (which alone costs ~45 MiB in every process).

pypinyin reads PYPINYIN_NO_PHRASES when it is first imported, so every module of the project takes
pypinyin from here. Without phrases a character gets its most common reading (行 → xing, 长 → zhang);
a name's spellings therefore come from every reading of its polyphonic characters (银行 → yinxing,
yinhang), a handful at most.
"""

from __future__ import annotations

import itertools
import os

os.environ.setdefault("PYPINYIN_NO_PHRASES", "true")
os.environ.setdefault("PYPINYIN_NO_DICT_COPY", "true")

from pypinyin import Style, lazy_pinyin, pinyin  # noqa: E402

MAX_READINGS = 3  # readings tried per character
MAX_SPELLINGS = 16  # spellings kept per name


def syllables(ch: str) -> list[str]:
    """Every toneless reading of one character, the most common first ([] for a non-Chinese one)."""
    if not "\u4e00" <= ch <= "\u9fff":
        return []
    readings = pinyin(ch, style=Style.NORMAL, heteronym=True, errors="ignore")
    return list(dict.fromkeys(readings[0]))[:MAX_READINGS] if readings else []


def spellings(text: str) -> list[tuple[str, str]]:
    """(full pinyin, initials) for the readings of a Chinese name: 江城银行 → (jiangchengyinxing, jcyx),
    (jiangchengyinhang, jcyh)."""
    choices = [r for r in (syllables(ch) for ch in text) if r]
    out: list[tuple[str, str]] = []
    for combo in itertools.islice(itertools.product(*choices), MAX_SPELLINGS):
        out.append(("".join(combo), "".join(s[0] for s in combo)))
    return out


__all__ = ["Style", "lazy_pinyin", "pinyin", "spellings", "syllables"]
