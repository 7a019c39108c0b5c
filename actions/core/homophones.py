"""Words typed with the wrong character of the same sound (云卓面 for 云桌面, 视屏会议 for 视频会议).

Pinyin input methods offer every character of a syllable; a tired thumb picks the neighbour. A
phrase of three or more Chinese characters whose syllables match the text's, tone ignored, is that
phrase; the fuzzy sounds input methods allow (zh/z, ch/c, sh/s, -ng/-n) count as the same. Shorter
phrases are left alone (专线 and 转线 are both words).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache

from actions.core.pinyin import syllables

MIN_CHARS = 3
_CJK = re.compile(r"^[\u4e00-\u9fff]+$")


@lru_cache(maxsize=4096)
def _syllable(ch: str) -> str:
    """The syllable with the input methods' fuzzy sounds folded (zh/z, ch/c, sh/s, -ng/-n): 视屏 = 视频."""
    s = _plain(ch)
    s = re.sub(r"^([zcs])h", r"\1", s)
    return re.sub(r"ng$", "n", s)


def find(text: str, phrases: Iterable[str]) -> list[tuple[str, int, int]]:
    """(phrase, start, end) for each phrase written in the text with same-sounding characters."""
    sounds = [_syllable(ch) for ch in text]
    index: dict[tuple[str, ...], str] = {}
    for phrase in phrases:
        if len(phrase) >= MIN_CHARS and _CJK.match(phrase):
            index.setdefault(tuple(_syllable(ch) for ch in phrase), phrase)
    if not index:
        return []
    lengths = sorted({len(k) for k in index}, reverse=True)
    found: list[tuple[str, int, int]] = []
    i = 0
    while i < len(text):
        for n in lengths:
            key = tuple(sounds[i : i + n])
            if len(key) == n and "" not in key and key in index:
                found.append((index[key], i, i + n))
                i += n - 1
                break
        i += 1
    return found


def _plain(ch: str) -> str:
    """The character's most common reading ("" for a non-Chinese one), from actions.core.pinyin's cache."""
    readings = syllables(ch)
    return readings[0] if readings else ""


def sound_key(text: str) -> str:
    """How a Chinese word sounds, for finding a name typed with the wrong character (华刚 for 华钢):
    exact syllables for two characters, the input methods' fuzzy ones for three or more; "" when the
    text is not all Chinese."""
    if not _CJK.match(text or ""):
        return ""
    if len(text) == 2:
        return "=" + "|".join(_plain(ch) for ch in text)
    return "|".join(_syllable(ch) for ch in text)
