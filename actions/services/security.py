"""Optional HMAC signature of Telegram-relayed messages (BOT_SHARED_SECRET).

When BOT_SHARED_SECRET is set, every user message must carry metadata
{"kam_sig": hex(HMAC-SHA256(secret, f"{sender}:{message_id}")), "message_id": ...}; the bot adds it.
Without the secret (local `make run`, tests), requests are accepted as they are.
"""

from __future__ import annotations

import hashlib
import hmac
import os

from actions.core.reply import Request

REFUSAL = "请求未通过校验，已拒绝。请通过官方 Telegram 机器人使用本助手。"


def sign(secret: str, sender: str, message_id: str) -> str:
    return hmac.new(secret.encode(), f"{sender}:{message_id}".encode(), hashlib.sha256).hexdigest()


def check_request(req: Request) -> str | None:
    """None when acceptable; otherwise the reason (for the audit log, never shown to the user)."""
    secret = os.environ.get("BOT_SHARED_SECRET")
    if not secret:
        return None
    # User messages carry it in metadata; the digest (trigger_intent) carries it in entities.
    given = req.metadata.get("kam_sig") or req.entity("kam_sig")
    message_id = req.metadata.get("message_id") or req.entity("message_id")
    if not given or message_id is None:
        return "unsigned"
    if not hmac.compare_digest(str(given), sign(secret, req.sender, str(message_id))):
        return "bad signature"
    return None
