"""Handlers for LookUp, Brief, Portfolio and Policy commands."""

from __future__ import annotations

from sqlalchemy import select

from actions.core import briefs, lifecycle, tiering
from actions.core.money import yuan
from actions.core.reply import Button, Reply, Turn, payload
from actions.core.warnings import alerts_for, portfolio_key
from actions.db.models import Manager
from actions.db.repositories import audit, load_facts, portfolio_facts
from actions.services import coaching
from actions.services.common import customer_slot, resolve_customer
from actions.understanding import commands as c

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
        out.append(Button(title, payload(intent, customer_code=facts.code)))
    return out


def look_up(turn: Turn, cmd: c.LookUp) -> Reply:
    customer, ask = resolve_customer(turn, cmd)
    if ask:
        return ask
    facts = load_facts(turn.session, customer, today=turn.today)
    alerts = alerts_for(facts, today=turn.today, now=turn.now)
    if cmd.aspect == "person" and cmd.person:
        text = briefs.person_text(facts, cmd.person)
    elif cmd.aspect not in ("overview", "person"):
        parts = [briefs.aspect_text(facts, cmd.aspect, alerts, now=turn.now)]
        for more in cmd.also:  # 华钢级别 合同: both, the title once
            section = briefs.aspect_text(facts, more, alerts, now=turn.now).splitlines()
            parts.append("\n".join(section[1:] if section and section[0].startswith(facts.name) else section))
        text = "\n".join(parts)
    else:
        text = briefs.status_text(facts, alerts, now=turn.now, viewer_is_owner=customer.manager_id == turn.manager.id)
    return Reply(text, next_step_buttons(facts), customer_slot(customer))


def brief(turn: Turn, cmd: c.Brief) -> Reply:
    customer, ask = resolve_customer(turn, cmd)
    if ask:
        return ask
    facts = load_facts(turn.session, customer, today=turn.today)
    alerts = alerts_for(facts, today=turn.today, now=turn.now)
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


# ---------------------------------------------------------------- the portfolio
MAX_LISTED = 10
WARNING_LABEL = {
    "contract": "90 天内合同到期", "not_visited": "超过拜访周期没去", "spend_drop": "消费下降",
    "competitor": "有竞争对手接触", "ticket": "投诉/故障超 48 小时未结", "any": "有预警",
}


def ranked_portfolio(turn: Turn, kind: str | None = None):
    """(facts, alerts) for every visible customer with a warning (only `kind` if given), ordered by
    warnings.portfolio_key: severity, then tier, then days overdue."""
    rows = []
    for f in portfolio_facts(turn.session, turn.manager, today=turn.today):
        alerts = alerts_for(f, today=turn.today, now=turn.now)
        if kind and kind != "any":
            alerts = [a for a in alerts if a.kind == kind]
        if alerts:
            rows.append((f, alerts))
    rows.sort(key=lambda r: portfolio_key(*r))
    return rows


def _scope(manager) -> str:
    return {"admin": "全部客户", "lead": f"{manager.team}的客户"}.get(manager.role, "你的客户")


def portfolio(turn: Turn, cmd: c.Portfolio) -> Reply:
    manager = turn.manager
    if cmd.manager and manager.role == "lead" and not turn.session.execute(
        select(Manager.id).where(Manager.name == cmd.manager, Manager.team == manager.team)
    ).first():
        return Reply(f"{manager.team}里没有叫{cmd.manager}的客户经理，你只能看本团队的客户。")
    facts = portfolio_facts(turn.session, manager, today=turn.today)
    rows = []
    for f in facts:
        if cmd.tier and f.tier.zh != cmd.tier:
            continue
        if cmd.stage and f.stage.key != cmd.stage:
            continue
        if cmd.industry and f.industry != cmd.industry:
            continue
        if cmd.manager and f.manager_name != cmd.manager:
            continue
        alerts = alerts_for(f, today=turn.today, now=turn.now)
        if cmd.warning and cmd.warning != "any":
            alerts = [a for a in alerts if a.kind == cmd.warning]
        if cmd.warning and not alerts:
            continue
        rows.append((f, alerts))
    filters = [x for x in (cmd.industry and f"{cmd.industry}行业",
                           cmd.tier and f"{cmd.tier}", cmd.stage and lifecycle.STAGES[cmd.stage].zh) if x]
    label = "".join(filters) + ("客户" if filters else "客户")
    if cmd.warning:
        label = ("".join(filters) + "里" if filters else "") + WARNING_LABEL[cmd.warning]
    audit(turn.session, manager.code, "portfolio", None, tier=cmd.tier, stage=cmd.stage, industry=cmd.industry,
          warning=cmd.warning, manager=cmd.manager, count=len(rows))
    scope = f"{cmd.manager}名下的客户" if cmd.manager else _scope(manager)
    if cmd.by_manager:
        return _by_manager(scope, rows, label)
    if not rows:
        return Reply(f"{scope}里目前没有{label}的客户。" if cmd.warning else f"{scope}里没有{label}。")
    if cmd.warning:
        rows.sort(key=lambda r: portfolio_key(*r))
        head = f"{scope}里 {len(rows)} 个{label}（按紧急程度和价值排）："
    else:
        rows.sort(key=lambda r: (-tiering.TIERS.index(r[0].tier), -r[0].avg3))
        head = f"{scope}里{label}共 {len(rows)} 个（按价值排）："
    lines = [head]
    buttons = []
    for i, (f, alerts) in enumerate(rows[:MAX_LISTED], 1):
        if alerts and cmd.warning:
            extra = f" 等 {len(alerts)} 项" if len(alerts) > 1 else ""
            lines.append(f"{i}. {f.name}（{f.tier.zh}）{alerts[0].text}{extra}")
        else:
            warn = f"，⚠ {len(alerts)} 项预警" if alerts else ""
            lines.append(f"{i}. {f.name}（{f.tier.zh}·{f.stage.zh}，月均 {yuan(f.avg3)}{warn}）")
        if i <= 4:
            buttons.append(Button(f.name, payload("customer_status", customer_code=f.code)))
    if len(rows) > MAX_LISTED:
        lines.append(f"……还有 {len(rows) - MAX_LISTED} 个")
    return Reply("\n".join(lines), buttons)


def _by_manager(scope: str, rows, label: str) -> Reply:
    counts: dict[str, int] = {}
    for f, _ in rows:
        counts[f.manager_name or "未分配"] = counts.get(f.manager_name or "未分配", 0) + 1
    if not counts:
        return Reply(f"{scope}里目前没有{label}的客户。")
    lines = [f"{scope}里{label}，按客户经理：共 {sum(counts.values())} 个"]
    for name, n in sorted(counts.items(), key=lambda kv: -kv[1]):
        lines.append(f"· {name}：{n} 个")
    return Reply("\n".join(lines))


# ---------------------------------------------------------------- the rules
RULES = {
    "acquisition": "在网不满 6 个月或账单不足 6 个月", "growth": "A ≥ 1.10×B",
    "maturity": "0.80×B < A < 1.10×B", "decline": "A ≤ 0.80×B", "churned": "已离网，或最近 2 个月没有账单",
}


def policy(turn: Turn, cmd: c.Policy) -> Reply:
    from actions.core import offers

    if cmd.topic == "discount_authority":
        lines = ["价格优惠审批权限（按折扣幅度）："]
        if cmd.discount is not None:
            _, phrase = offers.approver(cmd.discount)
            lines = [f"优惠 {cmd.discount:g}%（{offers.zhe(cmd.discount)}）{phrase}。", "权限："]
        lines += ["· ≤5%：客户经理自己可批", "· ≤15%：部门经理", "· ≤25%：分公司领导", "· >25%：省公司审批",
                  "→ 先用非价格手段（服务升级、培训、预存送费），价格是最后的杠杆，且不能低于成本。"]
        return Reply("\n".join(lines))
    if cmd.topic == "spend_to_tier" and cmd.amount is not None:
        t = tiering.tier_for_spend(cmd.amount)
        return Reply(f"月均消费 {yuan(cmd.amount)} 属于{t.label}。\n" + "\n".join(briefs.tier_lines(t)))
    if cmd.topic == "stage":
        named = [lifecycle.STAGES[cmd.stage]] if cmd.stage else list(lifecycle.STAGES.values())
        lines = ["客户生命周期（按近3月均消费 A 与前3月 B 比较）："] if len(named) > 1 else []
        for s in named:
            lines.append(f"· {s.zh}：{RULES[s.key]}。{s.strategy}")
        return Reply("\n".join(lines))
    if cmd.topic == "importance":
        return Reply(
            "重要性分类：\n· 重要大客户：政府机关、公安机关、部队、公检法、世界500强、教育机构\n"
            "· 一般大客户：其余客户；月消费 3,000–10,000 元为普通大客户，超过 1 万元为特大大客户"
        )
    if cmd.tier:
        t = tiering.TIER_BY_ZH[cmd.tier]
        return Reply(f"{t.label}\n" + "\n".join(briefs.tier_lines(t)))
    lines = ["价值等级（按近3月均消费）："]
    for t in reversed(tiering.TIERS):
        lines.append(f"· {t.zh}：{briefs.tier_range(t)}，每 {t.cadence_days} 天至少拜访一次")
    lines.append("所有大客户：免费上门咨询、上门受理、故障优先处理、7×24 故障申告")
    lines.append("钻石另有派驻客户经理和免费上门培训；翡翠、白金需要时上门培训")
    return Reply("\n".join(lines), [Button(f"{t.zh}客户权益", payload("tier_policy", tier=t.zh)) for t in reversed(tiering.TIERS[3:])])


