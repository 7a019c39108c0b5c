"""The 企业微信 (WeCom) adapter: a self-built application's callback URL in, `message/send` out.

- The callback (GET: URL verification; POST: encrypted XML) is checked and decrypted with
  wechatpy's enterprise crypto. It is answered at once, and the work goes on in the background,
  so a slow Rasa never makes WeCom retry; a retried delivery (same MsgId) is handled once.
- Replies go out through wechatpy's enterprise client: the access token is cached until it
  expires and fetched again once when WeCom says it expired (40014, 42001).
- Text is split under WeCom's 2,048-byte limit; buttons become a 按钮交互型 template card whose
  taps come back as template_card_event, or numbered options (回复数字) when a card cannot be sent.
Everything else is the shared `Relay`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid

import requests
from aiohttp import web
from wechatpy.enterprise import parse_message
from wechatpy.enterprise.client import WeChatClient
from wechatpy.enterprise.crypto import WeChatCrypto
from wechatpy.exceptions import WeChatClientException

from bot import render
from bot.config import WeComSettings, wecom_from_env
from bot.rasa import RasaClient, new_message_id
from bot.relay import EXPIRED_REPLY, MEDIA_REPLY, Relay
from bot.state import State

log = logging.getLogger("bot.wecom")

TEXT_LIMIT = 2048  # bytes of a text message's content
SAFE_LIMIT = 2000
CARD_BUTTONS = 6  # a button_interaction card holds at most 6 buttons
EXPIRED_TOKEN = (40014, 42001)  # invalid / expired access_token
MAX_CALLBACK_AGE = 600  # seconds: an older signed callback is a replay, not a retry
MEDIA_TYPES = ("image", "voice", "video", "shortvideo", "file", "location", "link")


class _Session(requests.Session):
    """Every WeCom API call with a timeout (wechatpy fetches the token without one)."""

    def request(self, *args, **kwargs):
        kwargs["timeout"] = kwargs.get("timeout") or 10
        return super().request(*args, **kwargs)


class WeComApi(WeChatClient):
    """wechatpy's enterprise client, pointed at WECOM_API_BASE_URL."""

    def __init__(self, settings: WeComSettings):
        super().__init__(settings.corp_id, settings.secret, timeout=10, auto_retry=False)
        self.API_BASE_URL = f"{settings.api_base_url.rstrip('/')}/cgi-bin/"
        self.agent_id = settings.agent_id
        self._http = _Session()

    def fetch_access_token(self):
        return self._fetch_access_token(
            url=self.API_BASE_URL + "gettoken", params={"corpid": self.corp_id, "corpsecret": self.secret})

    def send_to(self, user: str, msg: dict) -> dict:
        """message/send to one member; on an expired token, one fresh token and one more try."""
        try:
            return self.message.send(self.agent_id, user, msg=msg)
        except WeChatClientException as e:
            if e.errcode not in EXPIRED_TOKEN:
                raise
            log.info("access token refused (%s): fetching a new one", e.errcode)
            self.fetch_access_token()
            return self.message.send(self.agent_id, user, msg=msg)


def _text(content: str) -> dict:
    return {"msgtype": "text", "text": {"content": content}}


def _card(title: str, buttons: list[dict], keys: list[str]) -> dict:
    title = title if len(title) <= 36 else title[:35] + "…"
    return {"msgtype": "template_card", "template_card": {
        "card_type": "button_interaction",
        "task_id": uuid.uuid4().hex,
        "main_title": {"title": title or "请选择", "desc": "点按钮继续，也可以回复数字"},
        "button_list": [{"text": b.get("title", "")[:20], "style": 1, "key": key} for b, key in zip(buttons, keys, strict=True)],
    }}


class WeComChannel:
    name = "wecom"

    def __init__(self, api: WeComApi, state: State):
        self.api, self.state = api, state

    def sender(self, user: str) -> str:
        return f"wecom:{user}"

    async def _send(self, user: str, msg: dict) -> None:
        await asyncio.to_thread(self.api.send_to, user, msg)

    async def deliver(self, user: str, messages: list[dict]) -> None:
        for m in messages:
            await self.notify(user, m.get("text") or "", m.get("buttons"))

    def working(self, user: str):
        return contextlib.nullcontext()  # WeCom has no "typing…"; the slow notice says it

    async def notify(self, user: str, text: str, buttons: list[dict] | None = None) -> None:
        buttons = buttons or []
        parts = render.split_text(text, SAFE_LIMIT, render.utf8_len) if text else []
        if buttons and len(buttons) <= CARD_BUTTONS:
            for part in parts:
                await self._send(user, _text(part))
            keys = [self.state.store_payload(b.get("payload", ""), b.get("title", "")) for b in buttons]
            try:
                await self._send(user, _card(text.split("\n", 1)[0], buttons, keys))
                return
            except WeChatClientException as e:  # e.g. an app without a callback URL cannot send cards
                log.warning("template card refused (%s): numbered options instead", e.errcode)
            parts = []
        if buttons:
            options = render.numbered(buttons)
            if parts and render.utf8_len(parts[-1] + "\n\n" + options) <= SAFE_LIMIT:
                parts[-1] += "\n\n" + options
            else:
                parts += render.split_text(options, SAFE_LIMIT, render.utf8_len)
        for part in parts:
            await self._send(user, _text(part))


def _cdata(value: str) -> str:
    return "<![CDATA[" + value.replace("]]>", "]]]]><![CDATA[>") + "]]>"


class WeComFrontEnd:
    def __init__(self, settings: WeComSettings, rasa: RasaClient | None = None):
        self.settings = settings
        self.crypto = WeChatCrypto(settings.token, settings.aes_key, settings.corp_id)
        self.state = State(settings.state_db)
        self.api = WeComApi(settings)
        self.channel = WeComChannel(self.api, self.state)
        self.relay = Relay(self.channel, settings, self.state, rasa)
        self._tasks: set[asyncio.Task] = set()

    # ------------------------------------------------------------ HTTP
    def web_app(self) -> web.Application:
        app = web.Application(client_max_size=1024 * 1024)
        app.router.add_get(self.settings.path, self.verify)
        app.router.add_post(self.settings.path, self.receive)
        app.on_startup.append(self._startup)
        app.on_cleanup.append(self._cleanup)
        return app

    async def _startup(self, app: web.Application) -> None:
        self.relay.start_digest()

    async def _cleanup(self, app: web.Application) -> None:
        await self.drain(timeout=10)
        await self.relay.close()
        self.state.close()

    async def verify(self, request: web.Request) -> web.Response:
        """URL verification when the administrator saves the callback URL: echo the decrypted echostr."""
        q = request.query
        try:
            echo = self.crypto.check_signature(q["msg_signature"], q["timestamp"], q["nonce"], q["echostr"])
        except Exception:  # noqa: BLE001 - bad signature, key or parameters: all refused alike
            log.warning("callback URL verification refused")
            return web.Response(status=403, text="forbidden")
        return web.Response(text=echo)

    async def receive(self, request: web.Request) -> web.Response:
        q = request.query
        try:
            if abs(time.time() - int(q["timestamp"])) > MAX_CALLBACK_AGE:
                raise ValueError("stale callback")
            xml = self.crypto.decrypt_message(await request.read(), q["msg_signature"], q["timestamp"], q["nonce"])
            msg = parse_message(xml)
        except Exception as e:  # noqa: BLE001 - forged, stale or malformed: refused, never handled
            log.warning("callback refused: %s", type(e).__name__)
            return web.Response(status=403, text="forbidden")
        passive = self.handle(msg)
        if passive is None:
            return web.Response(text="")
        return web.Response(text=self.crypto.encrypt_message(passive, q["nonce"], q["timestamp"]),
                            content_type="application/xml")

    # ------------------------------------------------------------ messages
    def handle(self, msg) -> str | None:
        """Start the work in the background; return a passive reply (plain XML) or None."""
        user, data = msg.source, msg._data  # wechatpy keeps every field of the XML in _data
        if data.get("Event") == "template_card_event":
            return self._tap(user, data)
        if msg.type == "event" or not user:
            return None  # entering the app, subscribing…: nothing to say
        if not self.state.first_delivery(self.channel.name, f"msg:{msg.id}"):
            log.info("retried delivery of %s ignored", msg.id)
            return None
        if msg.type == "text":
            self._spawn(self.relay.on_text(user, msg.content or "", str(msg.id)))
        elif msg.type in MEDIA_TYPES:
            self._spawn(self.channel.notify(user, MEDIA_REPLY))
        return None

    def _tap(self, user: str, data: dict) -> str | None:
        key = data.get("EventKey") or ""
        found = self.relay.payload(key)
        first = self.state.first_delivery(
            self.channel.name, f"tap:{user}:{data.get('TaskId')}:{key}:{data.get('CreateTime')}")
        if found is None:
            if first:
                self._spawn(self.channel.notify(user, EXPIRED_REPLY))
            return None
        if first:
            self._spawn(self.relay.on_payload(user, found[0], new_message_id("tap")))
        # the tapped card shows what was chosen and takes no second tap
        return ("<xml>"
                f"<ToUserName>{_cdata(user)}</ToUserName><FromUserName>{_cdata(self.settings.corp_id)}</FromUserName>"
                f"<CreateTime>{int(time.time())}</CreateTime><MsgType><![CDATA[update_button]]></MsgType>"
                f"<Button><ReplaceName>{_cdata('已选择：' + found[1])}</ReplaceName></Button>"
                "</xml>")

    def _spawn(self, coro) -> None:
        task = asyncio.get_running_loop().create_task(self._guarded(coro))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    @staticmethod
    async def _guarded(coro) -> None:
        try:
            await coro
        except Exception:  # noqa: BLE001 - one failed reply must not end the front end
            log.exception("handling a WeCom message failed")

    async def drain(self, timeout: float = 60) -> None:
        """Wait for the background work (shutdown, tests)."""
        if self._tasks:
            await asyncio.wait(set(self._tasks), timeout=timeout)


def run() -> None:
    settings = wecom_from_env()
    front = WeComFrontEnd(settings)
    log.info("WeCom callback on http://%s:%s%s", settings.listen, settings.port, settings.path)
    web.run_app(front.web_app(), host=settings.listen, port=settings.port, print=None)
