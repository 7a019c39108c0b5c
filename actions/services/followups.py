"""Follow-ups as a loop: list them by period and state, close, move or drop them, the morning digest.

A follow-up is a saved note's promise (next_step, follow_up date). It is open until it is closed as
done or dropped (follow_up_done, with follow_up_outcome, follow_up_closed_at and follow_up_note
saying how, when and why). A change asked for by message waits for 确认; a tap on a button that
names the item and the action (已完成 / a new date) is the confirmation itself. Either way the reply
says 已完成 / 已改期 only after the commit, and 撤销 undoes it for a few minutes.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy import func, select

from actions.core import dates
from actions.core.briefs import md, short
from actions.core.reply import Button, Reply, Turn, payload
from actions.db.models import Customer, Manager, Visit
from actions.db.repositories import audit
from actions.services.common import resolve_customer
from actions.services.visits import YES_NO, apply_change, own_visit
from actions.understanding import commands as c
from actions.understanding.periods import monday_of

MAX_LISTED = 10


def open_followups(session, manager: Manager, until: date | None = None, since: date | None = None,
                   customer_id: int | None = None) -> list[tuple[Visit, str, str]]:
    """Open follow-ups (not done, not dropped), by date: (visit, customer name, customer code)."""
    stmt = (
        select(Visit, Customer.name, Customer.code)
        .join(Customer, Customer.id == Visit.customer_id)
        .where(Visit.manager_id == manager.id, Visit.deleted.is_(False), Visit.follow_up_done.is_(False),
               Visit.follow_up.is_not(None))
    )
    if until is not None:
        stmt = stmt.where(Visit.follow_up <= until)
    if since is not None:
        stmt = stmt.where(Visit.follow_up >= since)
    if customer_id is not None:
        stmt = stmt.where(Visit.customer_id == customer_id)
    return session.execute(stmt.order_by(Visit.follow_up, Visit.id)).all()


def closed_between(session, manager: Manager, start: date, end: date) -> list[tuple[Visit, str]]:
    """Follow-ups closed as done from start to end (inclusive)."""
    return session.execute(
        select(Visit, Customer.name)
        .join(Customer, Customer.id == Visit.customer_id)
        .where(Visit.manager_id == manager.id, Visit.deleted.is_(False), Visit.follow_up_outcome == "done",
               Visit.follow_up_closed_at >= datetime.combine(start, datetime.min.time()),
               Visit.follow_up_closed_at < datetime.combine(end + timedelta(days=1), datetime.min.time()))
        .order_by(Visit.follow_up_closed_at)
    ).all()


def item_line(v: Visit, name: str, today: date) -> str:
    flag = "⚠ 逾期" if v.follow_up < today else "·"
    late = f"（逾期 {(today - v.follow_up).days} 天）" if v.follow_up < today else ""
    return f"{flag} {dates.label(v.follow_up, today)} {name}：{v.next_step or short(v.summary, 20)}{late}"


def item_buttons(rows, limit: int = 3) -> list[Button]:
    out = []
    for v, name, _ in rows[:limit]:
        label = short(name, 6).rstrip("…")
        out.append(Button(f"✓ {label}", payload("followup_done", visit_id=v.id)))
        out.append(Button(f"改期 {label}", payload("followup_move", visit_id=v.id)))
    return out


# ---------------------------------------------------------------- lists
def followups(turn: Turn, cmd: c.FollowUps) -> Reply:
    session, manager, today = turn.session, turn.manager, turn.today
    if cmd.by_manager and manager.role in ("lead", "admin"):
        return _team_overdue(turn)
    if cmd.state == "done":
        period = cmd.period or c.Period(monday_of(today), today, "本周")
        rows = closed_between(session, manager, period.start, period.end)
        due = session.execute(
            select(func.count(Visit.id)).where(Visit.manager_id == manager.id, Visit.deleted.is_(False),
                                               Visit.follow_up >= period.start, Visit.follow_up <= period.end)
        ).scalar()
        audit(session, manager.code, "followups", None, state="done", count=len(rows))
        if not rows:
            return Reply(f"{period.label}还没有完成的跟进（{period.label}到期的共 {due} 件）。")
        lines = [f"{period.label}完成了 {len(rows)} 件跟进（{period.label}到期的共 {due} 件）："]
        lines += [f"✓ {v.follow_up_closed_at:%m-%d} {name}：{v.next_step or short(v.summary, 20)}" for v, name in rows[:MAX_LISTED]]
        return Reply("\n".join(lines))
    if cmd.state == "overdue":
        rows = open_followups(session, manager, until=today - timedelta(days=1))
        label = "逾期"
    elif cmd.period is not None:
        rows = open_followups(session, manager, until=cmd.period.end)
        rows = [r for r in rows if r[0].follow_up >= cmd.period.start or r[0].follow_up < today]
        label = cmd.period.label
    else:
        rows = open_followups(session, manager, until=today + timedelta(days=7))
        label = "7 天内"
    audit(session, manager.code, "followups", None, state=cmd.state, count=len(rows))
    if not rows:
        return Reply("没有逾期的跟进。" if cmd.state == "overdue" else f"{label}没有要跟进的事。")
    overdue = [r for r in rows if r[0].follow_up < today]
    head = f"逾期的跟进 {len(rows)} 件：" if cmd.state == "overdue" else (
        f"{label}要跟进 {len(rows)} 件" + (f"，其中 {len(overdue)} 件已逾期：" if overdue else "："))
    lines = [head] + [item_line(v, name, today) for v, name, _ in rows[:MAX_LISTED]]
    if len(rows) > MAX_LISTED:
        lines.append(f"……还有 {len(rows) - MAX_LISTED} 件")
    return Reply("\n".join(lines), item_buttons(rows), context={"visit_id": rows[0][0].id if len(rows) == 1 else None})


def _team_overdue(turn: Turn) -> Reply:
    session, lead, today = turn.session, turn.manager, turn.today
    stmt = select(Manager).where(Manager.role != "admin").order_by(Manager.code)
    if lead.role == "lead":
        stmt = stmt.where(Manager.team == lead.team)
    counts = []
    for m in session.execute(stmt).scalars():
        rows = open_followups(session, m, until=today - timedelta(days=1))
        counts.append((len(rows), max(((today - v.follow_up).days for v, _, _ in rows), default=0), m.name))
    counts.sort(key=lambda x: (-x[0], -x[1]))
    audit(session, lead.code, "team_followups", None, managers=len(counts))
    scope = "全部" if lead.role == "admin" else lead.team
    lines = [f"{scope}逾期跟进（按人数排）："]
    lines += [f"· {name}：{n} 件" + (f"，最久逾期 {oldest} 天" if n else "") for n, oldest, name in counts]
    return Reply("\n".join(lines))


# ---------------------------------------------------------------- close / move / drop
def _target(turn: Turn, cmd) -> tuple[Visit | None, Reply | None, str]:
    """The follow-up the command is about: a button's visit, the one in focus, or the customer's only
    open one; otherwise a question with the candidates as buttons."""
    customer = None
    if cmd.visit_id:
        v, customer = own_visit(turn, cmd.visit_id)
        if v is None:
            return None, Reply("那条跟进已经不在了，或者你现在看不到这个客户。"), ""
        if getattr(cmd, "confirmed", False) or (v.follow_up is not None and not v.follow_up_done):
            return v, None, customer.name
        # the note in focus promised nothing dated (报价已经发过去了 right after 今天把报价发他): that customer's open ones
    if customer is None and cmd.customer.status != "none":
        customer, ask = resolve_customer(turn, cmd)
        if ask:
            return None, ask, ""
    rows = open_followups(turn.session, turn.manager, customer_id=customer.id if customer else None)
    if not rows:
        where = f"{customer.name}" if customer else "你"
        return None, Reply(f"{where}没有未完成的跟进。"), ""
    if len(rows) == 1:
        return rows[0][0], None, rows[0][1]
    fitting = [r for r in rows if _mentions(cmd.deliverables, r[0].next_step or r[0].summary)]
    if len(fitting) == 1:  # "华钢的报价发了": the one whose step is the quote
        return fitting[0][0], None, fitting[0][1]
    op = {c.CloseFollowUp: "followup_done", c.MoveFollowUp: "followup_move", c.DropFollowUp: "followup_drop"}[type(cmd)]
    verb = {"followup_done": "完成了", "followup_move": "要改期", "followup_drop": "不再跟进"}[op]
    lines = [f"哪一件{verb}？"] + [f"{i}. {md(v.follow_up)} {name}：{v.next_step or short(v.summary, 20)}" for i, (v, name, _) in enumerate(rows[:6], 1)]
    buttons = [Button(f"{i}. {short(name, 6).rstrip('…')}", payload(op, visit_id=v.id)) for i, (v, name, _) in enumerate(rows[:6], 1)]
    return None, Reply("\n".join(lines), buttons), ""


def _mentions(deliverables: tuple[str, ...], step: str) -> bool:
    """Whether what the manager named (the understanding stage's deliverables: 报价, 方案, 合同 …)
    is this step's."""
    return any(w in (step or "") for w in deliverables)


def close(turn: Turn, cmd: c.CloseFollowUp) -> Reply:
    v, ask, name = _target(turn, cmd)
    if ask:
        return ask
    pending = {"op": "done", "visit_id": v.id, "change": {"note": cmd.what}}
    if cmd.confirmed:
        return apply_change(turn, pending)
    return Reply(f"把 {name} 的跟进「{v.next_step or short(v.summary, 20)}」（{md(v.follow_up) if v.follow_up else '未定日期'}）标为已完成？",
                 list(YES_NO), {"pending_edit": pending}, context={"visit_id": v.id})


def move(turn: Turn, cmd: c.MoveFollowUp) -> Reply:
    v, ask, name = _target(turn, cmd)
    if ask:
        return ask
    to = cmd.to
    if to is None and cmd.shift_days:
        to = max(v.follow_up, turn.today) + timedelta(days=cmd.shift_days)
    if to is None:
        return Reply(f"{name} 的跟进「{v.next_step or short(v.summary, 20)}」改到哪天？", move_options(v.id, turn.today),
                     context={"visit_id": v.id})
    if to < turn.today:
        return Reply(f"{dates.label(to, turn.today)} 已经过去了，跟进日期要在今天或以后。改到哪天？", move_options(v.id, turn.today),
                     context={"visit_id": v.id})
    pending = {"op": "move", "visit_id": v.id, "change": {"follow_up": to.isoformat()}}
    if cmd.confirmed:
        return apply_change(turn, pending)
    return Reply(f"把 {name} 的跟进「{v.next_step or short(v.summary, 20)}」从 {md(v.follow_up) if v.follow_up else '未定日期'} 改到 {dates.label(to, turn.today)}？",
                 list(YES_NO), {"pending_edit": pending}, context={"visit_id": v.id})


def move_options(visit_id: int, today: date) -> list[Button]:
    """A few dates as buttons: tomorrow, the next working days, next Monday and Friday, month end."""
    mon = monday_of(today)
    options = [today + timedelta(days=1), today + timedelta(days=2), mon + timedelta(days=7), mon + timedelta(days=11)]
    end = (today.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)
    if end > today + timedelta(days=2):
        options.append(end)
    seen, out = set(), []
    for d in options:
        if d > today and d not in seen:
            seen.add(d)
            label = dates.label(d, today).replace("（", " ").replace("）", "")
            out.append(Button(label, payload("followup_move", visit_id=visit_id, to=d.isoformat())))
    return out


def drop(turn: Turn, cmd: c.DropFollowUp) -> Reply:
    v, ask, name = _target(turn, cmd)
    if ask:
        return ask
    pending = {"op": "drop", "visit_id": v.id, "change": {"note": cmd.reason}}
    reason = f"（原因：{cmd.reason}）" if cmd.reason else ""
    if cmd.confirmed:
        return apply_change(turn, pending)
    return Reply(f"{name} 的跟进「{v.next_step or short(v.summary, 20)}」不再跟进{reason}？原因会记在这条记录上。",
                 list(YES_NO), {"pending_edit": pending}, context={"visit_id": v.id})


def apply_follow_up(v: Visit, op: str, ch: dict, turn: Turn) -> tuple[str, str]:
    """Called by visits.apply_change inside the unit of work; returns (audit action, reply text)."""
    item = v.next_step or short(v.summary, 20)
    if op == "done":
        v.follow_up_done, v.follow_up_outcome, v.follow_up_closed_at = True, "done", turn.now
        v.follow_up_note = (ch.get("note") or "")[:200]
        return "followup_done", f"已完成：{item}（{turn.now:%m-%d} 记下）。"
    if op == "drop":
        v.follow_up_done, v.follow_up_outcome, v.follow_up_closed_at = True, "dropped", turn.now
        v.follow_up_note = (ch.get("note") or "")[:200]
        return "followup_dropped", f"已取消跟进：{item}" + (f"（原因：{v.follow_up_note}）" if v.follow_up_note else "") + "。"
    if op == "move":
        old = v.follow_up
        v.follow_up = date.fromisoformat(ch["follow_up"])
        v.follow_up_done, v.follow_up_outcome, v.follow_up_closed_at = False, "", None
        return "followup_moved", f"已改期：{item}，{md(old)} → {dates.label(v.follow_up, turn.today)}。"
    raise ValueError(op)


# ---------------------------------------------------------------- the morning digest
def digest(turn: Turn, cmd: c.Digest) -> Reply:
    from actions.services.customers import ranked_portfolio

    session, manager, today = turn.session, turn.manager, turn.today
    week_end = monday_of(today) + timedelta(days=6)
    rows = open_followups(session, manager, until=week_end)
    overdue = [r for r in rows if r[0].follow_up < today]
    due_today = [r for r in rows if r[0].follow_up == today]
    this_week = [r for r in rows if r[0].follow_up > today]
    lines = [f"{manager.name}早上好！{dates.label(today, today)}"]
    if not rows:
        lines.append("本周没有要跟进的事。")
    for title, group in (("逾期", overdue), ("今天", due_today), ("本周", this_week)):
        if group:
            lines.append(f"【{title} {len(group)} 件】")
            lines += [item_line(v, name, today) for v, name, _ in group[:4]]
    ranked = ranked_portfolio(turn)
    if ranked:
        lines.append(f"预警 {len(ranked)} 个客户，最急的：")
        for f, alerts in ranked[:3]:
            lines.append(f"⚠ {f.name}：{alerts[0].text}")
    audit(session, manager.code, "daily_digest", None, overdue=len(overdue), today=len(due_today), week=len(this_week),
          alerts=len(ranked))
    buttons = item_buttons(overdue + due_today, limit=3) + [Button("我的待办", payload("my_followups")),
                                                           Button("风险客户", payload("portfolio_alerts"))]
    return Reply("\n".join(lines), buttons)
