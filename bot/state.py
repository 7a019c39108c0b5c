"""The front ends' own state, in a small SQLite file (var/bot.db, or BOT_STATE_DB) that both
channels share: who has written (for the digest), button payloads, messages kept for 重发, the
numbered options last offered, and delivery ids already handled. The bot has no CRM access by
design; nothing here is business data."""

from __future__ import annotations

import json
import logging
import pickle
import sqlite3
import threading
import time
from pathlib import Path

log = logging.getLogger(__name__)

MAX_PAYLOADS = 5000  # older button keys are forgotten: a tap on them is answered "expired"
KEEP_SEEN = 86400.0  # delivery ids remembered for a day (WeCom retries within seconds)

SCHEMA = """
CREATE TABLE IF NOT EXISTS users (channel TEXT NOT NULL, user_id TEXT NOT NULL, since REAL NOT NULL,
                                  PRIMARY KEY (channel, user_id));
CREATE TABLE IF NOT EXISTS payloads (id INTEGER PRIMARY KEY AUTOINCREMENT, payload TEXT NOT NULL,
                                     title TEXT NOT NULL DEFAULT '');
CREATE TABLE IF NOT EXISTS pending (channel TEXT NOT NULL, user_id TEXT NOT NULL, text TEXT NOT NULL,
                                    at REAL NOT NULL, PRIMARY KEY (channel, user_id));
CREATE TABLE IF NOT EXISTS options (channel TEXT NOT NULL, user_id TEXT NOT NULL, payloads TEXT NOT NULL,
                                    PRIMARY KEY (channel, user_id));
CREATE TABLE IF NOT EXISTS seen (channel TEXT NOT NULL, delivery_id TEXT NOT NULL, at REAL NOT NULL,
                                 PRIMARY KEY (channel, delivery_id));
"""


class State:
    def __init__(self, path: str):
        if path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(path, timeout=10, isolation_level=None, check_same_thread=False)
        self._lock = threading.Lock()
        self._pruned = 0.0
        with self._lock:
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.executescript(SCHEMA)

    def _run(self, sql: str, params: tuple = ()) -> sqlite3.Cursor:
        with self._lock:
            return self._db.execute(sql, params)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    # ------------------------------------------------------------ users (digest)
    def add_user(self, channel: str, user: str) -> None:
        self._run("INSERT OR IGNORE INTO users VALUES (?, ?, ?)", (channel, user, time.time()))

    def users(self, channel: str) -> list[str]:
        rows = self._run("SELECT user_id FROM users WHERE channel = ? ORDER BY user_id", (channel,))
        return [r[0] for r in rows.fetchall()]

    # ------------------------------------------------------------ button payloads
    def store_payload(self, payload: str, title: str = "") -> str:
        """A short key for a button (Telegram's callback data holds 64 bytes)."""
        row_id = self._run("INSERT INTO payloads (payload, title) VALUES (?, ?)", (payload, title)).lastrowid
        if row_id % 100 == 0:
            self._run("DELETE FROM payloads WHERE id <= ?", (row_id - MAX_PAYLOADS,))
        return f"b:{row_id}"

    def payload(self, key: str) -> tuple[str, str] | None:
        """(payload, title) of a button key; None when unknown or forgotten."""
        if not key.startswith("b:") or not key[2:].isdigit():
            return None
        row = self._run("SELECT payload, title FROM payloads WHERE id = ?", (int(key[2:]),)).fetchone()
        return (row[0], row[1]) if row else None

    # ------------------------------------------------------------ kept for 重发
    def keep_pending(self, channel: str, user: str, text: str) -> None:
        self._run("INSERT OR REPLACE INTO pending VALUES (?, ?, ?, ?)", (channel, user, text, time.time()))

    def pending(self, channel: str, user: str) -> str | None:
        row = self._run("SELECT text FROM pending WHERE channel = ? AND user_id = ?", (channel, user)).fetchone()
        return row[0] if row else None

    def clear_pending(self, channel: str, user: str) -> None:
        self._run("DELETE FROM pending WHERE channel = ? AND user_id = ?", (channel, user))

    # ------------------------------------------------------------ numbered options
    def set_options(self, channel: str, user: str, payloads: list[str]) -> None:
        if payloads:
            self._run("INSERT OR REPLACE INTO options VALUES (?, ?, ?)", (channel, user, json.dumps(payloads)))
        else:
            self._run("DELETE FROM options WHERE channel = ? AND user_id = ?", (channel, user))

    def option(self, channel: str, user: str, text: str) -> str | None:
        """The payload of option `text` ("1", "2", …) last offered to this user, if any."""
        text = text.strip()
        if not text.isdigit() or len(text) > 2:
            return None
        row = self._run("SELECT payloads FROM options WHERE channel = ? AND user_id = ?", (channel, user)).fetchone()
        payloads = json.loads(row[0]) if row else []
        n = int(text)
        return payloads[n - 1] if 1 <= n <= len(payloads) else None

    # ------------------------------------------------------------ deliveries handled
    def first_delivery(self, channel: str, delivery_id: str) -> bool:
        """True the first time a delivery id is seen (a retried delivery returns False)."""
        now = time.time()
        added = self._run("INSERT OR IGNORE INTO seen VALUES (?, ?, ?)", (channel, delivery_id, now)).rowcount
        if added and now - self._pruned > 3600:
            self._pruned = now
            self._run("DELETE FROM seen WHERE at < ?", (now - KEEP_SEEN,))
        return bool(added)

    # ------------------------------------------------------------ the old pickle
    def import_legacy_pickle(self, path: str, channel: str = "telegram") -> int:
        """Known users and kept messages from the former PicklePersistence file, once; the file is
        then renamed to *.imported. Returns the number of users imported."""
        file = Path(path)
        if not file.is_file():
            return 0
        try:
            with file.open("rb") as fh:
                data = pickle.load(fh)  # noqa: S301 - the bot's own file, written by PicklePersistence
            users = {str(u) for u in (data.get("bot_data") or {}).get("users", set())}
            for user in users:
                self.add_user(channel, user)
            for user, user_data in (data.get("user_data") or {}).items():
                pending = (user_data or {}).get("pending")
                if pending and pending.get("text"):
                    self.keep_pending(channel, str(user), pending["text"])
        except Exception:  # noqa: BLE001 - an unreadable old file must not stop the bot
            log.warning("could not import the old state file %s", path, exc_info=True)
            return 0
        file.rename(file.with_name(file.name + ".imported"))
        log.info("imported %d users from %s", len(users), path)
        return len(users)
