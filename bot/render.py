"""Rasa messages → chat-sized pieces, for every channel: long text split at line boundaries,
buttons laid out for a phone, numbered options where a channel has no buttons."""

from __future__ import annotations

from collections.abc import Callable


def utf8_len(text: str) -> int:
    return len(text.encode("utf-8"))


def _fits(line: str, limit: int, size: Callable[[str], int]) -> int:
    """The longest prefix of `line` (in characters) whose size is within `limit`."""
    lo, hi = 1, len(line)
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if size(line[:mid]) <= limit:
            lo = mid
        else:
            hi = mid - 1
    return lo


def split_text(text: str, limit: int, size: Callable[[str], int] = len) -> list[str]:
    """Split at line boundaries so that each part's `size` is within `limit`; a single over-long
    line is cut hard. Joining the parts with newlines gives the text back."""
    parts, current = [], ""
    for line in text.split("\n"):
        while size(line) > limit:
            if current:
                parts.append(current)
                current = ""
            cut = _fits(line, limit, size)
            parts.append(line[:cut])
            line = line[cut:]
        candidate = f"{current}\n{line}" if current else line
        if size(candidate) > limit:
            parts.append(current)
            current = line
        else:
            current = candidate
    if current or not parts:
        parts.append(current)
    return parts


def button_rows(buttons: list[dict]) -> list[list[dict]]:
    """At most 2–3 buttons a row on a phone: 3 for short lists of short titles, one a row for long
    titles, else 2."""
    titles = [b.get("title", "") for b in buttons]
    width = 3 if len(buttons) in (3, 5, 6) and all(len(t) <= 6 for t in titles) else 2
    if any(len(t) > 12 for t in titles):
        width = 1
    return [buttons[i:i + width] for i in range(0, len(buttons), width)]


def numbered(buttons: list[dict]) -> str:
    """Options to answer by number, for channels without buttons."""
    lines = [f"{i}. {b.get('title', '')}" for i, b in enumerate(buttons, 1)]
    return "回复数字选择：\n" + "\n".join(lines)
