"""The real python-telegram-bot Application against a local fake Bot API, with Rasa and the
action server running: bind, status, button tap, unbound user, edited message, photo, group,
long reply split, Rasa stopped then restarted, digest, rate limit."""

from __future__ import annotations

from dataclasses import replace

import pytest
from fake_telegram import FakeTelegram
from local_server import InThread

from bot import render
from bot.config import Settings, from_env
from bot.digest import next_digest_at
from bot.relay import DOWN_REPLY, MEDIA_REPLY, RATE_REPLY
from bot.telegram_app import (
    EDITED_REPLY,
    GROUP_REPLY,
    SAFE_LIMIT,
    TELEGRAM_LIMIT,
    as_html,
    build_application,
    run_digest,
    runtime,
)

pytestmark = pytest.mark.e2e  # most tests here use the running stack


class RunningBot(InThread):
    def __init__(self, settings: Settings, webhook_port: int | None = None):
        super().__init__()
        self.app = build_application(settings)
        self.webhook_port = webhook_port

    async def serve(self):
        async with self.app:
            await self.app.post_init(self.app)
            await self.app.start()
            if self.webhook_port:
                s = runtime(self.app).settings
                await self.app.updater.start_webhook(
                    listen="127.0.0.1", port=self.webhook_port, url_path=s.webhook_path,
                    secret_token=s.webhook_secret_token,
                    webhook_url=f"http://127.0.0.1:{self.webhook_port}/{s.webhook_path}",
                )
            else:
                await self.app.updater.start_polling(poll_interval=0.0, timeout=1)
            self.ready.set()
            await self.stopping.wait()
            await self.app.updater.stop()
            await self.app.stop()
            await self.app.post_shutdown(self.app)


@pytest.fixture(scope="module")
def tg(stack, tmp_path_factory):
    servers, url = stack
    fake = FakeTelegram().start()
    settings = Settings(
        token=fake.token, api_base_url=fake.base_url, rasa_url=servers.rasa_url, rasa_token=servers.auth_token,
        rasa_timeout=20,
        slow_notice_after=8, rate_limit_per_minute=20, digest_time=None,
        state_db=str(tmp_path_factory.mktemp("bot") / "bot.db"),
    )
    bot = RunningBot(settings).start()
    yield fake, bot, servers, url
    bot.stop()
    fake.stop()


def texts(messages):
    return [m.get("text", "") for m in messages]


def test_commands_menu_set_in_chinese(tg):
    fake, *_ = tg
    commands = fake.called("setMyCommands")[0]["commands"]
    assert [c["command"] for c in commands] == ["start", "help", "bind"]
    assert commands[2]["description"].startswith("绑定账号")


def test_unbound_user_gets_only_how_to_bind(tg):
    fake, *_ = tg
    fake.send_text(70001, "/start")
    got = fake.wait_for_messages(70001, 2, contains="/bind")
    assert "大客户经理助手" in got[0]["text"] and "还没有开通" in got[1]["text"]
    fake.send_text(70001, "华中钢铁最近怎么样")
    got = fake.wait_for_messages(70001, 3)
    assert "还没有开通" in got[2]["text"] and "钻石" not in got[2]["text"]


def test_bind_then_status_with_buttons_and_tap(tg, monkeypatch, capsys):
    fake, bot, servers, url = tg
    from actions.cli import main as kam

    monkeypatch.setenv("DATABASE_URL", url)
    assert kam(["manager", "bind-code", "M003"]) == 0  # 陈静: no other test speaks as her
    code = capsys.readouterr().out.split("绑定码：")[1][:8]
    fake.send_text(70002, f"/bind {code}")
    got = fake.wait_for_messages(70002, 1, contains="绑定成功")
    assert "陈静" in got[0]["text"]
    fake.send_text(70002, f"/bind {code}")  # single use
    fake.wait_for_messages(70002, 2, contains="已用过")
    fake.send_text(70002, "光谷电子最近怎么样")
    got = fake.wait_for_messages(70002, 3, contains="光谷电子科技股份有限公司")
    status = got[2]
    assert status["text"].startswith("<b>光谷电子科技股份有限公司 · 钻石客户")
    assert status["parse_mode"] == "HTML"
    rows = status["reply_markup"]["inline_keyboard"]
    assert all(len(r) <= 3 for r in rows) and sum(len(r) for r in rows) == 5
    assert fake.called("sendChatAction")
    brief_button = rows[0][0]
    assert brief_button["text"] == "拜访简报"
    message = {"message_id": 1, "date": 0, "chat": {"id": 70002, "type": "private"}, "text": "x"}
    fake.tap(70002, message, brief_button["callback_data"])
    got = fake.wait_for_messages(70002, 4, contains="拜访简报")
    assert "【CRM 事实】" in got[3]["text"]
    assert fake.called("answerCallbackQuery") and fake.called("editMessageReplyMarkup")


def test_values_are_escaped(tg, monkeypatch):
    assert as_html("A<b>&\n<script>") == "<b>A&lt;b&gt;&amp;</b>\n&lt;script&gt;"


def test_edited_message_photo_and_group_are_answered_not_relayed(tg):
    fake, *_ = tg
    fake.send_text(70003, "华钢怎么样", edited=True)
    assert texts(fake.wait_for_messages(70003, 1)) == [EDITED_REPLY]
    fake.send_photo(70003)
    assert texts(fake.wait_for_messages(70003, 2))[1] == MEDIA_REPLY
    fake.send_text(70004, "华钢怎么样", chat_type="group")
    assert texts(fake.wait_for_messages(-100_000 - 70004, 1)) == [GROUP_REPLY]


def test_long_reply_is_split_at_line_boundaries():
    lines = [f"第{i}行：" + "很长的拜访内容" * 20 for i in range(60)]
    parts = render.split_text("\n".join(lines), SAFE_LIMIT)
    assert len(parts) > 1 and all(len(p) <= SAFE_LIMIT for p in parts)
    assert "\n".join(parts) == "\n".join(lines)  # nothing lost, cut only between lines
    assert all(p.split("\n")[0].startswith("第") for p in parts)


def test_long_note_reply_through_bot_is_split(tg):
    fake, bot, servers, url = tg
    fake.send_text(70010, "/start")
    fake.wait_for_messages(70010, 2)
    long = "\n".join("Telegram 分段测试" + "字" * 300 for _ in range(20))
    bot.call(_send_direct(bot.app, 70010, long))
    got = fake.sent_to(70010)[2:]
    assert len(got) >= 2 and all(len(m["text"]) <= TELEGRAM_LIMIT for m in got)


async def _send_direct(app, chat_id, text):
    await runtime(app).channel.deliver(str(chat_id), [{"text": text}])


def test_rate_limit_is_friendly(tg):
    fake, bot, *_ = tg
    rt = runtime(bot.app)
    rt.settings = replace(rt.settings, rate_limit_per_minute=2)
    try:
        for _ in range(3):
            fake.send_text(70005, "/help")
        got = fake.wait_for_messages(70005, 3)  # updates run concurrently: any order
        assert RATE_REPLY in texts(got)
    finally:
        rt.settings = replace(rt.settings, rate_limit_per_minute=20)


def test_rasa_stopped_then_restarted_nothing_lost(tg):
    fake, bot, servers, url = tg
    fake.send_text(10001, "你好")  # the demo manager, bound in the demo data
    fake.wait_for_messages(10001, 1, contains="李强你好")
    servers.stop_rasa()
    try:
        fake.send_text(10001, "华钢最近怎么样")
        got = fake.wait_for_messages(10001, 2, timeout=30, contains=DOWN_REPLY)
        retry = got[-1]["reply_markup"]["inline_keyboard"][0][0]
        assert retry["text"] == "重发"
    finally:
        servers.start_rasa()
    message = {"message_id": 2, "date": 0, "chat": {"id": 10001, "type": "private"}, "text": DOWN_REPLY}
    fake.tap(10001, message, retry["callback_data"])
    got = fake.wait_for_messages(10001, 3, contains="华中钢铁集团有限公司")
    assert got[-1]["text"].startswith("<b>华中钢铁集团有限公司")


def test_digest_sent_to_known_bound_users_only(tg):
    fake, bot, *_ = tg
    before_bound = len(fake.sent_to(10001))
    before_unbound = len(fake.sent_to(70001))
    sent = bot.call(run_digest(bot.app))
    assert sent >= 1
    got = fake.sent_to(10001)[before_bound:]
    assert got and "李强早上好" in got[0]["text"] and "预警" in got[0]["text"]
    assert len(fake.sent_to(70001)) == before_unbound  # unbound: nothing pushed


def test_digest_schedule_skips_weekends():
    from datetime import datetime, time
    from zoneinfo import ZoneInfo

    s = Settings(token="x", digest_time=time(8, 30))
    friday_evening = datetime(2026, 11, 20, 18, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
    assert next_digest_at(friday_evening, s).date().isoformat() == "2026-11-23"  # Monday


def test_settings_from_env_require_token():
    with pytest.raises(SystemExit):
        from_env({})
    s = from_env({"TELEGRAM_BOT_TOKEN": "1:a", "RASA_URL": "http://r:1/", "DIGEST_TIME": "off"})
    assert s.rasa_url == "http://r:1" and s.digest_time is None and s.base_url == "https://api.telegram.org/bot"


def test_webhook_mode_accepts_only_the_secret(tg, tmp_path):
    import httpx

    from actions.ops import free_port

    fake, _, servers, _ = tg
    port = free_port()
    settings = Settings(
        token=fake.token, api_base_url=fake.base_url, rasa_url=servers.rasa_url, digest_time=None,
        webhook_url=f"http://127.0.0.1:{port}", webhook_path="tg", webhook_secret_token="s3cret",
        state_db=str(tmp_path / "bot.db"),
    )
    hook = RunningBot(settings, webhook_port=port).start()
    try:
        assert fake.called("setWebhook")[-1]["url"] == f"http://127.0.0.1:{port}/tg"
        update = {"update_id": 900001, "message": {
            "message_id": 5, "date": 0, "chat": {"id": 70020, "type": "private"},
            "from": fake.user(70020), "text": "/help",
            "entities": [{"type": "bot_command", "offset": 0, "length": 5}]}}
        forged = httpx.post(f"http://127.0.0.1:{port}/tg", json=update, headers={"X-Telegram-Bot-Api-Secret-Token": "no"})
        assert forged.status_code == 403
        ok = httpx.post(f"http://127.0.0.1:{port}/tg", json=update, headers={"X-Telegram-Bot-Api-Secret-Token": "s3cret"})
        assert ok.status_code == 200
        got = fake.wait_for_messages(70020, 1)
        assert "还没有开通" in got[0]["text"]  # relayed to Rasa: an unbound user learns how to bind
        assert len(fake.sent_to(70020)) == 1  # the forged update was never handled
    finally:
        hook.stop()


def test_slow_rasa_gets_a_still_working_notice_then_the_answer(tmp_path, slow_rasa):
    from bot.relay import SLOW_REPLY

    fake = FakeTelegram().start()
    settings = Settings(
        token=fake.token, api_base_url=fake.base_url, rasa_url=slow_rasa,
        slow_notice_after=1, rasa_timeout=10, digest_time=None, state_db=str(tmp_path / "bot.db"),
    )
    bot = RunningBot(settings).start()
    try:
        fake.send_text(70030, "华钢怎么样")
        got = fake.wait_for_messages(70030, 2, timeout=20)
        assert got[0]["text"] == SLOW_REPLY
        assert got[1]["text"].startswith("<b>华中钢铁集团有限公司")
    finally:
        bot.stop()
        fake.stop()
