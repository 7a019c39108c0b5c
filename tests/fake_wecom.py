"""A local fake of the WeCom server API (gettoken, message/send) and a WeCom member's client that
posts real encrypted callbacks, built with wechatpy's enterprise crypto like WeCom's own."""

from __future__ import annotations

import base64
import itertools
import threading
import time

import httpx
import xmltodict
from aiohttp import web
from local_server import LocalServer
from wechatpy.crypto import _get_signature
from wechatpy.enterprise.crypto import PrpCrypto, WeChatCrypto

CORP_ID = "ww0123456789abcdef"
AGENT_ID = 1000002
SECRET = "app-secret"
TOKEN = "callbackToken"
AES_KEY = base64.b64encode(bytes(range(32))).decode().rstrip("=")  # 43 characters


class FakeWeComApi:
    def __init__(self):
        self.tokens = itertools.count(1)
        self.token = ""
        self.token_fetches = 0
        self.refuse_cards = False
        self.sent: list[dict] = []
        self.refused: list[dict] = []
        self._lock = threading.Lock()

    def start(self) -> FakeWeComApi:
        app = web.Application()
        app.router.add_get("/cgi-bin/gettoken", self._gettoken)
        app.router.add_post("/cgi-bin/message/send", self._send)
        self.server = LocalServer(app).start()
        return self

    def stop(self) -> None:
        self.server.stop()

    @property
    def base_url(self) -> str:
        return self.server.base_url

    def expire_token(self) -> None:
        """The cached token stops working, as WeCom's do (errcode 42001)."""
        with self._lock:
            self.token = "expired"

    async def _gettoken(self, request: web.Request) -> web.Response:
        q = request.query
        if (q.get("corpid"), q.get("corpsecret")) != (CORP_ID, SECRET):
            return web.json_response({"errcode": 40001, "errmsg": "invalid credential"})
        with self._lock:
            self.token = f"token-{next(self.tokens)}"
            self.token_fetches += 1
            return web.json_response({"errcode": 0, "errmsg": "ok", "access_token": self.token, "expires_in": 7200})

    async def _send(self, request: web.Request) -> web.Response:
        body = await request.json()
        with self._lock:
            if request.query.get("access_token") != self.token or self.token == "expired":
                self.refused.append(body)
                return web.json_response({"errcode": 42001, "errmsg": "access_token expired"})
            if body.get("agentid") != AGENT_ID:
                return web.json_response({"errcode": 40056, "errmsg": "invalid agentid"})
            if body.get("msgtype") == "template_card" and self.refuse_cards:
                return web.json_response({"errcode": 40058, "errmsg": "template_card not allowed"})
            self.sent.append(body)
        return web.json_response({"errcode": 0, "errmsg": "ok", "msgid": str(len(self.sent))})

    # ------------------------------------------------------------ test side
    def sent_to(self, user: str) -> list[dict]:
        with self._lock:
            return [m for m in self.sent if m.get("touser") == user]

    def wait_for(self, user: str, count: int, timeout: float = 60.0, contains: str | None = None) -> list[dict]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            got = self.sent_to(user)
            if len(got) >= count and (contains is None or any(contains in shown(m) for m in got[count - 1:])):
                return got
            time.sleep(0.1)
        raise AssertionError(f"expected {count} messages to {user}, got: {[shown(m)[:60] for m in self.sent_to(user)]}")


def shown(message: dict) -> str:
    """What the member sees of a sent message: the text, or a card's title and button texts."""
    if message.get("msgtype") == "text":
        return message["text"]["content"]
    card = message.get("template_card") or {}
    return " ".join([card.get("main_title", {}).get("title", "")] + [b["text"] for b in card.get("button_list", [])])


class Member:
    """A WeCom member's client: what WeCom posts to the callback URL when this member writes."""

    msg_ids = itertools.count(7_000_000_000_000_000_001)

    def __init__(self, callback_url: str, user_id: str):
        self.url, self.user_id = callback_url, user_id
        self.crypto = WeChatCrypto(TOKEN, AES_KEY, CORP_ID)

    def _post(self, fields: dict, timestamp: str | None = None) -> httpx.Response:
        xml = xmltodict.unparse({"xml": {"ToUserName": CORP_ID, "FromUserName": self.user_id,
                                         "CreateTime": str(int(time.time())), "AgentID": str(AGENT_ID), **fields}})
        nonce, timestamp = "n" + str(next(self.msg_ids))[-8:], timestamp or str(int(time.time()))
        encrypted = xmltodict.parse(self.crypto.encrypt_message(xml, nonce, timestamp))["xml"]
        body = xmltodict.unparse({"xml": {"ToUserName": CORP_ID, "Encrypt": encrypted["Encrypt"],
                                          "AgentID": str(AGENT_ID)}})
        params = {"msg_signature": encrypted["MsgSignature"], "timestamp": timestamp, "nonce": nonce}
        return httpx.post(self.url, params=params, content=body.encode(), timeout=10)

    def say(self, text: str, msg_id: int | None = None) -> tuple[httpx.Response, int]:
        msg_id = msg_id or next(self.msg_ids)
        return self._post({"MsgType": "text", "Content": text, "MsgId": str(msg_id)}), msg_id

    def send_image(self) -> httpx.Response:
        return self._post({"MsgType": "image", "PicUrl": "http://example.invalid/p.jpg", "MediaId": "m1",
                           "MsgId": str(next(self.msg_ids))})

    def tap(self, card_message: dict, button_text: str) -> httpx.Response:
        card = card_message["template_card"]
        key = next(b["key"] for b in card["button_list"] if b["text"] == button_text)
        return self._post({"MsgType": "event", "Event": "template_card_event", "EventKey": key,
                           "TaskId": card["task_id"], "CardType": "button_interaction", "ResponseCode": "rc1"})

    def decrypt_reply(self, response: httpx.Response) -> dict:
        """A passive reply (the tapped card's update), decrypted."""
        doc = xmltodict.parse(response.text)["xml"]
        plain = self.crypto.decrypt_message(response.text, doc["MsgSignature"], doc["TimeStamp"], doc["Nonce"])
        return xmltodict.parse(plain)["xml"]


def verification_request(callback_url: str, echo: str, token: str = TOKEN) -> httpx.Response:
    """What WeCom sends when the administrator saves the callback URL."""
    echostr = PrpCrypto(WeChatCrypto(TOKEN, AES_KEY, CORP_ID).key).encrypt(echo, CORP_ID).decode()
    timestamp, nonce = str(int(time.time())), "1372623149"
    signature = _get_signature(token, timestamp, nonce, echostr)
    return httpx.get(callback_url, params={"msg_signature": signature, "timestamp": timestamp,
                                           "nonce": nonce, "echostr": echostr}, timeout=10)
