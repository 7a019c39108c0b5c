"""Value tiers (价值等级), visit cadence and service entitlements — DOMAIN.md §2 (rule)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from actions.core.money import D


@dataclass(frozen=True)
class Tier:
    key: str
    zh: str
    floor: int  # monthly spend in yuan, inclusive lower bound
    cadence_days: int

    @property
    def label(self) -> str:
        return f"{self.zh}客户"


# Ordered from lowest to highest. Bounds: floor <= spend < next floor.
TIERS: tuple[Tier, ...] = (
    Tier("crystal", "水晶", 0, 180),
    Tier("gold", "黄金", 10_000, 90),
    Tier("gem", "宝石", 30_000, 60),
    Tier("platinum", "白金", 80_000, 30),
    Tier("jade", "翡翠", 200_000, 30),
    Tier("diamond", "钻石", 500_000, 14),
)
TIER_BY_KEY = {t.key: t for t in TIERS}
TIER_BY_ZH = {t.zh: t for t in TIERS}

# Service entitlements by tier (分级服务), DOMAIN.md §2.
COMMON_ENTITLEMENTS = (
    "免费上门技术/业务咨询",
    "上门受理业务",
    "故障优先处理（承诺时限内）",
    "7×24 小时故障申告",
)
TIER_ENTITLEMENTS = {
    "diamond": ("必要时派驻客户经理", "免费上门培训"),
    "jade": ("需要时上门培训",),
    "platinum": ("需要时上门培训",),
    "gem": ("可选派人员参加公司组织的培训",),
    "gold": ("可选派人员参加公司组织的培训",),
    "crystal": ("可选派人员参加公司组织的培训",),
}


def tier_for_spend(monthly_spend) -> Tier:
    spend = D(monthly_spend)
    chosen = TIERS[0]
    for tier in TIERS:
        if spend >= tier.floor:
            chosen = tier
    return chosen


def billed(billing: Sequence[tuple[date, Decimal]]) -> list[tuple[date, Decimal]]:
    """Billed months (amount > 0), oldest first."""
    return sorted(((m, D(a)) for m, a in billing if D(a) > 0), key=lambda r: r[0])


def recent_average(billing: Sequence[tuple[date, Decimal]], months: int = 3, skip: int = 0):
    """Average of the latest `months` billed months after skipping the `skip` latest ones.

    Returns (average, number of months used); (0, 0) when there are none.
    """
    rows = billed(billing)
    end = len(rows) - skip
    window = rows[max(0, end - months) : max(0, end)]
    if not window:
        return Decimal("0"), 0
    return sum((a for _, a in window), Decimal("0")) / len(window), len(window)


def tier_of(billing: Sequence[tuple[date, Decimal]]) -> Tier:
    avg, _ = recent_average(billing)
    return tier_for_spend(avg)


def entitlements(tier: Tier) -> tuple[str, ...]:
    return COMMON_ENTITLEMENTS + TIER_ENTITLEMENTS[tier.key]


def importance_grade(importance: str, monthly_spend) -> str:
    """重要大客户, or 一般 split into 特大/普通 by monthly spend (DOMAIN.md §2)."""
    if importance == "重要":
        return "重要大客户"
    spend = D(monthly_spend)
    if spend > 10_000:
        return "特大大客户"
    if spend >= 3_000:
        return "普通大客户"
    return "一般大客户"
