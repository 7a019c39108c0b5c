"""End to end: the trained model, `rasa run` and the action server, over the REST webhook.

One training per test run at most (session fixture; skipped when a model for the current
data/config exists). The CRM is a fresh SQLite file with the demo data plus an imported folder
whose customers appear in no training data.
"""

from __future__ import annotations

import uuid

import httpx
import pytest
from sqlalchemy import func, select

from actions.db.models import Visit
from actions.db.session import session_scope

pytestmark = pytest.mark.e2e


class Conversation:
    def __init__(self, base: str, sender: str):
        self.base, self.sender = base, sender

    def say(self, text: str, **metadata):
        r = httpx.post(
            f"{self.base}/webhooks/rest/webhook",
            json={"sender": self.sender, "message": text, "metadata": metadata}, timeout=60,
        )
        r.raise_for_status()
        msgs = r.json()
        self.text = "\n".join(m.get("text", "") for m in msgs)
        self.buttons = [b for m in msgs for b in (m.get("buttons") or [])]
        return self.text


def fresh(stack, telegram_id: str) -> Conversation:
    servers, _ = stack
    # Rasa's tracker is keyed by sender; the manager is found by telegram id. A fresh conversation
    # per test keeps slots independent: reset it through the HTTP API.
    httpx.post(f"{servers.rasa_url}/conversations/{telegram_id}/tracker/events",
               params={"token": servers.auth_token}, json={"event": "restart"}, timeout=10).raise_for_status()
    return Conversation(servers.rasa_url, telegram_id)


def test_status_of_demo_customer_from_the_database(stack):
    c = fresh(stack, "10001")
    reply = c.say("华中钢铁最近怎么样")
    assert reply.startswith("华中钢铁集团有限公司 · 钻石客户")
    assert "⚠ 预警" in reply and "衰退期" in reply
    assert [b["title"] for b in c.buttons][:2] == ["拜访简报", "FABE话术"]


def test_imported_customer_found_without_retraining(stack):
    c = fresh(stack, "20100")  # 周晓, bound in the imported managers.csv
    assert c.say("鄂东明珠新材料股份有限公司最近怎么样").startswith("鄂东明珠新材料股份有限公司")
    assert c.say("明珠新材咋样").startswith("鄂东明珠新材料股份有限公司")
    assert c.say("鄂东明株新材最近咋样").startswith("鄂东明珠新材料股份有限公司")  # typo
    reply = c.say("mzxc怎么样")  # pinyin initials of the alias 明珠新材
    assert reply.startswith("鄂东明珠新材料股份有限公司")
    assert "衰退期" in reply  # 12.0万 → 8.8万 by the imported billing
    reply = c.say("他们合同啥时候到期")
    assert reply.startswith("鄂东明珠新材料股份有限公司") and "2027-02-10" in reply


def test_unbound_sender_gets_only_how_to_get_access(stack):
    c = fresh(stack, str(900000 + uuid.uuid4().int % 99999))
    reply = c.say("华中钢铁最近怎么样")
    assert "还没有开通" in reply and "/bind" in reply and "钻石" not in reply


def test_other_managers_customer_refused(stack):
    c = fresh(stack, "10001")
    reply = c.say("明珠新材咋样")  # 周晓's customer: answered exactly like a name nobody has
    assert reply.startswith("没找到「明珠新材」") and "衰退" not in reply and "鄂东" not in reply
    assert c.say("明珠新材咋样") == reply
    unknown = c.say("明珠新料咋样")  # a name no customer has
    assert unknown.startswith("没找到「") and "鄂东" not in unknown


def test_log_confirm_list_and_duplicate_delivery(stack):
    servers, url = stack
    c = fresh(stack, "10001")
    note = "刚见完华钢周主任 他说双路由方案可以 但是要等黄总拍板 下周三前把报价发过去"
    reply = c.say(note)
    assert reply.startswith("请确认这条拜访记录") and "华中钢铁集团有限公司" in reply
    assert [b["title"] for b in c.buttons] == ["保存", "修改", "取消"]
    assert c.say("/affirm").startswith("已保存")
    c.say(note)
    assert c.say("/affirm").startswith("已保存")  # the same note delivered again
    with session_scope(url) as s:
        n = s.execute(select(func.count()).select_from(Visit).where(Visit.summary == note)).scalar()
    assert n == 1
    listed = c.say("华钢最近拜访记录")
    assert "见周明（信息中心主任）" in listed and "报价" in listed


def test_greet_and_help_offer_examples(stack):
    c = fresh(stack, "10001")
    assert "李强你好" in c.say("你好")
    assert "华中钢铁最近怎么样" in [b["title"] for b in c.buttons]


@pytest.mark.parametrize(
    "typed,full,tier,stage,warned,not_warned",
    [
        ("润泰包装最近怎么样", "襄阳润泰包装有限公司", "水晶客户", "成熟期", [], ["下降", "合同"]),
        ("凯达船舶最近怎么样", "宜昌凯达船舶有限公司", "黄金客户", "成熟期", [], ["下降", "合同"]),
        ("华瑞汽配最近怎么样", "十堰华瑞汽配有限公司", "宝石客户", "衰退期", ["较前3月下降 20%"], ["合同"]),
        ("安和粮油最近怎么样", "荆州安和粮油有限公司", "宝石客户", "成熟期", [], ["下降"]),
        ("恒泰纸业最近怎么样", "孝感恒泰纸业有限公司", "黄金客户", "成熟期", ["还有 89 天"], ["下降"]),
        ("永兴机电最近怎么样", "随州永兴机电有限公司", "黄金客户", "成熟期", [], ["合同"]),
    ],
)
def test_thresholds_on_imported_customers(stack, typed, full, tier, stage, warned, not_warned):
    c = fresh(stack, "20100")
    reply = c.say(typed)
    assert reply.startswith(f"{full} · {tier}")
    assert f"｜{stage}" in reply
    warnings = "\n".join(line for line in reply.splitlines() if line.startswith("⚠"))
    for text in warned:
        assert text in warnings
    for text in not_warned:
        assert text not in warnings


def test_coaching_differs_by_industry_tier_and_stage(stack):
    c = fresh(stack, "10001")
    fabe = c.say("云桌面怎么跟仁和医院介绍")
    assert fabe.startswith("云桌面 · FABE（汉阳仁和医院，医疗）") and "护士站" in fabe
    spin = c.say("明天见楚天酒店何总 该问点啥")
    assert spin.startswith("楚天大酒店有限公司（宝石客户，成熟期）见何静") and "决策者" in spin
    offer = c.say("星河网咖适合什么套餐")
    assert offer.startswith("星河网咖连锁有限公司（水晶客户，离网期）赢回建议")
    assert "网吧ICT套餐" in offer and "钻石尊享服务包" not in offer and "商务宽带：" not in offer
    offer = c.say("江城银行适合什么套餐")
    assert offer.startswith("江城商业银行股份有限公司（白金客户，提升期）增值建议")
    assert "网吧ICT套餐" not in offer and "需部门经理审批" in offer


def test_edit_and_delete_through_rest(stack):
    servers, url = stack
    c = fresh(stack, "10001")
    c.say("刚见完楚天酒店罗经理 客房电话要换汇线通 十五号前回复")
    assert c.say("/affirm").startswith("已保存")
    reply = c.say("改一下 跟进时间是下周四")
    assert "跟进改为" in reply
    assert c.say("/affirm").startswith("已修改")
    reply = c.say("删掉刚才那条")
    assert "删除这条记录" in reply
    assert c.say("/affirm").startswith("已删除")


def _set_connections(url: str, allowed: bool) -> None:
    from conftest import _pg_admin
    from sqlalchemy.engine import make_url

    name = make_url(url).database
    conn, _ = _pg_admin()
    with conn.cursor() as cur:
        cur.execute(f'ALTER DATABASE "{name}" WITH ALLOW_CONNECTIONS {"true" if allowed else "false"}')
        if not allowed:
            cur.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", (name,))
    conn.close()


def test_database_down_then_retry_saves_exactly_one(stack):
    servers, url = stack
    c = fresh(stack, "10001")
    note = "刚见完华钢王科长 IDC机柜要加2个 月底前报价"
    assert c.say(note).startswith("请确认这条拜访记录")
    _set_connections(url, False)
    try:
        reply = c.say("/affirm")
        assert "没保存" in reply and "已保存" not in reply
        assert [b["title"] for b in c.buttons] == ["重试"]
    finally:
        _set_connections(url, True)
    assert c.say("重试").startswith("已保存")
    assert "没有待重试" in c.say("重试")
    with session_scope(url) as s:
        assert s.execute(select(func.count()).select_from(Visit).where(Visit.summary == note)).scalar() == 1


def test_other_intents_and_unhappy_paths_over_rest(stack):
    c = fresh(stack, "10001")
    brief = c.say("明天去华中钢铁 帮我准备一下")
    assert brief.startswith("华中钢铁集团有限公司 拜访简报") and "【建议】" in brief
    alerts = c.say("哪些合同快到期了")
    assert "90 天内合同到期" in alerts and "华中钢铁集团有限公司" in alerts
    assert "派驻客户经理" in c.say("钻石客户有什么权益")
    assert "要跟进" in c.say("这周有哪些待办")
    assert "哪一个" in c.say("东湖最近咋样")  # ambiguous: buttons with the full names
    assert {"武汉市公安局东湖分局", "东湖高新区管委会"} <= {b["title"] for b in c.buttons}
    assert "没找到" in c.say("武当山旅游公司最近怎么样")  # not found
    nonsense = c.say("阿巴阿巴 qwerty zzz")  # declined with what the assistant does, never "not found"
    assert ("没太明白" in nonsense or "帮不上忙" in nonsense) and "没找到" not in nonsense
    assert c.say("今天上午拜访了华中钢铁张总 聊了5G专网 下周三前给个方案").startswith("请确认")
    assert "没有保存" in c.say("/deny")  # deny at confirmation
