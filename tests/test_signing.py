"""The signature contract between the front ends (bot/rasa.py) and the actions
(actions/services/security.py), on SQLite and PostgreSQL: stale, future, replayed, tampered text,
wrong sender, good; the digest's entities; a resend is never a replay."""

from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import func, select

from actions.core.reply import Request
from actions.db.models import UsedMessage
from actions.db.session import session_scope
from actions.services import security
from bot.rasa import clean_text, signed_fields

SECRET = "s3cret"
NOW = 1_800_000_000.0


@pytest.fixture
def secret(monkeypatch):
    monkeypatch.setenv("BOT_SHARED_SECRET", SECRET)


def user_message(sender: str, text: str, message_id: str, ts: float = NOW, **overrides) -> Request:
    meta = signed_fields(SECRET, sender, text, message_id, ts=ts)
    meta.update(overrides)
    return Request(sender=sender, text=text, metadata=meta)


def check(url: str, req: Request, now: float = NOW) -> str | None:
    with session_scope(url) as s:
        return security.check_request(s, req, now=now)


def used(url: str) -> int:
    with session_scope(url) as s:
        return s.execute(select(func.count()).select_from(UsedMessage)).scalar_one()


def test_good_message_accepted_once_then_refused_as_replay(empty_db, secret):
    req = user_message("10001", "华钢最近怎么样", "41")
    assert check(empty_db, req) is None
    assert check(empty_db, req) == "replayed message id"
    assert used(empty_db) == 1
    # the same message id from another sender is another message
    assert check(empty_db, user_message("wecom:lisi", "华钢最近怎么样", "41")) is None


def test_stale_and_future_signatures_refused(empty_db, secret):
    assert check(empty_db, user_message("10001", "你好", "1", ts=NOW - 301)) == "stale signature"
    assert check(empty_db, user_message("10001", "你好", "2", ts=NOW - 299)) is None
    assert check(empty_db, user_message("10001", "你好", "3", ts=NOW + 61)) == "signature from the future"
    assert check(empty_db, user_message("10001", "你好", "4", ts=NOW + 59)) is None


def test_tampered_text_wrong_sender_and_unsigned_refused(empty_db, secret):
    good = user_message("10001", "华钢最近怎么样", "7")
    tampered = Request(sender="10001", text="保存", metadata=good.metadata)
    assert check(empty_db, tampered) == "bad signature"
    other_sender = Request(sender="10002", text=good.text, metadata=good.metadata)
    assert check(empty_db, other_sender) == "bad signature"
    assert check(empty_db, Request(sender="10001", text="你好")) == "unsigned"
    no_ts = dict(good.metadata)
    no_ts.pop("kam_ts")
    assert check(empty_db, Request(sender="10001", text=good.text, metadata=no_ts)) == "unsigned"
    assert used(empty_db) == 0  # nothing refused uses up a message id
    assert check(empty_db, good) is None


def test_full_text_signed_when_the_channel_shortened_it(empty_db, secret):
    full = "刚见完张总\n" + "很长的拜访记录" * 1000
    req = user_message("10001", full, "9")
    short = Request(sender="10001", text=full[:500], metadata={**req.metadata, "kam_full_text": full})
    assert check(empty_db, short) is None
    forged = Request(sender="10001", text=full[:500], metadata={**req.metadata, "message_id": "9", "kam_full_text": "别的"})
    assert check(empty_db, forged) == "bad signature"


def test_control_characters_are_not_part_of_the_signed_text(empty_db, secret):
    raw = " 华钢\x00最近\t怎么样\x1b\n"
    assert clean_text(raw) == security.clean_text(raw) == "华钢最近\t怎么样"
    meta = signed_fields(SECRET, "10001", clean_text(raw), "11", ts=NOW)
    assert check(empty_db, Request(sender="10001", text=raw, metadata=meta)) is None  # as sent
    assert check(empty_db, Request(sender="10001", text=clean_text(raw), metadata={**meta, "message_id": "12"})) == "bad signature"


def test_bot_and_actions_sign_the_same_way():
    from bot.rasa import sign as bot_sign

    assert bot_sign("k", "wecom:lisi", "7", "1800000000", "你好") == security.sign("k", "wecom:lisi", "7", "1800000000", "你好")


def test_digest_signature_travels_as_entities(empty_db, secret):
    fields = signed_fields(SECRET, "wecom:lisi", "daily_digest", "digest-1", ts=NOW)
    entities = {k: [v] for k, v in fields.items()}
    req = Request(sender="wecom:lisi", text="EXTERNAL: daily_digest", intent="daily_digest", entities=entities)
    assert check(empty_db, req) is None
    other_intent = Request(sender="wecom:lisi", text="", intent="customer_status", entities=entities)
    assert check(empty_db, other_intent) == "bad signature"


def test_concurrent_duplicates_accept_exactly_one(empty_db, secret):
    req = user_message("10001", "保存", "77")
    results, barrier = [], threading.Barrier(4)

    def deliver():
        barrier.wait()
        try:
            results.append(check(empty_db, req))
        except Exception as e:  # noqa: BLE001 - a lost race on SQLite's write lock counts as refused
            results.append(type(e).__name__)

    threads = [threading.Thread(target=deliver) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results.count(None) == 1 and used(empty_db) == 1


def test_old_used_ids_are_pruned(empty_db, secret):
    assert check(empty_db, user_message("10001", "你好", "1", ts=NOW - 2 * 86400), now=NOW - 2 * 86400) is None
    assert check(empty_db, user_message("10001", "你好", "2")) is None
    with session_scope(empty_db) as s:
        assert security.prune_used_messages(s, now=NOW) == 1
    assert used(empty_db) == 1


def test_without_secret_everything_is_accepted(empty_db, monkeypatch):
    monkeypatch.delenv("BOT_SHARED_SECRET", raising=False)
    assert check(empty_db, Request(sender="10001", text="你好")) is None


def test_signing_uses_the_clock(monkeypatch):
    fields = signed_fields(SECRET, "10001", "你好", "5")
    assert abs(int(fields["kam_ts"]) - time.time()) <= 2 and fields["message_id"] == "5"
