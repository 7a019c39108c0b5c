"""The dispatcher: one handler per command type (cf. cosmicpython's service_layer/messagebus.py).

Handlers take (Turn, command) and return a Reply; they never read the raw text and never call each
other. What every turn shares happens here, around the handler: a note waiting for 保存 is never
dropped silently (the reply says it still waits), and what the next message may refer to is
remembered in the `kam_context` slot.
"""

from __future__ import annotations

from collections.abc import Callable

from actions.core.reply import Reply, Turn
from actions.services import chitchat, coaching, customers, followups, visits
from actions.understanding import commands as c

HANDLERS: dict[type, Callable[[Turn, c.Command], Reply]] = {
    c.Greet: chitchat.greet,
    c.Thanks: chitchat.thanks,
    c.Goodbye: chitchat.goodbye,
    c.Help: chitchat.help_,
    c.OutOfScope: chitchat.out_of_scope,
    c.Unclear: chitchat.unclear,
    c.Bind: chitchat.bind,
    c.LookUp: customers.look_up,
    c.Brief: customers.brief,
    c.Portfolio: customers.portfolio,
    c.Policy: customers.policy,
    c.Fabe: coaching.fabe,
    c.Spin: coaching.spin,
    c.Offer: coaching.offer,
    c.NoteDraft: visits.draft,
    c.NoteAddition: visits.draft,
    c.NoteRedraft: visits.draft,
    c.NoteEdit: visits.edit,
    c.Confirm: visits.confirm,
    c.Cancel: visits.cancel,
    c.Retry: visits.retry,
    c.Undo: visits.undo,
    c.ListVisits: visits.list_visits,
    c.ShowVisit: visits.show_visit,
    c.FollowUps: followups.followups,
    c.CloseFollowUp: followups.close,
    c.MoveFollowUp: followups.move,
    c.DropFollowUp: followups.drop,
    c.Digest: followups.digest,
}
# Commands that act on the note waiting for 保存 (every other command leaves it waiting).
NOTE_COMMANDS = (c.NoteDraft, c.NoteEdit, c.Confirm, c.Cancel, c.Retry)
REMEMBERED = ("aspect", "discount", "product")


def dispatch(turn: Turn, cmd: c.Command) -> Reply:
    waiting_before = _waiting_note(turn.slots)
    reply = HANDLERS[type(cmd)](turn, cmd)
    if waiting_before and not isinstance(cmd, NOTE_COMMANDS) and "pending_note" not in reply.slots:
        reply = _remind(reply)
    reply.slots["kam_context"] = _context(turn, cmd, reply)
    return reply


def _waiting_note(slots: dict) -> bool:
    p = slots.get("pending_note")
    return isinstance(p, dict) and not p.get("unparsed")


def _remind(reply: Reply) -> Reply:
    """The manager asked something else while a note waits: answer, and say the note still waits."""
    text = (reply.text + "\n\n" if reply.text else "") + "（刚才那条拜访记录还没保存：点「保存」存下，或「取消」。）"
    titles = {b.title for b in reply.buttons}
    buttons = list(reply.buttons) + [b for b in visits.CONFIRM_BUTTONS if b.title not in titles]
    return Reply(text, buttons[:8], reply.slots, reply.context)


def _context(turn: Turn, cmd: c.Command, reply: Reply) -> dict:
    """What the next message may refer to: the last command's kind and parameters, an open question,
    the note or follow-up in focus, and the last write (for 撤销)."""
    previous = turn.context
    ctx: dict = {"kind": cmd.kind}
    for key in REMEMBERED:
        value = getattr(cmd, key, None)
        if value not in (None, "", "overview"):
            ctx[key] = value
    if isinstance(cmd, c.Portfolio):
        ctx["filters"] = {k: getattr(cmd, k) for k in ("tier", "stage", "industry", "warning", "manager") if getattr(cmd, k)}
    if isinstance(cmd, c.LookUp) and cmd.aspect == "person":
        ctx["aspect"] = "person"
    if isinstance(cmd, c.Policy):
        ctx["topic"] = cmd.topic
    if isinstance(cmd, c.Offer | c.Policy) and cmd.discount is None and previous.get("discount") is not None:
        ctx.setdefault("discount", previous["discount"])
    undo = previous.get("undo")
    if undo:
        ctx["undo"] = undo
    if previous.get("visit_id") and isinstance(cmd, c.Confirm | c.Cancel | c.Undo):
        ctx["visit_id"] = previous["visit_id"]
    for key, value in reply.context.items():
        if value is None:
            ctx.pop(key, None)
        else:
            ctx[key] = value
    return ctx
