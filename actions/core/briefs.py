"""Phone-sized Chinese texts built from CustomerFacts (pure functions).

Shape (see shared/REPLIES.md): full name first; warnings (⚠) before everything else; one fact a
line with units; at most about 12 lines; CRM facts (·) apart from suggestions (→).
"""

from __future__ import annotations

from datetime import date, datetime

from actions.core import tiering
from actions.core.facts import CustomerFacts, VisitFact
from actions.core.money import pct_change, signed_pct, yuan
from actions.core.warnings import Alert, contract_days_left, contract_state

MAX_ALERT_LINES = 3


def header(f: CustomerFacts) -> str:
    return f"{f.name} · {f.tier.label} · {f.importance_label}"


def alert_lines(alerts: list[Alert], stage_zh: str | None = None) -> list[str]:
    if not alerts:
        return []
    texts = [a.text + (f"（{stage_zh}）" if a.kind == "spend_drop" and stage_zh else "") for a in alerts]
    if len(texts) > MAX_ALERT_LINES:
        texts = texts[: MAX_ALERT_LINES - 1] + ["；".join(texts[MAX_ALERT_LINES - 1 :])]
    return [("⚠ 预警：" if i == 0 else "⚠ ") + t for i, t in enumerate(texts)]


def product_label(code: str) -> str:
    from actions.kb.loader import product_by_code

    p = product_by_code().get(code)
    return p.short if p else code


def products_line(f: CustomerFacts, limit: int = 5) -> str:
    from actions.kb.loader import product_by_code

    catalog = product_by_code()
    parts = []
    for s in sorted(f.subscriptions, key=lambda s: -s.monthly_fee)[:limit]:
        p = catalog.get(s.product)
        unit = p.unit if p else ""
        parts.append(f"{p.short if p else s.product}×{s.quantity}{unit if unit in ('线', '机柜', '路', '台', '点') else ''}")
    more = len(f.subscriptions) - limit
    return "、".join(parts) + (f" 等 {len(f.subscriptions)} 项" if more > 0 else "") if parts else "暂无在用产品"


def trend_line(f: CustomerFacts, months: int = 3) -> str:
    rows = f.billing[-months:]
    if not rows:
        return "暂无账单"
    series = " → ".join(f"{m.month}月 {yuan(a)}" for m, a in rows)
    avg_prev = tiering.recent_average(f.billing, skip=3)[0]
    change = pct_change(f.avg3, avg_prev) if avg_prev else None
    return series + (f"（较前3月 {signed_pct(change)}）" if change is not None else "")


def short(text: str, n: int) -> str:
    """One line of at most n characters (whitespace folded), with … when cut."""
    text = " ".join((text or "").split())
    return text[:n] + ("…" if len(text) > n else "")


def md(d: date) -> str:
    return f"{d.month:02d}-{d.day:02d}"


def people_text(people) -> str:
    out = []
    for p in people:
        name, title = p.get("name", ""), p.get("title", "")
        if name:
            out.append(f"{name}（{title}）" if title else name)
    return "、".join(out)


def visit_line(v: VisitFact) -> str:
    who = people_text(v.people)
    text = f"{md(v.visit_date)}" + (f" 见{who}" if who else "")
    if v.next_step and v.follow_up:
        text += f"，约定 {md(v.follow_up)} 前{v.next_step}"
    elif v.next_step:
        text += f"，约定{v.next_step}"
    elif v.summary:
        text += f"：{v.summary[:24]}{'…' if len(v.summary) > 24 else ''}"
    return text


def visit_summary(v: VisitFact, *, with_date: bool = True) -> str:
    """What a person would write about a visit: who was met, what came up, what was agreed.

    Built from the note's fields (people, products, signals, next step); only a note that has none
    of them (an imported one) falls back to its first words.
    """
    parts = []
    who = people_text(v.people)
    if who:
        parts.append(f"见{who}")
    topics = [product_label(p) for p in v.products[:3]]
    signals = [x.replace("竞争对手:", "") + ("在接触" if x.startswith("竞争对手:") else "") for x in v.signals]
    if any(x.startswith("需决策者") for x in signals):
        signals = [x for x in signals if x != "决策人"]
    signals = signals[:2]
    if topics or signals:
        parts.append("谈" + "、".join(topics) if topics else "")
        parts = [p for p in parts if p]
        if signals:
            parts.append("；".join(signals))
    if v.next_step:
        due = f"{md(v.follow_up)} 前" if v.follow_up else ""
        parts.append(f"约定 {due}{v.next_step}" if due else f"约定{v.next_step}")
    if not parts:
        parts.append(short(v.summary, 24))
    text = "，".join(parts)
    return f"{md(v.visit_date)} {text}" if with_date else text


def contacts_line(f: CustomerFacts, limit: int = 3) -> str:
    order = {"economic": 0, "technical": 1, "coach": 2, "user": 3}
    picked = sorted(f.contacts, key=lambda c: order.get(c.role, 9))[:limit]
    return "、".join(f"{c.name} {c.title}（{c.role_zh}）" if c.title else f"{c.name}（{c.role_zh}）" for c in picked)


def ticket_line(f: CustomerFacts, now: datetime) -> str | None:
    open_ = [t for t in f.open_tickets if t.kind in ("投诉", "故障", "咨询")]
    if not open_:
        return None
    oldest = open_[0]
    days = (now - oldest.opened).days
    age = f"已 {days} 天" if days >= 1 else "今天新开"
    return f"{len(open_)} 条未结（{oldest.kind}：{oldest.summary or '无摘要'}，{age}）"


def status_text(f: CustomerFacts, alerts: list[Alert], *, now: datetime, viewer_is_owner: bool) -> str:
    lines = [header(f)]
    lines += alert_lines(alerts, f.stage.zh)
    lines.append(f"· 等级依据：近3月均消费 {yuan(f.avg3)}｜{f.stage.zh}")
    lines.append(f"· 消费：{trend_line(f)}")
    lines.append(f"· 产品：{products_line(f)}")
    if not any(a.kind == "contract" for a in alerts) and f.contract_end:
        lines.append(f"· 合同：{f.contract_end:%Y-%m-%d} 到期（{contract_state(contract_days_left(f.contract_end, f.today))}）")
    tickets = ticket_line(f, now)
    if tickets and not any(a.kind == "ticket" for a in alerts):
        lines.append(f"· 工单：{tickets}")
    if f.last_visit:
        lines.append(f"· 上次拜访：{visit_line(f.last_visit)}")
    follow = next_follow_up(f)
    if follow:
        lines.append(f"· 下次跟进：{md(follow.follow_up)} {follow.next_step or ''}".rstrip())
    if f.contacts:
        lines.append(f"· 关键人：{contacts_line(f)}")
    if not viewer_is_owner and f.manager_name:
        lines.append(f"· 客户经理：{f.manager_name}")
    return "\n".join(lines)


def next_follow_up(f: CustomerFacts) -> VisitFact | None:
    pending = [v for v in f.visits if v.follow_up and not v.follow_up_done]
    return min(pending, key=lambda v: v.follow_up) if pending else None


# ---------------------------------------------------------------- aspects
ASPECT_TITLE = {
    "spend": "消费", "contract": "合同", "tickets": "工单", "contacts": "关键人", "products": "在用产品",
    "last_visit": "最近拜访", "tier": "等级", "risks": "风险", "stage": "生命周期",
}


def aspect_text(f: CustomerFacts, aspect: str, alerts: list[Alert], *, now: datetime) -> str:
    """One aspect of a customer (spend, contract, tickets, contacts, products, last_visit, tier, risks, stage)."""
    title = f"{f.name}（{f.tier.label}，{f.stage.zh}）"
    lines: list[str] = []
    if aspect == "spend":
        lines.append(f"{title}近 12 个月消费：")
        rows = f.billing[-12:]
        for i in range(0, len(rows), 2):
            pair = rows[i : i + 2]
            lines.append("  ".join(f"{m:%Y-%m} {yuan(a)}" for m, a in pair))
        prev = tiering.recent_average(f.billing, skip=3)[0]
        change = signed_pct(pct_change(f.avg3, prev)) if prev else "—"
        lines.append(f"近3月均 {yuan(f.avg3)}，前3月均 {yuan(prev)}，变化 {change}")
        if rows:
            lines.append(f"→ {f.stage.zh}：{f.stage.strategy}")
    elif aspect == "contract":
        if f.contract_end is None:
            lines += [title, "CRM 里没有合同到期日，建议补录。"]
        else:
            days = contract_days_left(f.contract_end, f.today)
            lines += [title, f"合同到期：{f.contract_end:%Y-%m-%d}（{contract_state(days)}）"]
            if days <= 90:
                lines.append("⚠ 90 天内到期：尽早约决策人谈续约，带上锁定类方案（预存话费送话费、培训）")
            lines.append(f"当前在用产品月费合计 {yuan(f.current_monthly_fee)}")
    elif aspect == "tickets":
        lines.append(f"{title}工单：")
        open_ = f.open_tickets
        if not open_:
            lines.append("没有未结工单。")
        for t in open_[:5]:
            age = now - t.opened
            age_text = f"{age.days} 天" if age.days >= 1 else f"{int(age.total_seconds() // 3600)} 小时"
            flag = "⚠ " if t.kind in ("投诉", "故障") and age.total_seconds() > 48 * 3600 else "· "
            lines.append(f"{flag}{t.kind}未结 {age_text}：{t.summary or '无摘要'}（{t.opened:%m-%d %H:%M}）")
        closed = [t for t in f.tickets if t.status == "closed"][:3]
        for t in closed:
            lines.append(f"· 已结 {t.opened:%m-%d} {t.kind}：{t.summary or '无摘要'}")
    elif aspect == "contacts":
        lines.append(f"{title}关键人：")
        if not f.contacts:
            lines.append("CRM 里还没有联系人，建议拜访时补录（CUTE：教练、用户、技术把关、决策者）。")
        for c in f.contacts[:8]:
            lines.append(f"· {c.name} {c.title}（{c.role_zh}）")
        missing = [z for r, z in (("economic", "决策者"), ("coach", "教练"), ("technical", "技术把关")) if not f.contacts_by_role(r)]
        if missing:
            lines.append(f"→ 还缺{'、'.join(missing)}，下次拜访留意")
    elif aspect == "products":
        from actions.kb.loader import product_by_code

        catalog = product_by_code()
        lines.append(f"{title}在用产品：")
        if not f.subscriptions:
            lines.append("暂无在用产品。")
        for s in sorted(f.subscriptions, key=lambda s: -s.monthly_fee):
            p = catalog.get(s.product)
            lines.append(f"· {p.name if p else s.product} ×{s.quantity}{p.unit if p else ''}，月费 {yuan(s.monthly_fee)}")
        lines.append(f"月费合计 {yuan(f.current_monthly_fee)}")
    elif aspect == "last_visit":
        lines.append(f"{title}最近拜访：")
        if not f.visits:
            lines.append("还没有拜访记录。")
        for v in f.visits[:4]:
            lines.append(f"· {visit_line(v)}")
        follow = next_follow_up(f)
        if follow:
            lines.append(f"下次跟进：{md(follow.follow_up)} {follow.next_step}".rstrip())
        lines.append(f"{f.tier.zh}客户应每 {f.tier.cadence_days} 天内拜访一次")
    elif aspect == "tier":
        lines += [title, *tier_lines(f.tier), f"依据：近3月均消费 {yuan(f.avg3)}", f"重要性：{f.importance_label}"]
    elif aspect == "risks":
        lines.append(f"{title}风险：")
        lines += [f"⚠ {a.text}" for a in alerts] or ["目前没有预警。"]
        lines.append(f"→ {f.stage.zh}：{f.stage.strategy}")
    elif aspect == "stage":
        lines += [title, f"生命周期：{f.stage.zh}" + ("（已离网）" if f.status == "churned" else "")]
        prev = tiering.recent_average(f.billing, skip=3)[0]
        if f.billing:
            change = signed_pct(pct_change(f.avg3, prev)) if prev else "—"
            lines.append(f"依据：近3月均 {yuan(f.avg3)}，前3月均 {yuan(prev)}，变化 {change}")
        if f.since:
            lines.append(f"在网：{f.since:%Y-%m} 起")
        lines.append(f"→ {f.stage.strategy}")
    return "\n".join(lines[:14])


def person_text(f: CustomerFacts, name: str) -> str:
    """One contact: who they are, their CUTE role and what that means for the next visit."""
    contact = next((c for c in f.contacts if c.name == name), None)
    if contact is None:
        return f"{f.name}的 CRM 联系人里没有{name}。"
    advice = {
        "economic": "决策者：谈业务影响和投入产出，少讲技术细节",
        "technical": "技术把关者：谈架构、稳定性和运维，先过他这关",
        "coach": "教练：内部向导，先从他那里摸清需求和决策流程",
        "user": "用户：了解日常使用的痛点，争取他的支持",
    }.get(contact.role, "")
    lines = [f"{contact.name} · {contact.title or '职务未填'} · {contact.role_zh}", f"单位：{f.name}"]
    met = [v for v in f.visits if any(p.get("name") == contact.name for p in v.people)]
    if met:
        lines.append(f"上次见：{visit_line(met[0])}")
    else:
        lines.append("拜访记录里还没见过他")
    if advice:
        lines.append(f"→ {advice}")
    return "\n".join(lines)


def tier_range(tier: tiering.Tier) -> str:
    idx = tiering.TIERS.index(tier)
    upper = tiering.TIERS[idx + 1].floor if idx + 1 < len(tiering.TIERS) else None
    low = yuan(tier.floor) if tier.floor else "0"
    if upper is None:
        return f"月均消费 ≥ {low}"
    return f"月均消费 {low} – {yuan(upper)}（不含）"


def tier_lines(tier: tiering.Tier) -> list[str]:
    return [
        f"等级：{tier.zh}（{tier_range(tier)}）",
        f"拜访周期：至少每 {tier.cadence_days} 天一次",
        f"权益：{'、'.join(tiering.entitlements(tier))}",
    ]
