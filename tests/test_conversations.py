"""What a manager sees: the actions' Chinese replies, through rasa-sdk's executor, on the demo CRM."""

import json

from sqlalchemy import func, select

from actions.db.models import AuditLog, Customer, Visit
from actions.db.session import dispose_all, session_scope
from actions.services import directory

HG_NOTE = "刚见完华钢周主任 他说双路由方案可以 但是要等黄总拍板 下周三前把报价发过去"


def ent(name, value):
    return [{"entity": name, "value": value}]


# ---------------------------------------------------------------- identity and access
def test_unbound_sender_gets_only_access_help(make_chat, sqlite_demo):
    stranger = make_chat("555")
    for action, text in (("action_customer_status", "华钢最近怎么样"), ("action_portfolio_alerts", "我的客户有哪些风险"),
                         ("action_greet", "你好"), ("action_log_visit", HG_NOTE)):
        said = stranger.say(action, text)
        assert "还没有开通" in said and "/bind" in said
        assert "华中钢铁" not in said.text and "钻石" not in said.text


def test_other_managers_customer_is_refused_and_audited(chat, sqlite_demo):
    for text in ("华中重工怎么样", "华中重工的合同啥时候到期", "hzzg", "华中重工适合什么套餐"):
        said = chat.say("action_customer_status", text)
        assert "不在你的客户名单里" in said or "哪一个" in said or "没找到" in said
        assert "白金" not in said.text and "联通" not in said.text and "蒋涛" not in said.text
    with session_scope(sqlite_demo) as s:
        denied = s.execute(select(func.count()).select_from(AuditLog).where(AuditLog.action == "access_denied")).scalar()
    assert denied >= 1


def test_button_with_foreign_customer_code_is_refused(chat, sqlite_demo):
    said = chat.say("action_customer_status", '/customer_status{"customer_code":"C0101"}', entities=ent("customer_code", "C0101"))
    assert "没找到" in said and "华中重工" not in said.text and "白金" not in said.text  # like a code nobody has
    assert said.text == chat.say("action_customer_status", '/customer_status{"customer_code":"C9999"}').text
    with session_scope(sqlite_demo) as s:
        denied = s.execute(select(AuditLog).where(AuditLog.action == "access_denied")).scalars().all()
        foreign = s.execute(select(Customer.id).where(Customer.code == "C0101")).scalar_one()
    assert [a.customer_id for a in denied] == [foreign]


def test_team_lead_sees_team_customer(make_chat, sqlite_demo):
    lead = make_chat("10004")  # 赵磊, 政企一部 lead
    said = lead.say("action_customer_status", "华中重工怎么样")
    assert said.text.startswith("华中重工机械有限公司") and "客户经理：王芳" in said
    said = lead.say("action_customer_status", "光谷电子怎么样")  # another team's: answered like an unknown name
    assert said.text.startswith("没找到「光谷电子」") and "钻石" not in said.text and "沈洁" not in said.text


def test_every_lookup_is_audited(chat, sqlite_demo):
    chat.say("action_customer_status", "华钢最近怎么样")
    with session_scope(sqlite_demo) as s:
        row = s.execute(select(AuditLog).where(AuditLog.action == "view").order_by(AuditLog.id.desc())).scalars().first()
        assert row.actor == "M001" and row.customer_id == 1 and json.loads(row.detail)["intent"] == "lookup"


# ---------------------------------------------------------------- customer_status
def test_status_reply_leads_with_name_and_warnings(chat):
    said = chat.say("action_customer_status", "华钢最近怎么样")
    lines = said.text.splitlines()
    assert lines[0] == "华中钢铁集团有限公司 · 钻石客户 · 重要大客户"
    assert lines[1].startswith("⚠ 预警：")
    assert "衰退期" in said and "移动正在接触" in said and "合同 " in said and "还有 70 天" in said
    assert "城域网专线×20" in said and "上次拜访" in said and "周明" in said and "决策者" in said
    assert len(lines) <= 13
    assert said.titles == ["拜访简报", "FABE话术", "SPIN提问", "挽留方案", "记录拜访"]


def test_follow_up_question_keeps_the_customer(chat):
    chat.say("action_customer_status", "华钢最近怎么样")
    said = chat.say("action_customer_status", "他们合同啥时候到期", entities=ent("aspect", "合同"))
    assert said.text.startswith("华中钢铁集团有限公司") and "合同到期" in said and "还有 70 天" in said
    said = chat.say("action_customer_status", "联系人呢", entities=ent("aspect", "联系人"))
    assert "黄伟" in said and "技术把关" in said and "教练" in said


def test_aspect_spend_shows_twelve_months(chat):
    said = chat.say("action_customer_status", "华钢最近消费多少", entities=ent("aspect", "消费"))
    assert "近 12 个月消费" in said and said.text.count("-") >= 12 and "前3月均" in said


def test_ambiguous_name_asks_with_full_names(chat):
    said = chat.say("action_customer_status", "东湖最近咋样")
    assert "哪一个" in said
    assert set(said.titles) == {"武汉市公安局东湖分局", "东湖高新投资集团有限公司", "东湖高新区管委会"}
    payload = said.buttons[1]["payload"]
    code = json.loads(payload.split("{", 1)[1].join("{}") if False else "{" + payload.split("{", 1)[1])["customer_code"]
    said = chat.say("action_customer_status", payload, entities=ent("customer_code", code))
    assert said.text.startswith(said.text.split(" · ")[0]) and "东湖" in said.text.splitlines()[0]


def test_not_found_suggests_visible_names(chat):
    said = chat.say("action_customer_status", "江城农商怎么样", entities=ent("customer", "江城农商"))
    assert "你说的是「江城商业银行股份有限公司」吗" in said  # a prefix is confirmed, never taken silently
    assert said.titles == ["江城商业银行股份有限公司"]
    said = chat.say("action_customer_status", "武当山旅游公司怎么样")
    assert "没找到「武当山旅游公司」" in said
    assert "华中重工机械有限公司" not in said.titles


def test_customer_imported_after_start_is_found_without_retraining(chat, sqlite_demo):
    chat.say("action_customer_status", "华钢怎么样")  # builds the index
    with session_scope(sqlite_demo) as s:
        s.add(Customer(code="N1", name="襄阳新月光电有限公司", aliases="新月光电", industry="制造业", importance="一般",
                       manager_id=2, status="active", competitors="", address=""))
    said = chat.say("action_customer_status", "新月光电咋样")
    assert said.text.startswith("襄阳新月光电有限公司")


# ---------------------------------------------------------------- brief, alerts, tier policy
def test_visit_brief_separates_facts_and_suggestions(chat):
    said = chat.say("action_visit_brief", "明天去华中钢铁 帮我准备一下")
    t = said.text
    assert t.startswith("华中钢铁集团有限公司 拜访简报") and "制造业" in t and "钻石客户" in t and "衰退期" in t
    assert t.index("【CRM 事实】") < t.index("【建议】")
    assert "待兑现：给双路由方案" in t and "衰退期策略" in t and "派驻客户经理" in t
    assert "话题：" in t and "可带的方案：" in t


def test_portfolio_contract_alerts_only_own_and_ordered(chat):
    said = chat.say("action_portfolio_alerts", "哪些合同快到期了")
    t = said.text
    assert "90 天内合同到期" in t and "华中钢铁集团有限公司" in t and "东湖高新投资集团有限公司" in t
    assert "东湖高新区管委会" not in t  # 91 days
    assert "荆楚农商银行" not in t and "华中重工" not in t  # other managers'
    assert len([line for line in t.splitlines() if line[:1].isdigit()]) <= 10


def test_tier_policy_answers(chat):
    assert "派驻客户经理" in chat.say("action_tier_policy", "钻石客户有什么权益", entities=ent("tier", "钻石"))
    said = chat.say("action_tier_policy", "白金客户的标准是多少", entities=ent("tier", "白金"))
    assert "8万" in said and "20万" in said and "30 天" in said
    assert "宝石客户" in chat.say("action_tier_policy", "三万一个月是什么等级")
    said = chat.say("action_tier_policy", "华钢是什么级别")
    assert said.text.startswith("华中钢铁集团有限公司（钻石客户，衰退期）") and "等级：钻石" in said and "58.2万" in said


# ---------------------------------------------------------------- coaching
def test_fabe_is_tailored_to_industry_and_situation(chat):
    said = chat.say("action_fabe_pitch", "给华中钢铁讲讲5G专网", entities=ent("product", "5G专网"))
    t = said.text
    for label in ("F 特征", "A 优势", "B 利益", "E 证据"):
        assert label in t
    assert "车间" in t  # the 制造业 benefit
    assert "城域网专线中断" in t  # its open complaint
    assert t.count("「") >= 2  # two objections


def test_fabe_without_product_picks_one_not_held(chat):
    said = chat.say("action_fabe_pitch", "给华钢推个产品")
    assert "建议先推" in said and "客户还没有" in said
    assert "城域网专线 ·" not in said.text and "IDC主机托管 ·" not in said.text


def test_fabe_without_customer_is_general_with_industry(chat):
    said = chat.say("action_fabe_pitch", "云桌面怎么跟医院介绍", entities=ent("product", "云桌面"))
    assert "护士站" in said and "带上客户名" in said


def test_spin_plan_by_role_and_stage(chat):
    said = chat.say("action_spin_questions", "明天见华中钢铁的CIO 该问点啥")
    t = said.text
    assert "技术把关者" in t and "I 暗示" in t and "N 需求-效益" in t
    assert "城域网专线×20条" in t  # placeholder filled from the CRM
    growth = chat.say("action_spin_questions", "见江城银行马总问什么")
    assert "决策者" in growth and "扩张" in growth.text


def test_bundle_offer_eligible_no_reoffer_with_approval(chat):
    said = chat.say("action_bundle_offer", "华中钢铁适合什么套餐")
    t = said.text
    assert t.startswith("华中钢铁集团有限公司（钻石客户，衰退期）挽留建议")
    assert "专线双路由保障包" in t and "你可直接批（≤5%）" in t
    assert "网吧ICT套餐" not in t and "水晶客户关怀包" not in t  # not for 钻石
    assert "较现月均消费" in t


def test_discount_request_answers_with_approval_level(chat):
    chat.say("action_customer_status", "华钢怎么样")
    said = chat.say("action_bundle_offer", "能不能打八折")
    assert "要求优惠 20%（8折）：需分公司领导审批（≤25%）" in said


def test_tier_bundles_without_customer(chat):
    said = chat.say("action_bundle_offer", "白金客户有啥优惠", entities=ent("tier", "白金"))
    assert "白金客户可用的套餐" in said and "网吧ICT套餐" not in said


# ---------------------------------------------------------------- visit notes
def visits(url):
    with session_scope(url) as s:
        return s.execute(select(Visit).where(Visit.deleted.is_(False), Visit.dedupe_key.like("msg:%"))).scalars().all()


def test_log_confirm_save_list(chat, sqlite_demo):
    said = chat.say("action_log_visit", HG_NOTE)
    assert said.text.startswith("请确认这条拜访记录") and "客户：华中钢铁集团有限公司" in said
    assert "周明（信息中心主任）" in said and "需决策者黄伟批准" in said and "下周三" not in said.titles
    assert said.titles == ["保存", "修改", "取消"]
    assert visits(sqlite_demo) == []  # nothing saved before 保存
    said = chat.say("action_affirm", "/affirm")
    assert said.text.startswith("已保存") and "跟进华中钢铁集团有限公司" in said
    saved = visits(sqlite_demo)
    assert len(saved) == 1 and saved[0].summary == HG_NOTE
    listed = chat.say("action_list_visits", "华钢最近拜访记录")  # a summary a person would write, not the raw text
    first = listed.text.splitlines()[1]
    assert "见周明（信息中心主任）" in first and "需决策者黄伟批准" in first and "报价" in first
    assert "刚见完" not in listed.text and "第1条" in listed.titles


def test_a_write_is_refused_when_access_was_lost_in_between(chat, sqlite_demo):
    """The customer moves to another manager while a follow-up change waits for 确认, or a note for
    保存: nothing is written, the manager is told, the refusal is audited."""
    from sqlalchemy import update

    from actions.db.models import Manager

    def owner(code):
        with session_scope(sqlite_demo) as s:
            mid = s.execute(select(Manager.id).where(Manager.code == code)).scalar_one()
            s.execute(update(Customer).where(Customer.code == "C0001").values(manager_id=mid))
        directory.clear()

    chat.say("action_log_visit", HG_NOTE)
    chat.say("action_affirm", "/affirm")  # a saved note with a follow-up
    assert "标为已完成" in chat.say("action_followup_done", "华钢的报价发了")
    owner("M002")
    said = chat.say("action_affirm", "/affirm")
    assert "没有改动" in said and "已完成" not in said.text, said.text
    owner("M001")
    assert chat.say("action_log_visit", "华钢 吴婷 聊了IDC扩容 月底前给方案").text.startswith("请确认这条拜访记录")
    owner("M002")
    said = chat.say("action_affirm", "/affirm")
    assert "没有保存" in said and "看不到这个客户" in said and "已保存" not in said.text, said.text
    with session_scope(sqlite_demo) as s:
        refused = s.execute(select(func.count()).select_from(AuditLog).where(AuditLog.action == "write_refused")).scalar()
        saved = s.execute(select(Visit).where(Visit.dedupe_key.like("msg:%"))).scalars().all()
    assert refused >= 1 and len(saved) == 1 and saved[0].follow_up_done is False


def test_duplicate_delivery_stores_one_note(chat, sqlite_demo):
    chat.say("action_log_visit", HG_NOTE)
    pending = chat.slots["pending_note"]
    chat.say("action_affirm", "/affirm")
    chat.slots["pending_note"] = pending  # the same save delivered again
    said = chat.say("action_affirm", "/affirm")
    assert said.text.startswith("已保存")
    assert len(visits(sqlite_demo)) == 1


def test_database_down_says_not_saved_and_retry_saves_once(chat, sqlite_demo, monkeypatch):
    chat.say("action_log_visit", HG_NOTE)
    monkeypatch.setenv("DATABASE_URL", "postgresql+psycopg2://postgres@127.0.0.1:1/none")  # nothing listens there
    said = chat.say("action_affirm", "/affirm")
    assert "没保存" in said and "重试" in said.titles
    assert "已保存" not in said.text
    assert chat.slots["pending_note"]["text"] == HG_NOTE
    monkeypatch.setenv("DATABASE_URL", sqlite_demo)
    dispose_all()
    said = chat.say("action_retry", "重试")
    assert said.text.startswith("已保存")
    said = chat.say("action_retry", "重试")
    assert "没有待重试" in said
    assert len(visits(sqlite_demo)) == 1


def test_database_down_while_logging_keeps_the_text(chat, sqlite_demo, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgresql+psycopg2://postgres@127.0.0.1:1/none")
    directory.clear()
    said = chat.say("action_log_visit", HG_NOTE)
    assert "没保存" in said and chat.slots["pending_note"]["text"] == HG_NOTE
    monkeypatch.setenv("DATABASE_URL", sqlite_demo)
    said = chat.say("action_retry", "重试")
    assert said.text.startswith("请确认这条拜访记录")
    assert chat.say("action_affirm", "/affirm").text.startswith("已保存")
    assert len(visits(sqlite_demo)) == 1


def test_cancel_saves_nothing(chat, sqlite_demo):
    chat.say("action_log_visit", HG_NOTE)
    assert "没有保存" in chat.say("action_deny", "/deny")
    assert visits(sqlite_demo) == []


def test_note_without_customer_asks_then_completes(chat, sqlite_demo):
    said = chat.say("action_log_visit", "刚见完张总 他们嫌贵 下周再谈")
    assert "哪个客户" in said
    said = chat.say("action_log_visit", "华钢")
    assert "客户：华中钢铁集团有限公司" in said and "张建国（总经理）" in said


def test_edit_follow_up_and_delete_keep_history(chat, sqlite_demo):
    chat.say("action_log_visit", HG_NOTE)
    chat.say("action_affirm", "/affirm")
    said = chat.say("action_edit_visit", "改一下 跟进时间是下周四")
    assert "跟进改为" in said and said.titles == ["确认", "取消"]
    assert chat.say("action_affirm", "/affirm").text.startswith("已修改")
    assert visits(sqlite_demo)[0].follow_up.weekday() == 3
    chat.say("action_edit_visit", "删掉刚才那条")
    assert "已删除" in chat.say("action_affirm", "/affirm")
    assert visits(sqlite_demo) == []
    with session_scope(sqlite_demo) as s:
        actions = [a for a, in s.execute(select(AuditLog.action).where(AuditLog.action.like("visit_%")))]
        before = s.execute(select(AuditLog.detail).where(AuditLog.action == "visit_deleted")).scalar_one()
    assert actions == ["visit_saved", "visit_edited", "visit_deleted"]
    assert HG_NOTE in json.loads(before)["before"]["summary"]


def test_long_note_with_emoji_html_sql_is_verbatim(chat, sqlite_demo):
    note = ("拜访华钢 周主任说\"<b>方案</b>\" 不错😀\n'; DROP TABLE visits; -- " + "补充情况。" * 700)[:4000]
    chat.say("action_log_visit", note)
    assert chat.say("action_affirm", "/affirm").text.startswith("已保存")
    assert visits(sqlite_demo)[0].summary == note
    long_note = "拜访华钢 周主任说方案可以" + "补充情况很长。" * 2900  # 20,000+ characters: kept whole, parsed in part
    said = chat.say("action_log_visit", long_note)
    assert said.text.startswith("请确认这条拜访记录") and f"这条有 {len(long_note)} 字" in said and "全文会一起保存" in said
    assert chat.say("action_affirm", "/affirm").text.startswith("已保存")
    assert any(v.summary == long_note for v in visits(sqlite_demo))


def test_followups_ordered_with_overdue_flag(chat):
    said = chat.say("action_my_followups", "这周有哪些待办")
    lines = said.text.splitlines()
    assert "逾期" in lines[0]
    assert lines[1].startswith("⚠ 逾期") and "长江物流集团有限公司" in lines[1] and "楚天大酒店" in lines[2]


def test_signed_requests_required_when_secret_set(chat, monkeypatch):
    from bot.rasa import signed_fields

    monkeypatch.setenv("BOT_SHARED_SECRET", "s3cret")
    assert "未通过校验" in chat.say("action_customer_status", "华钢怎么样")
    forged = {"message_id": "7", "kam_ts": "1", "kam_sig": "0" * 64}
    assert "未通过校验" in chat.say("action_customer_status", "华钢怎么样", metadata=forged)
    good = signed_fields("s3cret", "10001", "华钢怎么样", "7")
    assert chat.say("action_customer_status", "华钢怎么样", metadata=good).text.startswith("华中钢铁集团有限公司")
    assert "未通过校验" in chat.say("action_customer_status", "华钢怎么样", metadata=good)  # replayed


def test_portfolio_question_naming_one_customer_answers_for_it(chat):
    said = chat.say("action_portfolio_alerts", "华钢有啥风险没")
    assert said.text.startswith("华中钢铁集团有限公司（钻石客户，衰退期）风险")


def test_bad_entity_from_nlu_does_not_break_the_reply(chat):
    # DIET once tagged the place name 黄石 as a tier and classified a status question as tier_policy
    said = chat.say("action_tier_policy", "华钢最近怎么样", entities=ent("tier", "黄石"))
    assert said.text.startswith("华中钢铁集团有限公司 · 钻石客户")
    said = chat.say("action_bundle_offer", "白金客户有啥优惠", entities=ent("tier", "黄石"))
    assert "白金客户可用的套餐" in said


def test_unexpected_error_is_a_clear_reply_and_keeps_the_note(chat, monkeypatch):
    from actions.services import visits

    chat.say("action_log_visit", HG_NOTE)

    def boom(*a, **k):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(visits, "save_pending", boom)
    said = chat.say("action_affirm", "/affirm")
    assert "没保存" in said and "出错" in said and "重试" in said.titles
    assert chat.slots["pending_note"]["text"] == HG_NOTE
    said = chat.say("action_greet", "你好")
    assert "你好" in said


def test_note_sent_as_two_messages_is_one_note(chat, sqlite_demo):
    chat.say("action_log_visit", "刚见完华钢周主任 他说双路由方案可以")
    said = chat.say("action_log_visit", "但是要等黄总拍板 下周三前把报价发过去")
    assert said.text.startswith("已把这条补充到刚才的记录里") and "需决策者黄伟批准" in said
    assert chat.say("action_affirm", "/affirm").text.startswith("已保存")
    saved = visits(sqlite_demo)
    assert len(saved) == 1 and saved[0].summary == "刚见完华钢周主任 他说双路由方案可以\n但是要等黄总拍板 下周三前把报价发过去"
    assert saved[0].follow_up is not None


def test_a_note_about_another_customer_starts_a_new_one(chat):
    chat.say("action_log_visit", "刚见完华钢周主任 他说双路由方案可以")
    said = chat.say("action_log_visit", "下午又去了江城银行 郑浩说要12条专线 月底前报价")
    assert said.text.startswith("请确认这条拜访记录") and "江城商业银行股份有限公司" in said


def test_unknown_name_never_falls_back_to_the_current_customer(chat):
    chat.say("action_customer_status", "华钢最近怎么样")
    for text in ("武当山旅游公司最近怎么样", "光谷科技怎么样"):
        said = chat.say("action_customer_status", text)
        assert "没找到" in said and "华中钢铁" not in said.text
    # real follow-ups still use the current customer
    assert chat.say("action_customer_status", "他们合同啥时候到期", entities=ent("aspect", "合同")).text.startswith("华中钢铁")
    assert chat.say("action_customer_status", "联系人呢", entities=ent("aspect", "联系人")).text.startswith("华中钢铁")
    assert "华中钢铁集团有限公司" in chat.say("action_bundle_offer", "能不能打八折")
    assert chat.say("action_customer_status", "最近怎么样").text.startswith("华中钢铁")


def test_note_kept_through_an_outage_keeps_its_own_day(chat):
    from datetime import date, timedelta

    written = date.today() - timedelta(days=1)
    chat.slots["pending_note"] = {"text": "今天上午拜访了华钢周主任 下周三前把报价发过去", "unparsed": True,
                                  "message_date": written.isoformat()}
    said = chat.say("action_retry", "重试")
    assert said.text.startswith("请确认这条拜访记录") and "昨天" in said
    assert chat.slots["pending_note"]["visit_date"] == written.isoformat()
    monday = written - timedelta(days=written.weekday())
    assert chat.slots["pending_note"]["follow_up"] == (monday + timedelta(days=9)).isoformat()  # 下周三


def test_partial_entity_does_not_hide_a_typo_match(chat):
    # the live model tagged only 江城 of 江城银型 (typo of 江城银行) as the customer
    said = chat.say("action_customer_status", "江城银型最近咋样", entities=ent("customer", "江城"))
    assert said.text.startswith("江城商业银行股份有限公司 · 白金客户")


def test_no_current_customer_asks_instead_of_echoing_words(chat):
    assert chat.say("action_customer_status", "他们啥时候合同到期啊", entities=ent("aspect", "合同")).text.startswith("请问是哪个客户")
    said = chat.say("action_customer_status", "关键人有谁", entities=ent("aspect", "联系人"))
    assert "有谁" not in said.text and said.text.startswith("请问是哪个客户")


def test_short_name_misread_as_yes_or_no_still_answers(chat):
    said = chat.say("action_affirm", "仁和", entities=ent("customer", "仁和"))
    assert "汉阳仁和医院" in said.text + " ".join(said.titles)
    assert chat.say("action_deny", "江城银行").text.startswith("江城商业银行股份有限公司")
    assert chat.say("action_affirm", "好的").text == "好的。"
