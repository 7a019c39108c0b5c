"""What every chat front end does, whatever the channel: relay a manager's message to Rasa and the
answer back, say 还在处理 when Rasa is slow, keep the message for 重发 when Rasa is down, limit
the rate per user, turn taps and numbered answers into payloads, push the morning digest.

A channel adapter (bot/telegram_app.py, bot/wecom_app.py) receives its service's updates, calls
the `Relay`, and implements `Channel` to show things to the user."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections import defaultdict, deque
from contextlib import AbstractAsyncContextManager
from datetime import date, datetime
from typing import Protocol
from zoneinfo import ZoneInfo

from bot.config import RelaySettings
from bot.rasa import RasaClient, RasaUnavailable, new_message_id
from bot.state import State

log = logging.getLogger("bot")

INTRO = "我是政企大客户经理助手：查客户、拜访准备、话术、套餐、记拜访，直接用中文问我就行。"
MEDIA_REPLY = "目前只支持文字消息。语音请转成文字，图片里的内容请打字发给我。"
RATE_REPLY = "消息太频繁了，请稍等一分钟再发。"
SLOW_REPLY = "还在处理，请稍等……"
DOWN_REPLY = "助手服务暂时连不上，你的消息没有丢，我先记下了。稍后点「重发」再试。"
EXPIRED_REPLY = "这个按钮已过期，请重新问一次。"
NOTHING_TO_RESEND = "没有需要重发的消息。"
NO_ANSWER = "（没有回复，请换个说法试试。）"
RETRY = "__retry__"  # the 重发 button's payload; never sent to Rasa
RETRY_BUTTON = {"title": "重发", "payload": RETRY}


class Channel(Protocol):
    name: str  # "telegram", "wecom": the key of this channel's rows in the state database

    def sender(self, user: str) -> str:
        """The sender id Rasa sees for this user."""

    async def deliver(self, user: str, messages: list[dict]) -> None:
        """Show Rasa's messages (text and buttons)."""

    async def notify(self, user: str, text: str, buttons: list[dict] | None = None) -> None:
        """Show one short notice of the front end's own."""

    def working(self, user: str) -> AbstractAsyncContextManager:
        """Shown while Rasa works (Telegram: "typing…")."""


def bind_payload(code: str) -> str:
    code = code.strip()
    return "/bind" + (json.dumps({"bind_code": code}, ensure_ascii=False) if code else "")


class RateLimit:
    """Messages per user in the last minute, by the wall clock: times from before a reboot or
    after a clock change never lock anyone out."""

    def __init__(self):
        self.stamps: dict[str, deque] = defaultdict(deque)

    def exceeded(self, user: str, per_minute: int, now: float | None = None) -> bool:
        now = time.time() if now is None else now
        stamps = self.stamps[user]
        fresh = deque(t for t in stamps if now - 60 < t <= now)
        self.stamps[user] = fresh
        if len(fresh) >= per_minute:
            return True
        fresh.append(now)
        return False


class Relay:
    def __init__(self, channel: Channel, settings: RelaySettings, state: State, rasa: RasaClient | None = None):
        self.channel, self.settings, self.state = channel, settings, state
        self.rasa = rasa or RasaClient(settings.rasa_url, settings.shared_secret, settings.rasa_timeout,
                                       settings.rasa_token)
        self.rate = RateLimit()
        self.digest_task: asyncio.Task | None = None

    # ------------------------------------------------------------ incoming
    async def on_text(self, user: str, text: str, message_id: str, **extra) -> None:
        """A typed message: a command, the number of an option offered, or text for Rasa."""
        words = text.split()
        command = words[0].split("@")[0] if words else ""  # Telegram may add "@botname"
        if command == "/start":
            await self.notify(user, INTRO)
            text = "/greet"
        elif command == "/bind":
            text = bind_payload(words[1] if len(words) > 1 else "")
        elif command == "/help":
            text = command
        else:
            text = self.state.option(self.channel.name, user, text) or text
        await self.relay(user, text, message_id, **extra)

    def payload(self, key: str) -> tuple[str, str] | None:
        """(payload, title) of a tapped button's key; None when it has expired."""
        return self.state.payload(key)

    async def on_payload(self, user: str, payload: str, message_id: str) -> None:
        """A tapped button."""
        if payload == RETRY:
            await self.resend(user)
        else:
            await self.relay(user, payload, message_id)

    async def resend(self, user: str) -> None:
        """重发: the kept message goes again, under a new message id (the old one may have been
        used, and its signature may be stale)."""
        text = self.state.pending(self.channel.name, user)
        if text is None:
            await self.notify(user, NOTHING_TO_RESEND)
            return
        await self.relay(user, text, new_message_id("resend"))

    # ------------------------------------------------------------ relaying
    async def relay(self, user: str, text: str, message_id: str, **extra) -> None:
        if self.rate.exceeded(user, self.settings.rate_limit_per_minute):
            await self.notify(user, RATE_REPLY)
            return
        self.state.add_user(self.channel.name, user)
        slow = self.settings.slow_notice_after
        task = asyncio.create_task(self.rasa.send(self.channel.sender(user), text, message_id, **extra))
        try:
            async with self.channel.working(user):
                done, _ = await asyncio.wait({task}, timeout=slow)
                if not done:
                    await self.notify(user, SLOW_REPLY)
                messages = await asyncio.wait_for(task, timeout=max(1.0, self.settings.rasa_timeout - slow))
        except (RasaUnavailable, asyncio.TimeoutError) as e:
            task.cancel()
            log.warning("rasa unavailable for %s user %s: %s", self.channel.name, user, str(e) or type(e).__name__)
            self.state.keep_pending(self.channel.name, user, text)
            await self.notify(user, DOWN_REPLY, [RETRY_BUTTON])
            return
        self.state.clear_pending(self.channel.name, user)
        await self.deliver(user, messages or [{"text": NO_ANSWER}])

    # ------------------------------------------------------------ showing
    async def deliver(self, user: str, messages: list[dict]) -> None:
        """Rasa's messages; their buttons (the last message's that has any) can be answered by number."""
        buttons = [m["buttons"] for m in messages if m.get("buttons")]
        self.state.set_options(self.channel.name, user, [b.get("payload", "") for b in (buttons or [[]])[-1]])
        await self.channel.deliver(user, messages)

    async def notify(self, user: str, text: str, buttons: list[dict] | None = None) -> None:
        if buttons:
            self.state.set_options(self.channel.name, user, [b["payload"] for b in buttons])
        await self.channel.notify(user, text, buttons)

    # ------------------------------------------------------------ digest
    async def digest(self, day: date | None = None) -> int:
        """Ask Rasa for each known user's digest; send what comes back (unbound users get nothing
        from Rasa, so nothing is sent). Returns the number of messages sent."""
        day = day or datetime.now(ZoneInfo(self.settings.timezone)).date()
        sent = 0
        for user in self.state.users(self.channel.name):
            try:
                messages = await self.rasa.trigger(
                    self.channel.sender(user), "daily_digest", new_message_id(f"digest-{day:%Y%m%d}"))
            except RasaUnavailable as e:
                log.warning("digest for %s user %s skipped: %s", self.channel.name, user, e)
                continue
            messages = [m for m in messages if m.get("text")]
            if messages:
                await self.deliver(user, messages)
                sent += len(messages)
        return sent

    def start_digest(self) -> None:
        from bot.digest import digest_loop

        if self.settings.digest_time is not None:
            self.digest_task = asyncio.create_task(digest_loop(self.settings, self.digest))

    async def close(self) -> None:
        if self.digest_task:
            self.digest_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.digest_task
        await self.rasa.close()
