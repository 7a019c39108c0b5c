"""Follow-ups as a loop (issue: the manager's day as a loop): a whole week, on SQLite and PostgreSQL.

Each turn goes through the action server's own code path (actions.dialogue.base.run_turn) with the
day of the week given explicitly, so the week can be walked in one test.
"""

from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import select

from actions.core.reply import Request
from actions.db.models import AuditLog, Visit
from actions.db.session import session_scope
from actions.dialogue.base import run_turn
from actions.services.reports import weekly_visits

MONDAY = date.today() - timedelta(days=date.today().weekday())


class Manager:
    """李强 (M001) typing and tapping, on a given day."""

    def __init__(self, sender: str = "10001"):
        self.sender, self.slots, self.buttons = sender, {}, []
        self.day = MONDAY

    def say(self, text: str) -> str:
        req = Request(sender=self.sender, text=text, slots=dict(self.slots), today=self.day,
                      now=datetime.combine(self.day, datetime.min.time()).replace(hour=9))
        _, reply = run_turn(req)
        self.slots.update(reply.slots)
        self.buttons = reply.buttons
        return reply.text

    def tap(self, title: str) -> str:
        for b in self.buttons:
            if b.title == title or b.title.startswith(title):
                return self.say(b.payload)
        raise AssertionError(f"no button {title!r} in {[b.title for b in self.buttons]}")

    def titles(self) -> list[str]:
        return [b.title for b in self.buttons]


def followups_of(url, customer_code):
    from actions.db.models import Customer

    with session_scope(url) as s:
        cid = s.execute(select(Customer.id).where(Customer.code == customer_code)).scalar_one()
        return s.execute(select(Visit).where(Visit.customer_id == cid, Visit.dedupe_key.like("msg:%"))
                         .order_by(Visit.id)).scalars().all()


def test_a_week_of_follow_ups(demo_db):
    url = demo_db
    m = Manager()
    # Monday: three visits, three promises
    notes = [
        ("刚见完华钢周主任 双路由他认可 我周三前把报价发过去", "C0001"),
        ("下午去了江城银行 郑浩说新网点要12条专线 我周四前给他报价", "C0003"),
        ("东湖管委会曹主任见了 视频会议要加二十个点 我周五前出扩容方案", "C0010"),
    ]
    for text, _ in notes:
        assert m.say(text).startswith("请确认这条拜访记录")
        assert m.say("保存").startswith("已保存")
    for _, code in notes:
        assert len(followups_of(url, code)) == 1

    # Tuesday morning: the digest counts open follow-ups, grouped, with buttons to close or move them
    m.day = MONDAY + timedelta(days=1)
    digest = m.say("/daily_digest")
    assert "【本周" in digest and "华中钢铁集团有限公司：报价发过去" in digest
    assert "江城商业银行股份有限公司：给他报价" in digest and "东湖高新区管委会：出扩容方案" in digest
    assert any(t.startswith("✓ ") for t in m.titles()) and "我的待办" in m.titles()

    # Wednesday: the quote went out (by message, confirmed); 江城 is moved by button; 仁和 is dropped
    m.day = MONDAY + timedelta(days=2)
    ask = m.say("华钢的报价发了")
    assert "标为已完成" in ask and "华中钢铁集团有限公司" in ask
    assert followups_of(url, "C0001")[0].follow_up_done is False  # nothing before 确认
    done = m.say("确认")
    assert done.startswith("已完成：报价发过去") and "撤销" in m.titles()
    hg = followups_of(url, "C0001")[0]
    assert hg.follow_up_done and hg.follow_up_outcome == "done" and hg.follow_up_closed_at is not None

    m.say("今天要跟进谁")
    listed = m.say("这周要跟进哪些")
    assert "江城商业银行股份有限公司：给他报价" in listed and "华中钢铁集团有限公司：报价发过去" not in listed
    jc = followups_of(url, "C0003")[0]
    m.say(f'/followup_move{{"visit_id":{jc.id}}}')  # the 改期 button
    options = m.titles()
    assert len(options) >= 3 and all("-" in t for t in options)
    next_monday = MONDAY + timedelta(days=7)
    moved = m.tap(f"{next_monday:%m-%d}")
    assert moved.startswith("已改期：给他报价")
    assert followups_of(url, "C0003")[0].follow_up == next_monday

    ask = m.say("东湖管委会那个不用跟了 他们预算砍了")
    assert "不再跟进" in ask and "预算砍了" in ask
    assert m.say("确认").startswith("已取消跟进：出扩容方案")
    rh = followups_of(url, "C0010")[0]
    assert rh.follow_up_done and rh.follow_up_outcome == "dropped" and "预算砍了" in rh.follow_up_note

    # Thursday's digest shows exactly what is still open of the three
    m.day = MONDAY + timedelta(days=3)
    digest = m.say("/daily_digest")
    assert "华中钢铁集团有限公司：报价发过去" not in digest and "东湖高新区管委会：出扩容方案" not in digest
    assert "江城商业银行股份有限公司：给他报价" not in digest  # moved to next week
    m.day = next_monday
    assert "江城商业银行股份有限公司：给他报价" in m.say("/daily_digest")

    # the weekly report: completion rate and overdue with their age
    with session_scope(url) as s:
        report = weekly_visits(s, MONDAY + timedelta(days=4), "M001")
    line = next(x for x in report.splitlines() if x.startswith("李强"))
    assert "完成 1 件" in line and "完成率" in line
    assert "⚠ 逾期" in report

    # every change is audited with the previous values
    with session_scope(url) as s:
        actions = [a for a, in s.execute(select(AuditLog.action).where(AuditLog.action.like("followup_%")))]
    assert actions.count("followup_done") == 1 and actions.count("followup_moved") == 1
    assert actions.count("followup_dropped") == 1


def test_tapped_done_button_closes_at_once_and_undo_restores(sqlite_demo):
    m = Manager()
    m.say("刚见完华钢周主任 我周三前把报价发过去")
    m.say("保存")
    visit = followups_of(sqlite_demo, "C0001")[-1]
    assert m.say(f'/followup_done{{"visit_id":{visit.id}}}').startswith("已完成")
    assert followups_of(sqlite_demo, "C0001")[-1].follow_up_done
    assert m.say("撤销").startswith("已撤销")
    assert followups_of(sqlite_demo, "C0001")[-1].follow_up_done is False


def test_edit_and_delete_the_second_latest_note_by_message_and_button(sqlite_demo):
    m = Manager()
    m.say("今天见了华钢张总 聊了5G专网")
    m.say("保存")
    m.say("刚从江城银行出来 郑浩说要专线 月底前报价")
    m.say("保存")
    listing = m.say("华钢的拜访记录")
    assert "见张建国（总经理）" in listing.splitlines()[1] and "第1条" in m.titles()
    shown = m.tap("第1条")
    assert "华中钢铁集团有限公司" in shown and "删除" in m.titles()
    ask = m.say("人名写错了是王科长")
    assert "见的人改为 王磊（信息科科长）" in ask
    assert m.say("确认").startswith("已修改")
    hg = followups_of(sqlite_demo, "C0001")[-1]
    assert "王磊" in hg.people and "张建国" not in hg.people
    assert m.say("撤销").startswith("已撤销")  # undo within minutes
    assert "张建国" in followups_of(sqlite_demo, "C0001")[-1].people

    m.say("华钢的拜访记录")
    m.tap("第1条")
    assert "删除这条记录" in m.tap("删除")
    assert m.say("确认").startswith("已删除")
    assert followups_of(sqlite_demo, "C0001")[-1].deleted
    # the latest note (江城) is untouched
    assert not followups_of(sqlite_demo, "C0003")[-1].deleted


def test_a_waiting_note_survives_a_question_in_between(sqlite_demo):
    m = Manager()
    assert m.say("刚见完华钢周主任 双路由他认可 我周三前把报价发过去").startswith("请确认")
    reply = m.say("江城银行合同啥时候到期")
    assert reply.startswith("江城商业银行股份有限公司") and "还没保存" in reply and "保存" in m.titles()
    assert m.say("保存").startswith("已保存")
    assert len(followups_of(sqlite_demo, "C0001")) == 1


def test_out_of_domain_with_a_date_changes_nothing(sqlite_demo):
    m = Manager()
    m.say("刚见完华钢周主任 我周三前把报价发过去")
    m.say("保存")
    for text in ("帮我查下周五去深圳的航班", "明天北京天气怎么样", "下周三的高铁票还有吗"):
        reply = m.say(text)
        assert "帮不上忙" in reply and "跟进改为" not in reply and "请确认" not in reply
        assert m.slots.get("pending_edit") is None


def test_risk_list_order_over_a_mixed_portfolio():
    """Severity first (an expired contract or a stale complaint before a spend drop), then the sum of
    severities (four warnings outweigh one), then the tier, then the days overdue."""
    from actions.core.tiering import TIER_BY_ZH
    from actions.core.warnings import Alert, portfolio_key

    class F:
        def __init__(self, tier, avg3=0):
            self.tier, self.avg3 = TIER_BY_ZH[tier], avg3

    diamond_four = (F("钻石"), [Alert("ticket", "", 90, 3, 2), Alert("spend_drop", "", 88, 2),
                                Alert("contract", "", 70, 2), Alert("competitor", "", 60, 1)])
    crystal_one = (F("水晶"), [Alert("contract", "", 100, 3, 20)])
    gold_expired_long = (F("黄金"), [Alert("contract", "", 100, 3, 40)])
    gold_expired_short = (F("黄金"), [Alert("contract", "", 100, 3, 5)])
    platinum_visit = (F("白金"), [Alert("not_visited", "", 50, 1, 10)])
    jade_drop = (F("翡翠"), [Alert("spend_drop", "", 88, 2)])
    ranked = sorted([platinum_visit, crystal_one, jade_drop, gold_expired_short, diamond_four, gold_expired_long],
                    key=lambda r: portfolio_key(*r))
    assert ranked == [diamond_four, gold_expired_long, gold_expired_short, crystal_one, jade_drop, platinum_visit]


@pytest.mark.parametrize("days,text", [(-3, "已过期 3 天"), (0, "今天到期"), (12, "还有 12 天")])
def test_contract_state_never_reads_minus_days(days, text):
    from actions.core.warnings import contract_state

    assert contract_state(days) == text


def test_done_right_after_saving_a_note(sqlite_demo):
    """报价已经发过去了 right after saving: the note's own follow-up is closed (after a yes); a note
    that promised nothing dated leads to the customer's open follow-ups, never to an error."""
    m = Manager()
    card = m.say("华钢 周主任 今儿下班前把报价发他")
    assert "跟进：今天" in card, card  # a promise due today is a follow-up today
    assert "已保存" in m.tap("保存")
    asked = m.say("报价已经发过去了")
    assert "华中钢铁集团有限公司 的跟进「报价发他」" in asked and "标为已完成" in asked, asked
    assert "已完成" in m.tap("确认")
    m.say("江城银行 郑浩 聊了聊400的使用情况")
    assert "已保存" in m.tap("保存")
    reply = m.say("资料已经发过去了")
    assert "出错" not in reply and ("江城商业银行股份有限公司" in reply or "没有未完成的跟进" in reply), reply
