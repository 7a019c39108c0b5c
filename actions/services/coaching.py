"""Handlers for Fabe, Spin and Offer commands, and the suggestions inside a visit brief."""

from __future__ import annotations

from actions.core import coach, offers
from actions.core.facts import CustomerFacts
from actions.core.money import yuan
from actions.core.reply import Button, Reply, Turn, payload
from actions.core.tiering import TIER_BY_ZH
from actions.db.repositories import load_facts
from actions.kb import loader
from actions.services.common import customer_slot, resolve_customer
from actions.understanding import commands as c


def brief_suggestions(f: CustomerFacts, alerts) -> list[str]:
    out = []
    pick = coach.best_next_product(f, loader.product_by_code(), loader.fabe())
    if pick:
        product, why = pick
        entry = loader.fabe()[product.code]
        out.append(f"话题：{product.short}（{why}）— {entry.benefit.get(f.industry) or entry.feature}")
    ranked = offers.rank(loader.bundles(), f, limit=1)
    if ranked:
        o = ranked[0]
        _, phrase = offers.approver(o.bundle.standard_discount)
        price = f"，折后 {yuan(o.monthly)}/月" if o.monthly else ""
        out.append(f"可带的方案：{o.bundle.name}{price}（{phrase}）")
    return out


def fabe(turn: Turn, cmd: c.Fabe) -> Reply:
    product = loader.product_by_code().get(cmd.product) if cmd.product else None
    customer, ask = resolve_customer(turn, cmd, required=product is None and not cmd.industry)
    if ask:
        return ask
    catalog, fabe_kb = loader.product_by_code(), loader.fabe()
    facts = load_facts(turn.session, customer, today=turn.today) if customer else None
    lines: list[str] = []
    if product is None:
        if facts is None:
            return Reply("想讲哪个产品？比如：给华钢讲讲5G专网 / 云桌面怎么跟医院介绍")
        pick = coach.best_next_product(facts, catalog, fabe_kb)
        if pick is None:
            return Reply(f"{facts.name}已经用了目录里所有产品，可以从服务升级（双路由、扩容）入手。")
        product, why = pick
        lines.append(f"建议先推 {product.short}：{why}。")
    entry = fabe_kb[product.code]
    lines += coach.fabe_text(product, entry, facts, cmd.industry or None, turn.now)
    if facts and product.code in facts.product_codes:
        lines.insert(1, f"（{facts.name}已在用{product.short}，这套话术适合谈扩容/续约）")
    lines.append("可能的异议：")
    lines += coach.objection_lines(entry, facts)
    if facts is None:
        lines.append("→ 带上客户名能按它的行业、在用产品和工单定制，比如：给华钢讲讲" + product.short)
    buttons = (
        [Button("SPIN提问", payload("spin_questions", customer_code=facts.code)),
         Button("推荐套餐", payload("bundle_offer", customer_code=facts.code))]
        if facts else []
    )
    return Reply("\n".join(lines), buttons, customer_slot(customer) if customer else {})


SPIN_TITLES = {"S": "S 背景", "P": "P 难点", "I": "I 暗示", "N": "N 需求-效益"}
ROLE_ZH = {"technical": "技术把关者", "economic": "决策者", "coach": "教练", "user": "用户"}


def spin(turn: Turn, cmd: c.Spin) -> Reply:
    customer, ask = resolve_customer(turn, cmd)
    if ask:
        return ask
    facts = load_facts(turn.session, customer, today=turn.today)
    role, who = cmd.role or None, ""
    if cmd.person:
        contact = next((x for x in facts.contacts if x.name == cmd.person), None)
        if contact:
            role, who = contact.role, contact.label
    plan = coach.spin_plan(facts, loader.spin(), role)
    meet = f"见{who or ROLE_ZH.get(role, '')}" if role else ""
    focus = {
        "decline": "重点放在 I 暗示问题：让对方说出问题的代价",
        "growth": "重点放在扩张：容量、新网点、新系统",
        "churned": "重点是听离开的原因，不急着报价",
        "acquisition": "重点是摸清需求和关键购买因素",
        "maturity": "重点是续约和锁定：培训、回馈",
    }[facts.stage.key]
    lines = [f"{facts.name}（{facts.tier.label}，{facts.stage.zh}）{meet}提问计划：", f"→ {focus}"]
    if role == "technical":
        lines.append("→ 对方是技术把关者：多问架构和运维，少谈价格")
    elif role == "economic":
        lines.append("→ 对方是决策者：问业务影响和投入产出，少讲技术细节")
    for kind in ("S", "P", "I", "N"):
        for q in plan[kind]:
            lines.append(f"{SPIN_TITLES[kind]}：{q}")
    buttons = [Button("FABE话术", payload("fabe_pitch", customer_code=facts.code)),
               Button("记录拜访", payload("log_visit", customer_code=facts.code))]
    return Reply("\n".join(lines), buttons, customer_slot(customer))


def offer(turn: Turn, cmd: c.Offer) -> Reply:
    asked = cmd.discount
    customer, ask = resolve_customer(turn, cmd, required=False)
    if ask:
        return ask
    context = {"discount": asked} if asked is not None else {}
    if customer is None and cmd.tier:
        tier = TIER_BY_ZH[cmd.tier]
        rows = [b for b in loader.bundles() if tier.key in b.tiers]
        lines = [f"{tier.label}可用的套餐（{len(rows)} 个）："]
        for b in rows[:8]:
            price = f"预存 {yuan(b.prepay)} 送 {yuan(b.bonus)}" if b.kind == "prepaid" else f"月费 {yuan(b.list_price)}，标准折扣 {b.standard_discount:g}%"
            lines.append(f"· {b.name}：{price}")
        lines.append("→ 带上客户名，我按它的行业、阶段和已有产品挑最合适的三个")
        return Reply("\n".join(lines))
    if customer is None:
        if asked is None:
            return Reply(
                "你自己能直接给的优惠是 5% 以内（九五折）；更多要审批：\n"
                "· ≤15%（八五折）：部门经理\n· ≤25%（七五折）：分公司领导\n· >25%：省公司审批\n"
                "→ 带上客户名，我按它的等级和阶段挑标准折扣内的方案，比如：华钢适合什么套餐",
                context=context,
            )
        _, phrase = offers.approver(asked)
        return Reply(f"优惠 {asked:g}%（{offers.zhe(asked)}）{phrase}。\n"
                     "→ 先用非价格手段（服务升级、培训、预存送费），价格是最后的杠杆，且不能低于成本。", context=context)
    facts = load_facts(turn.session, customer, today=turn.today)
    lines = [f"{facts.name}（{facts.tier.label}，{facts.stage.zh}）"]
    if asked is not None:
        who, phrase = offers.approver(asked)
        alone = "你可以直接答应" if asked <= 5 else "不能当场答应"
        lines.append(f"要求优惠 {asked:g}%（{offers.zhe(asked)}）：{phrase}，{alone}。")
        if asked > 5:
            lines.append("→ 过犹不及：先给标准折扣内的方案，把审批需要的理由（流失风险、对手报价）准备好。")
    ranked = offers.rank(loader.bundles(), facts)
    kind = {"decline": "挽留建议", "churned": "赢回建议", "maturity": "锁定建议", "growth": "增值建议"}.get(facts.stage.key, "推荐方案")
    if not ranked:
        lines.append("没有适合该客户等级和行业、且它还没有的套餐。可以从服务升级或单项扩容入手。")
        return Reply("\n".join(lines), slots=customer_slot(customer), context=context)
    lines[0] += f"{kind}："
    for i, o in enumerate(ranked, 1):
        lines += offers.offer_lines(o, i)
    if facts.stage.key == "decline":
        cause = "，".join(
            x for x in (
                f"{facts.open_tickets[0].kind}：{facts.open_tickets[0].summary}" if facts.open_tickets else "",
                f"{'、'.join(facts.competitors)}在接触" if facts.competitors else "",
            ) if x
        )
        if cause:
            lines.append(f"理由：{cause}；先解决问题，再谈价格和续约。")
    catalog = loader.product_by_code()
    buttons = [
        Button(f"FABE：{catalog[o.bundle.products[0]].short}",
               payload("fabe_pitch", customer_code=facts.code, product=catalog[o.bundle.products[0]].short))
        for o in ranked[:2] if o.bundle.products
    ]
    buttons.append(Button("记录拜访", payload("log_visit", customer_code=facts.code)))
    return Reply("\n".join(lines), buttons, customer_slot(customer), context=context)
