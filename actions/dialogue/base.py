"""The thin Rasa layer: tracker → Request → handler (plain Python) → messages + slot events."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import date, datetime
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy.exc import DBAPIError, OperationalError

from actions.core.reply import Reply, Request
from actions.db.repositories import audit, manager_by_sender
from actions.db.session import session_scope
from actions.services import common, security

log = logging.getLogger(__name__)

Handler = Callable[..., Reply]


def request_from(tracker: Tracker) -> Request:
    latest = tracker.latest_message or {}
    entities: dict[str, list[str]] = {}
    for e in latest.get("entities") or []:
        value = e.get("value")
        if isinstance(value, str) and value:
            entities.setdefault(e.get("entity", ""), []).append(value)
    metadata = latest.get("metadata") or {}
    return Request(
        sender=str(tracker.sender_id),
        text=latest.get("text") or "",
        intent=(latest.get("intent") or {}).get("name") or "",
        entities=entities,
        slots=dict(tracker.slots),
        metadata=metadata if isinstance(metadata, dict) else {},
        message_id=str(metadata.get("message_id")) if isinstance(metadata, dict) and metadata.get("message_id") else None,
        today=date.today(),
        now=datetime.now(),
    )


def emit(dispatcher: CollectingDispatcher, reply: Reply) -> list[dict[str, Any]]:
    buttons = [{"title": b.title, "payload": b.payload} for b in reply.buttons]
    if reply.text:
        dispatcher.utter_message(text=reply.text, buttons=buttons or None)
    return [SlotSet(k, v) for k, v in reply.slots.items()]


class KamAction(Action):
    """Base: identity first; the handler runs in a worker thread with one DB session."""

    action_name = ""
    requires_manager = True
    db_error_reply = common.DB_DOWN

    def name(self) -> str:
        return self.action_name

    def handle(self, session, manager, req: Request) -> Reply:  # pragma: no cover - abstract
        raise NotImplementedError

    def on_db_error(self, req: Request) -> Reply:
        return Reply(self.db_error_reply)

    def _run_sync(self, req: Request) -> Reply:
        try:
            with session_scope() as session:
                problem = security.check_request(req)
                if problem:
                    audit(session, f"tg:{req.sender}", "bad_signature", None, reason=problem)
                    return Reply(security.REFUSAL)
                manager = manager_by_sender(session, req.sender)
                if manager is None and self.requires_manager:
                    audit(session, f"tg:{req.sender}", "unbound", None, intent=req.intent)
                    if req.intent == "daily_digest":
                        return Reply("")  # never push anything unsolicited to an unbound user
                    return common.unbound_reply(req)
                return self.handle(session, manager, req)
        except (OperationalError, DBAPIError) as e:
            log.error(
                "database error in %s (sender=%s intent=%s): %s",
                self.action_name, req.sender, req.intent, type(e.orig).__name__ if hasattr(e, "orig") else e,
            )
            return self.on_db_error(req)

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict) -> list[dict]:
        req = request_from(tracker)
        reply = await asyncio.to_thread(self._run_sync, req)
        return emit(dispatcher, reply)
