"""Weekly visit report per manager (`kam report visits --week`), for supervisors.

Per manager: the week's visits, the follow-ups that fell due this week and how many were completed
(the completion rate), overdue follow-ups with their age, and own customers past their visit cadence.
"""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from actions.core.briefs import short
from actions.core.warnings import visit_alert
from actions.db.models import Manager, Visit
from actions.db.repositories import portfolio_facts
from actions.services.followups import open_followups
from actions.services.visits import visits_between


def week_bounds(day: date) -> tuple[date, date]:
    monday = day - timedelta(days=day.weekday())
    return monday, monday + timedelta(days=6)


def completion(session: Session, manager: Manager, start: date, end: date) -> tuple[int, int]:
    """(completed, due): follow-ups due from start to end, and how many of them are done."""
    base = select(func.count(Visit.id)).where(
        Visit.manager_id == manager.id, Visit.deleted.is_(False), Visit.follow_up >= start, Visit.follow_up <= end,
        Visit.follow_up_outcome != "dropped",
    )
    due = session.execute(base).scalar() or 0
    done = session.execute(base.where(Visit.follow_up_outcome == "done")).scalar() or 0
    return done, due


def weekly_visits(session: Session, day: date, manager_code: str | None = None) -> str:
    start, end = week_bounds(day)
    stmt = select(Manager).where(Manager.role != "admin").order_by(Manager.code)
    if manager_code:
        stmt = select(Manager).where(Manager.code == manager_code)
    managers = list(session.execute(stmt).scalars())
    if not managers:
        raise LookupError(f"没有编码为 {manager_code} 的客户经理")
    out = [f"拜访周报 {start:%Y-%m-%d} 至 {end:%Y-%m-%d}"]
    for m in managers:
        visits = visits_between(session, m, start, end)
        own = portfolio_facts(session, m, today=day, own_only=True)  # a lead's report: their own customers
        stale = [(f, a) for f in own if (a := visit_alert(f, day)) is not None and f.status != "churned"]
        stale.sort(key=lambda r: (-r[1].urgency, -r[0].avg3))
        overdue = open_followups(session, m, until=day - timedelta(days=1))
        done, due = completion(session, m, start, end)
        rate = f"{done * 100 // due}%" if due else "—"
        out.append("")
        out.append(f"{m.name}（{m.code}，{m.team}）：本周拜访 {len(visits)} 次，{len({n for _, n in visits})} 个客户；"
                   f"本周到期跟进 {due} 件，完成 {done} 件（完成率 {rate}）；逾期跟进 {len(overdue)} 件；"
                   f"超周期未拜访 {len(stale)} 个")
        for v, name in visits:
            out.append(f"  · {v.visit_date:%m-%d} {name}：{short(v.summary, 30)}")
        for v, name, _ in overdue[:10]:
            out.append(f"  ⚠ 逾期 {(day - v.follow_up).days} 天 {v.follow_up:%m-%d} {name}：{v.next_step or short(v.summary, 30)}")
        for f, a in stale[:10]:
            out.append(f"  ⚠ 未拜访 {f.name}（{f.tier.zh}）：{a.text}")
    return "\n".join(out)
