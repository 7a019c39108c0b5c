"""Load and validate the knowledge base YAML files (lazily, cached).

A load error names the file, the entry and the problem: `KnowledgeError`.
"""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass, field
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
    fabe: dict = field(default_factory=dict, compare=False, hash=False)
    objections: dict = field(default_factory=dict, compare=False, hash=False)
    industries: tuple[str, ...] = ()
    stages: tuple[str, ...] = ()


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
        fabe = item.get("fabe") or {}
        objections = item.get("objections") or {}
        if fabe:
            _check_fabe(file, entry, fabe)
        if objections and not isinstance(objections, dict):
            raise KnowledgeError(file, entry, "objections 应为映射（异议: 回答）")
        out.append(
            Product(
                code=code,
                name=str(_require(file, entry, item, "name")),
                short=str(item.get("short") or item["name"]),
                category=str(item.get("category", "")),
                unit=str(item.get("unit", "")),
                aliases=aliases,
                fabe=fabe,
                objections=objections,
                industries=tuple(item.get("industries") or ()),
                stages=tuple(item.get("stages") or ()),
            )
        )
    return tuple(out)


def _check_fabe(file: str, entry: str, fabe: dict) -> None:
    for key in ("feature", "advantage", "benefit", "evidence"):
        if not fabe.get(key):
            raise KnowledgeError(file, entry, f"fabe 缺少 {key}")
    benefits = fabe["benefit"]
    if not isinstance(benefits, dict):
        raise KnowledgeError(file, entry, "fabe.benefit 应按行业分（行业: 利益）")
    missing = [ind for ind in INDUSTRIES if ind not in benefits]
    if missing:
        raise KnowledgeError(file, entry, f"fabe.benefit 缺少行业：{'、'.join(missing)}")


@functools.lru_cache(maxsize=None)
def products(directory: str | None = None) -> tuple[Product, ...]:
    d = Path(directory) if directory else None
    return parse_products(_read("products.yml", d))


def product_by_code() -> dict[str, Product]:
    return {p.code: p for p in products()}


def lookup_product(text: str) -> Product | None:
    """A product by code, full name, short name or alias (case-insensitive)."""
    key = (text or "").strip().lower()
    if not key:
        return None
    for p in products():
        names = {p.code.lower(), p.name.lower(), p.short.lower(), *(a.lower() for a in p.aliases)}
        if key in names:
            return p
    return None


def clear_cache() -> None:
    products.cache_clear()


def check_all(directory: str | None = None) -> dict[str, int]:
    """Validate every knowledge file; raises KnowledgeError naming file, entry and problem."""
    found = {"产品": len(products(directory))}
    for name, fn in _EXTRA_CHECKS.items():
        found[name] = fn(directory)
    return found


# Other knowledge files register their validators here (SPIN bank, bundles).
_EXTRA_CHECKS: dict = {}
