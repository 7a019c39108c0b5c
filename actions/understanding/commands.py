"""What the manager meant, as one typed command per message (cf. cosmicpython's domain/commands.py).

The understanding stage (actions.understanding.router) builds exactly one of these from the intent
ranking, the CRM's names, the text's cues and the conversation's context; the dispatcher
(actions.dialogue.dispatch) hands it to exactly one handler. Handlers read these fields, never the
raw text. Plain data: nothing here imports Rasa or the database.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

ASPECTS = (
    "overview", "tier", "stage", "spend", "tickets", "contacts", "person", "last_visit", "contract",
    "products", "risks",
)
WARNINGS = ("spend_drop", "contract", "ticket", "not_visited", "competitor", "any")


@dataclass(frozen=True)
class CustomerRef:
    """Which customer a command is about, as far as understanding could tell.

    status: found (id) | ambiguous (candidates to choose from) | unknown (a name that is not a
    visible customer: answered exactly like one that does not exist) | ask (none given, none in
    the conversation) | none (the command does not need one).
    """

    status: str = "none"
    id: int | None = None
    candidates: tuple[int, ...] = ()
    typed: str = ""
    hidden: tuple[int, ...] = ()  # other managers' customers that matched: audited, never shown
    source: str = ""  # text | context | button | note

    @property
    def found(self) -> bool:
        return self.status == "found"


NO_CUSTOMER = CustomerRef()
ASK_CUSTOMER = CustomerRef("ask")


class Command:
    """Base of every command; `kind` names it in logs, the audit trail and the eval report."""

    kind = "command"
    writes = False  # only note and edit commands may lead to a CRM write

    def describe(self) -> dict:
        out = {"kind": self.kind}
        for k, v in vars(self).items():
            if k == "text":
                continue  # message text never goes to logs
            if isinstance(v, CustomerRef):
                out[k] = {"status": v.status, "id": v.id}
            elif v not in (None, "", (), False):
                out[k] = v if isinstance(v, str | int | float | bool) else str(v)
        return out


@dataclass(frozen=True)
class Greet(Command):
    kind = "greet"


@dataclass(frozen=True)
class Thanks(Command):
    kind = "thanks"


@dataclass(frozen=True)
class Goodbye(Command):
    kind = "goodbye"


@dataclass(frozen=True)
class Help(Command):
    kind = "help"


@dataclass(frozen=True)
class OutOfScope(Command):
    kind = "out_of_scope"
    topic: str = ""


@dataclass(frozen=True)
class Unclear(Command):
    """Sounds like work, but not clear enough to act on: ask, never guess."""

    kind = "unclear"


@dataclass(frozen=True)
class Bind(Command):
    kind = "bind"
    code: str = ""


@dataclass(frozen=True)
class LookUp(Command):
    kind = "lookup"
    customer: CustomerRef = NO_CUSTOMER
    aspect: str = "overview"
    person: str = ""  # aspect "person": the contact asked about
    also: tuple[str, ...] = ()  # more aspects asked in the same message (华钢级别 合同)


@dataclass(frozen=True)
class Brief(Command):
    kind = "brief"
    customer: CustomerRef = NO_CUSTOMER


@dataclass(frozen=True)
class Portfolio(Command):
    kind = "portfolio"
    tier: str = ""  # 中文 tier name
    stage: str = ""  # lifecycle key
    industry: str = ""
    warning: str = ""  # one of WARNINGS, or "" for no warning filter
    manager: str = ""  # a lead asking about one manager (name)
    by_manager: bool = False  # a lead asking who has the most
    count: bool = False


@dataclass(frozen=True)
class Policy(Command):
    kind = "policy"
    topic: str = "tier"  # tier | entitlement | cadence | stage | importance | spend_to_tier | discount_authority
    tier: str = ""
    stage: str = ""
    amount: float | None = None
    discount: float | None = None


@dataclass(frozen=True)
class Fabe(Command):
    kind = "fabe"
    customer: CustomerRef = NO_CUSTOMER
    product: str = ""  # catalog code
    industry: str = ""


@dataclass(frozen=True)
class Spin(Command):
    kind = "spin"
    customer: CustomerRef = NO_CUSTOMER
    role: str = ""  # CUTE role key
    person: str = ""


@dataclass(frozen=True)
class Offer(Command):
    kind = "offer"
    customer: CustomerRef = NO_CUSTOMER
    tier: str = ""
    discount: float | None = None


@dataclass(frozen=True)
class NoteDraft(Command):
    """A visit note to put on a confirmation card (nothing is written until Confirm)."""

    kind = "note"
    writes = True
    text: str = ""
    customer: CustomerRef = NO_CUSTOMER
    written_on: date | None = None
    append: bool = False  # more text for the note that waits for 保存


@dataclass(frozen=True)
class NoteAddition(NoteDraft):
    """More for the note that waits for 保存 (再补一句 他们要先看演示): the card is drawn again from
    the whole text; an edit of the waiting note, so its kind is `edit`."""

    kind = "edit"
    append: bool = True


@dataclass(frozen=True)
class NoteRedraft(NoteDraft):
    """The note that waits for 保存, drawn again for the customer the manager says it is about
    (写错了 不是证券 是嘉和大酒店): an edit of the waiting note."""

    kind = "edit"


@dataclass(frozen=True)
class Change:
    """A correction to a visit note; only the fields that are set change."""

    delete: bool = False
    visit_date: date | None = None
    follow_up: date | None = None
    clear_follow_up: bool = False
    next_step: str | None = None
    people: tuple[tuple[str, str], ...] | None = None  # (name, title): replaces who was met
    not_met: tuple[str, ...] = ()  # names to take off 见
    add_people: tuple[tuple[str, str], ...] = ()  # (name, title) also met
    products: tuple[str, ...] | None = None

    def empty(self) -> bool:
        return self == Change()


@dataclass(frozen=True)
class NoteEdit(Command):
    kind = "edit"
    writes = True
    change: Change = field(default_factory=Change)
    target: str = "latest"  # pending | latest | visit
    visit_id: int | None = None


@dataclass(frozen=True)
class Confirm(Command):
    kind = "confirm"
    writes = True


@dataclass(frozen=True)
class Cancel(Command):
    kind = "cancel"


@dataclass(frozen=True)
class Retry(Command):
    kind = "retry"
    writes = True


@dataclass(frozen=True)
class Period:
    start: date
    end: date
    label: str


@dataclass(frozen=True)
class ListVisits(Command):
    kind = "visits"
    customer: CustomerRef = NO_CUSTOMER
    period: Period | None = None


@dataclass(frozen=True)
class ShowVisit(Command):
    """One saved note, picked by a button, with what can be done to it."""

    kind = "show_visit"
    visit_id: int = 0


@dataclass(frozen=True)
class FollowUps(Command):
    kind = "followups"
    state: str = "open"  # open | overdue | done
    period: Period | None = None
    by_manager: bool = False  # a lead: whose are most overdue


@dataclass(frozen=True)
class CloseFollowUp(Command):
    kind = "followup_close"
    writes = True
    customer: CustomerRef = NO_CUSTOMER
    visit_id: int | None = None
    what: str = ""
    confirmed: bool = False  # a tapped button that names the item: no second question
    deliverables: tuple[str, ...] = ()  # 报价, 方案 …: which open follow-up is meant, when there are several


@dataclass(frozen=True)
class MoveFollowUp(Command):
    kind = "followup_move"
    writes = True
    customer: CustomerRef = NO_CUSTOMER
    visit_id: int | None = None
    to: date | None = None
    shift_days: int = 0  # 延后一周: counted from the current follow-up date
    confirmed: bool = False
    deliverables: tuple[str, ...] = ()


@dataclass(frozen=True)
class DropFollowUp(Command):
    kind = "followup_drop"
    writes = True
    customer: CustomerRef = NO_CUSTOMER
    visit_id: int | None = None
    reason: str = ""
    confirmed: bool = False
    deliverables: tuple[str, ...] = ()


@dataclass(frozen=True)
class Undo(Command):
    kind = "undo"
    writes = True


@dataclass(frozen=True)
class Digest(Command):
    kind = "digest"
