"""Handlers for visit notes: draft, confirm, cancel, retry, edit, undo, list, show.

Nothing is lost: a parsed note lives in the `pending_note` slot until it is committed; the reply
says 已保存 only after the commit; if the database is down the note stays in the slot and 重试
saves it later. A dedupe key (manager, customer, text, date) makes a repeated save store one note.
A change to a saved note (edit, delete, follow-up done/moved/dropped) waits in `pending_edit` for
确认, re-checks access when it is written, is audited with the previous values, and can be undone
for UNDO_MINUTES.
"""

from __future__ import annotations

import hashlib
import json
import logging
from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from actions.core import dates, notes
from actions.core.briefs import md, people_text, visit_summary
from actions.core.reply import Button, Reply, Turn, payload
from actions.db.models import Customer, Visit
from actions.db.repositories import audit, load_facts, recent_visits, visit_fact
from actions.kb.loader import product_by_code
from actions.services.common import customer_slot, resolve_customer, visible
from actions.understanding import commands as c
from actions.understanding.text import PARSE_MAX_CHARS, clean

log = logging.getLogger(__name__)
MAX_NOTE_CHARS = 50_000  # what is stored; the parser reads PARSE_MAX_CHARS of it
UNDO_MINUTES = 10
CONFIRM_BUTTONS = [Button("保存", "/affirm"), Button("修改", "/edit_visit"), Button("取消", "/deny")]
YES_NO = [Button("确认", "/affirm"), Button("取消", "/deny")]
HOW_TO_NOTE = (
    "把拜访情况直接发给我就行，一条消息写完，比如：\n"
    "刚见完华钢周主任 他说双路由方案可以 但要等黄总拍板 下周三前把报价发过去"
)


# ---------------------------------------------------------------- helpers
def dedupe_key(manager_code: str, customer_id: int, text: str, visit_date: str) -> str:
    raw = f"{manager_code}\x1f{customer_id}\x1f{text.strip()}\x1f{visit_date}"
    return "msg:" + hashlib.sha256(raw.encode("utf-8")).hexdigest()[:40]


def products_text(codes) -> str:
    catalog = product_by_code()
    return "、".join(catalog[c].short if c in catalog else c for c in codes)


def render_pending(p: dict, today: date) -> str:
    lines = ["请确认这条拜访记录：", f"客户：{p['customer_name']}"]
    vd = date.fromisoformat(p["visit_date"])
    who = people_text(p.get("people") or [])
    new = [x["name"] for x in p.get("people") or [] if not x.get("known")]
    lines.append(f"日期：{dates.label(vd, today)}" + (f"　见：{who}" if who else "　见：（没认出人名）"))
    if p.get("not_met"):
        lines.append(f"没见到：{'、'.join(p['not_met'])}")
    if new:
        lines.append(f"新联系人：{'、'.join(new)}（保存后可在 CRM 补全）")
    if p.get("products"):
        lines.append(f"谈到：{products_text(p['products'])}")
    if p.get("signals"):
        lines.append(f"信号：{'；'.join(s.replace('竞争对手:', '竞争对手 ') for s in p['signals'])}")
    follow = p.get("follow_up")
    step = p.get("next_step") or "（未写）"
    lines.append(f"下一步：{step}　跟进：{dates.label(date.fromisoformat(follow), today) if follow else '无'}")
    if p.get("long"):
        lines.append(f"（这条有 {len(p['text'])} 字，按前 {PARSE_MAX_CHARS} 字提取要点，全文会一起保存）")
    return "\n".join(lines)


def db_down_reply(turn_or_none, cmd: c.Command | None, problem: str = "CRM 数据库暂时连不上",
                  otherwise: str = "CRM 数据库暂时连不上，请稍后再试。", slots: dict | None = None, today: date | None = None) -> Reply:
    """A visit-note turn failed (by default: the database): say 没保存, keep the note in the conversation."""
    retry = [Button("重试", "/retry")]
    slots = slots or {}
    pending = slots.get("pending_note") if isinstance(slots.get("pending_note"), dict) else None
    if isinstance(cmd, c.NoteDraft) and cmd.text and not cmd.append:
        keep = {"text": cmd.text[:MAX_NOTE_CHARS], "unparsed": True,
                "message_date": (cmd.written_on or today or date.today()).isoformat()}
        return Reply(f"⚠ 没保存：{problem}。你的记录我先留着，数据库恢复后点「重试」。", retry, {"pending_note": keep})
    if pending is not None and isinstance(cmd, c.Confirm | c.Retry | c.NoteDraft):
        # The note is still in the pending_note slot: no slot change keeps it for 重试.
        return Reply(f"⚠ 没保存：{problem}，这条拜访记录还没有存进去。记录我留着，稍后点「重试」。", retry)
    if isinstance(cmd, c.Confirm) and isinstance(slots.get("pending_edit"), dict):
        return Reply(f"⚠ 没改成：{problem}，记录保持原样。稍后再点「确认」。", YES_NO)
    return Reply(otherwise)


def failed_reply(turn_or_none, cmd: c.Command | None, slots: dict | None = None, today: date | None = None) -> Reply:
    """Something unexpected failed in a visit-note turn: say it is not saved, keep the note."""
    return db_down_reply(turn_or_none, cmd, "处理时出错了（已记录）", "抱歉，处理这条消息时出错了，已记录下来。请换个说法再试。",
                         slots=slots, today=today)


# ---------------------------------------------------------------- a note
def draft(turn: Turn, cmd: c.NoteDraft) -> Reply:
    pending = turn.pending_note
    text = clean(cmd.text)[:MAX_NOTE_CHARS]
    if not text:
        ref = cmd.customer
        ctx = {"awaiting": "note", "note_customer": ref.id} if ref.found else {"awaiting": "note"}
        return Reply(HOW_TO_NOTE, context=ctx)
    if cmd.append and pending and not pending.get("unparsed"):
        if pending.get("save_failed"):
            return Reply("上一条拜访记录还没存进去（数据库出了问题），先点「重试」保存它，再发这一条。",
                         [Button("重试", "/retry"), Button("取消", "/deny")])
        return _parse(turn, c.NoteDraft(f"{pending['text']}\n{text}", cmd.customer, cmd.written_on), merged=True)
    if len(text) < 6:
        return Reply(HOW_TO_NOTE)
    return _parse(turn, c.NoteDraft(text, cmd.customer, cmd.written_on))


def _parse(turn: Turn, cmd: c.NoteDraft, merged: bool = False) -> Reply:
    note_day = cmd.written_on or turn.today
    customer, ask = resolve_customer(turn, cmd)
    if ask:
        # Keep the note so a tapped candidate (or the next message naming the customer) completes it.
        ask.slots["pending_note"] = {"text": cmd.text, "unparsed": True, "message_date": note_day.isoformat()}
        if ask.text.startswith("请问是哪个客户"):
            ask.text = "这条拜访记录是哪个客户的？点一下或者发客户名。"
            ask.context = {"awaiting": "note_customer"}
        return ask
    facts = load_facts(turn.session, customer, today=turn.today)
    parsed = notes.extract(cmd.text[:PARSE_MAX_CHARS], note_day, facts.contacts, list(facts.product_codes),
                           [customer.name, *customer.alias_list])
    p = {
        "customer_id": customer.id,
        "customer_name": customer.name,
        "text": cmd.text,
        "visit_date": parsed.visit_date.isoformat(),
        "people": [x.as_dict() for x in parsed.people],
        "not_met": [x.name for x in parsed.mentioned],
        "products": parsed.products,
        "signals": parsed.signals,
        "next_step": parsed.next_step,
        "follow_up": parsed.follow_up.isoformat() if parsed.follow_up else None,
        "message_date": note_day.isoformat(),
    }
    if len(cmd.text) > PARSE_MAX_CHARS:
        p["long"] = True
    p["dedupe_key"] = dedupe_key(turn.manager.code, customer.id, cmd.text, p["visit_date"])
    shown = render_pending(p, turn.today)
    if merged:
        shown = shown.replace("请确认这条拜访记录：", "已把这条补充到刚才的记录里，请确认：", 1)
    return Reply(shown, list(CONFIRM_BUTTONS), {"pending_note": p, **customer_slot(customer)})


def save_pending(turn: Turn, p: dict) -> Reply:
    session, manager = turn.session, turn.manager
    customer = visible(session, manager, p.get("customer_id"))  # access is checked again when writing
    if customer is None:
        audit(session, manager.code, "write_refused", p.get("customer_id"), op="visit_save")
        return Reply("这条记录没有保存：你现在看不到这个客户了（权限有变化）。如有疑问请联系部门经理。",
                     slots={"pending_note": None})
    existing = session.execute(select(Visit).where(Visit.dedupe_key == p["dedupe_key"])).scalar_one_or_none()
    if existing is None:
        people = [x for x in (p.get("people") or [])]
        visit = Visit(
            customer_id=customer.id, manager_id=manager.id, visit_date=date.fromisoformat(p["visit_date"]),
            people=json.dumps(people, ensure_ascii=False), products="|".join(p.get("products") or []),
            signals="|".join(p.get("signals") or []), summary=clean(p["text"]), next_step=p.get("next_step") or "",
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
    saved_id = session.execute(select(Visit.id).where(Visit.dedupe_key == p["dedupe_key"])).scalar_one_or_none()
    follow = p.get("follow_up")
    text = "已保存。"
    if follow:
        text += f"{dates.label(date.fromisoformat(follow), turn.today)}早上会提醒你跟进{customer.name}"
        text += f"：{p['next_step']}。" if p.get("next_step") else "。"
    return Reply(text, [Button("查看拜访记录", payload("list_visits", customer_code=customer.code))],
                 {"pending_note": None, **customer_slot(customer)}, context={"visit_id": saved_id})


# ---------------------------------------------------------------- confirm / cancel / retry / undo
def confirm(turn: Turn, cmd: c.Confirm) -> Reply:
    change = turn.pending_change
    if change is not None:
        return apply_change(turn, change)
    p = turn.pending_note
    if p is None:
        return Reply("好的。")
    return _continue(turn, p)


def retry(turn: Turn, cmd: c.Retry) -> Reply:
    p = turn.pending_note
    if p is None:
        if turn.pending_change is not None:
            return apply_change(turn, turn.pending_change)
        return Reply("没有待重试的记录。")
    return _continue(turn, p)


def _continue(turn: Turn, p: dict) -> Reply:
    """A note kept unparsed (database was down while logging) is parsed; a parsed one is saved."""
    if p.get("unparsed"):
        written = date.fromisoformat(p["message_date"]) if p.get("message_date") else turn.today
        customer_id = p.get("customer_id")
        ref = c.CustomerRef("found", customer_id, source="note") if customer_id else _ref_from_text(turn, p["text"])
        return _parse(turn, c.NoteDraft(p["text"], ref, written))
    return save_pending(turn, p)


def _ref_from_text(turn: Turn, text: str) -> c.CustomerRef:
    """The customer a kept note names (its text was understood before, while the database was down)."""
    from actions.services.directory import CrmGazetteer

    res = CrmGazetteer(turn.session, turn.manager).resolve(text)
    if res.status == "found" and not res.weak:
        return c.CustomerRef("found", res.id, typed=res.matched, source="note")
    if res.status == "ambiguous" or (res.status == "found" and res.weak):
        return c.CustomerRef("ambiguous", candidates=tuple(res.ids), typed=res.matched, source="note")
    return c.ASK_CUSTOMER


def cancel(turn: Turn, cmd: c.Cancel) -> Reply:
    if turn.pending_change is not None:
        return Reply("好，原记录不变。", slots={"pending_edit": None})
    if turn.pending_note is not None:
        return Reply("已取消，这条拜访记录没有保存。", slots={"pending_note": None})
    return Reply("好的。")


# ---------------------------------------------------------------- changes to saved notes
VISIT_FIELDS = ("visit_date", "people", "products", "next_step", "follow_up", "follow_up_done", "follow_up_outcome",
                "follow_up_closed_at", "follow_up_note", "summary", "deleted")


def snapshot(v: Visit) -> dict:
    out = {}
    for f in VISIT_FIELDS:
        value = getattr(v, f)
        out[f] = value.isoformat() if isinstance(value, date | datetime) else value
    return out


def restore(v: Visit, before: dict) -> None:
    for f in VISIT_FIELDS:
        value = before.get(f)
        if f in ("visit_date", "follow_up") and value:
            value = date.fromisoformat(value)
        elif f == "follow_up_closed_at" and value:
            value = datetime.fromisoformat(value)
        setattr(v, f, value)
    v.updated_at = datetime.utcnow()


def own_visit(turn: Turn, visit_id) -> tuple[Visit | None, Customer | None]:
    """A saved, not deleted note of this manager whose customer they may still see."""
    v = turn.session.get(Visit, visit_id) if visit_id else None
    if v is None or v.deleted or v.manager_id != turn.manager.id:
        return None, None
    customer = visible(turn.session, turn.manager, v.customer_id)
    return (v, customer) if customer is not None else (None, None)


def describe_change(ch: dict, today: date) -> str:
    if ch.get("delete"):
        return "删除这条记录"
    parts = []
    if ch.get("clear_follow_up"):
        parts.append("去掉跟进")
    if "follow_up" in ch:
        parts.append("跟进改为 " + dates.label(date.fromisoformat(ch["follow_up"]), today))
    if "visit_date" in ch:
        parts.append("拜访日期改为 " + dates.label(date.fromisoformat(ch["visit_date"]), today))
    if "next_step" in ch:
        parts.append(f"下一步改为「{ch['next_step']}」")
    if "people" in ch:
        parts.append("见的人改为 " + people_text(ch["people"]))
    if ch.get("not_met"):
        parts.append(f"去掉没见到的 {'、'.join(ch['not_met'])}")
    if ch.get("add_people"):
        parts.append("加上见到的 " + people_text(ch["add_people"]))
    if "products" in ch:
        parts.append("谈到的产品改为 " + products_text(ch["products"]))
    return "，".join(parts)


def change_dict(change: c.Change, people_known=()) -> dict:
    out: dict = {}
    if change.delete:
        return {"delete": True}
    if change.clear_follow_up:
        out["clear_follow_up"] = True
    if change.follow_up:
        out["follow_up"] = change.follow_up.isoformat()
    if change.visit_date:
        out["visit_date"] = change.visit_date.isoformat()
    if change.next_step is not None:
        out["next_step"] = change.next_step
    if change.people is not None:
        out["people"] = [_person(name, title, people_known) for name, title in change.people]
    if change.not_met:
        out["not_met"] = list(change.not_met)
    if change.add_people:
        out["add_people"] = [_person(name, title, people_known) for name, title in change.add_people]
    if change.products is not None:
        out["products"] = list(change.products)
    return out


def _person(name: str, title: str, known) -> dict:
    for k in known:
        if k.name == name or (title and name[0] == k.name[0] and title in k.title):
            return {"name": k.name, "title": k.title, "role": k.role, "known": True}
    return {"name": name, "title": title, "role": "", "known": False}


def _matches(typed: str, p: dict) -> bool:
    """周主任 or 周明 for {"name": "周明", "title": "信息中心主任"}."""
    name = p.get("name") or " "
    return typed == name or (len(typed) >= 2 and typed[0] == name[0] and (typed[1:] in (p.get("title") or "") or typed in name))


def _drop_people(people: list[dict], names) -> list[dict]:
    return [p for p in people if not any(_matches(n, p) for n in names)]


def _absent_names(people: list[dict], names) -> list[str]:
    """The names to list as not met: the person's own name when the note had them (周主任 → 周明)."""
    return [next((p["name"] for p in people if _matches(n, p)), n) for n in names]


def edit(turn: Turn, cmd: c.NoteEdit) -> Reply:
    p = turn.pending_note
    if cmd.target == "pending" and p is not None and not p.get("unparsed"):
        return _edit_pending(turn, cmd, p)
    visit_id = cmd.visit_id if cmd.target == "visit" else None
    if visit_id is None:
        visit_id = _latest_visit_id(turn)
        if visit_id is None:
            return Reply("你还没有保存过拜访记录。")
    v, customer = own_visit(turn, visit_id)
    if v is None:
        return Reply("那条记录已经不在了，或者你现在看不到这个客户。", context={"visit_id": None})
    if cmd.change.empty():
        return Reply(
            f"要改 {customer.name} {md(v.visit_date)} 这条的哪里？比如：跟进时间是下周四 / 人名写错了是王科长 / "
            "张总没见到 / 下一步改成发报价 / 删掉这条",
            [Button("删除这条", payload("edit_visit", visit_id=v.id, delete=1))],
            context={"visit_id": v.id},
        )
    facts_contacts = load_facts(turn.session, customer, today=turn.today).contacts if (cmd.change.people or cmd.change.add_people) else ()
    ch = change_dict(cmd.change, facts_contacts)
    pending = {"op": "edit", "visit_id": v.id, "change": ch}
    return Reply(f"确认对 {customer.name} {md(v.visit_date)} 的记录：{describe_change(ch, turn.today)}？",
                 list(YES_NO), {"pending_edit": pending}, context={"visit_id": v.id})


def _edit_pending(turn: Turn, cmd: c.NoteEdit, p: dict) -> Reply:
    if cmd.change.delete:
        return Reply("已取消，这条拜访记录没有保存。", slots={"pending_note": None})
    if cmd.change.empty():
        return Reply("要改哪里？比如：跟进时间是下周四 / 人名写错了是王科长 / 张总没见到 / 下一步改成发报价", list(CONFIRM_BUTTONS))
    customer = visible(turn.session, turn.manager, p.get("customer_id"))
    wants_names = cmd.change.people or cmd.change.add_people
    known = load_facts(turn.session, customer, today=turn.today).contacts if customer is not None and wants_names else ()
    ch = change_dict(cmd.change, known)
    p = dict(p)
    if ch.get("not_met"):
        absent = _absent_names(p.get("people") or [], ch["not_met"])
        p["people"] = _drop_people(p.get("people") or [], ch["not_met"])
        p["not_met"] = list(dict.fromkeys([*(p.get("not_met") or []), *absent]))
    if ch.get("add_people"):
        names = {x.get("name") for x in p.get("people") or []}
        p["people"] = [*(p.get("people") or []), *[x for x in ch["add_people"] if x["name"] not in names]]
    if ch.get("clear_follow_up"):
        p["follow_up"] = None
    for key in ("follow_up", "visit_date", "next_step", "people", "products"):
        if key in ch:
            p[key] = ch[key]
    p["dedupe_key"] = dedupe_key(turn.manager.code, p["customer_id"], p["text"], p["visit_date"])
    return Reply(render_pending(p, turn.today), list(CONFIRM_BUTTONS), {"pending_note": p})


def _latest_visit_id(turn: Turn) -> int | None:
    return turn.session.execute(
        select(Visit.id)
        .where(Visit.manager_id == turn.manager.id, Visit.deleted.is_(False))
        .order_by(Visit.created_at.desc(), Visit.id.desc())
        .limit(1)
    ).scalar_one_or_none()


def apply_change(turn: Turn, pending: dict) -> Reply:
    """Write a confirmed change (edit, delete, follow-up done/moved/dropped), audited, with undo."""
    session, manager = turn.session, turn.manager
    v, customer = own_visit(turn, pending.get("visit_id"))
    if v is None:
        audit(session, manager.code, "write_refused", None, op=pending.get("op"), visit_id=pending.get("visit_id"))
        return Reply("那条记录已经不在了，或者你现在看不到这个客户，没有改动。", slots={"pending_edit": None})
    before = snapshot(v)
    op = pending.get("op")
    ch = pending.get("change") or {}
    if op == "edit":
        action, text = _apply_edit(v, ch, turn.today)
    else:
        from actions.services.followups import apply_follow_up

        action, text = apply_follow_up(v, op, ch, turn)
    v.updated_at = datetime.utcnow()
    audit(session, manager.code, action, v.customer_id, visit_id=v.id, before=before)
    session.commit()
    undo = {"op": action, "visit_id": v.id, "before": before, "at": turn.now.isoformat(timespec="seconds")}
    return Reply(text, [Button("撤销", "/undo")], {"pending_edit": None}, context={"undo": undo, "visit_id": v.id})


def _apply_edit(v: Visit, ch: dict, today: date) -> tuple[str, str]:
    if ch.get("delete"):
        v.deleted = True
        return "visit_deleted", "已删除这条拜访记录（原内容留在审计日志里）。"
    if ch.get("clear_follow_up"):
        v.follow_up = None
    if "follow_up" in ch:
        v.follow_up = date.fromisoformat(ch["follow_up"])
        v.follow_up_done, v.follow_up_outcome, v.follow_up_closed_at = False, "", None
    if "visit_date" in ch:
        v.visit_date = date.fromisoformat(ch["visit_date"])
    if "next_step" in ch:
        v.next_step = ch["next_step"]
    if "people" in ch:
        v.people = json.dumps(ch["people"], ensure_ascii=False)
    if ch.get("not_met") or ch.get("add_people"):
        try:
            people = json.loads(v.people or "[]")
        except ValueError:
            people = []
        people = _drop_people(people, ch.get("not_met") or [])
        names = {x.get("name") for x in people}
        people += [x for x in ch.get("add_people") or [] if x["name"] not in names]
        v.people = json.dumps(people, ensure_ascii=False)
    if "products" in ch:
        v.products = "|".join(ch["products"])
    return "visit_edited", f"已修改：{describe_change(ch, today)}。"


def undo(turn: Turn, cmd: c.Undo) -> Reply:
    last = turn.context.get("undo") or {}
    at = last.get("at")
    if not last or not at:
        return Reply("没有可以撤销的改动。")
    if turn.now - datetime.fromisoformat(at) > timedelta(minutes=UNDO_MINUTES):
        return Reply(f"超过 {UNDO_MINUTES} 分钟了，不能撤销。需要的话请直接修改那条记录。", context={"undo": None})
    v = turn.session.get(Visit, last.get("visit_id"))
    customer = visible(turn.session, turn.manager, v.customer_id) if v is not None else None
    if v is None or v.manager_id != turn.manager.id or customer is None:
        return Reply("那条记录已经不在了，没有改动。", context={"undo": None})
    current = snapshot(v)
    restore(v, last["before"])
    audit(turn.session, turn.manager.code, "visit_restored", v.customer_id, visit_id=v.id, undid=last.get("op"), before=current)
    turn.session.commit()
    return Reply(f"已撤销，{customer.name} {md(v.visit_date)} 的记录恢复原样。", context={"undo": None})


# ---------------------------------------------------------------- lists
def list_visits(turn: Turn, cmd: c.ListVisits) -> Reply:
    customer, ask = resolve_customer(turn, cmd, required=False)
    if ask:
        return ask
    if customer is not None:
        rows = recent_visits(turn.session, customer_id=customer.id, limit=6)
        if not rows:
            return Reply(f"{customer.name}还没有拜访记录。", [Button("记录拜访", payload("log_visit", customer_code=customer.code))],
                         customer_slot(customer))
        lines = [f"{customer.name}最近 {len(rows)} 次拜访："]
        buttons = []
        for i, v in enumerate(rows, 1):
            who = f" {v.manager_name}" if v.manager_name and v.manager_name != turn.manager.name else ""
            line = f"{i}. {visit_summary(v)}{who}"
            if v.follow_up and not v.follow_up_done:
                line += "（跟进中）"
            lines.append(line)
            if v.manager_name == turn.manager.name or not v.manager_name:
                buttons.append(Button(f"第{i}条", payload("show_visit", visit_id=v.id)))
        lines.append("→ 点「第N条」可以修改、删除或标记跟进完成")
        return Reply("\n".join(lines), buttons[:6], customer_slot(customer))
    period = cmd.period or c.Period(turn.today - timedelta(days=29), turn.today, "近 30 天")
    rows = visits_between(turn.session, turn.manager, period.start, period.end, newest_first=True)
    if not rows:
        return Reply(f"你{period.label}没有拜访记录。")
    customers = list(dict.fromkeys(name for _, name in rows))
    lines = [f"你{period.label}拜访了 {len(customers)} 个客户，共 {len(rows)} 次："]
    buttons = []
    for i, (v, name) in enumerate(rows[:10], 1):
        lines.append(f"{i}. {name} {visit_summary(visit_fact(v))}")
        if i <= 6:
            buttons.append(Button(f"第{i}条", payload("show_visit", visit_id=v.id)))
    if len(rows) > 10:
        lines.append(f"……还有 {len(rows) - 10} 条")
    return Reply("\n".join(lines), buttons)


def show_visit(turn: Turn, cmd: c.ShowVisit) -> Reply:
    v, customer = own_visit(turn, cmd.visit_id)
    if v is None:
        return Reply("那条记录已经不在了，或者你现在看不到这个客户。")
    f = visit_fact(v)
    lines = [f"{customer.name} {md(v.visit_date)} 的拜访记录：", visit_summary(f, with_date=False)]
    if v.follow_up:
        state = {"done": "已完成", "dropped": "不再跟进"}.get(v.follow_up_outcome, "已完成" if v.follow_up_done else "未完成")
        lines.append(f"跟进：{dates.label(v.follow_up, turn.today)}（{state}）")
    lines.append(f"原文：{v.summary[:200]}{'…' if len(v.summary) > 200 else ''}")
    lines.append("要改就直接说，比如：人名写错了是王科长 / 日期是昨天 / 删掉这条")
    buttons = [Button("删除", payload("edit_visit", visit_id=v.id, delete=1))]
    if v.follow_up and not v.follow_up_done:
        buttons = [Button("已完成", payload("followup_done", visit_id=v.id)),
                   Button("改期", payload("followup_move", visit_id=v.id)), *buttons]
    return Reply("\n".join(lines), buttons, customer_slot(customer), context={"visit_id": v.id})


def visits_between(turn_session, manager, start: date, end: date, newest_first: bool = False) -> list[tuple[Visit, str]]:
    """The manager's (not deleted) visits from start to end inclusive, with the customer's name."""
    order = (Visit.visit_date.desc(), Visit.id.desc()) if newest_first else (Visit.visit_date, Visit.id)
    return turn_session.execute(
        select(Visit, Customer.name)
        .join(Customer, Customer.id == Visit.customer_id)
        .where(Visit.manager_id == manager.id, Visit.deleted.is_(False), Visit.visit_date >= start, Visit.visit_date <= end)
        .order_by(*order)
    ).all()
