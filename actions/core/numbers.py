"""Chinese numerals and amounts as managers type them (一万五, 十五万, 2.5万, 3k, 七五折, 两成)."""

from __future__ import annotations

import re

_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_SMALL_UNITS = {"十": 10, "百": 100, "千": 1000}
_BIG_UNITS = {"万": 10_000, "亿": 100_000_000}
CN_NUMBER = r"[零〇一二两三四五六七八九十百千]+"
_TOKEN = re.compile(r"\d+(?:\.\d+)?|[零〇一二两三四五六七八九]|[十百千万亿]")
# A number, then optionally a money unit. The characters after it decide whether it is money.
_MONEY = re.compile(
    r"(?<![\d.])((?:\d+(?:\.\d+)?|[零〇一二两三四五六七八九十百千])(?:\d+(?:\.\d+)?|[零〇一二两三四五六七八九十百千万亿])*)"
    r"\s*(万元|万块|万|千元|千块|千|元|块钱|块|k|w|rmb)?",
    re.IGNORECASE,
)
_NOT_MONEY_AFTER = re.compile(r"^\s*(折|%|个点|个百分点|号|日|月|天|周|年|点|条|线|路|台|个|人|家|次|倍|成|岁|小时|分钟|G|M|兆|期|楼|层|号线|户|部|套|栋|间|张|米|公里)")


def cn_to_int(text: str) -> int | None:
    """十五 → 15, 二十 → 20, 三百零五 → 305, 15 → 15."""
    value = cn_number(text)
    return int(value) if value is not None and value == int(value) else None


def cn_number(text: str) -> float | None:
    """A number written in digits, Chinese numerals or both, as spoken: 一万五 → 15000 (the digit after a
    unit is one unit lower), 三千二 → 3200, 十五万 → 150000, 2万5 → 25000, 1.5万 → 15000, 一万零五 → 10005."""
    text = (text or "").strip()
    if not text:
        return None
    if re.fullmatch(r"\d+(?:\.\d+)?", text):
        return float(text)
    tokens = _TOKEN.findall(text)
    if "".join(tokens) != text:
        return None
    total, section = 0.0, 0.0
    current: float | None = None
    last_unit = 1  # the unit just before the current digit (for 一万五, 三千二)
    for tok in tokens:
        if tok in _SMALL_UNITS:
            section += (current if current is not None else 1) * _SMALL_UNITS[tok]
            current, last_unit = None, _SMALL_UNITS[tok]
        elif tok in _BIG_UNITS:
            section += current or 0
            total = (total + section) * _BIG_UNITS[tok] if tok == "亿" else total + section * _BIG_UNITS[tok]
            section, current, last_unit = 0.0, None, _BIG_UNITS[tok]
        else:
            value = float(tok) if tok[0].isdigit() else float(_DIGITS[tok])
            if tok in ("零", "〇"):
                last_unit = 1
                continue
            if current is not None:  # 二五 (not a spoken number)
                return None
            current = value
    if current is not None:
        if last_unit >= 100 and current < 10 and current == int(current):
            section += current * last_unit / 10  # 一万五 = 15000, 三千二 = 3200, 两百五 = 250
        else:
            section += current
    return total + section


def amount_yuan(text: str) -> float | None:
    """The first money amount in the text, in yuan: 一万五 → 15000, 2.5万 → 25000, 8000元 → 8000,
    3k → 3000. Counts, dates, discounts and percentages are not money."""
    for m in _MONEY.finditer(text or ""):
        raw, unit = m.group(1), (m.group(2) or "").lower()
        after = text[m.end() :]
        if not unit and _NOT_MONEY_AFTER.match(after):
            if len(raw) > 2 and raw[-2] in "万千" and raw[-1] in _DIGITS:
                raw = raw[:-1]  # 三万一个月: 三万, then 一个月
            else:
                continue
        value = cn_number(raw)
        if value is None:
            continue
        if unit.startswith("万") or unit == "w":
            value *= 10_000
        elif unit.startswith("千") or unit == "k":
            value *= 1000
        elif not unit and not any(u in raw for u in "万千亿") and value < 1000:
            continue  # a bare small number is not an amount
        return value
    return None


def discount_pct(text: str) -> float | None:
    """Discount off list price in percent: 八折 → 20, 七五折/75折/7.5折 → 25, 九五折 → 5, 降价15% → 15,
    优惠十个点 → 10, 便宜两成 → 20, 对折/半价 → 50."""
    text = text or ""
    m = re.search(r"(\d{1,2}(?:\.\d)?)\s*折", text)
    if m:
        value = float(m.group(1))
        rate = value / 10 if value < 10 else value / 100
        return round((1 - rate) * 100, 1) if 0 < rate < 1 else None
    m = re.search(r"([一二两三四五六七八九])(?:点)?([一二三四五六七八九])?\s*折", text)
    if m:
        rate = _DIGITS[m.group(1)] / 10 + (_DIGITS[m.group(2)] / 100 if m.group(2) else 0)
        return round((1 - rate) * 100, 1)
    if re.search(r"对折|半价|五折", text):
        return 50.0
    m = re.search(rf"(?:降|优惠|便宜|让|打掉|少|减|折扣)\D{{0,4}}?(\d{{1,2}}(?:\.\d+)?|{CN_NUMBER})\s*(?:%|个点|个百分点|点)", text)
    if m:
        value = cn_number(m.group(1))
        return float(value) if value else None
    m = re.search(r"(?:降|优惠|便宜|让利|让|折扣|少收|减免|打掉)\D{0,4}?(\d{1,2}(?:\.\d+)?)\s*%", text)
    if m:
        return float(m.group(1))
    m = re.search(rf"({CN_NUMBER}|\d)\s*成", text)
    if m and re.search(r"低|便宜|降|优惠|让|少", text):
        n = cn_to_int(m.group(1))
        return float(n * 10) if n else None
    return None
