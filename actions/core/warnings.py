"""Early warnings (预警) — DOMAIN.md §4 (rule).

- spend drop: A ≤ 0.80 × B;
- contract ends within 90 days (0..90 days inclusive; an already expired contract also warns);
- open complaint (投诉) or fault (故障) older than 48 hours;
- not visited within the tier's cadence (days since last visit > cadence; never visited warns);
- a competitor present at the customer.
Each alert has an urgency (orders one customer's warnings), a severity (3 high, 2 medium, 1 low) and
the days it is overdue; `portfolio_key` orders customers by them (see README «风险排序»).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from actions.core import lifecycle
from actions.core.facts import CustomerFacts
from actions.core.money import yuan

CONTRACT_WINDOW_DAYS = 90
TICKET_AGE = timedelta(hours=48)


@dataclass(frozen=True)
class Alert:
    kind: str  # spend_drop|contract|ticket|not_visited|competitor
    text: str
    urgency: int
    severity: int = 1  # 3: act now (expired or ≤30-day contract, complaint/fault past 48 h); 2: spend drop,
    #                    contract within 90 days, visit overdue by more than the cadence; 1: the rest
    overdue_days: int = 0  # how long past its limit (contract end, 48 h, visit cadence)


def contract_days_left(contract_end: date | None, today: date) -> int | None:
    return None if contract_end is None else (contract_end - today).days


def contract_state(days: int) -> str:
    """还有 N 天 / 今天到期 / 已过期 N 天 (never 还有 -N 天)."""
    if days > 0:
        return f"还有 {days} 天"
    return "今天到期" if days == 0 else f"已过期 {-days} 天"


def contract_alert(contract_end: date | None, today: date) -> Alert | None:
    days = contract_days_left(contract_end, today)
    if days is None or days > CONTRACT_WINDOW_DAYS:
        return None
    if days < 0:
        return Alert("contract", f"合同已于 {contract_end:%Y-%m-%d} 到期（已过期 {-days} 天），尽快续约", 100, 3, -days)
    return Alert(
        "contract", f"合同 {contract_end:%Y-%m-%d} 到期（{contract_state(days)}）", 95 - days * 40 // 90, 3 if days <= 30 else 2
    )


def stale_ticket_alerts(facts: CustomerFacts, now: datetime) -> list[Alert]:
    out = []
    for t in facts.open_tickets:
        if t.kind not in ("投诉", "故障"):
            continue
        age = now - t.opened
        if age > TICKET_AGE:
            days = age.days
            age_text = f"{days} 天" if days >= 1 else f"{int(age.total_seconds() // 3600)} 小时"
            out.append(
                Alert(
                    "ticket",
                    f"{t.kind}未结已 {age_text}：{t.summary}" if t.summary else f"{t.kind}未结已 {age_text}",
                    90 if t.kind == "投诉" else 85,
                    3,
                    max(0, (age - TICKET_AGE).days),
                )
            )
    return out


def visit_alert(facts: CustomerFacts, today: date) -> Alert | None:
    cadence = facts.tier.cadence_days
    last = facts.last_visit
    if last is None:
        return Alert("not_visited", f"没有拜访记录（{facts.tier.zh}客户应每 {cadence} 天内拜访）", 55, 2, cadence)
    days = (today - last.visit_date).days
    if days > cadence:
        return Alert(
            "not_visited",
            f"已 {days} 天未拜访（{facts.tier.zh}客户应每 {cadence} 天内拜访）",
            50 + min(30, (days - cadence) // 7),
            2 if days > 2 * cadence else 1,
            days - cadence,
        )
    return None


def spend_alert(facts: CustomerFacts) -> Alert | None:
    if not lifecycle.is_spend_drop(facts.billing):
        return None
    cmp = lifecycle.compare_spend(facts.billing)
    assert cmp is not None
    return Alert(
        "spend_drop",
        f"近3月均消费 {yuan(cmp.recent)}，较前3月下降 {-(cmp.ratio_pct or 0)}%",
        88,
        2,
    )


def competitor_alert(facts: CustomerFacts) -> Alert | None:
    if not facts.competitors:
        return None
    return Alert("competitor", f"{'、'.join(facts.competitors)}正在接触", 60)


def alerts_for(facts: CustomerFacts, *, today: date, now: datetime) -> list[Alert]:
    if facts.status == "churned":
        # A churned customer's warnings are not actionable; the stage says it all.
        return []
    found = [
        spend_alert(facts),
        contract_alert(facts.contract_end, today),
        *stale_ticket_alerts(facts, now),
        visit_alert(facts, today),
        competitor_alert(facts),
    ]
    return sorted((a for a in found if a is not None), key=lambda a: -a.urgency)


def portfolio_key(facts: CustomerFacts, alerts: list[Alert]) -> tuple:
    """How a list of customers with warnings is ordered (most urgent first): the highest severity of
    their warnings, then the sum of severities (four warnings outweigh one), then the value tier
    (钻石 before 水晶), then the days overdue, then average spend. Use with sorted(..., key=...)."""
    from actions.core.tiering import TIERS

    return (
        -max((a.severity for a in alerts), default=0),
        -sum(a.severity for a in alerts),
        -TIERS.index(facts.tier),
        -max((a.overdue_days for a in alerts), default=0),
        -facts.avg3,
    )
