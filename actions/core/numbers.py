"""Chinese numerals and amounts as managers type them (三万, 十五万, 2.5万, 八折, 两成)."""

from __future__ import annotations

import re

_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_UNITS = {"十": 10, "百": 100, "千": 1000}
CN_NUMBER = r"[零〇一二两三四五六七八九十百千]+"


def cn_to_int(text: str) -> int | None:
    """十五 → 15, 二十 → 20, 三百零五 → 305, 15 → 15."""
    text = text.strip()
    if text.isdigit():
        return int(text)
    if not text or any(ch not in _DIGITS and ch not in _UNITS for ch in text):
        return None
    total, current = 0, 0
    for ch in text:
        if ch in _DIGITS:
            current = _DIGITS[ch]
        else:
            total += (current or 1) * _UNITS[ch]
            current = 0
    return total + current


def amount_yuan(text: str) -> float | None:
    """The first money amount in the text, in yuan: 三万 → 30000, 2.5万 → 25000, 8000元 → 8000."""
    m = re.search(rf"(\d+(?:\.\d+)?|{CN_NUMBER})\s*(万|千|元|块)", text)
    if m:
        raw, unit = m.groups()
        number = float(raw) if re.fullmatch(r"\d+(?:\.\d+)?", raw) else cn_to_int(raw)
        if number is None:
            return None
        return float(number) * {"万": 10000, "千": 1000}.get(unit, 1)
    m = re.search(r"\d{4,}", text)
    return float(m.group()) if m else None


def discount_pct(text: str) -> float | None:
    """Discount off list price in percent: 八折 → 20, 八五折/85折 → 15, 九折 → 10, 降价15% → 15."""
    m = re.search(r"(\d{1,2}(?:\.\d)?)\s*折", text)
    if m:
        value = float(m.group(1))
        rate = value / 10 if value < 10 else value / 100
        return round((1 - rate) * 100, 1)
    m = re.search(rf"({CN_NUMBER})\s*折", text)
    if m:
        raw = m.group(1)
        if len(raw) == 2 and all(c in _DIGITS for c in raw):  # 八五折
            rate = _DIGITS[raw[0]] / 10 + _DIGITS[raw[1]] / 100
        else:
            n = cn_to_int(raw)
            if n is None:
                return None
            rate = n / 10 if n < 10 else n / 100
        return round((1 - rate) * 100, 1)
    m = re.search(r"(?:降|优惠|便宜|让|打掉|少)\D{0,3}(\d{1,2}(?:\.\d+)?)\s*(?:%|个点)", text)
    if m:
        return float(m.group(1))
    m = re.search(rf"({CN_NUMBER}|\d)\s*成", text)
    if m and ("低" in text or "便宜" in text or "降" in text or "优惠" in text):
        n = cn_to_int(m.group(1))
        return float(n * 10) if n else None
    return None
