"""Chinese date expressions in visit notes, relative to the message's date.

A small deterministic reader for what managers type (今天, 明早, 后天, 上周五, 下下周一, 周四前,
3月5号, 十五号, 12.3, 月底, 下个月初, 三天后, 一周内 …), instead of a general time parser: it loads
in no time, never reads 周主任 as a week, and its rules are the project's:
- a bare weekday (周四) is this week's (Monday–Sunday); `前`/`之前` after a date makes it a deadline;
- a follow-up never lies in the past (`roll_forward`: a bare 5号 or 周一 that has passed moves on);
- a week, a month or a vague time (下周, 过段时间, 年后) is not a date (see actions.core.notes).
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date, timedelta

_CN = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
WEEKDAYS = "一二三四五六日"
_WEEKDAY = {"一": 0, "二": 1, "三": 2, "四": 3, "五": 4, "六": 5, "日": 6, "天": 6,
            "1": 0, "2": 1, "3": 2, "4": 3, "5": 4, "6": 5, "7": 6}
_NUM = r"(?:\d{1,2}|[一二两三四五六七八九十]{1,3})"
_RELATIVE_DAYS = {
    "大后天": 3, "后天": 2, "明天": 1, "明儿": 1, "明早": 1, "明晚": 1, "明日": 1, "明个": 1,
    "今天": 0, "今儿": 0, "今早": 0, "今晚": 0, "今日": 0, "今个": 0, "当天": 0,
    "昨天": -1, "昨儿": -1, "昨晚": -1, "昨日": -1, "前天": -2, "大前天": -3,
}
_WEEK_SHIFT = {"上上": -2, "上": -1, "这": 0, "本": 0, "下下": 2, "下": 1, "": 0}
_PATTERNS = [
    ("ymd", re.compile(r"(\d{4})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*[日号]?|(?<!\d)(\d{4})-(\d{1,2})-(\d{1,2})(?!\d)")),
    ("month_day", re.compile(rf"(下个?月|这个?月|本月|上个?月|明年|今年)?(?:({_NUM})\s*月份?)\s*({_NUM})\s*[日号]?")),
    ("rel_month_day", re.compile(rf"(下个?月|这个?月|本月|上个?月)\s*({_NUM})\s*[日号]")),
    ("month_num_part", re.compile(rf"(明年|今年)?({_NUM})\s*月份?(底|末|初|中旬|中)")),
    ("month_part", re.compile(r"(下个?月|这个?月|本月|上个?月)?月?(底|末|初|中旬|中)")),
    ("ago", re.compile(rf"(?<![月\d一二三四五六七八九十])({_NUM})\s*(天|个星期|个礼拜|星期|礼拜|周)\s*(前|以前|之前)(?!\s*(给|发|报|出|交|提交|把))")),
    ("weekday", re.compile(r"(上上|下下|上|下|这|本)?(?:个)?(?:周|星期|礼拜)([一二三四五六日天1-7])")),
    ("relative", re.compile("|".join(sorted(_RELATIVE_DAYS, key=len, reverse=True)))),
    ("after", re.compile(rf"({_NUM}|半)\s*(个工作日|天|日|周|个星期|个礼拜|星期|礼拜|个月)\s*(后|以后|之后|内|之内|以内)")),
    ("dotted", re.compile(r"(?<![\d.])(\d{1,2})[./](\d{1,2})(?![\d.]|\s*(?:万|元|块|%|折|个|倍|G|M|k|T|兆|亿))")),
    ("week_within", re.compile(r"(这|本)(个)?(周|星期|礼拜)(内|之内|以内)")),
    ("day", re.compile(rf"(?<![月\d一二三四五六七八九十])({_NUM})\s*[号日](?!\s*(?:线|楼|机|门|院|厂|馆|店|子|车间|仓|库|窗口|位|台|站|口))")),
]


@dataclass(frozen=True)
class DateMention:
    text: str
    start: int
    end: int
    day: date
    before: bool = False  # "…前" / "之前": a deadline


def _n(raw: str) -> int | None:
    if raw.isdigit():
        return int(raw)
    if raw == "十":
        return 10
    if raw.startswith("十"):
        return 10 + _CN.get(raw[1:], 0)
    if raw.endswith("十"):
        return _CN.get(raw[0], 0) * 10
    if "十" in raw:
        tens, ones = raw.split("十", 1)
        return _CN.get(tens, 0) * 10 + _CN.get(ones, 0)
    return _CN.get(raw)


def _month_end(year: int, month: int) -> date:
    return date(year, month, calendar.monthrange(year, month)[1])


def _add_month(year: int, month: int, k: int) -> tuple[int, int]:
    y, m = divmod(month - 1 + k, 12)
    return year + y, m + 1


def _safe(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None


def _month_shift(word: str | None) -> int:
    if not word:
        return 0
    return 1 if word.startswith("下") else -1 if word.startswith("上") else 12 if word == "明年" else 0


def _resolve(kind: str, m: re.Match, today: date) -> date | None:
    g = m.groups()
    if kind == "ymd":
        y, mo, d = (g[0], g[1], g[2]) if g[0] else (g[3], g[4], g[5])
        return _safe(int(y), int(mo), int(d))
    if kind == "ago":  # 3天前去的: a visit that happened
        n = _n(g[0])
        return today - timedelta(days=n * (1 if g[1] == "天" else 7)) if n else None
    if kind == "month_day":
        month, day = _n(g[1]), _n(g[2])
        if not month or not day or month > 12:
            return None
        year = today.year + (1 if g[0] == "明年" else 0)
        return _safe(year, month, day)
    if kind == "rel_month_day":
        y, mo = _add_month(today.year, today.month, _month_shift(g[0]))
        d = _n(g[1])
        return _safe(y, mo, d) if d else None
    if kind == "month_num_part":  # 10月底, 明年3月初
        month = _n(g[1])
        if not month or month > 12:
            return None
        year = today.year + (1 if g[0] == "明年" else 0)
        return _month_end(year, month) if g[2] in ("底", "末") else date(year, month, 1 if g[2] == "初" else 15)
    if kind == "month_part":
        y, mo = _add_month(today.year, today.month, _month_shift(g[0]))
        part = g[1]
        if part in ("底", "末"):
            return _month_end(y, mo)
        if part == "初":
            return date(y, mo, 1) if (y, mo) != (today.year, today.month) else None  # 月初 of this month: vague
        return date(y, mo, 15)
    if kind == "weekday":
        monday = today - timedelta(days=today.weekday()) + timedelta(weeks=_WEEK_SHIFT[g[0] or ""])
        return monday + timedelta(days=_WEEKDAY[g[1]])
    if kind == "relative":
        return today + timedelta(days=_RELATIVE_DAYS[m.group(0)])
    if kind == "after":
        n = 0.5 if g[0] == "半" else _n(g[0])
        if not n:
            return None
        unit = g[1]
        if "工作日" in unit:
            d, left = today, int(n)
            while left:
                d += timedelta(days=1)
                if d.weekday() < 5:
                    left -= 1
            return d
        days = 30 if "月" in unit else 7 if unit[-1] in "周期拜" else 1
        return today + timedelta(days=int(n * days))
    if kind == "dotted":
        mo, d = int(g[0]), int(g[1])
        return _safe(today.year, mo, d) if 1 <= mo <= 12 else None
    if kind == "week_within":  # 这周内: by Friday (by Sunday once Friday has passed)
        friday = today - timedelta(days=today.weekday()) + timedelta(days=4)
        return friday if friday >= today else friday + timedelta(days=2)
    if kind == "day":
        d = _n(g[0])
        return _safe(today.year, today.month, d) if d and 1 <= d <= 31 else None
    return None


def find_dates(text: str, today: date) -> list[DateMention]:
    """All date mentions, in text order, each resolved to one day."""
    found: list[DateMention] = []
    taken: list[tuple[int, int]] = []
    for kind, pattern in _PATTERNS:
        for m in pattern.finditer(text):
            start, end = m.span()
            if any(s < end and start < e for s, e in taken) or start == end:
                continue
            if kind == "month_part" and not (m.group(1) or text[start:end].startswith("月")):
                continue  # a bare 底/初/中 is no date
            day = _resolve(kind, m, today)
            if day is None:
                continue
            before = (bool(re.match(r"\s*(前|之前|以前|为止)", text[end:])) or kind == "week_within"
                      or kind == "after" and m.group(3) in ("内", "之内", "以内"))
            found.append(DateMention(text[start:end], start, end, day, before))
            taken.append((start, end))
    return sorted(found, key=lambda x: x.start)


def roll_forward(m: DateMention, today: date) -> date:
    """For a follow-up: a bare 5号 in the past means next month; 3月5号 next year; 周一 next week."""
    if m.day >= today:
        return m.day
    raw = m.text
    if re.fullmatch(rf"{_NUM}\s*[号日]", raw):
        y, mo = _add_month(today.year, today.month, 1)
        return date(y, mo, min(m.day.day, calendar.monthrange(y, mo)[1]))
    if re.match(rf"{_NUM}\s*月", raw) or re.fullmatch(r"\d{1,2}[./]\d{1,2}", raw):
        return _safe(m.day.year + 1, m.day.month, m.day.day) or m.day.replace(year=m.day.year + 1, day=28)
    if re.fullmatch(r"(这|本)?(个)?(周|星期|礼拜)[一二三四五六日天1-7]", raw):
        return m.day + timedelta(days=7)  # a weekday of this week that has passed: the next one
    return m.day


def label(d: date, today: date) -> str:
    """11-25（周三）; 今天/明天 when close."""
    names = {0: "今天", 1: "明天", 2: "后天", -1: "昨天", -2: "前天"}
    delta = (d - today).days
    rel = names.get(delta)
    base = f"{d.month:02d}-{d.day:02d}"
    if d.year != today.year:
        base = f"{d:%Y-%m-%d}"
    return f"{rel} {base}" if rel else f"{base}（周{WEEKDAYS[d.weekday()]}）"
