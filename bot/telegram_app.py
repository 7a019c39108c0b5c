"""The Telegram adapter (python-telegram-bot 22): updates in, escaped HTML and inline keyboards out.
Everything else (Rasa, 重发, rate limit, digest, state) is the shared `Relay`."""

from __future__ import annotations

import asyncio
import contextlib
import html
import logging
from datetime import date

from telegram import BotCommand, InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.constants import ChatAction, ParseMode
from telegram.error import BadRequest, TelegramError
from telegram.ext import (
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from bot import render
from bot.config import Settings
from bot.relay import EXPIRED_REPLY, MEDIA_REPLY, Relay
from bot.state import State

log = logging.getLogger("bot")

GROUP_REPLY = "为保护客户信息，请私聊我使用，不在群里回答。"
EDITED_REPLY = "我看到你修改了一条消息，但改过的消息我不会重新处理。需要的话请把修改后的内容重新发一条。"
COMMANDS = [
    BotCommand("start", "开始使用"),
    BotCommand("help", "能问什么"),
    BotCommand("bind", "绑定账号：/bind 绑定码"),
]
TELEGRAM_LIMIT = 4096
SAFE_LIMIT = 4000  # room for escaping differences


def as_html(text: str, bold_first: bool = True) -> str:
    """Every value from Rasa is escaped; the first line (the customer's name) is bold unless
    this is a continuation part of a split message."""
    first, sep, rest = text.partition("\n")
    if bold_first and first:
        return f"<b>{html.escape(first)}</b>{sep}{html.escape(rest)}"
    return html.escape(text)


def keyboard(buttons: list[dict] | None, state: State) -> InlineKeyboardMarkup | None:
    """Payloads stay server-side under short keys (callback_data is limited to 64 bytes)."""
    if not buttons:
        return None
    return InlineKeyboardMarkup([
        [InlineKeyboardButton(b.get("title", "")[:40],
                              callback_data=state.store_payload(b.get("payload", ""), b.get("title", "")))
         for b in row]
        for row in render.button_rows(buttons)
    ])


class TelegramChannel:
    name = "telegram"

    def __init__(self, app: Application, state: State):
        self.app, self.state = app, state

    def sender(self, user: str) -> str:
        return user  # the bare Telegram user id, as bound before other channels existed

    async def deliver(self, user: str, messages: list[dict]) -> None:
        for m in messages:
            text = m.get("text") or ""
            if not text:
                continue
            parts = render.split_text(text, SAFE_LIMIT)
            markup = keyboard(m.get("buttons"), self.state)
            for i, part in enumerate(parts):
                await self.app.bot.send_message(
                    int(user), as_html(part, bold_first=i == 0), parse_mode=ParseMode.HTML,
                    reply_markup=markup if i == len(parts) - 1 else None,
                )

    async def notify(self, user: str, text: str, buttons: list[dict] | None = None) -> None:
        await self.app.bot.send_message(int(user), text, reply_markup=keyboard(buttons, self.state))

    @contextlib.asynccontextmanager
    async def working(self, user: str):
        async def keep_typing():
            with contextlib.suppress(asyncio.CancelledError):
                while True:
                    with contextlib.suppress(TelegramError):
                        await self.app.bot.send_chat_action(int(user), ChatAction.TYPING)
                    await asyncio.sleep(4)

        typing = asyncio.create_task(keep_typing())
        try:
            yield
        finally:
            typing.cancel()


_RELAYS: dict[int, Relay] = {}


def runtime(app: Application) -> Relay:
    return _RELAYS[id(app)]


def _relay(context: ContextTypes.DEFAULT_TYPE) -> Relay:
    return runtime(context.application)


def _user(update: Update) -> str:
    return str(update.effective_user.id)


# ---------------------------------------------------------------- handlers
async def on_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Typed text and the commands /start, /help, /bind (the relay knows them)."""
    msg = update.effective_message
    await _relay(context).on_text(
        _user(update), msg.text, str(msg.message_id),
        chat_id=update.effective_chat.id, user_name=update.effective_user.username or "",
    )


async def on_tap(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    found = _relay(context).payload(query.data or "")
    if found is None:
        await query.answer(EXPIRED_REPLY, show_alert=False)
        return
    await query.answer()
    with contextlib.suppress(BadRequest):  # no double taps: the keyboard goes away once used
        await query.edit_message_reply_markup(reply_markup=None)
    await _relay(context).on_payload(_user(update), found[0], f"cb:{query.id}")


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


async def run_digest(app: Application, day: date | None = None) -> int:
    return await runtime(app).digest(day)


# ---------------------------------------------------------------- building
async def _post_init(app: Application) -> None:
    with contextlib.suppress(TelegramError):
        await app.bot.set_my_commands(COMMANDS)
    runtime(app).start_digest()


async def _post_shutdown(app: Application) -> None:
    relay = _RELAYS.pop(id(app), None)
    if relay is not None:
        await relay.close()
        relay.state.close()


def build_application(settings: Settings) -> Application:
    app = (
        ApplicationBuilder()
        .token(settings.token)
        .base_url(settings.base_url)
        .base_file_url(settings.base_file_url)
        .concurrent_updates(True)
        .post_init(_post_init)
        .post_shutdown(_post_shutdown)
        .build()
    )
    state = State(settings.state_db)
    if settings.legacy_state_file:
        state.import_legacy_pickle(settings.legacy_state_file)
    _RELAYS[id(app)] = Relay(TelegramChannel(app, state), settings, state)
    private = filters.ChatType.PRIVATE
    app.add_handler(MessageHandler(filters.ChatType.GROUPS, on_group), group=-1)
    app.add_handler(MessageHandler(filters.UpdateType.EDITED, on_edited))
    app.add_handler(CommandHandler(["start", "help", "bind"], on_text, filters=private))
    app.add_handler(MessageHandler(private & filters.TEXT & ~filters.COMMAND & filters.UpdateType.MESSAGE, on_text))
    app.add_handler(MessageHandler(private & filters.UpdateType.MESSAGE & ~filters.TEXT, on_media))
    app.add_handler(CallbackQueryHandler(on_tap))
    app.add_error_handler(on_error)
    return app
