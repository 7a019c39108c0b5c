"""The front ends' shared core without a chat service: state kept across a restart, a 重发 that the
actions accept (new message id, fresh signature), a wall-clock rate limit, the old pickle imported."""

from __future__ import annotations

import asyncio
import contextlib
import pickle
from collections import deque

from actions.core.reply import Request
from actions.db.session import session_scope
from actions.services import security
from bot.config import RelaySettings
from bot.rasa import RasaUnavailable
from bot.relay import DOWN_REPLY, RETRY, RateLimit, Relay
from bot.state import State


class Screen:
    """A channel that records what the user would see."""

    name = "test"

    def __init__(self):
        self.seen: list[tuple[str, list[str]]] = []

    def sender(self, user):
        return f"test:{user}"

    async def deliver(self, user, messages):
        for m in messages:
            self.seen.append((m["text"], [b["title"] for b in m.get("buttons") or []]))

    async def notify(self, user, text, buttons=None):
        self.seen.append((text, [b["title"] for b in buttons or []]))

    def working(self, user):
        return contextlib.nullcontext()


class Rasa:
    """Records what is sent, with the metadata a real RasaClient would sign; down until told."""

    def __init__(self, secret="", down=False):
        self.secret, self.down, self.sent = secret, down, []

    async def send(self, sender, text, message_id, **extra):
        from bot.rasa import signed_fields

        if self.down:
            raise RasaUnavailable("ConnectError")
        self.sent.append(Request(sender=sender, text=text, metadata=signed_fields(self.secret, sender, text, message_id)))
        return [{"text": f"答：{text}"}]

    async def close(self):
        pass


def test_payloads_pending_and_users_survive_a_restart(tmp_path):
    path = str(tmp_path / "bot.db")
    state = State(path)
    key = state.store_payload('/customer_status{"customer_id": 7}', "客户状态")
    state.keep_pending("wecom", "lisi", "华钢最近怎么样")
    state.add_user("telegram", "10001")
    state.set_options("wecom", "lisi", ["/affirm", "/deny"])
    assert state.first_delivery("wecom", "msg:1")
    state.close()
    state = State(path)  # the bot restarted
    assert state.payload(key) == ('/customer_status{"customer_id": 7}', "客户状态")
    assert state.pending("wecom", "lisi") == "华钢最近怎么样" and state.pending("telegram", "lisi") is None
    assert state.users("telegram") == ["10001"] and state.users("wecom") == []
    assert state.option("wecom", "lisi", "2") == "/deny" and state.option("wecom", "lisi", "3") is None
    assert not state.first_delivery("wecom", "msg:1")  # a retried delivery after the restart
    assert state.payload("b:999999") is None and state.payload("nonsense") is None


def test_resend_after_restart_is_accepted_not_a_replay(tmp_path, sqlite_demo, monkeypatch):
    monkeypatch.setenv("BOT_SHARED_SECRET", "k")
    path = str(tmp_path / "bot.db")
    settings = RelaySettings(state_db=path, slow_notice_after=5, rasa_timeout=10, digest_time=None)

    async def first_run():
        screen, rasa = Screen(), Rasa("k")
        relay = Relay(screen, settings, State(path), rasa)
        await relay.on_text("lisi", "华钢最近怎么样", "m-1")  # delivered: message id m-1 used
        rasa.down = True
        await relay.on_text("lisi", "华钢最近怎么样", "m-1")  # a duplicate while Rasa is down
        return screen, rasa

    screen, rasa = asyncio.run(first_run())
    assert screen.seen[-1] == (DOWN_REPLY, ["重发"])
    with session_scope(sqlite_demo) as s:
        assert security.check_request(s, rasa.sent[0]) is None

    async def after_restart():
        screen, rasa = Screen(), Rasa("k")
        relay = Relay(screen, settings, State(path), rasa)
        await relay.on_payload("lisi", RETRY, "tap-1")
        await relay.on_payload("lisi", RETRY, "tap-2")  # nothing kept any more
        return screen, rasa

    screen, rasa = asyncio.run(after_restart())
    assert screen.seen == [("答：华钢最近怎么样", []), ("没有需要重发的消息。", [])]
    resent = rasa.sent[0]
    assert resent.metadata["message_id"] != "m-1" and resent.metadata["message_id"].startswith("resend:")
    with session_scope(sqlite_demo) as s:
        assert security.check_request(s, resent) is None  # a new message, freshly signed


def test_numbers_answer_the_options_last_offered(tmp_path):
    state = State(str(tmp_path / "bot.db"))
    screen, rasa = Screen(), Rasa()
    relay = Relay(screen, RelaySettings(state_db=":memory:", digest_time=None), state, rasa)
    state.set_options("test", "lisi", ["/visit_brief", "/fabe"])
    asyncio.run(relay.on_text("lisi", " 2 ", "m-2"))
    asyncio.run(relay.on_text("lisi", "3", "m-3"))  # not an option: sent as typed
    asyncio.run(relay.on_text("lisi", "/bind ab12cd34", "m-4"))
    assert [r.text for r in rasa.sent] == ["/fabe", "3", '/bind{"bind_code": "ab12cd34"}']


def test_rate_limit_uses_the_wall_clock():
    rate = RateLimit()
    assert not rate.exceeded("u", 2, now=1000.0) and not rate.exceeded("u", 2, now=1001.0)
    assert rate.exceeded("u", 2, now=1002.0)
    assert not rate.exceeded("u", 2, now=1061.5)  # a minute later
    # the clock went back (a reboot with a wrong clock, NTP): old stamps in the future do not lock out
    rate.stamps["v"] = deque([5000.0, 5001.0])
    assert not rate.exceeded("v", 2, now=100.0)


def test_old_pickle_imported_once(tmp_path):
    legacy = tmp_path / "bot_state.pickle"
    legacy.write_bytes(pickle.dumps({
        "bot_data": {"users": {10001, 10002}, "payloads": {"b:1": "/greet"}, "payload_seq": 1},
        "user_data": {10001: {"stamps": deque([1.0]), "pending": {"text": "华钢怎么样", "message_id": "5"}}},
        "chat_data": {}, "callback_data": None, "conversations": {},
    }))
    state = State(str(tmp_path / "bot.db"))
    assert state.import_legacy_pickle(str(legacy)) == 2
    assert state.users("telegram") == ["10001", "10002"] and state.pending("telegram", "10001") == "华钢怎么样"
    assert not legacy.exists() and (tmp_path / "bot_state.pickle.imported").exists()
    assert state.import_legacy_pickle(str(legacy)) == 0
