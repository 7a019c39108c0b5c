"""Weekly visit report per manager (`kam report visits --week`), for supervisors."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from actions.core.briefs import short
from actions.core.warnings import visit_alert
from actions.db.models import Manager
from actions.db.repositories import portfolio_facts
from actions.services.visits import followups, visits_between


def week_bounds(day: date) -> tuple[date, date]:
    monday = day - timedelta(days=day.weekday())
    return monday, monday + timedelta(days=6)


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
        overdue = followups(session, m, day - timedelta(days=1))
        out.append("")
        out.append(f"{m.name}（{m.code}，{m.team}）：本周拜访 {len(visits)} 次，{len({n for _, n in visits})} 个客户；"
                   f"超周期未拜访 {len(stale)} 个；逾期跟进 {len(overdue)} 件")
        for v, name in visits:
            out.append(f"  · {v.visit_date:%m-%d} {name}：{short(v.summary, 30)}")
        for f, a in stale[:10]:
            out.append(f"  ⚠ 未拜访 {f.name}（{f.tier.zh}）：{a.text}")
        for v, name, _ in overdue[:10]:
            out.append(f"  ⚠ 逾期跟进 {v.follow_up:%m-%d} {name}：{v.next_step or short(v.summary, 30)}")
    return "\n".join(out)

