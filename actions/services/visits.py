"""log_visit / edit_visit / list_visits / my_followups / affirm / deny / retry / daily_digest.

Nothing is lost: a parsed note lives in the `pending_note` slot until it is committed; the reply
says 已保存 only after the commit; if the database is down the note stays in the slot and 重试
saves it later. A dedupe key (manager, customer, text, date) makes a repeated save store one note.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from dataclasses import replace
from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from actions.core import dates, notes
from actions.core.briefs import md, people_text, short
from actions.core.reply import Button, Reply, Request, payload
from actions.db.models import Customer, Manager, Visit
from actions.db.repositories import audit, can_see, load_facts, recent_visits
from actions.kb.loader import product_by_code
from actions.services.common import customer_slot, find_customer

log = logging.getLogger(__name__)
MAX_NOTE_CHARS = 4000
CONFIRM_BUTTONS = [Button("保存", "/affirm"), Button("修改", "/edit_visit"), Button("取消", "/deny")]


# ---------------------------------------------------------------- helpers
def dedupe_key(manager_code: str, customer_id: int, text: str, visit_date: str) -> str:
    raw = f"{manager_code}\x1f{customer_id}\x1f{text.strip()}\x1f{visit_date}"
    return "msg:" + hashlib.sha256(raw.encode("utf-8")).hexdigest()[:40]


def _products_text(codes) -> str:
    catalog = product_by_code()
    return "、".join(catalog[c].short if c in catalog else c for c in codes)


def render_pending(p: dict, today: date) -> str:
    lines = ["请确认这条拜访记录：", f"客户：{p['customer_name']}"]
    vd = date.fromisoformat(p["visit_date"])
    who = people_text(p.get("people") or [])
    new = [x["name"] for x in p.get("people") or [] if not x.get("known")]
    lines.append(f"日期：{dates.label(vd, today)}" + (f"　见：{who}" if who else "　见：（没认出人名）"))
    if new:
        lines.append(f"新联系人：{'、'.join(new)}（保存后可在 CRM 补全）")
    if p.get("products"):
        lines.append(f"谈到：{_products_text(p['products'])}")
    if p.get("signals"):
        lines.append(f"信号：{'；'.join(s.replace('竞争对手:', '竞争对手 ') for s in p['signals'])}")
    follow = p.get("follow_up")
    step = p.get("next_step") or "（未写）"
    lines.append(f"下一步：{step}　跟进：{dates.label(date.fromisoformat(follow), today) if follow else '无'}")
    return "\n".join(lines)


def _pending(req: Request) -> dict | None:
    p = req.slots.get("pending_note")
    return p if isinstance(p, dict) else None


def db_down_reply(
    req: Request,
    problem: str = "CRM 数据库暂时连不上",
    otherwise: str = "CRM 数据库暂时连不上，请稍后再试。",
) -> Reply:
    """A visit-note turn failed (by default: the database): say 没保存, keep the note in the conversation."""
    retry = [Button("重试", "/retry")]
    if req.intent == "log_visit" and req.free_text:
        keep = {"text": req.free_text[:MAX_NOTE_CHARS], "unparsed": True, "message_date": req.today.isoformat()}
        return Reply(f"⚠ 没保存：{problem}。你的记录我先留着，数据库恢复后点「重试」。", retry, {"pending_note": keep})
    if _pending(req) is not None and req.intent in ("affirm", "retry"):
        # The note is still in the pending_note slot: no slot change keeps it for 重试.
        return Reply(f"⚠ 没保存：{problem}，这条拜访记录还没有存进去。记录我留着，稍后点「重试」。", retry)
    return Reply(otherwise)


def failed_reply(req: Request) -> Reply:
    """Something unexpected failed in a visit-note turn: say it is not saved, keep the note."""
    return db_down_reply(req, "处理时出错了（已记录）", "抱歉，处理这条消息时出错了，已记录下来。请换个说法再试。")


# ---------------------------------------------------------------- log
def log_visit(session: Session, manager: Manager, req: Request, text: str | None = None) -> Reply:
    pending = _pending(req)
    resolve_req = req
    if text is None:
        if pending and pending.get("unparsed") and (req.is_payload or 0 < len(req.free_text) <= 12):
            text = pending["text"]  # this message names (or taps) the customer the note is about
        else:
            text = req.free_text
    elif not req.entity("customer_code"):
        resolve_req = _with_text(req, text)  # retry: the note itself names the customer
    # A note kept through an outage is read against the day it was written, not the day it is saved.
    note_day = req.today
    if pending and pending.get("unparsed") and pending.get("text") == text and pending.get("message_date"):
        note_day = date.fromisoformat(pending["message_date"])
    if not text or len(text) < 6:
        return Reply(
            "把拜访情况直接发给我就行，一条消息写完，比如：\n"
            "刚见完华钢周主任 他说双路由方案可以 但要等黄总拍板 下周三前把报价发过去"
        )
    merged_into: Customer | None = None
    if pending and not pending.get("unparsed") and text != pending.get("text") and req.free_text == text:
        # A note sent as several messages: while one waits for 保存, more text about the same
        # customer (or naming none) is added to it instead of starting a second note.
        named, _ = find_customer(session, manager, req, intent="log_visit", required=False, use_context=False)
        if named is None or named.id == pending.get("customer_id"):
            merged_into = named or pending_customer(session, manager, pending)
            if merged_into is not None:
                text = f"{pending['text']}\n{text}"
    if len(text) > MAX_NOTE_CHARS:
        return Reply(f"这条记录有 {len(text)} 个字，超过 {MAX_NOTE_CHARS} 字上限。请分成两条发。")
    customer, ask = merged_into, None
    if customer is None:
        customer, ask = find_customer(session, manager, resolve_req, intent="log_visit", guess_from_text=False)
    if ask:
        # Keep the note so a tapped candidate (or the next message naming the customer) completes it.
        ask.slots["pending_note"] = {"text": text, "unparsed": True, "message_date": note_day.isoformat()}
        if ask.text.startswith("请问是哪个客户"):
            ask.text = "这条拜访记录是哪个客户的？点一下或者发客户名。"
        return ask
    facts = load_facts(session, customer, today=req.today)
    parsed = notes.extract(text, note_day, facts.contacts, list(facts.product_codes), [customer.name, *customer.alias_list])
    p = {
        "customer_id": customer.id,
        "customer_name": customer.name,
        "text": text,
        "visit_date": parsed.visit_date.isoformat(),
        "people": [x.as_dict() for x in parsed.people],
        "products": parsed.products,
        "signals": parsed.signals,
        "next_step": parsed.next_step,
        "follow_up": parsed.follow_up.isoformat() if parsed.follow_up else None,
    }
    p["dedupe_key"] = dedupe_key(manager.code, customer.id, text, p["visit_date"])
    shown = render_pending(p, req.today)
    if merged_into is not None:
        shown = shown.replace("请确认这条拜访记录：", "已把这条补充到刚才的记录里，请确认：", 1)
    return Reply(shown, list(CONFIRM_BUTTONS), {"pending_note": p, **customer_slot(customer)})


def _with_text(req: Request, text: str) -> Request:
    return replace(req, text=text)


def pending_customer(session: Session, manager: Manager, pending: dict) -> Customer | None:
    """The customer of the note waiting for 保存, if the manager may still see it (audited)."""
    customer = session.get(Customer, pending.get("customer_id"))
    if customer is None or not can_see(session, manager, customer):
        return None
    audit(session, manager.code, "view", customer.id, intent="log_visit")
    return customer


def save_pending(session: Session, manager: Manager, p: dict, today: date) -> Reply:
    customer = session.get(Customer, p["customer_id"])
    if customer is None:
        return Reply("这个客户已不在 CRM 里，记录没有保存。", slots={"pending_note": None})
    existing = session.execute(select(Visit).where(Visit.dedupe_key == p["dedupe_key"])).scalar_one_or_none()
    if existing is None:
        visit = Visit(
            customer_id=customer.id, manager_id=manager.id, visit_date=date.fromisoformat(p["visit_date"]),
            people=json.dumps(p.get("people") or [], ensure_ascii=False), products="|".join(p.get("products") or []),
            signals="|".join(p.get("signals") or []), summary=p["text"], next_step=p.get("next_step") or "",
            follow_up=date.fromisoformat(p["follow_up"]) if p.get("follow_up") else None,
            follow_up_done=False, dedupe_key=p["dedupe_key"], deleted=False,
            created_at=datetime.utcnow(), updated_at=datetime.utcnow(),
        )
        session.add(visit)
        try:
            session.flush()
        except IntegrityError:  # a concurrent duplicate delivery won the race
            session.rollback()
        else:
            audit(session, manager.code, "visit_saved", customer.id, visit_id=visit.id)
    session.commit()  # the reply below is only built after the commit succeeded
    follow = p.get("follow_up")
    text = "已保存。"
    if follow:
        text += f"{dates.label(date.fromisoformat(follow), today)}早上会提醒你跟进{customer.name}"
        text += f"：{p['next_step']}。" if p.get("next_step") else "。"
    return Reply(text, [Button("查看拜访记录", payload("list_visits"))], {"pending_note": None, **customer_slot(customer)})


# ---------------------------------------------------------------- confirm / cancel / retry
def _names_a_customer(session: Session, manager: Manager, req: Request) -> bool:
    """A short name such as 仁和 can be misread as 好的/不: nothing to confirm, but a customer named."""
    if not req.free_text:
        return False
    from actions.services import directory

    return bool(req.entity("customer")) or directory.resolve(session, manager, req.free_text)[0].status != "not_found"


def affirm(session: Session, manager: Manager, req: Request) -> Reply:
    edit = req.slots.get("pending_edit")
    if isinstance(edit, dict):
        return apply_edit(session, manager, edit, req)
    p = _pending(req)
    if p is None and _names_a_customer(session, manager, req):
        from actions.services.customers import customer_status

        return customer_status(session, manager, req)
    return Reply("好的。") if p is None else _continue(session, manager, req, p)


def deny(session: Session, manager: Manager, req: Request) -> Reply:
    if isinstance(req.slots.get("pending_edit"), dict):
        return Reply("好，原记录不变。", slots={"pending_edit": None})
    if _pending(req) is not None:
        return Reply("已取消，这条拜访记录没有保存。", slots={"pending_note": None})
    if _names_a_customer(session, manager, req):
        from actions.services.customers import customer_status

        return customer_status(session, manager, req)
    return Reply("好的。")


def retry(session: Session, manager: Manager, req: Request) -> Reply:
    p = _pending(req)
    return Reply("没有待重试的记录。") if p is None else _continue(session, manager, req, p)


def _continue(session: Session, manager: Manager, req: Request, p: dict) -> Reply:
    """A note kept unparsed (database was down while logging) is parsed; a parsed one is saved."""
    if p.get("unparsed"):
        return log_visit(session, manager, req, text=p["text"])
    return save_pending(session, manager, p, req.today)


# ---------------------------------------------------------------- edit
_DELETE = re.compile(r"删|撤销|不要了|作废")
_PERSON_FIX = re.compile(r"(?:是|见的是|改成|应该是)\s*([\u4e00-\u9fff]{1,4}?(?:总经理|副总|总监|总|主任|科长|处长|局长|部长|经理|院长|校长|书记|主管|老板|工)?)\s*(?:不是.*)?$")


def parse_edit(text: str, today: date) -> dict | None:
    """The change a message asks for: {"delete": True} or field → new value."""
    if _DELETE.search(text):
        return {"delete": True}
    change: dict = {}
    mentions = dates.find_dates(text, today)
    if "跟进" in text and ("去掉" in text or "不用" in text or "取消" in text):
        change["follow_up"] = None
    elif mentions and ("日期" in text or "拜访" in text) and "跟进" not in text:
        change["visit_date"] = mentions[-1].day.isoformat()
    elif mentions:
        change["follow_up"] = dates.roll_forward(mentions[-1], today).isoformat()
    m = re.search(r"下一步(?:改成|改为|是|应该是)?\s*([^，。\s]+)", text)
    if m and "跟进" not in m.group(1):
        change["next_step"] = m.group(1)
    if any(w in text for w in ("人名", "名字", "见的", "不是", "写错")) and not change:
        m = _PERSON_FIX.search(text)
        if m:
            change["people"] = [{"name": m.group(1), "title": "", "role": "", "known": False}]
    if "产品" in text:
        found = notes.extract(text, today).products
        if found:
            change["products"] = found
    return change or None


def _latest_visit(session: Session, manager: Manager) -> Visit | None:
    return session.execute(
        select(Visit)
        .where(Visit.manager_id == manager.id, Visit.deleted.is_(False))
        .order_by(Visit.created_at.desc(), Visit.id.desc())
        .limit(1)
    ).scalar_one_or_none()


def _describe(change: dict, today: date) -> str:
    if change.get("delete"):
        return "删除这条记录"
    parts = []
    if "follow_up" in change:
        parts.append("跟进改为 " + (dates.label(date.fromisoformat(change["follow_up"]), today) if change["follow_up"] else "无"))
    if "visit_date" in change:
        parts.append("拜访日期改为 " + dates.label(date.fromisoformat(change["visit_date"]), today))
    if "next_step" in change:
        parts.append(f"下一步改为「{change['next_step']}」")
    if "people" in change:
        parts.append("见的人改为 " + people_text(change["people"]))
    if "products" in change:
        parts.append("谈到的产品改为 " + _products_text(change["products"]))
    return "，".join(parts)


def edit_visit(session: Session, manager: Manager, req: Request) -> Reply:
    p = _pending(req)
    text = req.free_text
    if p is not None and not p.get("unparsed"):
        change = parse_edit(text, req.today) if text else None
        if not change:
            return Reply("要改哪里？比如：跟进时间是下周四 / 人名写错了是王科长 / 下一步改成发报价", list(CONFIRM_BUTTONS))
        if change.get("delete"):
            return deny(session, manager, req)
        p = {**p, **change}
        return Reply(render_pending(p, req.today), list(CONFIRM_BUTTONS), {"pending_note": p})
    visit = _latest_visit(session, manager)
    if visit is None:
        return Reply("你还没有保存过拜访记录。")
    customer = session.get(Customer, visit.customer_id)
    change = parse_edit(text, req.today) if text else None
    if not change:
        return Reply(
            f"你最近一条记录：{customer.name} {md(visit.visit_date)}。要改哪里？"
            "比如：跟进时间是下周四 / 人名写错了是王科长 / 删掉刚才那条"
        )
    edit = {"visit_id": visit.id, "change": change}
    return Reply(
        f"确认对 {customer.name} {md(visit.visit_date)} 的记录：{_describe(change, req.today)}？",
        [Button("确认", "/affirm"), Button("取消", "/deny")],
        {"pending_edit": edit},
    )


def apply_edit(session: Session, manager: Manager, edit: dict, req: Request) -> Reply:
    visit = session.get(Visit, edit.get("visit_id"))
    if visit is None or visit.manager_id != manager.id or visit.deleted:
        return Reply("那条记录已经不在了。", slots={"pending_edit": None})
    before = {
        "visit_date": visit.visit_date.isoformat(), "people": visit.people, "products": visit.products,
        "next_step": visit.next_step, "follow_up": visit.follow_up.isoformat() if visit.follow_up else None,
        "summary": visit.summary, "deleted": visit.deleted,
    }
    change = edit["change"]
    if change.get("delete"):
        visit.deleted = True
        action, text = "visit_deleted", "已删除这条拜访记录（原内容留在审计日志里）。"
    else:
        if "follow_up" in change:
            visit.follow_up = date.fromisoformat(change["follow_up"]) if change["follow_up"] else None
            visit.follow_up_done = False
        if "visit_date" in change:
            visit.visit_date = date.fromisoformat(change["visit_date"])
        if "next_step" in change:
            visit.next_step = change["next_step"]
        if "people" in change:
            visit.people = json.dumps(change["people"], ensure_ascii=False)
        if "products" in change:
            visit.products = "|".join(change["products"])
        visit.updated_at = datetime.utcnow()
        action, text = "visit_edited", f"已修改：{_describe(change, req.today)}。"
    audit(session, manager.code, action, visit.customer_id, visit_id=visit.id, before=before)
    session.commit()
    return Reply(text, slots={"pending_edit": None})


# ---------------------------------------------------------------- lists
def _period(text: str, today: date) -> tuple[date, date, str]:
    monday = today - timedelta(days=today.weekday())
    if "今天" in text:
        return today, today, "今天"
    if "上周" in text:
        return monday - timedelta(days=7), monday - timedelta(days=1), "上周"
    if "这周" in text or "本周" in text:
        return monday, monday + timedelta(days=6), "本周"
    if "上个月" in text or "上月" in text:
        first = today.replace(day=1)
        prev_end = first - timedelta(days=1)
        return prev_end.replace(day=1), prev_end, "上个月"
    if "这个月" in text or "本月" in text:
        return today.replace(day=1), today, "本月"
    return today - timedelta(days=30), today, "近 30 天"


def list_visits(session: Session, manager: Manager, req: Request) -> Reply:
    customer, ask = find_customer(session, manager, req, intent="list_visits", required=False)
    if ask:
        return ask
    if customer is not None and not re.search(r"我(这周|本周|今天|上周|这个月|本月|最近)", req.free_text):
        rows = recent_visits(session, customer_id=customer.id, limit=5)
        if not rows:
            return Reply(f"{customer.name}还没有拜访记录。", [Button("记录拜访", payload("log_visit"))], customer_slot(customer))
        lines = [f"{customer.name}最近 {len(rows)} 次拜访："]
        for v in rows:
            who = people_text(v.people)
            line = f"· {md(v.visit_date)}" + (f" {v.manager_name}" if v.manager_name and v.manager_name != manager.name else "")
            line += f" 见{who}" if who else ""
            line += f"：{_short(v.summary)}"
            if v.follow_up and not v.follow_up_done:
                line += f"（跟进 {md(v.follow_up)}）"
            lines.append(line)
        return Reply("\n".join(lines), slots=customer_slot(customer))
    start, end, label = _period(req.free_text, req.today)
    rows = visits_between(session, manager, start, end, newest_first=True)
    if not rows:
        return Reply(f"你{label}没有拜访记录。")
    customers = list(dict.fromkeys(name for _, name in rows))
    lines = [f"你{label}拜访了 {len(customers)} 个客户，共 {len(rows)} 次："]
    for v, name in rows[:10]:
        lines.append(f"· {md(v.visit_date)} {name}：{_short(v.summary)}")
    if len(rows) > 10:
        lines.append(f"……还有 {len(rows) - 10} 条")
    return Reply("\n".join(lines))


def _short(text: str) -> str:
    return short(text, 22)


def visits_between(
    session: Session, manager: Manager, start: date, end: date, newest_first: bool = False
) -> list[tuple[Visit, str]]:
    """The manager's (not deleted) visits from start to end inclusive, with the customer's name."""
    order = (Visit.visit_date.desc(), Visit.id.desc()) if newest_first else (Visit.visit_date, Visit.id)
    return session.execute(
        select(Visit, Customer.name)
        .join(Customer, Customer.id == Visit.customer_id)
        .where(Visit.manager_id == manager.id, Visit.deleted.is_(False), Visit.visit_date >= start, Visit.visit_date <= end)
        .order_by(*order)
    ).all()


def followups(session: Session, manager: Manager, until: date) -> list[tuple[Visit, str, str]]:
    """Open follow-ups due on or before `until`: (visit, customer name, customer code), by date."""
    return session.execute(
        select(Visit, Customer.name, Customer.code)
        .join(Customer, Customer.id == Visit.customer_id)
        .where(
            Visit.manager_id == manager.id, Visit.deleted.is_(False), Visit.follow_up_done.is_(False),
            Visit.follow_up.is_not(None), Visit.follow_up <= until,
        )
        .order_by(Visit.follow_up, Visit.id)
    ).all()


def my_followups(session: Session, manager: Manager, req: Request) -> Reply:
    text = req.free_text
    monday = req.today - timedelta(days=req.today.weekday())
    if "明天" in text:
        until, label = req.today + timedelta(days=1), "明天前"
    elif "下周" in text:
        until, label = monday + timedelta(days=13), "下周前"
    elif "这周" in text or "本周" in text:
        until, label = monday + timedelta(days=6), "本周"
    elif "今天" in text:
        until, label = req.today, "今天"
    else:
        until, label = req.today + timedelta(days=7), "7 天内"
    rows = followups(session, manager, until)
    audit(session, manager.code, "followups", None, count=len(rows))
    if not rows:
        return Reply(f"{label}没有要跟进的事。")
    overdue = [r for r in rows if r[0].follow_up < req.today]
    lines = [f"{label}要跟进 {len(rows)} 件" + (f"，其中 {len(overdue)} 件已逾期：" if overdue else "：")]
    buttons = []
    for v, name, code in rows[:10]:
        flag = "⚠ 逾期" if v.follow_up < req.today else "·"
        lines.append(f"{flag} {dates.label(v.follow_up, req.today)} {name}：{v.next_step or _short(v.summary)}")
        if len(buttons) < 3:
            buttons.append(Button(name, payload("customer_status", customer_code=code)))
    if len(rows) > 10:
        lines.append(f"……还有 {len(rows) - 10} 件")
    return Reply("\n".join(lines), buttons)


def daily_digest(session: Session, manager: Manager, req: Request) -> Reply:
    rows = followups(session, manager, req.today)
    lines = [f"{manager.name}早上好！{dates.label(req.today, req.today)}"]
    if rows:
        lines.append(f"今天要跟进 {len(rows)} 件：")
        for v, name, _ in rows[:5]:
            flag = "⚠ 逾期" if v.follow_up < req.today else "·"
            lines.append(f"{flag} {name}：{v.next_step or _short(v.summary)}")
    else:
        lines.append("今天没有到期的跟进。")
    from actions.services.customers import ranked_portfolio

    ranked = ranked_portfolio(session, manager, req)
    if ranked:
        lines.append(f"预警 {len(ranked)} 个客户，最急的：")
        for f, alerts in ranked[:3]:
            lines.append(f"⚠ {f.name}：{alerts[0].text}")
    audit(session, manager.code, "daily_digest", None, followups=len(rows), alerts=len(ranked))
    return Reply("\n".join(lines), [Button("我的待办", payload("my_followups")), Button("风险客户", payload("portfolio_alerts"))])
