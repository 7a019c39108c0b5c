"""A local fake of the Telegram Bot API, for running the real python-telegram-bot Application.

Serves /bot<token>/<method> on 127.0.0.1, queues updates for getUpdates (long polling with offsets)
and records every call the bot makes. Runs in its own thread and event loop.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import threading
import time

from aiohttp import web
from local_server import LocalServer

BOT_USER = {"id": 424242, "is_bot": True, "first_name": "大客户助手", "username": "kam_test_bot",
            "can_join_groups": False, "can_read_all_group_messages": False, "supports_inline_queries": False}


class FakeTelegram:
    def __init__(self, token: str = "123:TEST"):
        self.token = token
        self.calls: list[tuple[str, dict]] = []
        self._updates: list[dict] = []
        self._update_ids = itertools.count(1)
        self._message_ids = itertools.count(1000)
        self._lock = threading.Lock()

    # ------------------------------------------------------------ server
    def start(self) -> FakeTelegram:
        self._new_update = asyncio.Event()
        app = web.Application()
        app.router.add_route("*", "/bot{token}/{method}", self._handle)
        self.server = LocalServer(app).start()
        self.loop = self.server.loop
        return self

    def stop(self) -> None:
        async def end_long_polls():
            pending = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for t in pending:
                t.cancel()
            await asyncio.gather(*pending, return_exceptions=True)

        self.server.stop(before=end_long_polls())

    @property
    def base_url(self) -> str:
        return self.server.base_url

    async def _params(self, request: web.Request) -> dict:
        if request.content_type == "application/json":
            return await request.json()
        data = await request.post()
        out = {}
        for k, v in data.items():
            try:
                out[k] = json.loads(v) if isinstance(v, str) and v[:1] in "{[" else v
            except ValueError:
                out[k] = v
        return out

    async def _handle(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return web.json_response({"ok": False, "error_code": 401, "description": "Unauthorized"}, status=401)
        method = request.match_info["method"]
        params = await self._params(request)
        if method != "getUpdates":
            with self._lock:
                self.calls.append((method, params))
        result = await self._answer(method, params)
        return web.json_response({"ok": True, "result": result})

    async def _answer(self, method: str, p: dict):
        if method == "getMe":
            return BOT_USER
        if method in ("deleteWebhook", "setWebhook", "setMyCommands", "sendChatAction", "answerCallbackQuery",
                      "close", "logOut"):
            return True
        if method == "getMyCommands":
            return []
        if method == "getUpdates":
            return await self._get_updates(int(p.get("offset") or 0), float(p.get("timeout") or 0))
        if method == "sendMessage":
            return self._message(int(p["chat_id"]), p.get("text", ""), p.get("reply_markup"))
        if method == "editMessageReplyMarkup":
            return self._message(int(p.get("chat_id") or 0), "", p.get("reply_markup"), p.get("message_id"))
        return True

    def _message(self, chat_id: int, text: str, markup=None, message_id=None) -> dict:
        msg = {"message_id": int(message_id or next(self._message_ids)), "date": int(time.time()),
               "chat": {"id": chat_id, "type": "private"}, "from": BOT_USER, "text": text}
        if isinstance(markup, dict):
            msg["reply_markup"] = markup
        return msg

    async def _get_updates(self, offset: int, timeout: float) -> list[dict]:
        deadline = time.monotonic() + timeout
        while True:
            with self._lock:
                self._updates = [u for u in self._updates if u["update_id"] >= offset]
                ready = list(self._updates)
            if ready or time.monotonic() >= deadline:
                return ready
            self._new_update.clear()
            try:
                await asyncio.wait_for(self._new_update.wait(), timeout=max(0.05, deadline - time.monotonic()))
            except asyncio.TimeoutError:
                pass

    # ------------------------------------------------------------ test side
    def push(self, update: dict) -> int:
        update_id = next(self._update_ids)
        update = {"update_id": update_id, **update}
        with self._lock:
            self._updates.append(update)
        self.loop.call_soon_threadsafe(self._new_update.set)
        return update_id

    def user(self, user_id: int, name: str = "经理") -> dict:
        return {"id": user_id, "is_bot": False, "first_name": name, "username": f"u{user_id}", "language_code": "zh-hans"}

    def send_text(self, user_id: int, text: str, chat_type: str = "private", edited: bool = False) -> int:
        chat = {"id": user_id if chat_type == "private" else -100_000 - user_id, "type": chat_type}
        if chat_type != "private":
            chat["title"] = "销售群"
        message = {"message_id": next(self._message_ids), "date": int(time.time()), "chat": chat,
                   "from": self.user(user_id), "text": text}
        if text.startswith("/"):
            message["entities"] = [{"type": "bot_command", "offset": 0, "length": len(text.split()[0])}]
        if edited:
            message["edit_date"] = int(time.time())
            return self.push({"edited_message": message})
        return self.push({"message": message})

    def send_photo(self, user_id: int) -> int:
        message = {"message_id": next(self._message_ids), "date": int(time.time()),
                   "chat": {"id": user_id, "type": "private"}, "from": self.user(user_id),
                   "photo": [{"file_id": "p1", "file_unique_id": "u1", "width": 10, "height": 10}]}
        return self.push({"message": message})

    def tap(self, user_id: int, message: dict, data: str) -> int:
        return self.push({"callback_query": {"id": str(next(self._message_ids)), "from": self.user(user_id),
                                             "chat_instance": "ci", "data": data, "message": message}})

    def sent_to(self, chat_id: int) -> list[dict]:
        with self._lock:
            return [p for m, p in self.calls if m == "sendMessage" and int(p["chat_id"]) == chat_id]

    def called(self, method: str) -> list[dict]:
        with self._lock:
            return [p for m, p in self.calls if m == method]

    def wait_for_messages(self, chat_id: int, count: int, timeout: float = 60.0, contains: str | None = None) -> list[dict]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            got = self.sent_to(chat_id)
            if len(got) >= count and (contains is None or any(contains in m.get("text", "") for m in got[count - 1:])):
                return got
            time.sleep(0.1)
        raise AssertionError(f"expected {count} messages to {chat_id}, got: {[m.get('text', '')[:60] for m in self.sent_to(chat_id)]}")
