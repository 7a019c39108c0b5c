"""Signed requests from the front ends (BOT_SHARED_SECRET): nobody who reaches Rasa can speak as a
manager, and an observed request cannot be sent again or with another text.

A front end signs what it sends, in metadata (user messages) or entities (the digest's
trigger_intent, where the text is the intent name):

    message_id  unique per (sender, message); a 重发 gets a new one
    kam_ts      unix seconds, an integer as a string
    kam_sig     hex HMAC-SHA256(secret, "\\n".join([sender, message_id, kam_ts, sha256_hex(text)]))

`text` is the message text without control characters other than "\\n" and "\\t" and without
leading or trailing blanks (`clean_text`; Rasa strips the text it hands to the actions).
When the REST channel shortens the text for the NLU it passes the whole cleaned text as
metadata `kam_full_text`, and the signature is checked over that.

Refused: unsigned, wrongly signed, older than 5 minutes, more than 1 minute in the future, and any
(sender, message_id) already accepted (table used_messages; its unique constraint catches
concurrent duplicates). Without the secret (local `make run`, most tests) everything is accepted.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import time
import unicodedata
from datetime import datetime, timedelta

from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from actions.core.reply import Request
from actions.db.models import UsedMessage

REFUSAL = "请求未通过校验，已拒绝。请通过官方 Telegram 机器人或企业微信应用使用本助手。"
MAX_AGE = 300  # seconds a signature stays valid
MAX_AHEAD = 60  # tolerated clock difference the other way
KEEP_USED = timedelta(days=1)  # used message ids older than this are pruned (their signatures are stale anyway)
PRUNE_EVERY = 3600.0  # seconds between prunes, per process

_last_prune = 0.0


def clean_text(text: str) -> str:
    """Drop control characters (Unicode Cc) except newline and tab, and outer blanks."""
    return "".join(ch for ch in text if ch in "\n\t" or unicodedata.category(ch) != "Cc").strip()


def sign(secret: str, sender: str, message_id: str, ts: str, text: str) -> str:
    digest = hashlib.sha256(clean_text(text).encode("utf-8")).hexdigest()
    signed = "\n".join([sender, message_id, ts, digest])
    return hmac.new(secret.encode(), signed.encode("utf-8"), hashlib.sha256).hexdigest()


def _signed_fields(req: Request) -> tuple[str | None, str | None, str | None, str]:
    """(signature, message id, timestamp, signed text) from metadata, else from entities (digest)."""
    meta = req.metadata
    if meta.get("kam_sig"):
        text = meta["kam_full_text"] if isinstance(meta.get("kam_full_text"), str) else req.text
        return meta.get("kam_sig"), meta.get("message_id"), meta.get("kam_ts"), text
    return req.entity("kam_sig"), req.entity("message_id"), req.entity("kam_ts"), req.intent


def check_request(session: Session, req: Request, now: float | None = None) -> str | None:
    """None when acceptable; otherwise the reason (for the audit log, never shown to the user).

    An accepted message id is recorded in `session` (inside a savepoint, so a duplicate leaves the
    session usable for the audit entry); it is committed with the rest of the turn."""
    secret = os.environ.get("BOT_SHARED_SECRET")
    if not secret:
        return None
    given, message_id, ts, text = _signed_fields(req)
    if not given or message_id in (None, "") or ts in (None, ""):
        return "unsigned"
    message_id, ts = str(message_id), str(ts)
    if len(message_id) > 128 or len(req.sender) > 96:
        return "message id or sender too long"
    if not ts.isdigit():
        return "bad timestamp"
    if not hmac.compare_digest(str(given), sign(secret, req.sender, message_id, ts, text)):
        return "bad signature"
    now = time.time() if now is None else now
    if now - int(ts) > MAX_AGE:
        return "stale signature"
    if int(ts) - now > MAX_AHEAD:
        return "signature from the future"
    try:
        with session.begin_nested():
            session.add(UsedMessage(sender=req.sender, message_id=message_id, at=datetime.utcfromtimestamp(now)))
    except IntegrityError:
        return "replayed message id"
    _prune_now_and_then(session, now)
    return None


def prune_used_messages(session: Session, now: float | None = None) -> int:
    cutoff = datetime.utcfromtimestamp(time.time() if now is None else now) - KEEP_USED
    return session.execute(delete(UsedMessage).where(UsedMessage.at < cutoff)).rowcount or 0


def _prune_now_and_then(session: Session, now: float) -> None:
    global _last_prune
    if now - _last_prune >= PRUNE_EVERY:
        _last_prune = now
        prune_used_messages(session, now)
