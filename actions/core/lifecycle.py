"""Customer lifecycle stage (客户生命周期) — DOMAIN.md §3 (rule).

Precedence, documented in README:
1. status churned                                  → 离网期
2. customer for less than 6 months (since)         → 获取期
3. no billing in the latest 2 months of the data set → 离网期
4. fewer than 6 billed months                       → 获取期
5. A ≥ 1.10·B → 提升期; A ≤ 0.80·B → 衰退期; otherwise 成熟期
A = average of the latest 3 billed months, B = the 3 billed months before them.
Comparisons are exact (Decimal sums), so 0.80 vs 0.81 never depends on float rounding.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from actions.core.money import D
from actions.core.tiering import billed


@dataclass(frozen=True)
class Stage:
    key: str
    zh: str
    strategy: str


STAGES = {
    "acquisition": Stage(
        "acquisition", "获取期", "了解需求和关键购买因素（KBF），提方案，建立关系"
    ),
    "growth": Stage("growth", "提升期", "当作特殊客户对待，量身定制产品，提升价值（增值、新业务）"),
    "maturity": Stage(
        "maturity", "成熟期", "锁定客户：业务培训提高转换成本，按在网时长给忠诚回馈，预存话费送话费"
    ),
    "decline": Stage(
        "decline", "衰退期", "预警：查明原因（服务、竞争对手、特殊原因），针对性挽留，权限内给优惠"
    ),
    "churned": Stage(
        "churned", "离网期", "记录离网原因，值得的客户争取赢回，挽回成本高于收益的放弃"
    ),
}
STAGE_BY_ZH = {s.zh: s for s in STAGES.values()}


def add_months(d: date, months: int) -> date:
    y, m = divmod(d.month - 1 + months, 12)
    year, month = d.year + y, m + 1
    import calendar

    day = min(d.day, calendar.monthrange(year, month)[1])
    return date(year, month, day)


@dataclass(frozen=True)
class SpendComparison:
    recent: Decimal  # A
    previous: Decimal  # B
    months: int  # billed months available

    @property
    def ratio_pct(self) -> int | None:
        from actions.core.money import pct_change

        return pct_change(self.recent, self.previous)


def compare_spend(billing: Sequence[tuple[date, Decimal]]) -> SpendComparison | None:
    rows = billed(billing)
    if len(rows) < 6:
        return None
    a = sum((x for _, x in rows[-3:]), Decimal("0"))
    b = sum((x for _, x in rows[-6:-3]), Decimal("0"))
    return SpendComparison(a / 3, b / 3, len(rows))


def is_spend_drop(billing: Sequence[tuple[date, Decimal]]) -> bool:
    """A ≤ 0.80 × B, compared on sums so it is exact."""
    rows = billed(billing)
    if len(rows) < 6:
        return False
    a = sum((x for _, x in rows[-3:]), Decimal("0"))
    b = sum((x for _, x in rows[-6:-3]), Decimal("0"))
    return a * 100 <= b * 80


def stage_of(
    billing: Sequence[tuple[date, Decimal]],
    *,
    status: str,
    since: date | None,
    today: date,
    dataset_latest_month: date | None,
) -> Stage:
    if status == "churned":
        return STAGES["churned"]
    if since is not None and add_months(since, 6) > today:
        return STAGES["acquisition"]
    rows = billed(billing)
    if dataset_latest_month is not None:
        latest_two = {
            dataset_latest_month.replace(day=1),
            add_months(dataset_latest_month.replace(day=1), -1),
        }
        if not any(m.replace(day=1) in latest_two for m, _ in rows):
            return STAGES["churned"]
    if len(rows) < 6:
        return STAGES["acquisition"]
    a = sum((D(x) for _, x in rows[-3:]), Decimal("0"))
    b = sum((D(x) for _, x in rows[-6:-3]), Decimal("0"))
    if a * 100 >= b * 110:
        return STAGES["growth"]
    if a * 100 <= b * 80:
        return STAGES["decline"]
    return STAGES["maturity"]
