"""The thin Rasa layer: tracker → Request → handler (plain Python) → messages + slot events."""

from __future__ import annotations

import asyncio
import logging
import threading
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
        today=date.today(),
        now=datetime.now(),
    )


def emit(dispatcher: CollectingDispatcher, reply: Reply) -> list[dict[str, Any]]:
    buttons = [{"title": b.title, "payload": b.payload} for b in reply.buttons]
    if reply.text:
        dispatcher.utter_message(text=reply.text, buttons=buttons or None)
    return [SlotSet(k, v) for k, v in reply.slots.items()]


_warm = threading.Event()


def warm_up_in_background() -> None:
    """Load spaCy/jieba/jionlp for visit notes once, off the request path, on the first request
    the action server handles (never at import time): the first note of the day stays fast."""
    if _warm.is_set():
        return
    _warm.set()

    def load() -> None:
        try:
            from actions.core import dates, notes

            notes._nlp()
            dates._jio()
        except Exception:  # noqa: BLE001 - a failed warm-up only means a slower first note
            log.warning("warm-up of the note extractor failed", exc_info=True)

    threading.Thread(target=load, name="kam-warm-up", daemon=True).start()


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

    def on_unexpected(self, req: Request) -> Reply:
        return Reply("抱歉，处理这条消息时出错了，已记录下来。请换个说法再试，或者稍后再问。")

    def _run_sync(self, req: Request) -> Reply:
        try:
            with session_scope() as session:
                problem = security.check_request(session, req)
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
        except Exception:  # never a 500 and an empty reply: a clear answer, the details in the log
            log.exception("unexpected error in %s (sender=%s intent=%s)", self.action_name, req.sender, req.intent)
            return self.on_unexpected(req)

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict) -> list[dict]:
        warm_up_in_background()
        req = request_from(tracker)
        reply = await asyncio.to_thread(self._run_sync, req)
        return emit(dispatcher, reply)
