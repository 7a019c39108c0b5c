"""Who is speaking: the sender names the channel (bare Telegram id, or wecom:<UserId>); bind codes
and `kam manager wecom` set the WeCom UserId."""

from __future__ import annotations

from actions.cli import main as kam
from actions.db.access import create_bind_code, redeem_bind_code
from actions.db.repositories import manager_by_code, manager_by_sender
from actions.db.session import session_scope


def test_sender_names_the_channel(demo_db):
    with session_scope(demo_db) as s:
        assert manager_by_sender(s, "10001").code == "M001"
        assert manager_by_sender(s, "wecom:10001") is None  # a WeCom UserId is not a Telegram id
        manager_by_code(s, "M002").wecom_user_id = "wangfang"
    with session_scope(demo_db) as s:
        assert manager_by_sender(s, "wecom:wangfang").code == "M002"
        assert manager_by_sender(s, "wangfang") is None
        assert manager_by_sender(s, "wecom:") is None and manager_by_sender(s, "") is None


def test_bind_code_from_wecom_sets_the_wecom_user_id_only(demo_db):
    with session_scope(demo_db) as s:
        code, _ = create_bind_code(s, "M003")
        other, _ = create_bind_code(s, "M004")
    with session_scope(demo_db) as s:
        assert redeem_bind_code(s, code, "wecom:chenjing").code == "M003"
        assert redeem_bind_code(s, code, "wecom:someone") is None  # single use
    with session_scope(demo_db) as s:
        m = manager_by_code(s, "M003")
        assert (m.wecom_user_id, m.telegram_user_id) == ("chenjing", "10003")
        assert redeem_bind_code(s, other, "wecom:chenjing").code == "M004"  # the UserId moves over
    with session_scope(demo_db) as s:
        assert manager_by_code(s, "M003").wecom_user_id is None
        assert manager_by_sender(s, "wecom:chenjing").code == "M004"


def test_kam_manager_wecom_sets_and_clears(demo_db, capsys):
    assert kam(["manager", "wecom", "M001", "liqiang"]) == 0
    assert "李强（M001）的企业微信 UserId 设为 liqiang" in capsys.readouterr().out
    assert kam(["manager", "wecom", "M002", "liqiang"]) == 0  # taken over by 王芳
    with session_scope(demo_db) as s:
        assert manager_by_sender(s, "wecom:liqiang").code == "M002"
        assert manager_by_code(s, "M001").wecom_user_id is None
    assert kam(["manager", "wecom", "M002", "--clear"]) == 0
    assert "已解除" in capsys.readouterr().out
    with session_scope(demo_db) as s:
        assert manager_by_sender(s, "wecom:liqiang") is None
    assert kam(["manager", "wecom", "M999", "x"]) == 2
    assert kam(["manager", "wecom", "M001"]) == 2  # neither a UserId nor --clear


def test_wecom_manager_gets_their_own_customers(executor, sqlite_demo, make_chat):
    with session_scope(sqlite_demo) as s:
        manager_by_code(s, "M001").wecom_user_id = "liqiang"
    said = make_chat("wecom:liqiang").say("action_customer_status", "华钢最近怎么样")
    assert said.text.startswith("华中钢铁集团有限公司 · 钻石客户")
    stranger = make_chat("wecom:nobody").say("action_customer_status", "华钢最近怎么样")
    assert "还没有开通" in stranger.text and "钻石" not in stranger.text
