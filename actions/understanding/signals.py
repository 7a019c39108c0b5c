"""What a message says, before deciding what it means: the customer it names, cue words, numbers.

Everything here reads the text once; the router (actions.understanding.router) only combines.
The CRM's names come in through a `Gazetteer` (built by the action layer over the live CRM and the
manager's visibility), so this module stays free of Rasa and of the database.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Protocol

from actions.core.numbers import amount_yuan, discount_pct
from actions.core.resolver import Resolution
from actions.understanding import lexicon as lx
from actions.understanding.text import cue_form

MASK = "Ⓒ"  # stands where the customer's name was, so the name is never read as a cue


class Gazetteer(Protocol):
    """The CRM names understanding may use, already limited to what this manager may see."""

    def resolve(self, text: str) -> Resolution: ...

    def by_code(self, code: str) -> Resolution:
        """A customer by its CRM code (from a button), with the same visibility rule."""
        ...

    def contacts_in(self, text: str, customer_id: int | None) -> list[tuple[str, str, int]]:
        """(contact name, title, customer id) for contacts of visible customers named in the text,
        by full name, or by surname + title among the given customer's contacts."""
        ...

    def team_member_in(self, text: str) -> str:
        """For a lead: the name of a manager of the team named in the text, else ""."""
        ...

    def product_in(self, text: str) -> str:
        """The catalog code of the product named in the text (longest alias), else ""."""
        ...


@dataclass
class Signals:
    text: str  # the cue form of the message
    rest: str  # the cue form with the customer's name masked
    resolution: Resolution
    contacts: list[tuple[str, str, int]] = field(default_factory=list)
    pronoun: bool = False
    aspects: list[str] = field(default_factory=list)  # in the order of ASPECT_PATTERNS, "person_q" included
    product: str = ""
    tier: str = ""
    stage: str = ""
    industry: str = ""
    warnings: list[str] = field(default_factory=list)
    discount: float | None = None
    amount: float | None = None
    team_member: str = ""
    cues: set[str] = field(default_factory=set)  # brief fabe spin offer visits followups close move drop edit ...
    note_score: int = 0
    question: bool = False
    ood: bool = False
    crm_words: bool = False
    person_title: bool = False

    @property
    def names_customer(self) -> bool:
        return self.resolution.status in ("found", "ambiguous", "forbidden")

    def has(self, *cues: str) -> bool:
        return any(c in self.cues for c in cues)


CUE_PATTERNS = (
    ("brief", lx.BRIEF), ("fabe", lx.FABE), ("spin", lx.SPIN), ("offer", lx.OFFER), ("visits", lx.VISITS),
    ("followups", lx.FOLLOWUPS), ("close", lx.CLOSE), ("move", lx.MOVE), ("drop", lx.DROP), ("edit", lx.EDIT),
    ("note_ref", lx.NOTE_REF), ("delete", lx.DELETE), ("portfolio", lx.PORTFOLIO), ("policy", lx.POLICY),
    ("help", lx.HELP), ("by_manager", lx.LEAD_BY_MANAGER),
)


def read(text: str, gaz: Gazetteer, context_customer: int | None = None) -> Signals:
    t = cue_form(text)
    res = gaz.resolve(text)
    rest = t
    if res.matched and res.status != "not_found":
        rest = t.replace(res.matched, MASK) if res.matched in t else t
    s = Signals(text=t, rest=rest, resolution=res)
    s.contacts = gaz.contacts_in(text, res.id if res.status == "found" else context_customer)
    s.pronoun = bool(lx.PRONOUN.search(rest))
    s.aspects = [name for name, pattern in lx.ASPECT_PATTERNS if pattern.search(rest)]
    s.product = gaz.product_in(rest.replace(MASK, " "))
    s.tier = next((z for z in lx.TIERS if re.search(
        rf"{z}\s*(客户|级|类|档|等级|户|的客户|和|与|跟|还是|或|and|or|vs|customer|level|几个|几家|多少|有哪些|呢|标准|权益|待遇|门槛)"
        rf"|(和|与|跟|还是|或|and|or|vs|是)\s*{z}|{z}级?的(?=有|都|呢|多久|要|得|客户|几)|{z}(?=能|可以|享受|享有|有没有|有啥|有什么)"
        rf"|(几家|几个|多少家?|哪些|哪几家)\s*{z}", rest)), "")
    s.stage = next((k for k, p in lx.STAGE_WORDS if p.search(rest)), "")
    s.industry = next((k for k, p in lx.INDUSTRY_WORDS if p.search(rest)), "")
    s.warnings = [k for k, p in lx.WARNING_WORDS if p.search(rest)]
    s.discount = discount_pct(rest)
    s.amount = amount_yuan(rest)
    s.team_member = gaz.team_member_in(rest)
    if s.team_member and s.pronoun:  # 王芳那边有竞争对手的客户: 那边 is the manager's, not a customer
        s.pronoun = bool(lx.PRONOUN.search(re.sub(rf"{re.escape(s.team_member)}(那边|那里|手上|手里|名下|这边)", "", rest)))
    s.cues = {name for name, p in CUE_PATTERNS if p.search(rest)}
    if "几折" in rest or "多少折" in rest or "折扣" in rest:
        s.cues.add("discount_q")
    s.question = bool(lx.QUESTION.search(rest))
    if len(rest) > 40:  # a long account: 减几个会议室 inside it asks nothing; only a question mark or 吗 at the end does
        s.question = bool(re.search(r"[?？]|[吗呢][?？。!！]?$", rest))
    s.person_title = bool(lx.PERSON_TITLE.search(rest)) or bool(s.contacts)
    s.note_score = _note_score(s)
    s.ood = bool(lx.OOD.search(rest))
    s.crm_words = bool(lx.CRM_WORDS.search(rest))
    return s


def _note_score(s: Signals) -> int:
    """How much the message reads like an account of a visit (0–5)."""
    rest = s.rest
    score = 0
    met = bool(lx.NOTE_MEETING.search(rest))
    promised = bool(lx.NOTE_PROMISE.search(rest))
    if met:
        score += 2
    if lx.NOTE_SPEECH.search(rest):
        score += 1
    if promised:
        score += 1
    if lx.NOTE_TIME.search(rest):
        score += 1
    if s.person_title:
        score += 1
    if len(rest) >= 25:
        score += 1
    if s.question and len(rest) < 25:
        score -= 1 if met and promised else 2  # 主要聊视频会议 几个厂区开会用 周五前演示: 几个 counts, asks nothing
    return max(score, 0)
