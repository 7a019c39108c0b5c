"""Finding the customer in a message: names glued to neighbours, short names, typos, pinyin, access."""

import pytest

from actions.core.resolver import CustomerIndex, Entry, strip_suffix, viewer_filter

CUSTOMERS = [
    (Entry(1, "华中钢铁集团有限公司", 1, "一部"), ["华中钢铁", "华钢"]),
    (Entry(2, "华中科技职业学院", 1, "一部"), ["华科职院"]),
    (Entry(3, "江城商业银行股份有限公司", 1, "一部"), ["江城银行"]),
    (Entry(4, "华中重工机械有限公司", 2, "一部"), ["华中重工"]),
    (Entry(5, "光谷电子科技股份有限公司", 3, "二部"), ["光谷电子"]),
    (Entry(6, "东湖高新投资集团有限公司", 1, "一部"), ["东湖高新"]),
    (Entry(7, "东湖高新区管委会", 1, "一部"), ["东湖管委会"]),
]
MINE = viewer_filter("manager", 1, "一部")
LEAD = viewer_filter("lead", 9, "一部")
ADMIN = viewer_filter("admin", 0, "")


@pytest.fixture(scope="module")
def index():
    return CustomerIndex(CUSTOMERS)


@pytest.mark.parametrize(
    "text,expected,how",
    [
        ("华中钢铁最近怎么样", 1, "exact"),
        ("华钢咋样", 1, "exact"),
        ("刚见了华钢周主任", 1, "exact"),           # jieba splits 华钢周 / 主任
        ("明天去华中钢铁集团帮我准备", 1, "exact"),   # no 有限公司 suffix
        ("华中钢铁集团有限公司", 1, "exact"),
        ("江城银行的联系人", 3, "exact"),
        ("江城商业银行怎么样", 3, "exact"),          # without 股份有限公司
        ("华中钢贴最近", 1, "typo"),                 # one wrong character
        ("华中刚铁集团", 1, "typo"),
        ("hzgt合同啥时候到期", 1, "pinyin"),
        ("huazhonggangtie", 1, "pinyin"),
        ("HZGT", 1, "pinyin"),
        ("ＨＺＧＴ怎么样", 1, "pinyin"),              # full-width letters typed on a phone
    ],
)
def test_found(index, text, expected, how):
    r = index.resolve(text, MINE)
    assert (r.status, r.id, r.how) == ("found", expected, how)


def test_single_prefix_match_is_confirmed_not_taken(index):
    r = index.resolve("华中那家咋样", MINE)  # the brand 华中 of two customers: never taken silently
    assert r.status == "ambiguous" and r.ids == [1, 2] and r.weak
    r = index.resolve("江城农商怎么样", MINE)  # 江城 is the brand of 江城商业银行: weak, the caller confirms
    assert r.status == "found" and r.id == 3 and r.weak


def test_ambiguous_prefix_lists_only_visible(index):
    r = index.resolve("东湖最近咋样", MINE)
    assert r.status == "ambiguous" and r.ids == [6, 7]
    r = index.resolve("华中怎么样", MINE)
    assert r.status == "ambiguous" and 4 not in r.ids  # 华中重工 is not mine


def test_forbidden_reveals_nothing_but_the_typed_text(index):
    r = index.resolve("光谷电子什么情况", MINE)
    assert r.status == "forbidden" and r.ids == [] and r.matched == "光谷电子" and r.hidden_ids == [5]


def test_prefix_of_others_customers_reveals_nothing(index):
    r = index.resolve("光谷科技怎么样", MINE)  # 光谷电子 is another manager's
    assert r.status == "not_found" and r.hidden_ids == []


def test_lead_sees_team_admin_sees_all(index):
    assert index.resolve("华中重工怎么样", LEAD).status == "found"
    assert index.resolve("光谷电子", LEAD).status == "forbidden"
    assert index.resolve("光谷电子", ADMIN).status == "found"


@pytest.mark.parametrize("text", ["我的客户有哪些风险", "今天要跟进谁", "钻石客户有什么权益", "你好", "能不能打八折"])
def test_no_false_match(index, text):
    assert index.resolve(text, MINE).status == "not_found"


def test_suggestions_only_from_visible(index):
    ids = index.suggest("光谷科技", MINE)
    assert 5 not in ids


def test_two_customers_in_one_message_is_ambiguous(index):
    assert index.resolve("华钢和江城银行都去了", MINE).status == "ambiguous"


def test_strip_suffix():
    assert strip_suffix("华中钢铁集团有限公司") == "华中钢铁"
    assert strip_suffix("江城商业银行股份有限公司") == "江城商业银行"
