"""Periods managers name (今天, 这周, 上周, 本月, 近30天); weeks run Monday to Sunday."""

from __future__ import annotations

import re
from datetime import date, timedelta

from actions.understanding.commands import Period


def monday_of(d: date) -> date:
    return d - timedelta(days=d.weekday())


def month_end(d: date) -> date:
    nxt = (d.replace(day=28) + timedelta(days=4)).replace(day=1)
    return nxt - timedelta(days=1)


def period_in(text: str, today: date) -> Period | None:
    """The period a message names, or None."""
    mon = monday_of(today)
    if re.search(r"今天|今日|today", text):
        return Period(today, today, "今天")
    if re.search(r"明天|tomorrow", text):
        return Period(today + timedelta(days=1), today + timedelta(days=1), "明天")
    if re.search(r"昨天|yesterday", text):
        return Period(today - timedelta(days=1), today - timedelta(days=1), "昨天")
    if re.search(r"上上周|上上个?星期", text):
        return Period(mon - timedelta(days=14), mon - timedelta(days=8), "上上周")
    if re.search(r"上周|上个?星期|上礼拜|last week", text):
        return Period(mon - timedelta(days=7), mon - timedelta(days=1), "上周")
    if re.search(r"下周|下个?星期|下礼拜|next week", text):
        return Period(mon + timedelta(days=7), mon + timedelta(days=13), "下周")
    if re.search(r"这周|本周|这个?星期|这礼拜|this week|这一周", text):
        return Period(mon, mon + timedelta(days=6), "本周")
    if re.search(r"上个?月|last month", text):
        first = today.replace(day=1)
        prev_end = first - timedelta(days=1)
        return Period(prev_end.replace(day=1), prev_end, "上个月")
    if re.search(r"这个?月|本月|this month", text):
        return Period(today.replace(day=1), month_end(today), "本月")
    if re.search(r"下个?月|next month", text):
        start = month_end(today) + timedelta(days=1)
        return Period(start, month_end(start), "下个月")
    m = re.search(r"(?:近|最近|过去)\s*(\d{1,3}|一|两|三|七|十|十五|三十|半个?月|一个?月)\s*(天|日)?", text)
    if m and m.group(0):
        raw = m.group(1)
        days = {"一": 1, "两": 2, "三": 3, "七": 7, "十": 10, "十五": 15, "三十": 30}.get(raw)
        if raw.startswith("半"):
            days = 15
        elif raw.startswith("一") and "月" in raw:
            days = 30
        elif days is None and raw.isdigit():
            days = int(raw)
        if days:
            return Period(today - timedelta(days=days - 1), today, f"近 {days} 天")
    return None
