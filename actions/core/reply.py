"""What a handler receives and returns: plain data, no Rasa types."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, datetime


@dataclass
class Request:
    sender: str
    text: str
    intent: str = ""
    entities: dict[str, list[str]] = field(default_factory=dict)
    slots: dict = field(default_factory=dict)
    metadata: dict = field(default_factory=dict)
    today: date = field(default_factory=date.today)
    now: datetime = field(default_factory=datetime.now)

    def entity(self, name: str) -> str | None:
        values = self.entities.get(name) or []
        return values[0] if values else None

    @property
    def is_payload(self) -> bool:
        return self.text.startswith("/")

    @property
    def free_text(self) -> str:
        """The typed text; empty for a button payload such as /visit_brief."""
        return "" if self.is_payload else self.text


@dataclass
class Button:
    title: str
    payload: str


def payload(intent: str, **entities) -> str:
    clean = {k: v for k, v in entities.items() if v}
    return f"/{intent}" + (json.dumps(clean, ensure_ascii=False) if clean else "")


@dataclass
class Reply:
    text: str
    buttons: list[Button] = field(default_factory=list)
    slots: dict = field(default_factory=dict)  # slot name -> new value (None clears)
