"""Pinyin without pypinyin's phrase dictionary (which alone costs ~45 MiB in every process).

pypinyin reads PYPINYIN_NO_PHRASES when it is first imported, so every module of the project takes
pypinyin from here. Without phrases a character gets its most common reading (行 → xing, 长 → zhang);
a name's spellings therefore also use the reading that characters have in the names of places and
organisations (银行 → yinhang, 长江 → changjiang, 重庆 → chongqing), one or two spellings for most
names.
"""

from __future__ import annotations

import itertools
import os
from functools import lru_cache

os.environ.setdefault("PYPINYIN_NO_PHRASES", "true")
os.environ.setdefault("PYPINYIN_NO_DICT_COPY", "true")

from pypinyin import Style, lazy_pinyin, pinyin  # noqa: E402

MAX_SPELLINGS = 8  # spellings kept per name
# The reading a character has in names, where it differs from its most common one.
NAME_READINGS = {
    "行": "hang", "长": "chang", "重": "chong", "厦": "xia", "单": "shan", "曾": "zeng", "解": "xie", "都": "du",
    "六": "lu", "蚌": "beng", "番": "pan", "藏": "zang", "会": "kuai", "乐": "yue", "查": "zha", "区": "ou",
    "莘": "xin", "盛": "cheng", "朝": "zhao", "降": "xiang", "调": "tiao", "传": "zhuan",
}


@lru_cache(maxsize=8192)
def syllables(ch: str) -> tuple[str, ...]:
    """The toneless readings of one character: the most common, then its reading in names if that
    differs ([] for a non-Chinese character)."""
    if not "\u4e00" <= ch <= "\u9fff":
        return ()
    first = lazy_pinyin(ch, errors="ignore")
    if not first:
        return ()
    other = NAME_READINGS.get(ch)
    return (first[0], other) if other and other != first[0] else (first[0],)


def spellings(text: str) -> list[tuple[str, str]]:
    """(full pinyin, initials) for the readings of a Chinese name: 江城银行 → (jiangchengyinxing, jcyx),
    (jiangchengyinhang, jcyh)."""
    choices = [r for r in (syllables(ch) for ch in text) if r]
    out: list[tuple[str, str]] = []
    for combo in itertools.islice(itertools.product(*choices), MAX_SPELLINGS):
        out.append(("".join(combo), "".join(s[0] for s in combo)))
    return out


__all__ = ["Style", "lazy_pinyin", "pinyin", "spellings", "syllables"]
