"""Rasa messages → Telegram messages: escaped HTML, phone-sized keyboards, 4,096-character parts."""

from __future__ import annotations

import html

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

TELEGRAM_LIMIT = 4096
SAFE_LIMIT = 4000  # room for escaping differences


def split_text(text: str, limit: int = SAFE_LIMIT) -> list[str]:
    """Split at line boundaries; a single over-long line is cut hard."""
    parts, current = [], ""
    for line in text.split("\n"):
        while len(line) > limit:
            if current:
                parts.append(current)
                current = ""
            parts.append(line[:limit])
            line = line[limit:]
        candidate = f"{current}\n{line}" if current else line
        if len(candidate) > limit:
            parts.append(current)
            current = line
        else:
            current = candidate
    if current or not parts:
        parts.append(current)
    return parts


def as_html(text: str, bold_first: bool = True) -> str:
    """Every value from Rasa is escaped; the first line (the customer's name) is bold unless
    this is a continuation part of a split message."""
    first, sep, rest = text.partition("\n")
    if bold_first and first:
        return f"<b>{html.escape(first)}</b>{sep}{html.escape(rest)}"
    return html.escape(text)


def per_row(n: int) -> int:
    """At most 2–3 buttons a row on a phone: 3 for short lists of short titles, else 2."""
    return 3 if n in (3, 5, 6) else 2


def keyboard(buttons: list[dict], store) -> InlineKeyboardMarkup | None:
    """`store(payload) -> key` keeps payloads server-side (callback_data is limited to 64 bytes)."""
    if not buttons:
        return None
    width = per_row(len(buttons)) if all(len(b.get("title", "")) <= 6 for b in buttons) else 2
    if any(len(b.get("title", "")) > 12 for b in buttons):
        width = 1
    rows, row = [], []
    for b in buttons:
        row.append(InlineKeyboardButton(b.get("title", "")[:40], callback_data=store(b.get("payload", ""))))
        if len(row) == width:
            rows.append(row)
            row = []
    if row:
        rows.append(row)
    return InlineKeyboardMarkup(rows)
