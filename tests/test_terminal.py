"""make run's terminal chat, driven through a pseudo-terminal 60 columns wide against the running
assistant: a status look-up, a button chosen by number, a note saved by typing, /quit."""

from __future__ import annotations

import fcntl
import os
import pty
import select
import struct
import subprocess
import sys
import termios
import time
from pathlib import Path

import pytest
from sqlalchemy import func
from sqlalchemy import select as sql_select

from actions.db.models import Visit
from actions.db.session import session_scope
from bot.terminal_app import width_of, wrap

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parents[1]
COLUMNS = 60


class Terminal:
    def __init__(self, rasa_url: str, sender: str):
        self.master, slave = pty.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, COLUMNS, 0, 0))
        env = {**os.environ, "RASA_URL": rasa_url, "KAM_SHELL_SENDER": sender, "TERM": "xterm",
               "LANG": "C.UTF-8", "PYTHONIOENCODING": "utf-8"}
        for name in ("COLUMNS", "LINES", "BOT_SHARED_SECRET"):
            env.pop(name, None)
        self.proc = subprocess.Popen([sys.executable, "-m", "bot", "terminal"], stdin=slave, stdout=slave,
                                     stderr=slave, env=env, cwd=ROOT, start_new_session=True)
        os.close(slave)
        self.raw, self.screen, self.cursor = b"", "", 0

    def type(self, line: str) -> None:
        os.write(self.master, (line + "\n").encode())

    def wait_for(self, text: str, timeout: float = 60) -> str:
        """Read until `text` shows after what earlier waits matched; return the screen up to it."""
        deadline = time.monotonic() + timeout
        while (found := self.screen.find(text, self.cursor)) < 0:
            if time.monotonic() > deadline:
                raise AssertionError(f"{text!r} never shown; screen:\n{self.screen[self.cursor:]}")
            if select.select([self.master], [], [], 0.2)[0]:
                try:
                    self.raw += os.read(self.master, 4096)
                except OSError:  # the process ended
                    continue
                self.screen = self.raw.decode("utf-8", "replace").replace("\r", "")
        shown, self.cursor = self.screen[self.cursor:found + len(text)], found + len(text)
        return shown

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(10)
        os.close(self.master)


def reply_lines(shown: str) -> list[str]:
    return [line for line in shown.split("\n") if line and not line.startswith("你：")]


def test_terminal_chat_status_number_and_note(stack):
    servers, url = stack
    term = Terminal(servers.rasa_url, "10005")  # 刘洋, lead of 政企二部: no other test speaks as him
    try:
        term.wait_for("你：")
        term.type("荆楚农商行最近怎么样")
        shown = term.wait_for("你：", timeout=60)
        assert "助手：荆楚农商银行 · " in shown
        assert "回复数字选择：" in shown and "1. 拜访简报" in shown and "2. FABE话术" in shown
        assert all(width_of(line) <= COLUMNS for line in reply_lines(shown)), shown  # wrapped to the screen

        term.type("1")  # the first button, by number
        shown = term.wait_for("【CRM 事实】")
        assert "拜访简报" in shown
        term.wait_for("你：")

        note = "刚见完荆楚农商行的李行长 他们想上云桌面 下周五前给方案"
        term.type(note)
        shown = term.wait_for("你：")
        assert "助手：请确认这条拜访记录" in shown and "1. 保存" in shown
        term.type("保存")  # typed, not a number
        assert "已保存" in term.wait_for("你：")
        with session_scope(url) as s:
            assert s.execute(sql_select(func.count()).select_from(Visit).where(Visit.summary == note)).scalar() == 1

        term.type("/quit")
        assert term.proc.wait(20) == 0
    finally:
        term.close()


def test_wrap_counts_chinese_as_two_columns():
    assert width_of("华钢A") == 5
    assert wrap("华中钢铁集团有限公司", 7) == ["华中钢", "铁集团", "有限公", "司"]
    assert wrap("", 10) == [""]
