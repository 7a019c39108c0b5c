"""`make run`'s chat in the terminal: the project's own client over the REST channel, with the same
identity and signing as the chat front ends (a thin adapter over the shared `Relay`).

Buttons are shown as numbered options under the reply; a number or free text are both accepted.
Lines wrap to the terminal's width counting Chinese characters as two columns; the arrow keys
recall earlier lines (readline); /quit (or Ctrl-D) ends the chat."""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import sys
import unicodedata
from dataclasses import replace

from bot import render
from bot.config import RelaySettings, relay_from_env
from bot.rasa import new_message_id
from bot.relay import Relay
from bot.state import State

PROMPT = "你："
SPEAKER = "助手："
QUIT = ("/quit", "/exit", "/stop", "退出")


def width_of(text: str) -> int:
    """Columns on a terminal: wide (Chinese) characters take two, combining marks none."""
    return sum(0 if unicodedata.combining(ch) else 2 if unicodedata.east_asian_width(ch) in "WF" else 1
               for ch in text)


def wrap(line: str, columns: int) -> list[str]:
    """Cut one line into pieces of at most `columns` terminal columns."""
    pieces, current, used = [], "", 0
    for ch in line:
        w = width_of(ch)
        if used + w > columns and current:
            pieces.append(current)
            current, used = "", 0
        current += ch
        used += w
    return pieces + [current]


class TerminalChannel:
    name = "terminal"

    def __init__(self, out=None):
        self.out = out or sys.stdout

    def sender(self, user: str) -> str:
        return user  # the Telegram id the terminal speaks as (KAM_SHELL_SENDER)

    async def deliver(self, user: str, messages: list[dict]) -> None:
        for m in messages:
            await self.notify(user, m.get("text") or "", m.get("buttons"))

    async def notify(self, user: str, text: str, buttons: list[dict] | None = None) -> None:
        if buttons:
            text = f"{text}\n{render.numbered(buttons)}" if text else render.numbered(buttons)
        columns = max(20, shutil.get_terminal_size((80, 24)).columns - width_of(SPEAKER) - 1)
        indent = " " * width_of(SPEAKER)
        lines = [piece for line in text.split("\n") for piece in wrap(line, columns)]
        for i, line in enumerate(lines):
            print((SPEAKER if i == 0 else indent) + line, file=self.out)
        print(file=self.out, flush=True)

    def working(self, user: str):
        return contextlib.nullcontext()


def chat(settings: RelaySettings, sender: str) -> int:
    """The read–answer loop, until /quit, Ctrl-D or Ctrl-C."""
    with contextlib.suppress(ImportError):
        import readline  # noqa: F401 - line editing and history (arrow keys) for input()
    state = State(":memory:")
    relay = Relay(TerminalChannel(), replace(settings, digest_time=None), state)
    loop = asyncio.new_event_loop()
    try:
        while True:
            try:
                line = input(PROMPT).strip()
            except EOFError:
                break
            if line in QUIT:
                break
            if line:
                loop.run_until_complete(relay.on_text(sender, line, new_message_id("tty")))
    except KeyboardInterrupt:
        pass
    finally:
        print()
        loop.run_until_complete(relay.close())
        loop.close()
    return 0


def run() -> None:
    """`python -m bot terminal` against RASA_URL, as KAM_SHELL_SENDER (default the demo manager)."""
    import os

    sys.exit(chat(relay_from_env(os.environ), os.environ.get("KAM_SHELL_SENDER", "10001")))
