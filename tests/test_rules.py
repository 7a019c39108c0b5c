"""DOMAIN.md (rule) contracts, tested at every boundary."""

from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest

from actions.core import lifecycle, tiering
from actions.core.facts import CustomerFacts, TicketFact, VisitFact
from actions.core.lifecycle import add_months
from actions.core.offers import approver, investment_line, price_after
from actions.core.warnings import alerts_for, contract_alert

TODAY = date(2026, 11, 22)
NOW = datetime(2026, 11, 22, 10, 0)
LAST = date(2026, 10, 1)


def months(*amounts):
    """Billing rows ending at LAST, oldest first."""
    n = len(amounts)
    return [(add_months(LAST, i - n + 1), Decimal(str(a))) for i, a in enumerate(amounts)]


def facts(billing=None, **kw):
    base = dict(
        id=1, code="X", name="测试客户有限公司", aliases=(), industry="制造业", importance="一般",
        manager_name="李强", since=date(2020, 1, 1), contract_end=None, status="active", competitors=(),
        billing=billing if billing is not None else months(*[20000] * 6), dataset_latest_month=LAST, today=TODAY,
        visits=[VisitFact(1, TODAY - timedelta(days=1), (), (), (), "", "", None, False)],
    )
    base.update(kw)
    return CustomerFacts(**base)


@pytest.mark.parametrize(
    "spend,tier",
    [
        (0, "水晶"), (9_999, "水晶"), (9_999.99, "水晶"), (10_000, "黄金"), (29_999, "黄金"), (30_000, "宝石"),
        (79_999, "宝石"), (80_000, "白金"), (199_999, "白金"), (200_000, "翡翠"), (499_999, "翡翠"),
        (500_000, "钻石"), (5_000_000, "钻石"),
    ],
)
def test_tier_thresholds(spend, tier):
    assert tiering.tier_for_spend(spend).zh == tier


def test_tier_uses_latest_three_billed_months():
    # older high months do not count; the latest three average 9,999 → 水晶
    rows = months(900_000, 900_000, 9_998, 9_999, 10_000)
    assert tiering.tier_of(rows).zh == "水晶"
    assert tiering.tier_of(months(9_999, 10_000, 10_001)).zh == "黄金"


@pytest.mark.parametrize(
    "tier,days", [("钻石", 14), ("翡翠", 30), ("白金", 30), ("宝石", 60), ("黄金", 90), ("水晶", 180)]
)
def test_visit_cadence(tier, days):
    assert tiering.TIER_BY_ZH[tier].cadence_days == days


@pytest.mark.parametrize(
    "previous,recent,stage",
    [
        (100, 110, "提升期"),      # exactly 1.10 × B
        (100, 109.99, "成熟期"),
        (100, 80.01, "成熟期"),
        (100, 81, "成熟期"),       # 0.81
        (100, 80, "衰退期"),       # exactly 0.80 × B
        (100, 79, "衰退期"),
    ],
)
def test_lifecycle_ratio_boundaries(previous, recent, stage):
    rows = months(*([previous * 1000] * 3 + [recent * 1000] * 3))
    got = lifecycle.stage_of(rows, status="active", since=date(2020, 1, 1), today=TODAY, dataset_latest_month=LAST)
    assert got.zh == stage


def test_lifecycle_acquisition_and_churn():
    six = months(*[50_000] * 6)
    kw = dict(today=TODAY, dataset_latest_month=LAST)
    assert lifecycle.stage_of(six, status="active", since=add_months(TODAY, -5), **kw).zh == "获取期"
    assert lifecycle.stage_of(six, status="active", since=add_months(TODAY, -6), **kw).zh == "成熟期"
    assert lifecycle.stage_of(months(*[50_000] * 5), status="active", since=date(2020, 1, 1), **kw).zh == "获取期"
    assert lifecycle.stage_of(six, status="churned", since=date(2020, 1, 1), **kw).zh == "离网期"
    # no billing in the latest 2 months of the data set → churned
    stopped = [(m, a) for m, a in months(*[50_000] * 8)][:-2]
    assert lifecycle.stage_of(stopped, status="active", since=date(2020, 1, 1), **kw).zh == "离网期"
    # billed in the second-latest month only: still active
    one_gap = months(*[50_000] * 7)[:-1]
    assert lifecycle.stage_of(one_gap, status="active", since=date(2020, 1, 1), **kw).zh != "离网期"


@pytest.mark.parametrize("days,warns", [(0, True), (89, True), (90, True), (91, False), (-5, True)])
def test_contract_warning_window(days, warns):
    a = contract_alert(TODAY + timedelta(days=days), TODAY)
    assert (a is not None) == warns
    if days >= 0 and warns:
        assert (f"还有 {days} 天" if days else "今天到期") in a.text


def test_spend_drop_warning_boundary():
    assert any(a.kind == "spend_drop" for a in alerts_for(facts(months(*[100_000] * 3 + [80_000] * 3)), today=TODAY, now=NOW))
    assert not any(a.kind == "spend_drop" for a in alerts_for(facts(months(*[100_000] * 3 + [81_000] * 3)), today=TODAY, now=NOW))


@pytest.mark.parametrize(
    "hours,kind,warns", [(47, "投诉", False), (48, "投诉", False), (49, "投诉", True), (72, "故障", True), (100, "咨询", False)]
)
def test_ticket_older_than_48_hours(hours, kind, warns):
    f = facts(tickets=[TicketFact(NOW - timedelta(hours=hours), kind, "open", "专线中断")])
    assert any(a.kind == "ticket" for a in alerts_for(f, today=TODAY, now=NOW)) == warns


def test_closed_ticket_never_warns():
    f = facts(tickets=[TicketFact(NOW - timedelta(days=9), "投诉", "closed", "x")])
    assert not any(a.kind == "ticket" for a in alerts_for(f, today=TODAY, now=NOW))


@pytest.mark.parametrize("days_ago,warns", [(14, False), (15, True)])
def test_not_visited_within_cadence_diamond(days_ago, warns):
    f = facts(months(*[600_000] * 6), visits=[VisitFact(1, TODAY - timedelta(days=days_ago), (), (), (), "", "", None, False)])
    assert f.tier.zh == "钻石"
    assert any(a.kind == "not_visited" for a in alerts_for(f, today=TODAY, now=NOW)) == warns


def test_never_visited_warns_and_competitor_warns():
    f = facts(visits=[], competitors=("移动",))
    kinds = {a.kind for a in alerts_for(f, today=TODAY, now=NOW)}
    assert {"not_visited", "competitor"} <= kinds


def test_alerts_ordered_by_urgency():
    f = facts(
        months(*[100_000] * 3 + [70_000] * 3), contract_end=TODAY + timedelta(days=10), competitors=("联通",),
        tickets=[TicketFact(NOW - timedelta(days=3), "投诉", "open", "断网")],
    )
    kinds = [a.kind for a in alerts_for(f, today=TODAY, now=NOW)]
    assert kinds[0] == "contract" and kinds[-1] == "competitor"


@pytest.mark.parametrize(
    "pct,who",
    [(0, "客户经理"), (5, "客户经理"), (5.1, "部门经理"), (15, "部门经理"), (15.5, "分公司领导"),
     (25, "分公司领导"), (25.1, "省公司"), (40, "省公司")],
)
def test_discount_authority(pct, who):
    assert approver(pct)[0] == who


def test_investment_check_matches_domain_example():
    # 12 metro lines: 585,500 to build, 686,400 over a 3-year contract → sign
    monthly = Decimal(686_400) / 36
    assert "可以做" in investment_line(585_500, monthly, 36)
    assert "不建议" in investment_line(610_000, Decimal(600_000) / 36, 36)
    assert price_after(68_000, 5) == Decimal("64600")


def test_importance_grades():
    assert tiering.importance_grade("重要", 1) == "重要大客户"
    assert tiering.importance_grade("一般", 10_001) == "特大大客户"
    assert tiering.importance_grade("一般", 10_000) == "普通大客户"
    assert tiering.importance_grade("一般", 3_000) == "普通大客户"
    assert tiering.importance_grade("一般", 2_999) == "一般大客户"


def test_entitlements_by_tier():
    assert "必要时派驻客户经理" in tiering.entitlements(tiering.TIER_BY_ZH["钻石"])
    assert "需要时上门培训" in tiering.entitlements(tiering.TIER_BY_ZH["白金"])
    assert "必要时派驻客户经理" not in tiering.entitlements(tiering.TIER_BY_ZH["翡翠"])
    assert "7×24 小时故障申告" in tiering.entitlements(tiering.TIER_BY_ZH["水晶"])
