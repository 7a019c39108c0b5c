"""The WeCom (企业微信) front end end to end: real encrypted callbacks (wechatpy's enterprise crypto)
into the front end, replies through a local fake of WeCom's API, Rasa and the actions running:
verification, status, card tap, note saved, unbound member, retried delivery, expired token,
Rasa down then 重发 (across a restart), digest, numbered options, non-text, long text, slow Rasa."""

from __future__ import annotations

import time
from dataclasses import replace

import pytest
from aiohttp import web
from fake_wecom import (
    AES_KEY,
    AGENT_ID,
    CORP_ID,
    SECRET,
    TOKEN,
    FakeWeComApi,
    Member,
    shown,
    verification_request,
)
from local_server import InThread
from sqlalchemy import func, select

from actions.db.models import Visit
from actions.db.session import session_scope
from actions.ops import free_port
from bot import render
from bot.config import WeComSettings, wecom_from_env
from bot.relay import DOWN_REPLY, MEDIA_REPLY, RATE_REPLY, SLOW_REPLY
from bot.wecom_app import TEXT_LIMIT, WeComFrontEnd

pytestmark = pytest.mark.e2e


class RunningWeCom(InThread):
    """The front end's aiohttp app on a free port."""

    def __init__(self, settings: WeComSettings):
        super().__init__()
        self.port = free_port()
        self.settings = replace(settings, listen="127.0.0.1", port=self.port)
        self.front = WeComFrontEnd(self.settings)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}{self.settings.path}"

    async def serve(self):
        runner = web.AppRunner(self.front.web_app())
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", self.port).start()
        self.ready.set()
        await self.stopping.wait()
        await runner.cleanup()

    def settle(self):
        """Wait until the background work started by the callbacks so far is done."""
        self.call(self.front.drain())


def settings_for(api: FakeWeComApi, rasa_url: str, state_db: str, rasa_token: str = "", **overrides) -> WeComSettings:
    values = dict(
        corp_id=CORP_ID, agent_id=AGENT_ID, secret=SECRET, token=TOKEN, aes_key=AES_KEY,
        api_base_url=api.base_url, rasa_url=rasa_url, rasa_timeout=20, slow_notice_after=8,
        digest_time=None, state_db=state_db, rasa_token=rasa_token,
    )
    return WeComSettings(**{**values, **overrides})


@pytest.fixture(scope="module")
def wecom(stack, tmp_path_factory):
    servers, url = stack
    api = FakeWeComApi().start()
    front = RunningWeCom(settings_for(api, servers.rasa_url, str(tmp_path_factory.mktemp("wecom") / "bot.db"),
                                      rasa_token=servers.auth_token)).start()
    yield api, front, url
    front.stop()
    api.stop()


@pytest.fixture(scope="module")
def wangfang(wecom):
    """王芳 (M002), bound from WeCom with a code as a manager would."""
    from actions.db.access import create_bind_code

    api, front, url = wecom
    with session_scope(url) as s:
        code, _ = create_bind_code(s, "M002")
    member = Member(front.url, "wangfang")
    member.say(f"/bind {code}")
    got = api.wait_for("wangfang", 1, contains="绑定成功")
    assert "王芳" in shown(got[-1])
    return member


def texts(messages):
    return [shown(m) for m in messages]


def test_callback_url_verification(wecom):
    api, front, _ = wecom
    ok = verification_request(front.url, "echo-20251123")
    assert ok.status_code == 200 and ok.text == "echo-20251123"
    assert verification_request(front.url, "echo", token="not-the-token").status_code == 403


def test_forged_callback_refused(wecom):
    api, front, _ = wecom
    import httpx

    r = httpx.post(front.url, params={"msg_signature": "0" * 40, "timestamp": str(int(time.time())), "nonce": "1"},
                   content=b"<xml><Encrypt>AAAA</Encrypt></xml>")
    assert r.status_code == 403


def test_unbound_member_gets_only_how_to_get_access(wecom):
    api, front, _ = wecom
    stranger = Member(front.url, "stranger")
    started = time.monotonic()
    response, _ = stranger.say("华中钢铁最近怎么样")
    assert response.status_code == 200 and response.text == ""
    assert time.monotonic() - started < 2  # answered at once; the reply follows through the API
    got = api.wait_for("stranger", 1)
    assert "还没有开通" in shown(got[0]) and "/bind" in shown(got[0]) and "钻石" not in shown(got[0])


def test_status_look_up_with_a_card_and_a_tap(wecom, wangfang):
    api, front, _ = wecom
    before = len(api.sent_to("wangfang"))
    wangfang.say("华中重工最近怎么样")
    got = api.wait_for("wangfang", before + 2)[before:]
    assert got[0]["msgtype"] == "text" and got[0]["text"]["content"].startswith("华中重工机械有限公司 · ")
    card = got[1]
    assert card["msgtype"] == "template_card" and card["agentid"] == AGENT_ID
    assert card["template_card"]["card_type"] == "button_interaction"
    assert card["template_card"]["main_title"]["title"].startswith("华中重工机械有限公司")
    titles = [b["text"] for b in card["template_card"]["button_list"]]
    assert titles[:2] == ["拜访简报", "FABE话术"] and len(titles) <= 6
    tapped = wangfang.tap(card, "拜访简报")
    update = wangfang.decrypt_reply(tapped)  # the card shows the choice and takes no second tap
    assert update["MsgType"] == "update_button" and update["Button"]["ReplaceName"] == "已选择：拜访简报"
    got = api.wait_for("wangfang", before + 3, contains="【CRM 事实】")
    assert "华中重工机械有限公司" in shown(got[before + 2])


def test_note_saved_by_tapping_save(wecom, wangfang):
    api, front, url = wecom
    note = "刚见完华中重工的王总 他们嫌专线贵 下周三再约"
    before = len(api.sent_to("wangfang"))
    wangfang.say(note)
    got = api.wait_for("wangfang", before + 2, contains="保存")[before:]
    assert shown(got[0]).startswith("请确认这条拜访记录") and "华中重工机械有限公司" in shown(got[0])
    assert [b["text"] for b in got[1]["template_card"]["button_list"]] == ["保存", "修改", "取消"]
    wangfang.tap(got[1], "保存")
    got = api.wait_for("wangfang", before + 3, contains="已保存")
    with session_scope(url) as s:
        assert s.execute(select(func.count()).select_from(Visit).where(Visit.summary == note)).scalar() == 1


def test_retried_delivery_is_handled_once(wecom, wangfang):
    api, front, _ = wecom
    before = len(api.sent_to("wangfang"))
    first, msg_id = wangfang.say("你好")
    retry, _ = wangfang.say("你好", msg_id=msg_id)  # WeCom retries when it got no answer in time
    assert first.status_code == retry.status_code == 200
    api.wait_for("wangfang", before + 1, contains="王芳你好")
    front.settle()
    replies = [m for m in api.sent_to("wangfang")[before:] if m["msgtype"] == "text"]
    assert sum("王芳你好" in shown(m) for m in replies) == 1


def test_expired_token_fetched_again_once(wecom, wangfang):
    api, front, _ = wecom
    fetches, refused, before = api.token_fetches, len(api.refused), len(api.sent_to("wangfang"))
    api.expire_token()
    wangfang.say("你好")
    api.wait_for("wangfang", before + 1, contains="王芳你好")
    assert api.token_fetches == fetches + 1 and len(api.refused) == refused + 1


def test_non_text_answered_politely(wecom, wangfang):
    api, front, _ = wecom
    before = len(api.sent_to("wangfang"))
    wangfang.send_image()
    assert texts(api.wait_for("wangfang", before + 1))[before:] == [MEDIA_REPLY]


def test_numbered_options_when_cards_are_refused(wecom, wangfang):
    api, front, _ = wecom
    api.refuse_cards = True
    try:
        before = len(api.sent_to("wangfang"))
        wangfang.say("华中重工最近怎么样")
        got = api.wait_for("wangfang", before + 1, contains="回复数字选择")[before:]
        assert all(m["msgtype"] == "text" for m in got)
        assert "回复数字选择：\n1. 拜访简报\n2. FABE话术" in shown(got[-1])
        wangfang.say("1")
        api.wait_for("wangfang", before + len(got) + 1, contains="【CRM 事实】")
    finally:
        api.refuse_cards = False


def test_long_reply_split_under_the_byte_limit(wecom):
    api, front, _ = wecom
    long = "\n".join(f"第{i}行 " + "拜访内容很长" * 40 for i in range(30))
    front.call(front.front.channel.deliver("longreader", [{"text": long}]))
    got = [m["text"]["content"] for m in api.sent_to("longreader")]
    assert len(got) > 1 and all(len(p.encode("utf-8")) <= TEXT_LIMIT for p in got)
    assert "\n".join(got) == long


def test_rate_limit_is_friendly(wecom):
    api, front, _ = wecom
    relay = front.front.relay
    relay.settings = replace(relay.settings, rate_limit_per_minute=2)
    try:
        member = Member(front.url, "hasty")
        for _ in range(3):
            member.say("/help")
        got = api.wait_for("hasty", 3)
        assert RATE_REPLY in texts(got)
    finally:
        relay.settings = replace(relay.settings, rate_limit_per_minute=20)


def test_digest_pushed_to_bound_members_only(wecom, wangfang):
    api, front, _ = wecom
    before, stranger_before = len(api.sent_to("wangfang")), len(api.sent_to("stranger"))
    assert front.call(front.front.relay.digest()) >= 1
    got = api.sent_to("wangfang")[before:]
    assert got and "王芳早上好" in shown(got[0])
    assert len(api.sent_to("stranger")) == stranger_before  # known but unbound: nothing pushed


def test_rasa_down_then_resend_after_a_restart(wecom, wangfang, tmp_path):
    """Rasa unreachable: the member is told at once and gets a 重发 card; the front end restarts
    (same state file), Rasa is back, and the tap on 重发 answers the kept message."""
    api, running, _ = wecom
    state_db = str(tmp_path / "bot.db")
    dead = RunningWeCom(settings_for(api, f"http://127.0.0.1:{free_port()}", state_db)).start()
    member = Member(dead.url, "wangfang")
    before = len(api.sent_to("wangfang"))
    try:
        member.say("华中重工最近怎么样")
        got = api.wait_for("wangfang", before + 2, contains="重发")[before:]
        assert shown(got[0]) == DOWN_REPLY
        assert [b["text"] for b in got[1]["template_card"]["button_list"]] == ["重发"]
    finally:
        dead.stop()
    back = RunningWeCom(settings_for(api, running.settings.rasa_url, state_db)).start()
    try:
        Member(back.url, "wangfang").tap(got[1], "重发")
        got = api.wait_for("wangfang", before + 3, contains="华中重工机械有限公司")
        assert shown(got[before + 2]).startswith("华中重工机械有限公司 · ")
    finally:
        back.stop()


def test_slow_rasa_the_callback_is_answered_at_once_then_a_notice_then_the_answer(wecom, tmp_path, slow_rasa):
    api, _, _ = wecom
    slow = RunningWeCom(settings_for(api, slow_rasa, str(tmp_path / "bot.db"),
                                     slow_notice_after=1, rasa_timeout=10)).start()
    try:
        started = time.monotonic()
        response, _ = Member(slow.url, "patient").say("华中重工怎么样")
        assert response.status_code == 200 and time.monotonic() - started < 1
        got = api.wait_for("patient", 2, timeout=20)
        assert texts(got) == [SLOW_REPLY, "华中钢铁集团有限公司 · 钻石客户"]
    finally:
        slow.stop()


def test_settings_from_env():
    with pytest.raises(SystemExit, match="WECOM_SECRET"):
        wecom_from_env({"WECOM_CORP_ID": "ww1", "WECOM_AGENT_ID": "1", "WECOM_TOKEN": "t", "WECOM_AES_KEY": AES_KEY})
    with pytest.raises(SystemExit, match="43"):
        wecom_from_env({"WECOM_CORP_ID": "ww1", "WECOM_AGENT_ID": "1", "WECOM_SECRET": "s", "WECOM_TOKEN": "t",
                        "WECOM_AES_KEY": "short"})
    s = wecom_from_env({"WECOM_CORP_ID": "ww1", "WECOM_AGENT_ID": "1000002", "WECOM_SECRET": "s",
                        "WECOM_TOKEN": "t", "WECOM_AES_KEY": AES_KEY, "RASA_AUTH_TOKEN": "rt"})
    assert (s.api_base_url, s.listen, s.port, s.path) == ("https://qyapi.weixin.qq.com", "127.0.0.1", 8444, "/wecom")
    assert s.agent_id == 1000002 and s.rasa_token == "rt" and s.state_db == "var/bot.db"


def test_numbered_text_and_split_helpers():
    assert render.numbered([{"title": "保存"}, {"title": "取消"}]) == "回复数字选择：\n1. 保存\n2. 取消"
    parts = render.split_text("甲" * 1000, 2000, render.utf8_len)
    assert [len(p) for p in parts] == [666, 334]
