"""Talking to Rasa: the REST channel for messages, the HTTP API for the morning digest.

Every request is signed over what it carries (the contract is in actions/services/security.py,
which verifies it; a test keeps both sides in step)."""

from __future__ import annotations

import hashlib
import hmac
import logging
import time
import unicodedata
import uuid
from urllib.parse import quote

import httpx

log = logging.getLogger(__name__)


class RasaUnavailable(Exception):
    """Rasa did not answer (down, restarting, or slower than the timeout)."""


def clean_text(text: str) -> str:
    """What is signed and sent: no control characters but newline and tab, no outer blanks
    (Rasa strips them too, so the actions see exactly the signed text)."""
    return "".join(ch for ch in text if ch in "\n\t" or unicodedata.category(ch) != "Cc").strip()


def sign(secret: str, sender: str, message_id: str, ts: str, text: str) -> str:
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
    signed = "\n".join([sender, message_id, ts, digest])
    return hmac.new(secret.encode(), signed.encode("utf-8"), hashlib.sha256).hexdigest()


def signed_fields(secret: str, sender: str, text: str, message_id: str, ts: float | None = None) -> dict:
    """message_id, kam_ts and (with a secret) kam_sig for `text`, which must already be clean."""
    fields = {"message_id": message_id, "kam_ts": str(int(time.time() if ts is None else ts))}
    if secret:
        fields["kam_sig"] = sign(secret, sender, message_id, fields["kam_ts"], text)
    return fields


def new_message_id(prefix: str) -> str:
    """For messages the chat service gives no id of its own (resends, taps, the digest)."""
    return f"{prefix}:{uuid.uuid4().hex[:16]}"


class RasaClient:
    def __init__(self, base_url: str, shared_secret: str = "", timeout: float = 30.0, auth_token: str = ""):
        self.base_url = base_url.rstrip("/")
        self.secret = shared_secret
        self.auth_token = auth_token
        self.http = httpx.AsyncClient(timeout=httpx.Timeout(timeout, connect=3.0))

    async def send(self, sender: str, text: str, message_id: str, **extra) -> list[dict]:
        text = clean_text(text)
        metadata = {**extra, **signed_fields(self.secret, sender, text, message_id)}
        body = {"sender": sender, "message": text, "metadata": metadata}
        try:
            r = await self.http.post(f"{self.base_url}/webhooks/rest/webhook", json=body)
        except httpx.HTTPError as e:
            raise RasaUnavailable(type(e).__name__) from e
        if r.status_code >= 500 or r.status_code == 404:
            raise RasaUnavailable(f"HTTP {r.status_code}")
        r.raise_for_status()
        return r.json()

    async def trigger(self, sender: str, intent: str, message_id: str) -> list[dict]:
        """`/conversations/{id}/trigger_intent`: the answer comes back in the response. The
        signature travels as entities, over the intent name."""
        params = {"token": self.auth_token} if self.auth_token else {}
        entities = signed_fields(self.secret, sender, intent, message_id)
        try:
            r = await self.http.post(
                f"{self.base_url}/conversations/{quote(sender, safe=':@')}/trigger_intent",
                params=params, json={"name": intent, "entities": entities},
            )
        except httpx.HTTPError as e:
            raise RasaUnavailable(type(e).__name__) from e
        if r.status_code >= 400:
            raise RasaUnavailable(f"HTTP {r.status_code}")
        return r.json().get("messages") or []

    async def close(self) -> None:
        await self.http.aclose()
