"""What the action layer and the handlers exchange: plain data, no Rasa types.

`Request`: the message as it arrived (for the door: identity, signature). `Turn`: what a handler gets
besides its typed command (the unit of work, who asks, the day, the conversation's slots).
`Reply`: what the manager sees, the slots to set and the context to remember.
"""

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
    intents: tuple[tuple[str, float], ...] = ()  # the classifier's ranking, best first

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
    context: dict = field(default_factory=dict)  # what the next message may refer to (kam_context)


@dataclass
class Turn:
    """Everything a handler may use besides its command. Handlers never see the raw text."""

    session: object  # sqlalchemy.orm.Session: one unit of work per message
    manager: object  # actions.db.models.Manager, or None when not bound
    sender: str
    today: date
    now: datetime
    slots: dict = field(default_factory=dict)

    @property
    def pending_note(self) -> dict | None:
        p = self.slots.get("pending_note")
        return p if isinstance(p, dict) else None

    @property
    def pending_change(self) -> dict | None:
        p = self.slots.get("pending_edit")
        return p if isinstance(p, dict) else None

    @property
    def context(self) -> dict:
        c = self.slots.get("kam_context")
        return c if isinstance(c, dict) else {}
