"""The thin Rasa layer: tracker → who asks → one typed command → one handler → messages + slots."""

from __future__ import annotations

import asyncio
import logging
import threading
from datetime import date, datetime
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy.exc import DBAPIError, OperationalError

from actions.core.reply import Reply, Request, Turn
from actions.db.repositories import audit, manager_by_sender
from actions.db.session import session_scope
from actions.dialogue.dispatch import NOTE_COMMANDS, dispatch
from actions.services import common, security, visits
from actions.services.directory import CrmGazetteer
from actions.understanding import commands as c
from actions.understanding.router import Context, Utterance, understand
from actions.understanding.text import clean

log = logging.getLogger(__name__)
EXTERNAL_PREFIX = "EXTERNAL: "  # Rasa's text for an intent triggered over the HTTP API


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
        intents=tuple(
            (str(r.get("name")), float(r.get("confidence") or 0.0))
            for r in latest.get("intent_ranking") or []
            if isinstance(r, dict) and r.get("name")
        ),
    )


def actor_of(sender: str) -> str:
    """How an unbound sender appears in the audit log: tg:<id> for Telegram, wecom:<UserId> for WeCom."""
    return sender if ":" in sender else f"tg:{sender}"


def utterance_of(req: Request) -> Utterance:
    full = req.metadata.get("kam_full_text")
    text = full if isinstance(full, str) and full else req.text
    return Utterance(clean(text), req.intents, req.today, req.now)


def context_of(req: Request, role: str) -> Context:
    slots = req.slots
    cid = slots.get("customer_id")
    try:
        cid = int(cid) if cid else None
    except (TypeError, ValueError):
        cid = None
    note, edit, last = slots.get("pending_note"), slots.get("pending_edit"), slots.get("kam_context")
    return Context(
        customer_id=cid,
        pending_note=note if isinstance(note, dict) else None,
        pending_edit=edit if isinstance(edit, dict) else None,
        last=last if isinstance(last, dict) else {},
        role=role,
    )


# A conversation session longer than this starts afresh (slots carried over), so loading the
# tracker, sending it to this server and saving it cost the same on the hundredth message as on the
# first (Rasa's SQL tracker store reads every event of the current session on every message).
MAX_SESSION_EVENTS = 24


def emit(dispatcher: CollectingDispatcher, reply: Reply, tracker: Tracker | None = None) -> list[dict[str, Any]]:
    buttons = [{"title": b.title, "payload": b.payload} for b in reply.buttons]
    if reply.text:
        dispatcher.utter_message(text=reply.text, buttons=buttons or None)
    events: list[dict[str, Any]] = []
    if tracker is not None and len(tracker.events or []) > MAX_SESSION_EVENTS:
        from rasa_sdk.events import SessionStarted

        events.append(SessionStarted())
        kept = {k: v for k, v in tracker.slots.items() if v is not None and k not in reply.slots}
        events += [SlotSet(k, v) for k, v in kept.items()]
    return events + [SlotSet(k, v) for k, v in reply.slots.items()]


_warm = threading.Event()


def warm_up_in_background() -> None:
    """Load the note parser's libraries once, off the request path, on the first request the action
    server handles (never at import time): the first note of the day stays fast."""
    if _warm.is_set():
        return
    _warm.set()

    def load() -> None:
        try:
            from actions.core import notes

            notes._nlp()
        except Exception:  # noqa: BLE001 - a failed warm-up only means a slower first note
            log.warning("warm-up of the note extractor failed", exc_info=True)

    threading.Thread(target=load, name="kam-warm-up", daemon=True).start()


def handle(req: Request) -> Reply:
    """One message: identity, understanding, one handler; one unit of work; never an exception."""
    return run_turn(req)[1]


def run_turn(req: Request) -> tuple[c.Command | None, Reply]:
    """handle(), also returning the command it understood (for `make eval` and the logs)."""
    box: list[c.Command] = []
    reply = _run(req, box)
    return (box[0] if box else None), reply


def _run(req: Request, box: list) -> Reply:
    cmd: c.Command | None = None
    try:
        with session_scope() as session:
            problem = security.check_request(session, req)
            if problem:
                audit(session, actor_of(req.sender), "bad_signature", None, reason=problem)
                return Reply(security.REFUSAL)
            manager = manager_by_sender(session, req.sender)
            turn = Turn(session, manager, req.sender, req.today, req.now, req.slots)
            if req.intent == "daily_digest" and (req.text.startswith(EXTERNAL_PREFIX) or not req.text):
                cmd = c.Digest()
                if manager is None:
                    return Reply("")  # never push anything unsolicited to an unbound user
            elif manager is None:
                cmd = understand(utterance_of(req), context_of(req, "manager"), _NoNames())
                if not isinstance(cmd, c.Bind):
                    audit(session, actor_of(req.sender), "unbound", None, command=cmd.kind)
                    box.append(cmd)
                    return common.unbound_reply()
            else:
                cmd = understand(utterance_of(req), context_of(req, manager.role), CrmGazetteer(session, manager))
            log.info("command %s for sender=%s", cmd.kind, req.sender)
            box.append(cmd)
            return dispatch(turn, cmd)
    except (OperationalError, DBAPIError) as e:
        log.error("database error (sender=%s command=%s): %s", req.sender, cmd.kind if cmd else "-",
                  type(e.orig).__name__ if hasattr(e, "orig") else type(e).__name__)
        if cmd is None:  # not even understood: read it without the CRM's names, to keep a note
            try:
                cmd = understand(utterance_of(req), context_of(req, "manager"), _NoNames())
            except Exception:  # noqa: BLE001
                cmd = None
        box[:] = [cmd] if cmd else []
        if isinstance(cmd, NOTE_COMMANDS):
            return visits.db_down_reply(None, cmd, slots=req.slots, today=req.today)
        return Reply(common.DB_DOWN)
    except Exception:  # never a 500 and an empty reply: a clear answer, the details in the log
        log.exception("unexpected error (sender=%s command=%s)", req.sender, cmd.kind if cmd else "-")
        if isinstance(cmd, NOTE_COMMANDS):
            return visits.failed_reply(None, cmd, slots=req.slots, today=req.today)
        return Reply("抱歉，处理这条消息时出错了，已记录下来。请换个说法再试，或者稍后再问。")


class _NoNames:
    """An unbound sender sees no CRM names."""

    def resolve(self, text):
        from actions.core.resolver import Resolution

        return Resolution("not_found")

    def by_code(self, code):
        return self.resolve(code)

    def contacts_in(self, text, customer_id):
        return []

    def team_member_in(self, text):
        return ""

    def product_in(self, text):
        return ""


class KamAction(Action):
    """The one custom action: every message goes through the same understanding stage."""

    def name(self) -> str:
        return "action_kam"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict) -> list[dict]:
        warm_up_in_background()
        req = request_from(tracker)
        reply = await asyncio.to_thread(handle, req)
        return emit(dispatcher, reply, tracker)
