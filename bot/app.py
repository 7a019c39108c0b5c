"""The python-telegram-bot Application: handlers, relaying, resilience, digest."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time as _time
from collections import deque
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from telegram import BotCommand, Update
from telegram.constants import ChatAction, ParseMode
from telegram.error import BadRequest, TelegramError
from telegram.ext import (
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    PicklePersistence,
    filters,
)

from bot import render
from bot.config import Settings
from bot.rasa import RasaClient, RasaUnavailable

log = logging.getLogger("bot")

INTRO = "我是政企大客户经理助手：查客户、拜访准备、话术、套餐、记拜访，直接用中文问我就行。"
GROUP_REPLY = "为保护客户信息，请私聊我使用，不在群里回答。"
EDITED_REPLY = "我看到你修改了一条消息，但改过的消息我不会重新处理。需要的话请把修改后的内容重新发一条。"
MEDIA_REPLY = "目前只支持文字消息。语音请转成文字，图片里的内容请打字发给我。"
RATE_REPLY = "消息太频繁了，请稍等一分钟再发。"
SLOW_REPLY = "还在处理，请稍等……"
DOWN_REPLY = "助手服务暂时连不上，你的消息没有丢，我先记下了。稍后点「重发」再试。"
EXPIRED_REPLY = "这个按钮已过期，请重新问一次。"
COMMANDS = [
    BotCommand("start", "开始使用"),
    BotCommand("help", "能问什么"),
    BotCommand("bind", "绑定账号：/bind 绑定码"),
]
MAX_PAYLOADS = 5000


# ---------------------------------------------------------------- runtime (not persisted)
@dataclass
class Runtime:
    """Per-application objects that must not go into PicklePersistence (bot_data is persisted and
    replaced by the stored copy when the application initialises)."""

    settings: Settings
    rasa: RasaClient
    digest_task: asyncio.Task | None = None


_RUNTIME: dict[int, Runtime] = {}


def runtime(app: Application) -> Runtime:
    return _RUNTIME[id(app)]


def _settings(context: ContextTypes.DEFAULT_TYPE) -> Settings:
    return runtime(context.application).settings


def _client(context: ContextTypes.DEFAULT_TYPE) -> RasaClient:
    return runtime(context.application).rasa


def _store_payload(bot_data: dict):
    payloads = bot_data.setdefault("payloads", {})

    def store(payload: str) -> str:
        bot_data["payload_seq"] = bot_data.get("payload_seq", 0) + 1
        key = f"b:{bot_data['payload_seq']}"
        payloads[key] = payload
        while len(payloads) > MAX_PAYLOADS:
            payloads.pop(next(iter(payloads)))
        return key

    return store


def _rate_limited(context: ContextTypes.DEFAULT_TYPE) -> bool:
    limit = _settings(context).rate_limit_per_minute
    stamps: deque = context.user_data.setdefault("stamps", deque())
    now = _time.monotonic()
    while stamps and now - stamps[0] > 60:
        stamps.popleft()
    if len(stamps) >= limit:
        return True
    stamps.append(now)
    return False


async def _keep_typing(bot, chat_id: int) -> None:
    with contextlib.suppress(asyncio.CancelledError):
        while True:
            with contextlib.suppress(TelegramError):
                await bot.send_chat_action(chat_id, ChatAction.TYPING)
            await asyncio.sleep(4)


async def send_rasa_messages(bot, chat_id: int, messages: list[dict], bot_data: dict) -> None:
    store = _store_payload(bot_data)
    for m in messages:
        text = m.get("text") or ""
        if not text:
            continue
        parts = render.split_text(text)
        markup = render.keyboard(m.get("buttons") or [], store)
        for i, part in enumerate(parts):
            body = render.as_html(part, bold_first=i == 0)
            await bot.send_message(
                chat_id, body, parse_mode=ParseMode.HTML,
                reply_markup=markup if i == len(parts) - 1 else None,
            )


# ---------------------------------------------------------------- relaying
async def relay(update: Update, context: ContextTypes.DEFAULT_TYPE, text: str, message_id: str) -> None:
    user, chat = update.effective_user, update.effective_chat
    settings = _settings(context)
    if _rate_limited(context):
        await context.bot.send_message(chat.id, RATE_REPLY)
        return
    context.application.bot_data.setdefault("users", set()).add(user.id)
    typing = asyncio.create_task(_keep_typing(context.bot, chat.id))
    task = asyncio.create_task(
        _client(context).send(str(user.id), text, message_id, chat_id=chat.id, user_name=user.username or "")
    )
    try:
        done, _ = await asyncio.wait({task}, timeout=settings.slow_notice_after)
        if not done:
            await context.bot.send_message(chat.id, SLOW_REPLY)
        messages = await asyncio.wait_for(task, timeout=max(1.0, settings.rasa_timeout - settings.slow_notice_after))
    except (RasaUnavailable, asyncio.TimeoutError) as e:
        task.cancel()
        log.warning("rasa unavailable for user %s: %s", user.id, type(e).__name__ if not str(e) else e)
        context.user_data["pending"] = {"text": text, "message_id": message_id}
        store = _store_payload(context.application.bot_data)
        retry = render.keyboard([{"title": "重发", "payload": "__retry__"}], store)
        await context.bot.send_message(chat.id, DOWN_REPLY, reply_markup=retry)
        return
    finally:
        typing.cancel()
    context.user_data.pop("pending", None)
    if not messages:
        messages = [{"text": "（没有回复，请换个说法试试。）"}]
    await send_rasa_messages(context.bot, chat.id, messages, context.application.bot_data)


async def on_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    msg = update.effective_message
    await relay(update, context, msg.text, str(msg.message_id))


async def on_start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await context.bot.send_message(update.effective_chat.id, INTRO)
    await relay(update, context, "/greet", str(update.effective_message.message_id))


async def on_help(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await relay(update, context, "/help", str(update.effective_message.message_id))


async def on_bind(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    code = (context.args or [""])[0].strip()
    payload = "/bind" + (json.dumps({"bind_code": code}, ensure_ascii=False) if code else "")
    await relay(update, context, payload, str(update.effective_message.message_id))


async def on_tap(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    payload = context.application.bot_data.get("payloads", {}).get(query.data or "")
    if payload is None:
        await query.answer(EXPIRED_REPLY, show_alert=False)
        return
    await query.answer()
    with contextlib.suppress(BadRequest):  # no double taps: the keyboard goes away once used
        await query.edit_message_reply_markup(reply_markup=None)
    if payload == "__retry__":
        pending = context.user_data.get("pending")
        if not pending:
            await context.bot.send_message(update.effective_chat.id, "没有需要重发的消息。")
            return
        await relay(update, context, pending["text"], pending["message_id"])
        return
    await relay(update, context, payload, f"cb:{query.id}")


async def on_edited(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await context.bot.send_message(update.effective_chat.id, EDITED_REPLY)


async def on_media(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await context.bot.send_message(update.effective_chat.id, MEDIA_REPLY)


async def on_group(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    if update.effective_message is not None and update.effective_chat is not None:
        with contextlib.suppress(TelegramError):
            await context.bot.send_message(update.effective_chat.id, GROUP_REPLY)


async def on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    log.error("error handling an update: %s", type(context.error).__name__, exc_info=context.error)


# ---------------------------------------------------------------- digest
def is_workday(day: date) -> bool:
    try:
        import chinese_calendar

        return chinese_calendar.is_workday(day)
    except (NotImplementedError, ImportError):  # a year the calendar does not know yet
        return day.weekday() < 5


async def run_digest(app: Application, day: date | None = None) -> int:
    """Ask Rasa for each known user's digest; send what comes back. Returns messages sent."""
    settings = runtime(app).settings
    day = day or datetime.now(ZoneInfo(settings.timezone)).date()
    sent = 0
    for user_id in sorted(app.bot_data.get("users", set())):
        try:
            messages = await runtime(app).rasa.trigger(str(user_id), "daily_digest", f"digest-{day:%Y%m%d}")
        except RasaUnavailable as e:
            log.warning("digest for %s skipped: %s", user_id, e)
            continue
        messages = [m for m in messages if m.get("text")]
        if messages:
            await send_rasa_messages(app.bot, user_id, messages, app.bot_data)
            sent += len(messages)
    return sent


def next_digest_at(now: datetime, settings: Settings) -> datetime:
    at = now.replace(hour=settings.digest_time.hour, minute=settings.digest_time.minute, second=0, microsecond=0)
    if at <= now:
        at += timedelta(days=1)
    while settings.digest_workdays_only and not is_workday(at.date()):
        at += timedelta(days=1)
    return at


async def digest_loop(app: Application) -> None:
    settings = runtime(app).settings
    tz = ZoneInfo(settings.timezone)
    while True:
        now = datetime.now(tz)
        wait = (next_digest_at(now, settings) - now).total_seconds()
        await asyncio.sleep(wait)
        try:
            await run_digest(app)
        except Exception:  # noqa: BLE001 - the loop must survive anything
            log.exception("digest run failed")


# ---------------------------------------------------------------- building
async def _post_init(app: Application) -> None:
    with contextlib.suppress(TelegramError):
        await app.bot.set_my_commands(COMMANDS)
    rt = runtime(app)
    if rt.settings.digest_time is not None:
        rt.digest_task = asyncio.create_task(digest_loop(app))


async def _post_shutdown(app: Application) -> None:
    rt = _RUNTIME.pop(id(app), None)
    if rt is None:
        return
    if rt.digest_task:
        rt.digest_task.cancel()
    await rt.rasa.close()


def build_application(settings: Settings) -> Application:
    Path(settings.state_file).parent.mkdir(parents=True, exist_ok=True)
    persistence = PicklePersistence(filepath=settings.state_file, update_interval=10)
    app = (
        ApplicationBuilder()
        .token(settings.token)
        .base_url(settings.base_url)
        .base_file_url(settings.base_file_url)
        .persistence(persistence)
        .concurrent_updates(True)
        .post_init(_post_init)
        .post_shutdown(_post_shutdown)
        .build()
    )
    _RUNTIME[id(app)] = Runtime(
        settings, RasaClient(settings.rasa_url, settings.shared_secret, settings.rasa_timeout, settings.rasa_token)
    )
    private = filters.ChatType.PRIVATE
    app.add_handler(MessageHandler(filters.ChatType.GROUPS, on_group), group=-1)
    app.add_handler(MessageHandler(filters.UpdateType.EDITED, on_edited))
    app.add_handler(CommandHandler("start", on_start, filters=private))
    app.add_handler(CommandHandler("help", on_help, filters=private))
    app.add_handler(CommandHandler("bind", on_bind, filters=private))
    app.add_handler(MessageHandler(private & filters.TEXT & ~filters.COMMAND & filters.UpdateType.MESSAGE, on_text))
    app.add_handler(MessageHandler(private & filters.UpdateType.MESSAGE & ~filters.TEXT, on_media))
    app.add_handler(CallbackQueryHandler(on_tap))
    app.add_error_handler(on_error)
    return app
