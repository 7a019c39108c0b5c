"""Chinese dates, numbers and discounts as managers type them."""

from datetime import date

import pytest

from actions.core.dates import find_dates, roll_forward
from actions.core.numbers import amount_yuan, cn_to_int, discount_pct

TODAY = date(2026, 11, 22)  # a Sunday


@pytest.mark.parametrize(
    "text,day",
    [
        ("今天", "2026-11-22"), ("昨天", "2026-11-21"), ("前天", "2026-11-20"), ("上周五", "2026-11-13"),
        ("这周三", "2026-11-18"), ("下周三", "2026-11-25"), ("下下周一", "2026-11-30"), ("月底", "2026-11-30"),
        ("3月5号", "2026-03-05"), ("3.5", "2026-03-05"), ("5号", "2026-11-05"), ("十五号", "2026-11-15"),
        ("下个月初", "2026-12-01"), ("下个月底", "2026-12-31"),
    ],
)
def test_date_expressions(text, day):
    found = find_dates(text, TODAY)
    assert found and found[0].day.isoformat() == day


@pytest.mark.parametrize(
    "text,day", [("5号前回复", "2026-12-05"), ("3月5号前报方案", "2027-03-05"), ("3.5前回复", "2027-03-05"),
                 ("十五号前", "2026-12-15"), ("下周三前", "2026-11-25")]
)
def test_follow_up_dates_never_in_the_past(text, day):
    assert roll_forward(find_dates(text, TODAY)[0], TODAY).isoformat() == day


def test_money_is_not_a_date():
    assert find_dates("报价 8.5万 打 9.5折", TODAY) == []


@pytest.mark.parametrize("text,value", [("十五", 15), ("二十", 20), ("三百零五", 305), ("12", 12)])
def test_cn_numbers(text, value):
    assert cn_to_int(text) == value


@pytest.mark.parametrize("text,value", [("三万一个月", 30000), ("月均十万", 100000), ("2.5万", 25000), ("8000元", 8000)])
def test_amounts(text, value):
    assert amount_yuan(text) == value


@pytest.mark.parametrize(
    "text,pct", [("能不能打八折", 20), ("八五折", 15), ("85折", 15), ("九折", 10), ("降价15%要谁批", 15),
                 ("打七五折", 25), ("报价低两成", 20)]
)
def test_discounts(text, pct):
    assert discount_pct(text) == pct
