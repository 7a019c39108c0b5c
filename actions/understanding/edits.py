"""The correction a message asks for on a visit note (人名写错了是王科长, 日期是昨天, 张总没见到 …)."""

from __future__ import annotations

import re
from datetime import date

from actions.core import dates
from actions.core.notes import SURNAMES
from actions.understanding import lexicon as lx
from actions.understanding.commands import Change

_TITLES = "总经理|副总经理|副总|总监|总|主任|副主任|科长|处长|局长|副局长|部长|经理|院长|校长|书记|主管|工|老板|董|行长|所长|厂长|老师"
_PERSON = rf"[\u4e00-\u9fff]{{1,3}}?(?:{_TITLES})|[\u4e00-\u9fff]{{2,3}}"
_PERSON_FIX = re.compile(rf"(?:是|见的是|改成|改为|应该是|换成)\s*({_PERSON})\s*(?:不是.*)?$")
# 见的是邓雪 冯主任出差了没在 / 不是陈涛 是胡华 陈总没在: the name right after 是, before what else is said
_PERSON_FIX_INNER = re.compile(rf"(?<!不)(?:见的是|改成|改为|应该是|换成|是)\s*(?:[她他]们的?)?(?:[\u4e00-\u9fff]{{1,6}}?的)?\s*({_PERSON})(?=[\s，。,;；]|$)")
_NAMED = rf"[{SURNAMES}](?:{_TITLES})|[{SURNAMES}][\u4e00-\u9fff]{{1,2}}"
_NOT_MET = re.compile(
    rf"({_PERSON})\s*(?:其实)?(?:没见到|没见上|没见着|没碰到|不在|没来|没在|没参加|没到|没出现|出差了|没见|不算)"
    rf"|(?:没见到|没见上|没见着|没碰到|去掉|删掉|拿掉|划掉)\s*({_NAMED})"
)
_WHOLE_NOTE = re.compile(r"这条|那条|刚才那|上一条|整条|这个记录|那个记录|这次拜访|刚才的记录|记录")
_ALSO_MET = re.compile(rf"(?:还|也|另外|再)(?:见了|见到|见过|碰到了)(?:他们|她们|对方)?的?\s*({_NAMED}|[\u4e00-\u9fff]{{1,2}}(?:{_TITLES}))"
                       rf"|(?:漏了|忘写了?|加上|补上|添上)\s*({_NAMED})"
                       rf"|({_NAMED})\s*(?:也|还)(?:见了|见到了|见过|在场|在)")
_NEXT_STEP = re.compile(r"下一步(?:改成|改为|是|应该是|换成)?\s*[:：]?\s*([^，。,.\s]+)")
_DATE_CUE = re.compile(r"日期|拜访(的)?(时间|日子)|哪天去的|去的那天|是(昨天|前天|今天|上周)去的|是(上)?(周|星期|礼拜)[一二三四五六日天]去的|见面(是|的)日子")


def parse_edit(text: str, today: date, *, pending: bool) -> Change:
    """What to change. `pending`: the note still waits for 保存 (a bare date then is the follow-up)."""
    t = text.strip()
    if lx.DELETE.search(t) and (_WHOLE_NOTE.search(t) or not _NOT_MET.search(t)):
        return Change(delete=True)
    change: dict = {}
    m = _NOT_MET.search(t)
    if m:
        who = m.group(1) or m.group(2)
        change["not_met"] = (who,)
    m = _ALSO_MET.search(t)
    if m:
        name = m.group(1) or m.group(2) or m.group(3)
        title = next((x for x in _TITLES.split("|") if name.endswith(x) and len(name) > len(x)), "")
        change["add_people"] = ((name, title),)
    mentions = dates.find_dates(t, today)
    meant = [m for m in mentions if not re.search(r"不是\s*$", t[: m.start])]
    mentions = meant or mentions  # 是周一去的 不是周二: not the day denied
    follow_words = re.search(r"跟进|回访|提醒|下次|再约|复访", t)
    if re.search(r"(跟进|提醒).{0,4}(去掉|不要|不用|取消|删)|(不用|不要|取消|去掉)(跟进|提醒)", t):
        change["clear_follow_up"] = True
    elif mentions and _DATE_CUE.search(t) and not follow_words:
        change["visit_date"] = mentions[-1].day
    elif mentions and (follow_words or pending or re.search(r"改到|推到|挪到|延到", t)):
        target = re.search(r"(改到|改成|推到|挪到|延到|改为)", t)
        after = [m for m in mentions if target and m.start >= target.end()]  # 改到下周二吧 周四来不及
        change["follow_up"] = dates.roll_forward((after or mentions)[0 if after else -1], today)
    m = _NEXT_STEP.search(t)
    if m and "跟进" not in m.group(1):
        change["next_step"] = m.group(1)
    fix = re.search(r"下一步.{0,8}(错|不对).*?是([^，。,.\s]{2,})\s*$", t)
    if fix:
        change["next_step"] = fix.group(2)  # 下一步写错了 不是发报价 是先约一次技术交流
    if re.search(r"人名|名字|见的|不是|写错|打错|记错|弄错|搞错|应该是|换成|(接待(我)?的|来的|陪我的|出面的)是", t):
        m = _PERSON_FIX.search(t)
        if m is None:
            m = next((x for x in _PERSON_FIX_INNER.finditer(t) if x.group(1) not in change.get("not_met", ())), None)
        if m and not dates.find_dates(m.group(1), today):
            name = m.group(1)
            full = re.fullmatch(rf"\s*([{SURNAMES}][\u4e00-\u9fff]{{1,2}})\s*", t[m.end(1):])
            if full and full.group(1)[0] == name[0]:
                name = full.group(1)  # 是王主任 王杰: the full name said after
            title = next((x for x in _TITLES.split("|") if name.endswith(x) and len(name) > len(x)), "")
            change["people"] = ((name, title),)
    if re.search(r"产品|谈的是|聊的是|说的是", t):
        from actions.kb.loader import products

        found = []
        low = t.lower()
        for p in products():
            if any(alias.lower() in low for alias in p.spoken) and p.code not in found:
                found.append(p.code)
        if found:
            change["products"] = tuple(found)
    return Change(**change)
