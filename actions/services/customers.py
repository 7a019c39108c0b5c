"""customer_status, visit_brief, portfolio_alerts, tier_policy."""

from __future__ import annotations

from dataclasses import replace

from sqlalchemy.orm import Session

from actions.core import briefs, lifecycle, tiering
from actions.core.money import yuan
from actions.core.numbers import amount_yuan
from actions.core.reply import Button, Reply, Request, payload
from actions.core.warnings import alerts_for
from actions.db.models import Manager
from actions.db.repositories import audit, load_facts, portfolio_facts
from actions.services.common import customer_slot, find_customer

NEXT_STEP_BUTTONS = (
    ("拜访简报", "visit_brief"),
    ("FABE话术", "fabe_pitch"),
    ("SPIN提问", "spin_questions"),
    ("推荐套餐", "bundle_offer"),
    ("记录拜访", "log_visit"),
)


def next_step_buttons(facts, skip: str = "") -> list[Button]:
    out = []
    for title, intent in NEXT_STEP_BUTTONS:
        if intent == skip:
            continue
        if intent == "bundle_offer" and facts.stage.key in ("decline", "churned"):
            title = "挽留方案" if facts.stage.key == "decline" else "赢回方案"
        out.append(Button(title, payload(intent)))
    return out


def customer_status(session: Session, manager: Manager, req: Request) -> Reply:
    aspect = briefs.detect_aspect(req.free_text, req.entity("aspect"))
    pending = req.slots.get("pending_note")
    if isinstance(pending, dict) and pending.get("unparsed") and not aspect and len(req.free_text) <= 12:
        from actions.services import visits

        return visits.log_visit(session, manager, req)  # the answer to "这条记录是哪个客户的？"
    customer, ask = find_customer(session, manager, req, intent="customer_status", keep={"aspect": aspect})
    if ask:
        return ask
    facts = load_facts(session, customer, today=req.today)
    alerts = alerts_for(facts, today=req.today, now=req.now)
    if aspect:
        text = briefs.aspect_text(facts, aspect, alerts, now=req.now)
    else:
        text = briefs.status_text(facts, alerts, now=req.now, viewer_is_owner=customer.manager_id == manager.id)
    return Reply(text, next_step_buttons(facts), customer_slot(customer))


def visit_brief(session: Session, manager: Manager, req: Request) -> Reply:
    from actions.services import coaching

    customer, ask = find_customer(session, manager, req, intent="visit_brief")
    if ask:
        return ask
    facts = load_facts(session, customer, today=req.today)
    alerts = alerts_for(facts, today=req.today, now=req.now)
    lines = [f"{facts.name} 拜访简报", f"{facts.industry or '行业未填'} · {facts.importance_label} · {facts.tier.label} · {facts.stage.zh}"]
    lines += briefs.alert_lines(alerts, facts.stage.zh)
    lines.append("【CRM 事实】")
    changes = [f"消费 {briefs.trend_line(facts)}"]
    last = facts.last_visit
    if last:
        lines.append(f"· 上次拜访：{briefs.visit_line(last)}")
        new_tickets = [t for t in facts.tickets if t.opened.date() > last.visit_date]
        if new_tickets:
            changes.append(f"上次拜访后新增工单 {len(new_tickets)} 条")
    lines.append("· 变化：" + "；".join(changes))
    promises = [v for v in facts.visits if v.next_step and not v.follow_up_done][:2]
    for v in promises:
        due = f"（{briefs.md(v.follow_up)} 前）" if v.follow_up else ""
        lines.append(f"· 待兑现：{v.next_step}{due}")
    if facts.contacts:
        lines.append(f"· 要见的人：{briefs.contacts_line(facts, limit=4)}")
    lines.append("【建议】")
    lines.append(f"→ {facts.stage.zh}策略：{facts.stage.strategy}")
    for line in coaching.brief_suggestions(facts, alerts):
        lines.append(f"→ {line}")
    ent = tiering.TIER_ENTITLEMENTS[facts.tier.key]
    lines.append(f"→ 可提的权益：{'、'.join(ent + tiering.COMMON_ENTITLEMENTS[:1])}")
    return Reply("\n".join(lines), next_step_buttons(facts, skip="visit_brief"), customer_slot(customer))


PORTFOLIO_FOCUS = {
    "contract": ("合同", "到期", "续约", "续签"),
    "not_visited": ("拜访", "没去", "好久", "很久"),
    "spend_drop": ("消费", "下降", "衰退", "流失", "掉"),
    "competitor": ("移动", "联通", "广电", "竞争"),
    "ticket": ("投诉", "故障", "工单"),
}
MAX_LISTED = 10


def ranked_portfolio(session: Session, manager: Manager, req: Request, kind: str | None = None):
    """(facts, alerts) for every visible customer with a warning (only `kind` if given),
    most urgent first, then the most valuable."""
    rows = []
    for f in portfolio_facts(session, manager, today=req.today):
        alerts = alerts_for(f, today=req.today, now=req.now)
        if kind:
            alerts = [a for a in alerts if a.kind == kind]
        if alerts:
            rows.append((f, alerts))
    rows.sort(key=lambda r: (-r[1][0].urgency, -r[0].avg3))
    return rows


def portfolio_alerts(session: Session, manager: Manager, req: Request) -> Reply:
    from actions.services import directory

    if req.free_text:
        res, _ = directory.resolve(session, manager, req.free_text, allow_prefix=False)
        if res.status == "found":  # "明珠新材有啥风险没": one named customer, not the portfolio
            return customer_status(session, manager, replace(req, entities={**req.entities, "aspect": ["风险"]}))
    focus = next((k for k, words in PORTFOLIO_FOCUS.items() if any(w in req.free_text for w in words)), None)
    rows = ranked_portfolio(session, manager, req, kind=focus)
    audit(session, manager.code, "portfolio_alerts", None, focus=focus or "all", count=len(rows))
    scope = {"admin": "全部客户", "lead": f"{manager.team}的客户"}.get(manager.role, "你的客户")
    label = {
        "contract": "90 天内合同到期", "not_visited": "超过拜访周期没去", "spend_drop": "消费下降",
        "competitor": "有竞争对手接触", "ticket": "投诉/故障超 48 小时未结",
    }.get(focus, "有预警")
    if not rows:
        return Reply(f"{scope}里目前没有{label}的客户。")
    lines = [f"{scope}里 {len(rows)} 个{label}（按紧急程度和价值排）："]
    buttons = []
    for i, (f, alerts) in enumerate(rows[:MAX_LISTED], 1):
        extra = f" 等 {len(alerts)} 项" if len(alerts) > 1 else ""
        lines.append(f"{i}. {f.name}（{f.tier.zh}）{alerts[0].text}{extra}")
        if i <= 4:
            buttons.append(Button(f.name, payload("customer_status", customer_code=f.code)))
    if len(rows) > MAX_LISTED:
        lines.append(f"……还有 {len(rows) - MAX_LISTED} 个")
    return Reply("\n".join(lines), buttons)


POLICY_WORDS = ("等级", "级别", "权益", "标准", "服务", "待遇", "门槛", "周期", "多久", "什么客户", "几级", "哪一级",
                "哪个等级", "划分", "分级", "生命周期", "期", "培训", "派驻", "重要大客户", "特大", "普通大客户", "星")


def tier_policy(session: Session, manager: Manager, req: Request) -> Reply:
    text = req.free_text
    # Only a real tier name counts: DIET may tag 黄石 (a place) as a tier.
    entity = req.entity("tier")
    tier_word = entity if entity in tiering.TIER_BY_ZH else next((t.zh for t in tiering.TIERS if t.zh in text), None)
    if text and not tier_word and not any(w in text for w in POLICY_WORDS) and amount_yuan(text) is None:
        return customer_status(session, manager, req)  # "黄石嘉和税务分局最近怎么样" misread as a policy question
    if any(w in text for w in ("生命周期", "衰退期", "成熟期", "提升期", "获取期", "离网期")):
        stages = lifecycle.STAGES.values()
        named = [s for s in stages if s.zh in text]
        lines = ["客户生命周期（按近3月均消费 A 与前3月 B 比较）："] if not named else []
        rules = {
            "acquisition": "在网不满 6 个月或账单不足 6 个月", "growth": "A ≥ 1.10×B",
            "maturity": "0.80×B < A < 1.10×B", "decline": "A ≤ 0.80×B", "churned": "已离网，或最近 2 个月没有账单",
        }
        for s in named or stages:
            lines.append(f"· {s.zh}：{rules[s.key]}。{s.strategy}")
        return Reply("\n".join(lines))
    if not tier_word and any(w in text for w in ("重要大客户", "特大", "普通大客户")):
        return Reply(
            "重要性分类：\n· 重要大客户：政府机关、公安机关、部队、公检法、世界500强、教育机构\n"
            "· 一般大客户：其余客户；月消费 3,000–10,000 元为普通大客户，超过 1 万元为特大大客户"
        )
    amount = amount_yuan(text)
    if not tier_word and amount is not None:
        t = tiering.tier_for_spend(amount)
        return Reply(f"月均消费 {yuan(amount)} 属于{t.label}。\n" + "\n".join(briefs.tier_lines(t)))
    if not tier_word:
        # "XX是什么级别": a customer's tier
        customer, ask = find_customer(session, manager, req, intent="tier_policy", required=False)
        if customer is not None:
            facts = load_facts(session, customer, today=req.today)
            return Reply(
                f"{facts.name}是{facts.tier.label}（近3月均消费 {yuan(facts.avg3)}），{facts.importance_label}。\n"
                + "\n".join(briefs.tier_lines(facts.tier)),
                [Button("查看客户", payload("customer_status"))],
                customer_slot(customer),
            )
        if ask:
            return ask
        lines = ["价值等级（按近3月均消费）："]
        for t in reversed(tiering.TIERS):
            lines.append(f"· {t.zh}：{briefs.tier_range(t)}，每 {t.cadence_days} 天至少拜访一次")
        lines.append("所有大客户：免费上门咨询、上门受理、故障优先处理、7×24 故障申告")
        lines.append("钻石另有派驻客户经理和免费上门培训；翡翠、白金需要时上门培训")
        return Reply("\n".join(lines), [Button(f"{t.zh}客户权益", payload("tier_policy", tier=t.zh)) for t in reversed(tiering.TIERS[3:])])
    t = tiering.TIER_BY_ZH[tier_word]
    return Reply(f"{t.label}\n" + "\n".join(briefs.tier_lines(t)))


