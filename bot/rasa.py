"""Talking to Rasa: the REST channel for messages, the HTTP API for the morning digest."""

from __future__ import annotations

import hashlib
import hmac
import logging

import httpx

log = logging.getLogger(__name__)


class RasaUnavailable(Exception):
    """Rasa did not answer (down, restarting, or slower than the timeout)."""


def sign(secret: str, sender: str, message_id: str) -> str:
    """Same HMAC as actions/services/security.py (kept in step by a test)."""
    return hmac.new(secret.encode(), f"{sender}:{message_id}".encode(), hashlib.sha256).hexdigest()


class RasaClient:
    def __init__(self, base_url: str, shared_secret: str = "", timeout: float = 30.0, auth_token: str = ""):
        self.base_url = base_url.rstrip("/")
        self.secret = shared_secret
        self.auth_token = auth_token
        self.http = httpx.AsyncClient(timeout=httpx.Timeout(timeout, connect=3.0))

    def _metadata(self, sender: str, message_id: str, extra: dict) -> dict:
        meta = {"message_id": message_id, **extra}
        if self.secret:
            meta["kam_sig"] = sign(self.secret, sender, message_id)
        return meta

    async def send(self, sender: str, text: str, message_id: str, **extra) -> list[dict]:
        body = {"sender": sender, "message": text, "metadata": self._metadata(sender, message_id, extra)}
        try:
            r = await self.http.post(f"{self.base_url}/webhooks/rest/webhook", json=body)
        except httpx.HTTPError as e:
            raise RasaUnavailable(type(e).__name__) from e
        if r.status_code >= 500 or r.status_code == 404:
            raise RasaUnavailable(f"HTTP {r.status_code}")
        r.raise_for_status()
        return r.json()

    async def trigger(self, sender: str, intent: str, message_id: str) -> list[dict]:
        """`/conversations/{id}/trigger_intent`: the answer comes back in the response."""
        params = {}  # no output channel named: Rasa collects the answer into the response
        if self.auth_token:
            params["token"] = self.auth_token
        entities = self._metadata(sender, message_id, {})
        try:
            r = await self.http.post(
                f"{self.base_url}/conversations/{sender}/trigger_intent",
                params=params, json={"name": intent, "entities": entities},
            )
        except httpx.HTTPError as e:
            raise RasaUnavailable(type(e).__name__) from e
        if r.status_code >= 400:
            raise RasaUnavailable(f"HTTP {r.status_code}")
        return r.json().get("messages") or []

    async def close(self) -> None:
        await self.http.aclose()
