"""Chinese date expressions in visit notes, relative to the message's date.

jionlp parses most expressions (今天, 上周五, 下下周一, 3月5号, 十五号, 下个月初 …); this module adds
what it does not cover (月底, 3.5) and decides direction: a follow-up never lies in the past, so a
bare 5号 or 3月5号 that has passed rolls to next month / next year.
"""

from __future__ import annotations

import calendar
import logging
import re
from dataclasses import dataclass
from datetime import date, datetime

log = logging.getLogger(__name__)

_MONTH_END = re.compile(r"(这个?|本|下个?)?月底")
_DOTTED = re.compile(r"(?<![\d.])(\d{1,2})\.(\d{1,2})(?![\d.]|\s*(?:万|元|块|%|折|个|倍|G|M|k))")
_BARE_DAY = re.compile(r"^(\d{1,2}|[一二三四五六七八九十]+)[号日]")
_MONTH_DAY = re.compile(r"^(\d{1,2}|[一二三四五六七八九十]+)月")


@dataclass(frozen=True)
class DateMention:
    text: str
    start: int
    end: int
    day: date
    before: bool = False  # "…前" / "之前": a deadline


_JIO = None


def _jio():
    """jionlp, imported once under the shared heavy-load lock (see actions.core.loading)."""
    global _JIO
    if _JIO is None:
        from actions.core.loading import HEAVY_LOAD_LOCK

        with HEAVY_LOAD_LOCK:
            if _JIO is None:
                import jionlp

                _JIO = jionlp
    return _JIO


def _month_end(year: int, month: int) -> date:
    return date(year, month, calendar.monthrange(year, month)[1])


def _next_month(d: date) -> tuple[int, int]:
    return (d.year + 1, 1) if d.month == 12 else (d.year, d.month + 1)


def find_dates(text: str, today: date) -> list[DateMention]:
    """All date mentions, in text order, each resolved to one day."""
    found: list[DateMention] = []
    taken: list[tuple[int, int]] = []

    def add(start, end, day):
        if any(s < end and start < e for s, e in taken):
            return
        before = text[end : end + 2].startswith(("前", "之前", "以前"))
        found.append(DateMention(text[start:end], start, end, day, before))
        taken.append((start, end))

    for m in _MONTH_END.finditer(text):
        prefix = m.group(1) or ""
        y, mo = _next_month(today) if prefix.startswith("下") else (today.year, today.month)
        add(m.start(), m.end(), _month_end(y, mo))
    for m in _DOTTED.finditer(text):
        mo, d = int(m.group(1)), int(m.group(2))
        if 1 <= mo <= 12 and 1 <= d <= calendar.monthrange(today.year, mo)[1]:
            add(m.start(), m.end(), date(today.year, mo, d))
    base = datetime.combine(today, datetime.min.time()).replace(hour=12).timestamp()
    try:
        mentions = _jio().ner.extract_time(text, time_base=base, with_parsing=True)
    except Exception as e:  # noqa: BLE001 - a parser failure must not lose the note
        log.warning("time extraction failed: %s", type(e).__name__)
        mentions = []
    for item in mentions:
        start, end = item["offset"]
        detail = item.get("detail") or {}
        times = detail.get("time")
        if not times or item.get("type") not in ("time_point", "time_span"):
            continue
        raw = text[start:end]
        if item["type"] == "time_span":
            # "下周三前" → [now, Wed]: a deadline is the end; "一个月后" → its start.
            if raw.endswith(("前", "之前", "以前")):
                day = datetime.strptime(times[1][:10], "%Y-%m-%d").date()
                end -= 2 if raw.endswith(("之前", "以前")) else 1
            else:
                day = datetime.strptime(times[0][:10], "%Y-%m-%d").date()
        else:
            day = datetime.strptime(times[0][:10], "%Y-%m-%d").date()
        add(start, end, day)
    return sorted(found, key=lambda m: m.start)


def roll_forward(m: DateMention, today: date) -> date:
    """For a follow-up: a bare 5号 in the past means next month; 3月5号 in the past, next year."""
    if m.day >= today:
        return m.day
    raw = m.text
    if _BARE_DAY.match(raw):
        y, mo = _next_month(today)
        return date(y, mo, min(m.day.day, calendar.monthrange(y, mo)[1]))
    if _MONTH_DAY.match(raw) or _DOTTED.fullmatch(raw):
        try:
            return m.day.replace(year=m.day.year + 1)
        except ValueError:
            return m.day.replace(year=m.day.year + 1, day=28)
    if re.fullmatch(r"(周|星期|礼拜)[一二三四五六日天]", raw):
        from datetime import timedelta

        return m.day + timedelta(days=7)
    return m.day


WEEKDAYS = "一二三四五六日"


def label(d: date, today: date) -> str:
    """11-25（周三）; 今天/明天 when close."""
    names = {0: "今天", 1: "明天", 2: "后天", -1: "昨天", -2: "前天"}
    delta = (d - today).days
    rel = names.get(delta)
    base = f"{d.month:02d}-{d.day:02d}"
    if d.year != today.year:
        base = f"{d:%Y-%m-%d}"
    return f"{rel} {base}" if rel else f"{base}（周{WEEKDAYS[d.weekday()]}）"
