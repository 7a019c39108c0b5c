"""Load and validate the knowledge base YAML files (lazily, cached).

A load error names the file, the entry and the problem: `KnowledgeError`.
"""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass
from pathlib import Path

import yaml

KB_DIR = Path(__file__).resolve().parent
INDUSTRIES = ("政府机关", "金融", "医疗", "教育", "制造业", "酒店", "物流", "零售/网吧")


class KnowledgeError(ValueError):
    def __init__(self, file: str, entry: str, problem: str):
        super().__init__(f"{file}: {entry}: {problem}")
        self.file, self.entry, self.problem = file, entry, problem


@dataclass(frozen=True)
class Product:
    code: str
    name: str
    short: str
    category: str
    unit: str
    aliases: tuple[str, ...]

    @property
    def spoken(self) -> tuple[str, ...]:
        """What managers type for it: the short name and the aliases."""
        return (self.short, *self.aliases)


def kb_dir() -> Path:
    return Path(os.environ.get("KAM_KB_DIR") or KB_DIR)


def _read(name: str, directory: Path | None = None) -> dict:
    path = (directory or kb_dir()) / name
    try:
        with path.open(encoding="utf-8") as fh:
            data = yaml.safe_load(fh)
    except FileNotFoundError as e:
        raise KnowledgeError(name, "-", "文件不存在") from e
    except yaml.YAMLError as e:
        raise KnowledgeError(name, "-", f"YAML 格式错误：{e}") from e
    if not isinstance(data, dict):
        raise KnowledgeError(name, "-", "顶层必须是映射（key: value）")
    return data


def _require(file: str, entry: str, item: dict, key: str, kind=str):
    if key not in item or item[key] in (None, ""):
        raise KnowledgeError(file, entry, f"缺少字段 {key}")
    value = item[key]
    if kind is list and not isinstance(value, list):
        raise KnowledgeError(file, entry, f"字段 {key} 应为列表")
    if kind is str and not isinstance(value, str | int):
        raise KnowledgeError(file, entry, f"字段 {key} 应为文字")
    return value


def parse_products(data: dict, file: str = "products.yml") -> tuple[Product, ...]:
    items = data.get("products")
    if not isinstance(items, list) or not items:
        raise KnowledgeError(file, "products", "应为非空列表")
    seen_codes: set[str] = set()
    seen_alias: dict[str, str] = {}
    out = []
    for i, item in enumerate(items, 1):
        entry = f"第{i}项"
        if not isinstance(item, dict):
            raise KnowledgeError(file, entry, "应为映射")
        code = str(_require(file, entry, item, "code"))
        entry = code
        if code in seen_codes:
            raise KnowledgeError(file, entry, "code 重复")
        seen_codes.add(code)
        aliases = tuple(str(a) for a in _require(file, entry, item, "aliases", list))
        for alias in aliases:
            key = alias.lower()
            if key in seen_alias and seen_alias[key] != code:
                raise KnowledgeError(file, entry, f"别名「{alias}」与 {seen_alias[key]} 重复")
            seen_alias[key] = code
        out.append(
            Product(
                code=code,
                name=str(_require(file, entry, item, "name")),
                short=str(item.get("short") or item["name"]),
                category=str(item.get("category", "")),
                unit=str(item.get("unit", "")),
                aliases=aliases,
            )
        )
    return tuple(out)


@functools.cache
def products(directory: str | None = None) -> tuple[Product, ...]:
    d = Path(directory) if directory else None
    return parse_products(_read("products.yml", d))


def product_by_code() -> dict[str, Product]:
    return {p.code: p for p in products()}


@functools.cache
def _name_index() -> dict[str, Product]:
    index: dict[str, Product] = {}
    for p in products():
        for name in (p.code, p.name, *p.spoken):
            index.setdefault(name.lower(), p)  # the first product in the catalog wins, as before
    return index


def lookup_product(text: str) -> Product | None:
    """A product by code, full name, short name or alias (case-insensitive)."""
    return _name_index().get((text or "").strip().lower())


def product_in_text(text: str) -> Product | None:
    """The product named in free text by its longest short name or alias (case-insensitive)."""
    low = (text or "").lower()
    best: tuple[Product, int] | None = None
    for p in products():
        for alias in p.spoken:
            if alias.lower() in low and (best is None or len(alias) > best[1]):
                best = (p, len(alias))
    return best[0] if best else None


def clear_cache() -> None:
    for fn in (products, fabe, spin, bundles, _name_index):
        fn.cache_clear()


def check_all(directory: str | None = None) -> dict[str, int]:
    """Validate every knowledge file; raises KnowledgeError naming file, entry and problem."""
    found = {"产品": len(products(directory))}
    for name, fn in _EXTRA_CHECKS.items():
        found[name] = fn(directory)
    return found


TIER_KEYS = ("crystal", "gold", "gem", "platinum", "jade", "diamond")
STAGE_KEYS = ("acquisition", "growth", "maturity", "decline", "churned")
ROLE_KEYS = ("coach", "user", "technical", "economic")
SPIN_TYPES = ("S", "P", "I", "N")
OBJECTIONS = ("价格贵", "已有移动/联通的", "预算没批", "要领导决定")


# ---------------------------------------------------------------- FABE
@dataclass(frozen=True)
class Fabe:
    code: str
    feature: str
    advantage: str
    benefit: dict
    evidence: str
    objections: dict
    industries: tuple[str, ...]
    stages: tuple[str, ...]


def parse_fabe(data: dict, codes: set[str], file: str = "fabe.yml") -> dict[str, Fabe]:
    common = data.get("common_objections") or {}
    missing = [o for o in OBJECTIONS if o not in common]
    if missing:
        raise KnowledgeError(file, "common_objections", f"缺少异议：{'、'.join(missing)}")
    items = data.get("products")
    if not isinstance(items, dict):
        raise KnowledgeError(file, "products", "应为映射（产品编码: 内容）")
    out = {}
    for code, item in items.items():
        if code not in codes:
            raise KnowledgeError(file, code, "产品编码不在 products.yml 里")
        if not isinstance(item, dict):
            raise KnowledgeError(file, code, "应为映射")
        for key in ("feature", "advantage", "benefit", "evidence"):
            if not item.get(key):
                raise KnowledgeError(file, code, f"缺少 {key}")
        benefit = item["benefit"]
        if not isinstance(benefit, dict):
            raise KnowledgeError(file, code, "benefit 应按行业分（行业: 利益）")
        lacking = [ind for ind in INDUSTRIES if not benefit.get(ind)]
        if lacking:
            raise KnowledgeError(file, code, f"benefit 缺少行业：{'、'.join(lacking)}")
        for ind in item.get("industries") or []:
            if ind not in INDUSTRIES:
                raise KnowledgeError(file, code, f"未知行业 {ind}（可选：{'、'.join(INDUSTRIES)}）")
        for st in item.get("stages") or []:
            if st not in STAGE_KEYS:
                raise KnowledgeError(file, code, f"未知阶段 {st}（可选：{', '.join(STAGE_KEYS)}）")
        out[code] = Fabe(
            code=code, feature=item["feature"], advantage=item["advantage"], benefit=dict(benefit),
            evidence=item["evidence"], objections={**common, **(item.get("objections") or {})},
            industries=tuple(item.get("industries") or ()), stages=tuple(item.get("stages") or ()),
        )
    absent = sorted(codes - set(out))
    if absent:
        raise KnowledgeError(file, "products", f"这些产品没有 FABE：{', '.join(absent)}")
    return out


@functools.cache
def fabe(directory: str | None = None) -> dict[str, Fabe]:
    d = Path(directory) if directory else None
    return parse_fabe(_read("fabe.yml", d), {p.code for p in products(directory)})


# ---------------------------------------------------------------- SPIN
def parse_spin(data: dict, file: str = "spin.yml") -> dict:
    sections = {"general": None, "roles": ROLE_KEYS, "stages": STAGE_KEYS, "industries": INDUSTRIES}
    for section, allowed in sections.items():
        block = data.get(section)
        if not isinstance(block, dict):
            raise KnowledgeError(file, section, "缺少或不是映射")
        groups = {"general": block} if allowed is None else block
        for name, questions in groups.items():
            entry = section if allowed is None else f"{section}.{name}"
            if allowed is not None and name not in allowed:
                raise KnowledgeError(file, entry, f"未知的 {section} 名（可选：{'、'.join(allowed)}）")
            if not isinstance(questions, dict):
                raise KnowledgeError(file, entry, "应为 S/P/I/N 到问题列表的映射")
            for kind, qs in questions.items():
                if kind not in SPIN_TYPES:
                    raise KnowledgeError(file, entry, f"未知问题类型 {kind}（只能是 S/P/I/N）")
                if not isinstance(qs, list) or not all(isinstance(q, str) and q.strip() for q in qs):
                    raise KnowledgeError(file, f"{entry}.{kind}", "应为非空问题列表")
                for q in qs:
                    _check_placeholders(file, f"{entry}.{kind}", q)
    for kind in SPIN_TYPES:
        if len(data["general"].get(kind) or []) < 2:
            raise KnowledgeError(file, f"general.{kind}", "每类至少 2 个通用问题")
    missing = [i for i in INDUSTRIES if i not in data["industries"]]
    if missing:
        raise KnowledgeError(file, "industries", f"缺少行业：{'、'.join(missing)}")
    return data


SPIN_PLACEHOLDERS = ("customer", "industry", "products", "spend", "lines", "tickets", "contract_end", "competitor")


def _check_placeholders(file: str, entry: str, text: str) -> None:
    import string

    for _, field_name, _, _ in string.Formatter().parse(text):
        if field_name is not None and field_name not in SPIN_PLACEHOLDERS:
            raise KnowledgeError(file, entry, f"未知占位符 {{{field_name}}}（可用：{', '.join(SPIN_PLACEHOLDERS)}）")


@functools.cache
def spin(directory: str | None = None) -> dict:
    d = Path(directory) if directory else None
    return parse_spin(_read("spin.yml", d))


# ---------------------------------------------------------------- bundles
@dataclass(frozen=True)
class Bundle:
    code: str
    name: str
    products: tuple[str, ...]
    list_price: int
    standard_discount: float
    min_term_months: int
    tiers: tuple[str, ...]
    industries: tuple[str, ...]
    stages: tuple[str, ...]
    why: str
    kind: str = "monthly"
    prepay: int = 0
    bonus: int = 0
    investment: int = 0
    unit_note: str = ""
    upgrade: bool = False  # upgrades products the customer already has (never a re-offer)

    def fits_industry(self, industry: str) -> bool:
        return "全部" in self.industries or industry in self.industries


def parse_bundles(data: dict, codes: set[str], file: str = "bundles.yml") -> tuple[Bundle, ...]:
    items = data.get("bundles")
    if not isinstance(items, list) or not items:
        raise KnowledgeError(file, "bundles", "应为非空列表")
    out, seen = [], set()
    for i, item in enumerate(items, 1):
        entry = str(item.get("code") or f"第{i}项") if isinstance(item, dict) else f"第{i}项"
        if not isinstance(item, dict):
            raise KnowledgeError(file, entry, "应为映射")
        for key in ("code", "name", "tiers", "industries", "stages", "why", "min_term_months"):
            if item.get(key) in (None, "", []):
                raise KnowledgeError(file, entry, f"缺少 {key}")
        if entry in seen:
            raise KnowledgeError(file, entry, "code 重复")
        seen.add(entry)
        kind = item.get("kind", "monthly")
        for p in item.get("products") or []:
            if p not in codes:
                raise KnowledgeError(file, entry, f"产品 {p} 不在 products.yml 里")
        if kind == "monthly" and (not item.get("products") or not item.get("list_price")):
            raise KnowledgeError(file, entry, "月费套餐需要 products 和 list_price")
        if kind == "prepaid" and not (item.get("prepay") and item.get("bonus")):
            raise KnowledgeError(file, entry, "预存类套餐需要 prepay 和 bonus")
        for t in item["tiers"]:
            if t not in TIER_KEYS:
                raise KnowledgeError(file, entry, f"未知等级 {t}（可选：{', '.join(TIER_KEYS)}）")
        for st in item["stages"]:
            if st not in STAGE_KEYS:
                raise KnowledgeError(file, entry, f"未知阶段 {st}（可选：{', '.join(STAGE_KEYS)}）")
        for ind in item["industries"]:
            if ind != "全部" and ind not in INDUSTRIES:
                raise KnowledgeError(file, entry, f"未知行业 {ind}")
        discount = float(item.get("standard_discount", 0))
        if not 0 <= discount < 100:
            raise KnowledgeError(file, entry, "standard_discount 应在 0–100 之间")
        out.append(Bundle(
            code=entry, name=item["name"], products=tuple(item.get("products") or ()),
            list_price=int(item.get("list_price") or 0), standard_discount=discount,
            min_term_months=int(item["min_term_months"]), tiers=tuple(item["tiers"]),
            industries=tuple(item["industries"]), stages=tuple(item["stages"]), why=item["why"],
            kind=kind, prepay=int(item.get("prepay") or 0), bonus=int(item.get("bonus") or 0),
            investment=int(item.get("investment") or 0), unit_note=item.get("unit_note", ""),
            upgrade=bool(item.get("upgrade", False)),
        ))
    for t in TIER_KEYS:
        if sum(1 for b in out if t in b.tiers) < 2:
            raise KnowledgeError(file, "bundles", f"等级 {t} 至少需要 2 个套餐")
    return tuple(out)


@functools.cache
def bundles(directory: str | None = None) -> tuple[Bundle, ...]:
    d = Path(directory) if directory else None
    return parse_bundles(_read("bundles.yml", d), {p.code for p in products(directory)})


_EXTRA_CHECKS: dict = {
    "FABE": lambda d: len(fabe(d)),
    "SPIN 问题": lambda d: sum(
        len(qs) for block in [spin(d)["general"], *[g for s in ("roles", "stages", "industries") for g in spin(d)[s].values()]]
        for qs in block.values()
    ),
    "套餐": lambda d: len(bundles(d)),
}
