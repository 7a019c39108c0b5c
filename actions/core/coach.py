"""FABE pitches and SPIN question plans tailored to one customer (pure functions)."""

from __future__ import annotations

import string

from actions.core.facts import CustomerFacts
from actions.core.money import yuan
from actions.kb.loader import Fabe, Product

INDUSTRY_ALIASES = {
    "医院": "医疗", "医疗": "医疗", "卫生": "医疗", "学校": "教育", "教育": "教育", "高校": "教育",
    "政府": "政府机关", "机关": "政府机关", "公安": "政府机关", "银行": "金融", "金融": "金融",
    "证券": "金融", "保险": "金融", "工厂": "制造业", "制造": "制造业", "厂": "制造业", "酒店": "酒店",
    "宾馆": "酒店", "物流": "物流", "快递": "物流", "网吧": "零售/网吧", "网咖": "零售/网吧",
    "零售": "零售/网吧", "门店": "零售/网吧", "超市": "零售/网吧",
}


def industry_in(text: str) -> str | None:
    for word, industry in INDUSTRY_ALIASES.items():
        if word in text:
            return industry
    return None


def best_next_product(
    f: CustomerFacts, catalog: dict[str, Product], fabe: dict[str, Fabe]
) -> tuple[Product, str] | None:
    """Not yet subscribed, fits the industry and the stage; with the reason."""
    held = f.product_codes
    best, best_score, why = None, -1.0, ""
    for code, entry in fabe.items():
        if code in held:
            continue
        score = 0.0
        reasons = []
        if f.industry in entry.industries:
            score += 3 - entry.industries.index(f.industry) * 0.3
            reasons.append(f"{f.industry}客户常用")
        if f.stage.key in entry.stages:
            score += 2
            reasons.append(f"适合{f.stage.zh}")
        if score > best_score:
            best, best_score, why = catalog[code], score, "，".join(reasons) + "，客户还没有"
    return (best, why) if best else None


def fabe_text(product: Product, entry: Fabe, f: CustomerFacts | None, industry: str | None, now) -> list[str]:
    industry = (f.industry if f else None) or industry
    title = f"{product.name} · FABE" + (f"（{f.name}，{industry}）" if f else (f"（{industry}）" if industry else ""))
    lines = [title, f"F 特征：{entry.feature}", f"A 优势：{entry.advantage}"]
    if industry and industry in entry.benefit:
        benefit = entry.benefit[industry]
    else:
        benefit = next(iter(entry.benefit.values()))
    lines.append(f"B 利益：{benefit}")
    if f:
        situation = situation_hook(f, product, now)
        if situation:
            lines.append(f"   结合现状：{situation}")
    lines.append(f"E 证据：{entry.evidence}")
    return lines


def situation_hook(f: CustomerFacts, product: Product, now) -> str | None:
    """One sentence tying the benefit to this customer's facts (tickets, products, competitor, contract)."""
    faults = [t for t in f.open_tickets if t.kind in ("故障", "投诉")]
    if faults:
        t = faults[0]
        return f"他们有 {len(faults)} 条{t.kind}未结（{t.summary}），先讲稳定性和修复承诺"
    if f.competitors:
        return f"{'、'.join(f.competitors)}在接触，突出 A 优势里和对手的差别"
    related = [s for s in f.subscriptions if s.product != product.code]
    if related:
        top = max(related, key=lambda s: s.monthly_fee)
        from actions.kb.loader import product_by_code

        p = product_by_code().get(top.product)
        return f"已在用{p.short if p else top.product}×{top.quantity}，可以说和现有业务打通、统一维护"
    if f.contract_end and (f.contract_end - f.today).days <= 90:
        return f"合同 {f.contract_end:%Y-%m-%d} 到期，可放进续约方案一起谈"
    return None


def objection_lines(entry: Fabe, f: CustomerFacts | None, count: int = 2) -> list[str]:
    order = ["价格贵", "已有移动/联通的", "预算没批", "要领导决定"]
    if f is not None:
        if f.competitors:
            order.remove("已有移动/联通的")
            order.insert(0, "已有移动/联通的")
        if f.stage.key == "acquisition":
            order.remove("预算没批")
            order.insert(1, "预算没批")
    return [f"「{o}」→ {entry.objections[o]}" for o in order[:count]]


# ---------------------------------------------------------------- SPIN
def spin_values(f: CustomerFacts) -> dict[str, str]:
    from actions.kb.loader import product_by_code

    catalog = product_by_code()
    subs = sorted(f.subscriptions, key=lambda s: -s.monthly_fee)
    values = {
        "customer": f.aliases[0] if f.aliases else f.name,
        "industry": f.industry,
        "spend": yuan(f.avg3) if f.avg3 else "",
        "competitor": "、".join(f.competitors),
        "contract_end": f"{f.contract_end:%Y-%m-%d}" if f.contract_end else "",
    }
    if subs:
        values["products"] = "、".join(catalog[s.product].short if s.product in catalog else s.product for s in subs[:3])
        top = subs[0]
        p = catalog.get(top.product)
        values["lines"] = f"{p.short if p else top.product}×{top.quantity}{p.unit if p else ''}"
    faults = f.open_tickets
    if faults:
        values["tickets"] = f"{len(faults)} 条{faults[0].kind}（{faults[0].summary}）"
    return {k: v for k, v in values.items() if v}


def fill(question: str, values: dict[str, str]) -> str | None:
    needed = [n for _, n, _, _ in string.Formatter().parse(question) if n]
    if any(n not in values for n in needed):
        return None
    return question.format(**values)


def spin_plan(f: CustomerFacts, bank: dict, role: str | None, per_type: int = 2) -> dict[str, list[str]]:
    """2–3 questions per SPIN type: role first, then stage, industry, general; placeholders filled."""
    values = spin_values(f)
    sources = []
    if role and role in bank["roles"]:
        sources.append(bank["roles"][role])
    sources.append(bank["stages"].get(f.stage.key) or {})
    sources.append(bank["industries"].get(f.industry) or {})
    sources.append(bank["general"])
    plan: dict[str, list[str]] = {}
    for kind in ("S", "P", "I", "N"):
        chosen: list[str] = []
        limit = per_type + (1 if kind in ("I",) and f.stage.key == "decline" else 0)
        limit += 1 if kind == "N" and f.stage.key == "growth" else 0
        for src in sources:
            for q in src.get(kind) or []:
                text = fill(q, values)
                if text and text not in chosen:
                    chosen.append(text)
                if len(chosen) >= limit:
                    break
            if len(chosen) >= limit:
                break
        plan[kind] = chosen
    return plan


ROLE_WORDS = {
    "technical": ("CIO", "cio", "CTO", "信息", "技术", "网络", "IT", "运维", "工程"),
    "economic": ("老板", "总经理", "院长", "局长", "董事长", "校长", "行长", "副总", "决策", "领导"),
    "coach": ("办公室", "教练", "内线"),
}


def role_from(text: str, f: CustomerFacts | None) -> tuple[str | None, str]:
    """The CUTE role of the person the manager will meet, and how it was found."""
    if f is not None:
        for c in f.contacts:
            if any(form in text for form in c.mentions()):
                return c.role, c.label
    for role, words in ROLE_WORDS.items():
        if any(w in text for w in words):
            return role, ""
    return None, ""


