"""Bundle offers and discount authority — DOMAIN.md §6 and §8 (rule).

Discount off list price → who approves: ≤5% the account manager; ≤15% the department head;
≤25% the branch general manager; >25% the provincial company.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from actions.core.facts import CustomerFacts
from actions.core.money import D, share_pct, signed_pct, yuan
from actions.kb.loader import Bundle

APPROVAL_LEVELS = (
    (Decimal("5"), "客户经理", "你可直接批（≤5%）"),
    (Decimal("15"), "部门经理", "需部门经理审批（≤15%）"),
    (Decimal("25"), "分公司领导", "需分公司领导审批（≤25%）"),
)
PROVINCE = ("省公司", "需报省公司审批（>25%）")


def approver(discount_pct) -> tuple[str, str]:
    """(who, phrase) for a discount in percent off list price."""
    d = D(discount_pct)
    for limit, who, phrase in APPROVAL_LEVELS:
        if d <= limit:
            return who, phrase
    return PROVINCE


def zhe(pct: float) -> str:
    """20% off → 8折."""
    return f"{(100 - pct) / 10:g}折"


def price_after(list_price, discount_pct) -> Decimal:
    return (D(list_price) * (100 - D(discount_pct)) / 100).quantize(Decimal("1"), rounding=ROUND_HALF_UP)


STAGE_FIT = {  # how well a bundle serving a stage fits a customer in a stage
    "decline": {"decline": 3, "maturity": 1},
    "churned": {"churned": 3},
    "maturity": {"maturity": 3, "growth": 1, "decline": 1},
    "growth": {"growth": 3, "maturity": 1, "acquisition": 1},
    "acquisition": {"acquisition": 3, "growth": 1},
}


@dataclass(frozen=True)
class Offer:
    bundle: Bundle
    score: float
    reason: str
    monthly: Decimal  # after the standard discount (0 for prepaid)
    change_pct: int | None  # vs the customer's current monthly spend


def eligible(b: Bundle, f: CustomerFacts) -> bool:
    return f.tier.key in b.tiers and b.fits_industry(f.industry)


def rank(bundles: tuple[Bundle, ...], f: CustomerFacts, limit: int = 3) -> list[Offer]:
    """Only eligible bundles; never one whose products the customer already has all of."""
    held = f.product_codes
    offers = []
    for b in bundles:
        if not eligible(b, f):
            continue
        new_products = [p for p in b.products if p not in held]
        if b.upgrade:
            if not all(p in held for p in b.products):
                continue  # an upgrade needs the product it upgrades
        elif b.products and not new_products:
            continue  # would re-offer what they already have
        # The best fit among the stages the bundle serves (its own stage scores highest).
        stage_score = max((STAGE_FIT.get(f.stage.key, {}).get(s, 0) for s in b.stages), default=0)
        industry_score = 1.0 if f.industry in b.industries else 0.5
        lack_score = len(new_products) * 0.5
        if b.kind == "prepaid":
            lack_score = 1.0
        # Upgrades that keep what they hold fit a decline stage (e.g. dual route on the line they have).
        if f.stage.key == "decline" and b.products and any(p in held for p in b.products):
            lack_score += 1.0
        complaint = _complaint_about(b, f)
        if b.upgrade:
            lack_score += 1.5
        if complaint:
            lack_score += 1.5
        score = stage_score * 2 + industry_score + lack_score
        reasons = []
        if stage_score >= 3:
            reasons.append(f"适合{f.stage.zh}")
        if f.industry in b.industries:
            reasons.append(f"{f.industry}专用")
        if complaint:
            reasons.append(f"针对未结{complaint}")
        if b.upgrade:
            reasons.append("在现有业务上升级，不重复购买")
        if new_products and not b.upgrade:
            from actions.kb.loader import product_by_code

            names = [product_by_code()[p].short for p in new_products]
            reasons.append(f"补上还没有的{'、'.join(names)}")
        monthly = price_after(b.list_price, b.standard_discount) if b.kind == "monthly" else Decimal("0")
        base = f.avg3 if f.avg3 else f.current_monthly_fee
        change = share_pct(monthly, base) if base and monthly else None
        offers.append(Offer(b, score, "，".join(reasons) or b.why, monthly, change))
    offers.sort(key=lambda o: (-o.score, o.bundle.list_price))
    return offers[:limit]


def _complaint_about(b: Bundle, f: CustomerFacts) -> str:
    """The open fault/complaint that this bundle's products address, e.g. 投诉：城域网专线中断."""
    from actions.kb.loader import product_by_code

    catalog = product_by_code()
    for t in f.open_tickets:
        if t.kind not in ("故障", "投诉"):
            continue
        for code in b.products:
            p = catalog.get(code)
            if p and any(alias in t.summary for alias in p.spoken if len(alias) >= 2):
                return f"{t.kind}：{t.summary}"
    return ""


def offer_lines(o: Offer, i: int) -> list[str]:
    b = o.bundle
    if b.kind == "prepaid":
        ratio = int(b.bonus * 100 / b.prepay)
        _, phrase = approver(ratio)
        return [
            f"{i}. {b.name}：预存 {yuan(b.prepay)} 送 {yuan(b.bonus)}（相当于 {ratio}%）",
            f"   {phrase}；{b.why}",
        ]
    _, phrase = approver(b.standard_discount)
    discount = f"标准折扣 {b.standard_discount:g}% 后 {yuan(o.monthly)}" if b.standard_discount else f"无折扣 {yuan(o.monthly)}"
    change = f"；较现月均消费 {signed_pct(o.change_pct)}" if o.change_pct is not None else ""
    lines = [
        f"{i}. {b.name}：{b.why}",
        f"   月费 {yuan(b.list_price)}，{discount}{change}",
        f"   {phrase}；理由：{o.reason}；最短 {b.min_term_months} 个月",
    ]
    if b.investment:
        lines.append("   " + investment_line(b.investment, o.monthly, b.min_term_months))
    return lines


def investment_line(investment, monthly, term_months: int) -> str:
    """Like DOMAIN.md §8: 12 lines cost 585,500 and earn 686,400 over 3 years → sign."""
    revenue = D(monthly) * term_months
    verdict = "收入高于投入，可以做" if revenue > D(investment) else "收入不足以覆盖投入，不建议按此价格做"
    return f"投资测算：建设投入 {yuan(investment)}，{term_months // 12} 年合同收入 {yuan(revenue)}，{verdict}"
