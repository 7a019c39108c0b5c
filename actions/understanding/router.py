"""One understanding stage: a message in its context becomes exactly one typed command.

Inputs: the text (cleaned), the classifier's intent ranking, the CRM's names (via a Gazetteer that
only sees what this manager may see) and the conversation's context (current customer, a note or an
edit waiting for 保存, what was asked last). The rules below are ordered; the first that applies
wins. They are tested as a table in tests/test_understanding.py (message + context → command).

Principles:
- the CRM's own names are the strongest signal: a visible customer named in a message is about that
  customer, whatever the classifier thought;
- a CRM write (note, edit, follow-up change) needs its own evidence in the text, never the
  classifier alone; out-of-domain text never becomes a note, an edit or a customer question;
- when unsure, ask or decline; never guess a customer.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from functools import cached_property

from actions.core.resolver import normalize
from actions.understanding import commands as c
from actions.understanding import lexicon as lx
from actions.understanding.edits import parse_edit
from actions.understanding.periods import period_in
from actions.understanding.signals import MASK, Gazetteer, Signals, read
from actions.understanding.text import UNDERSTAND_MAX_CHARS, clean, cue_form

DOMAIN_INTENTS = {
    "customer_status", "visit_brief", "portfolio_alerts", "tier_policy", "fabe_pitch", "spin_questions",
    "bundle_offer", "log_visit", "list_visits", "edit_visit", "my_followups", "followup_done", "followup_move",
    "followup_drop",
}
ASPECT_ZH = {
    "消费": "spend", "合同": "contract", "投诉": "tickets", "联系人": "contacts", "产品": "products", "拜访": "last_visit",
    "等级": "tier", "风险": "risks", "阶段": "stage",
}
# After a weak (two-character brand) match, these characters mean the name goes on (江城农商: another
# organisation, so ask before taking 江城商业银行).
_NAME_GOES_ON = set("农商银医学职中小大酒宾饭科电集公股实贸物快网超管政税证保度村钢机供连口妇外国第信实电化能源建工师范院校")


@dataclass(frozen=True)
class Utterance:
    text: str  # what the manager typed, cleaned (control characters removed)
    intents: tuple[tuple[str, float], ...] = ()  # the classifier's ranking, best first
    today: date = field(default_factory=date.today)
    now: datetime = field(default_factory=datetime.now)

    @property
    def top(self) -> tuple[str, float]:
        return self.intents[0] if self.intents else ("", 0.0)

    def p(self, *intents: str) -> float:
        return sum(conf for name, conf in self.intents if name in intents)


@dataclass(frozen=True)
class Context:
    customer_id: int | None = None  # the customer the conversation is about
    pending_note: dict | None = None  # a note waiting for 保存 (or for its customer: "unparsed")
    pending_edit: dict | None = None  # a change waiting for 确认
    last: dict = field(default_factory=dict)  # the previous command: kind, discount, visit_id, awaiting
    role: str = "manager"


def understand(u: Utterance, ctx: Context, gaz: Gazetteer) -> c.Command:
    text = clean(u.text)
    if text.startswith("/") and not text.startswith(("/bind", "/start", "/help")):
        return from_payload(text, ctx, gaz, u.today)
    head = text[:UNDERSTAND_MAX_CHARS]
    if not cue_form(head):
        return c.Unclear()
    return Router(u, ctx, gaz, text, head).decide()


# ---------------------------------------------------------------- button payloads
_PAYLOAD = re.compile(r"^/([a-z_]+)(\{.*\})?$", re.S)


def from_payload(text: str, ctx: Context, gaz: Gazetteer, today: date) -> c.Command:
    """A button we rendered: intent + entities, e.g. /customer_status{"customer_code":"C0001"}."""
    m = _PAYLOAD.match(text.strip())
    if not m:
        return c.Unclear()
    intent, raw = m.group(1), m.group(2)
    try:
        ent = json.loads(raw) if raw else {}
    except ValueError:
        ent = {}
    if not isinstance(ent, dict):
        ent = {}

    def ref() -> c.CustomerRef:
        code = ent.get("customer_code")
        if code:
            res = gaz.by_code(str(code))
            if res.status == "found":
                return c.CustomerRef("found", res.id, source="button")
            return c.CustomerRef("unknown", typed="", hidden=tuple(res.hidden_ids), source="button")
        if ctx.customer_id:
            return c.CustomerRef("found", ctx.customer_id, source="context")
        return c.ASK_CUSTOMER

    visit_id = _int(ent.get("visit_id"))
    simple = {
        "greet": c.Greet, "help": c.Help, "thanks": c.Thanks, "goodbye": c.Goodbye, "affirm": c.Confirm,
        "deny": c.Cancel, "retry": c.Retry, "daily_digest": c.Digest, "undo": c.Undo,
    }
    if intent in simple:
        return simple[intent]()
    if intent == "customer_status":
        aspect = ent.get("aspect") or "overview"
        return c.LookUp(ref(), ASPECT_ZH.get(aspect, aspect if aspect in c.ASPECTS else "overview"))
    if intent == "visit_brief":
        return c.Brief(ref())
    if intent == "fabe_pitch":
        product = gaz.product_in(str(ent.get("product") or ""))
        return c.Fabe(ref(), product)
    if intent == "spin_questions":
        return c.Spin(ref())
    if intent == "bundle_offer":
        tier = ent.get("tier") if ent.get("tier") in lx.TIERS else ""
        return c.Offer(ref() if not tier else c.NO_CUSTOMER, tier, _float(ent.get("discount")))
    if intent == "tier_policy":
        tier = ent.get("tier") if ent.get("tier") in lx.TIERS else ""
        return c.Policy("entitlement" if tier else "tier", tier=tier)
    if intent == "portfolio_alerts":
        warning = ent.get("warning") if ent.get("warning") in c.WARNINGS else "any"
        return c.Portfolio(warning=warning)
    if intent == "log_visit":
        if ctx.pending_note and ctx.pending_note.get("unparsed") and ent.get("customer_code"):
            return c.NoteDraft(ctx.pending_note["text"], ref(), _note_day(ctx, today))
        return c.NoteDraft("", ref())
    if intent == "list_visits":
        return c.ListVisits(ref() if (ent.get("customer_code") or ctx.customer_id) else c.NO_CUSTOMER)
    if intent == "my_followups":
        state = ent.get("state") if ent.get("state") in ("open", "overdue", "done") else "open"
        return c.FollowUps(state)
    if intent == "show_visit" and visit_id:
        return c.ShowVisit(visit_id)
    if intent == "edit_visit":
        if visit_id:
            return c.NoteEdit(c.Change(delete=bool(ent.get("delete"))), "visit", visit_id)
        return c.NoteEdit(c.Change(), "pending" if _parsed(ctx.pending_note) else "latest")
    tapped = visit_id is not None  # the button names the item: the tap is the confirmation
    if intent == "followup_done":
        return c.CloseFollowUp(ref() if ent.get("customer_code") else c.NO_CUSTOMER, visit_id, confirmed=tapped)
    if intent == "followup_move":
        return c.MoveFollowUp(c.NO_CUSTOMER, visit_id, _date(ent.get("to")), confirmed=tapped)
    if intent == "followup_drop":
        return c.DropFollowUp(c.NO_CUSTOMER, visit_id, str(ent.get("reason") or ""), confirmed=tapped)
    return c.Unclear()


def _int(v) -> int | None:
    try:
        return int(v) if v is not None else None
    except (TypeError, ValueError):
        return None


def _float(v) -> float | None:
    try:
        return float(v) if v is not None else None
    except (TypeError, ValueError):
        return None


def _date(v) -> date | None:
    try:
        return date.fromisoformat(str(v)) if v else None
    except ValueError:
        return None


def _parsed(note: dict | None) -> bool:
    return bool(note) and not note.get("unparsed")


def _note_day(ctx: Context, today: date) -> date:
    """A note kept while waiting (for its customer, or through an outage) is read against the day it was written."""
    written = (ctx.pending_note or {}).get("message_date")
    return _date(written) or today


# ---------------------------------------------------------------- typed text
class Router:
    def __init__(self, u: Utterance, ctx: Context, gaz: Gazetteer, text: str, head: str):
        self.u, self.ctx, self.gaz, self.text = u, ctx, gaz, text
        self.s: Signals = read(head, gaz, ctx.customer_id)
        self.ref = self._customer_ref()

    # ------------------------------------------------------------ the customer
    def _customer_ref(self) -> c.CustomerRef:
        s, res = self.s, self.s.resolution
        if res.status in ("found", "ambiguous", "forbidden") and res.weak and not self._weak_ok():
            return c.NO_CUSTOMER
        if res.weak and res.status == "forbidden" and self._glued_after_weak():
            longer = self._unknown_name(self.s.text)  # 光谷科技: a name of its own, not 光谷电子's brand
            return c.CustomerRef("unknown", typed=longer or res.matched, hidden=tuple(res.hidden_ids), source="text")
        if res.status == "forbidden":
            return c.CustomerRef("unknown", typed=res.matched, hidden=tuple(res.hidden_ids), source="text")
        if res.status == "found" and res.how == "exact" and not res.weak and self._glued_after_weak() and self._is_derived(res):
            longer = self._unknown_name(self.s.text)  # 华中科技大学 is not 华中科技职业学院
            full = getattr(self.gaz, "full_name", lambda _id: "")(res.id)
            if longer and full and _shortened(normalize(longer), normalize(full), normalize(res.matched)):
                return c.CustomerRef("found", res.id, typed=longer, source="text")  # 江岸景明保险, 恩施永安酒店: the name, cut short
            if longer and longer != res.matched:
                return c.CustomerRef("unknown", typed=longer, source="text")
            if self.s.ood:
                return c.NO_CUSTOMER  # 导航去华中科技大学
        if res.status == "found":
            if res.weak and self._glued_after_weak():
                return c.CustomerRef("ambiguous", candidates=tuple(res.ids), typed=res.matched, source="text")
            return c.CustomerRef("found", res.id, typed=res.matched, source="text")
        if res.status == "ambiguous":
            if self.ctx.customer_id in res.ids:  # 宏远物流谁拍板, right after talking about 宜昌宏远物流
                return c.CustomerRef("found", self.ctx.customer_id, typed=res.matched, source="text")
            theirs = {cid for _, _, cid in s.contacts} & set(res.ids)
            if len(theirs) == 1:  # 宏远物流 刘总 刘强 郭洋…: the one whose people are named
                return c.CustomerRef("found", theirs.pop(), typed=res.matched, source="text")
            if len(res.ids) == 1 and s.note_score >= 3:
                return c.CustomerRef("found", res.ids[0], typed=res.matched, source="text")  # the note card shows it
            return c.CustomerRef("ambiguous", candidates=tuple(res.ids), typed=res.matched, source="text")
        ids = {cid for _, _, cid in s.contacts}
        by_contact = c.CustomerRef("found", next(iter(ids)), source="contact") if len(ids) == 1 else None
        if by_contact and s.note_score >= 2 and any(name in s.text for name, _, _ in s.contacts):
            return by_contact  # 今天先见了陈平…: a note that names a contact by full name, not the customer
        unknown = self._unknown_name()
        if unknown:
            return c.CustomerRef("unknown", typed=unknown, source="text")
        return by_contact or c.NO_CUSTOMER

    def _weak_ok(self) -> bool:
        """A bare two-character brand or a prefix counts only beside words about customers."""
        s = self.s
        if s.ood and not (s.crm_words or s.product or s.note_score >= 3):
            return False  # 导航去光谷; but 黄陂税务马总今天见了…会议室: a note about a product
        if re.search(r"算不算|是不是|属不属于|属于", s.rest) and re.search(r"(重要|普通|特大|一般)大?客户", s.rest):
            return False  # 公安局算不算重要客户: a kind of customer, a question about the rules
        left = re.sub(r"[呢吗啊呀的了?？!！,，。\s]", "", s.rest.replace(MASK, ""))
        bare = left == "" or re.fullmatch(r"那?(那边|这边|那头|那里|这家)?(怎么样|咋样|情况|近况|最近怎么样|最近咋样|现在怎么样)?", left) is not None
        return bare or bool(s.aspects or s.crm_words or s.cues - {"help"} or s.note_score >= 2 or s.person_title or s.product)

    def _is_derived(self, res) -> bool:
        strength = getattr(self.gaz, "strength_of", None)
        return strength is not None and strength(res.matched) < 2

    def _glued_after_weak(self) -> bool:
        rest = self.s.rest
        i = rest.find(MASK)
        nxt = rest[i + 1 : i + 2] if i >= 0 else ""
        return bool(nxt) and nxt in _NAME_GOES_ON

    def _unknown_name(self, text: str | None = None) -> str:
        """A name that looks like an organisation but is no visible customer: never fall back to
        the conversation's customer, answer like an unknown name."""
        s = self.s
        for chunk in _AROUND.split(text if text is not None else s.rest):
            m = _ORG.match(chunk)
            if m and m.group(1) not in _NOT_ORG and not lx.QUESTION.search(m.group(1)) and not _NOT_IN_NAME.search(m.group(1)):
                if s.ood and not s.crm_words and not _STRONG_ORG.search(m.group(0)):
                    return ""
                return m.group(0)
        return ""

    def context_ref(self) -> c.CustomerRef:
        if self.ctx.customer_id:
            return c.CustomerRef("found", self.ctx.customer_id, source="context")
        return c.ASK_CUSTOMER

    def about(self) -> c.CustomerRef:
        """The customer named, else (for a follow-up question) the conversation's, else ask."""
        if self.ref.status != "none":
            return self.ref
        return self.context_ref()

    # ------------------------------------------------------------ decide
    def decide(self) -> c.Command:
        for step in (
            self.bind, self.answers, self.out_of_scope, self.classifier_out_of_scope, self.edit, self.follow_up_change, self.note,
            self.small_talk, self.person, self.portfolio, self.policy, self.about_customer, self.general,
        ):
            cmd = step()
            if cmd is not None:
                return cmd
        return c.Unclear()

    # 1 ---------------------------------------------------------- binding an account
    def bind(self) -> c.Command | None:
        t = self.s.text
        if t.startswith("/start") or t.startswith("/help"):
            return c.Help()
        if t.startswith("/bind") or re.search(r"绑定|\bbind\b", t):
            m = lx.BIND_CODE.search(self.text.upper())
            return c.Bind(m.group(1) if m else "")
        return None

    # 2 ---------------------------------------------------------- answers to what was asked
    def answers(self) -> c.Command | None:
        s, ctx = self.s, self.ctx
        t = re.sub(r"[\s,，。.!！~～]+", "", s.text)
        waiting = ctx.pending_edit or _parsed(ctx.pending_note)
        if lx.RETRY.match(t):
            return c.Retry()
        if t in ("撤销", "撤回", "undo", "撤销刚才", "恢复", "撤销刚才的", "撤销一下") and ctx.last.get("undo") and not waiting:
            return c.Undo()
        if lx.YES.match(t) or (waiting and re.fullmatch(r"(好的?|可以|行|对|没问题|ok)?(保存|存|确认)(吧|一下)?", t)):
            return c.Confirm()
        if _parsed(ctx.pending_note) and re.search(r"(保存|存)(一下|吧|了吧|起来|下)?$", t) and not re.search(r"别|不|没", t) and (
                s.has("note_ref") or (self.ref.found and self.ref.id == ctx.pending_note.get("customer_id"))):
            return c.Confirm()  # 刚才麻城恒通那条保存一下
        if ctx.pending_edit and re.fullmatch(r"(对|好的?|行|可以|嗯)?(确定|确认)?(要)?(改|删|删除|删掉)(吧|掉吧|了吧|掉)?", t):
            return c.Confirm()  # 对 改吧, 确定删: yes to the change just shown
        if ctx.pending_edit and re.search(r"(别|不要|不用|不)(删|改)了?$|^算了", t) and len(t) <= 8:
            return c.Cancel()  # 算了 别删了
        if _parsed(ctx.pending_note) and re.search(r"^(等等|等一下|慢着)?(先)?(别|不要|不用)(存|保存|记)", t):
            return c.Cancel()  # 等等别存 我客户搞错了
        if _parsed(ctx.pending_note) and re.fullmatch(r"算了(吧)?(先)?(明天|回头|晚点|晚些|下次|以后|改天)?(再)?(记|说|弄|写|存)?(吧)?", t):
            return c.Cancel()  # 算了 明天再记
        if lx.NO.match(t):
            return c.Cancel()
        short_answer = len(t) <= (20 if waiting else 14) and not (s.cues - {"help", "delete", "note_ref"} if waiting else s.cues - {"help"})
        if short_answer and self.ref.status == "none" and not (s.aspects or s.product or s.contacts or s.note_score >= 2):
            if re.search(r"取消|不记了|别记|不要了|不存|别存|不用记|先不记", t) or lx.NO_ANY.search(s.text):
                return c.Cancel()
            if lx.YES_ANY.search(s.text) and not re.search(r"不|别|没存", t):
                return c.Confirm()
        note = ctx.pending_note
        if note and note.get("unparsed") and self.ref.status in ("found", "ambiguous") and len(s.rest.replace(MASK, "")) <= 4:
            # "这条记录是哪个客户的？" answered with a name
            return c.NoteDraft(note["text"], self.ref, _note_day(ctx, self.u.today))
        awaiting = ctx.last.get("awaiting")
        if awaiting == "customer" and self.ref.status in ("found", "ambiguous", "unknown") and len(s.rest.replace(MASK, "")) <= 2:
            return self._rebuild_with(self.ref)
        return None

    def _rebuild_with(self, ref: c.CustomerRef) -> c.Command:
        last = self.ctx.last
        kind = last.get("kind")
        if kind == "brief":
            return c.Brief(ref)
        if kind == "spin":
            return c.Spin(ref)
        if kind == "offer":
            return c.Offer(ref, discount=last.get("discount"))
        if kind == "fabe":
            return c.Fabe(ref, last.get("product") or "")
        if kind == "visits":
            return c.ListVisits(ref)
        return c.LookUp(ref, last.get("aspect") or "overview")

    # 3 ---------------------------------------------------------- not what the assistant does
    def out_of_scope(self) -> c.Command | None:
        s = self.s
        listing = s.has("portfolio") and (s.warnings or s.tier or s.stage or s.industry) and not s.names_customer
        if lx.OTHER_APP.search(s.rest) and not (s.note_score >= 3 or (self._telegraphic and len(self._fragments) >= 3) or listing):
            return c.OutOfScope()  # 导航去江城银行, 给华钢的周明发个微信: another app's job, whoever is named
        if not s.ood:
            return None
        if s.contacts and (_parsed(self.ctx.pending_note) or self._just_saved()) and _NOT_MET_EDIT.search(s.text):
            return None  # 刘飞没见到 他请假了: about the note, not a leave request
        if self._just_saved() and s.has("close", "move", "drop") and len(s.text) <= 20:
            return None  # PPT已经发了, right after saving the note that promised it
        res = s.resolution
        strong_customer = self.ref.status == "found" and self.ref.source == "text" and not res.weak and res.how not in ("typo", "sound")
        top, conf = self.u.top
        homonym = top == "out_of_scope" and conf >= 0.4 and self.ref.status == "none" and not s.contacts
        if top == "out_of_scope" and conf >= 0.95 and self.ref.status in ("none", "unknown") and not (s.contacts or s.product):
            return c.OutOfScope()  # 明天暴雨预警 武汉中小学停课吗: everyday words, and the classifier is sure
        if strong_customer or ((s.crm_words or s.product) and not _CONSUMER.search(s.rest) and not homonym):
            return None  # 水稻成熟期 / 暴雨预警: an everyday cue, a CRM-looking word, and the classifier says not work
        if self.ref.status == "unknown" and _STRONG_ORG.search(self.ref.typed):
            return None  # "武当山旅游公司最近怎么样": a company nobody has, not a trip
        return c.OutOfScope()

    def classifier_out_of_scope(self) -> c.Command | None:
        """The classifier is sure it is not work, and nothing in the text says it is (no customer or
        contact named, no CRM word, no product)."""
        s = self.s
        top, conf = self.u.top
        if top != "out_of_scope" or conf < 0.5:
            return None
        quiet = not (s.crm_words or s.product or s.cues - {"help", "portfolio"} or _parsed(self.ctx.pending_note))
        plain = quiet and not ("portfolio" in s.cues or s.person_title)
        res = s.resolution
        if quiet and not s.names_customer and s.contacts and not s.aspects:
            return c.OutOfScope()  # 林峰唱过哪些歌, 三国里张飞和关羽谁厉害: a contact's name in everyday talk
        if plain and conf >= 0.9 and self.ref.status == "found" and (res.weak or res.how in ("typo", "sound")):
            return c.OutOfScope()  # 长江三峡游轮几天几晚: a short brand inside an everyday phrase
        if conf < 0.6:
            return None
        if self.ref.status == "unknown" and _GENERIC_ORG.fullmatch(self.ref.typed) and not s.product:
            return c.OutOfScope()  # 装修公司报价18万贵不贵: a kind of company, not a name
        if self.ref.status in ("found", "ambiguous") or s.contacts or s.crm_words or s.product:
            return None
        if self.ref.status == "unknown" and (_STRONG_ORG.search(self.ref.typed) or set(s.aspects) - {"spend", "overview", "products"}
                                             or s.cues - {"help"}):
            return None  # 麻城恒达证券有投诉吗: a customer nobody here has, asked about like one
        if (s.pronoun or self.ctx.customer_id) and s.aspects and len(s.rest) <= 12:
            return None  # "他们合同呢": a short follow-up question
        return c.OutOfScope()

    # 4 ---------------------------------------------------------- corrections to a note
    def edit(self) -> c.Command | None:
        s, ctx = self.s, self.ctx
        pending = _parsed(ctx.pending_note)
        if not s.has("edit", "delete") and not (pending and _NOT_MET_EDIT.search(s.text)):
            return None
        if "person_q" in s.aspects and s.question and not re.search(r"写错|改成|改为|不是|不对|错了", s.text):
            return None  # 杨鹏是干嘛的, while a note waits: a question, answered; the note keeps waiting
        elsewhere = pending and self.ref.found and self.ref.id != ctx.pending_note.get("customer_id")
        if elsewhere and re.search(r"写错|弄错|搞错|记错|错了|不是", s.text) and len(s.rest.replace(MASK, "")) <= 14:
            return c.NoteRedraft(ctx.pending_note["text"], self.ref, _note_day(ctx, self.u.today))  # 不是证券 是嘉和大酒店
        if s.has("close", "move", "drop") and not pending and (not s.has("note_ref") or re.search(r"跟进|不跟了|不用跟|别跟", s.text)):
            return None  # "华钢那个跟进改到周五" is a follow-up move; "那条删了吧 不跟了" a drop
        if elsewhere and s.note_score >= 1:
            return None  # 刚才那条客户弄错了 是东湖管委会 …: a new note for the right customer
        if ctx.last.get("kind") == "cancel" and self.ref.found and s.note_score >= 1:
            return None  # the same, right after cancelling the wrong one
        if not pending and not ctx.pending_edit:
            refers = s.has("note_ref") or re.search(r"拜访|记录|刚才|刚刚|上一条|见的|人名|名字|日期|日子|跟进(时间|日期)|下一步|见到的", s.text) or (
                self._just_saved() and re.search(r"漏|忘|也见了|还见了|也在|没见到|没在|不在", s.text))
            if not refers:
                return None
            same = self._just_saved() and self.ref.id == self.ctx.customer_id
            if self.ref.status == "found" and not s.has("note_ref") and s.has("delete") is False and s.note_score >= 3 and not same:
                return None  # a new note that happens to say 改成
            if (self.ref.status == "found" and s.note_score >= 4 and len(s.rest) >= 40 and not s.has("delete")
                    and not re.match(r"\s*(刚才|刚刚|上一条|那条|这条|刚那条|上条|把)", s.text)):
                return None  # 走访记录（补录…）：华中钢铁…接待。…: a whole new note, written formally
        change = parse_edit(self.text, self.u.today, pending=pending)
        target = "pending" if pending else ("visit" if ctx.last.get("visit_id") else "latest")
        return c.NoteEdit(change, target, ctx.last.get("visit_id") if target == "visit" else None)

    def _just_saved(self) -> bool:
        """The previous turn saved or corrected a note (胡总也见了 漏写了 is about that note)."""
        return self.ctx.last.get("kind") in ("confirm", "edit") and bool(self.ctx.last.get("visit_id") or self.ctx.last.get("undo"))

    # 5 ---------------------------------------------------------- follow-ups: done, moved, dropped
    def follow_up_change(self) -> c.Command | None:
        s = self.s
        if not s.has("close", "move", "drop"):
            return None
        explicit = re.search(r"跟进|提醒|勾掉|划掉|todo|可以关|标记|follow|待办", s.text)
        if len(s.text) > 80 and s.note_score >= 2:
            return None  # a long account of a visit, whatever words it contains
        if (s.note_score >= 4 or self._telegraphic) and (not s.has("drop") or len(self._fragments) >= 5) and not explicit:
            return None  # a visit note that also says 方案给了: 永安银行 胡主任 视频会议 报价已给 等回复
        refers = (
            self.ref.status in ("found", "ambiguous") or s.pronoun or s.has("followups")
            or re.search(r"这个|那个|这事|那事|这件|那件|报价|方案|资料|合同|材料|待办|事情|那单|这单|事儿|it\b", s.text)
            or self.ctx.last.get("kind") in ("followups", "digest", "show_visit") or self._just_saved()
        )
        if not refers:
            return None
        ref = self.ref if self.ref.status != "none" else c.NO_CUSTOMER
        visit_id = self.ctx.last.get("visit_id") if ref.status == "none" else None  # the one in focus, unless a customer is named
        if ref.status == "none" and self.ctx.customer_id and self.ctx.last.get("kind") in ("confirm", "note", "lookup", "visits", "show_visit"):
            ref = c.CustomerRef("found", self.ctx.customer_id, source="context")  # 报价刚发过去了, right after the note
        if s.has("drop"):
            reason = re.sub(r"^.*?(不用跟了|不跟了|不用跟进|取消跟进|不做了|黄了|放弃了?)[，,。\s]*", "", self.text).strip()
            return c.DropFollowUp(ref, visit_id, reason[:60], deliverables=self._deliverables)
        if s.has("move"):
            from actions.core import dates

            shift = _shift_days(s.text) if re.search(r"延|推迟|推后|往后|顺延|晚|挪|缓", s.text) else 0
            mentions = [] if shift else dates.find_dates(self.text, self.u.today)
            if mentions:
                return c.MoveFollowUp(ref, visit_id, dates.roll_forward(mentions[-1], self.u.today), deliverables=self._deliverables)
            return c.MoveFollowUp(ref, visit_id, None, shift, deliverables=self._deliverables)
        if s.question and not re.search(r"了[吗吧]?$", s.text):
            return None  # "报价发了吗" asks, does not close
        return c.CloseFollowUp(ref, visit_id, _what_was_done(self.text), deliverables=self._deliverables)

    @cached_property
    def _deliverables(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(lx.DELIVERABLES.findall(self.text)))

    @cached_property
    def _fragments(self) -> list[str]:
        return [f for f in re.split(r"[\s,，。；;、]+", self.text[:UNDERSTAND_MAX_CHARS]) if f]  # spaces as typed

    @cached_property
    def _telegraphic(self) -> bool:
        """东湖分局 钱局 同意试点 月底签; 华钢王科长 故障已处理: a customer, a person, what happened."""
        s = self.s
        fragments = self._fragments
        return (self.ref.found and s.person_title and len(fragments) >= 2 and not s.question
                and "person_q" not in s.aspects and (len(fragments) >= 3 or bool(_TELEGRAPHIC.search(s.rest))))

    # 6 ---------------------------------------------------------- a visit note
    def note(self) -> c.Command | None:
        s, ctx = self.s, self.ctx
        diet_note = self.u.p("log_visit")
        pending = ctx.pending_note
        if _parsed(pending) and _ADD_TO_NOTE.match(s.text) and (
                self.ref.status in ("none", "unknown") or self.ref.id == pending.get("customer_id")):
            return c.NoteAddition(self.text, c.CustomerRef("found", pending.get("customer_id"), source="note"), self.u.today)
        more = _parsed(pending) and s.note_score >= 1 and not s.question and self.ref.status in ("none", "found")
        asks = _REQUEST.search(s.rest) or s.has("spin", "fabe", "brief", "visits") or (s.has("offer") and re.search(r"帮我|给我|出个|来个", s.rest))
        # 长虹所 李主管 徐敏 监控要加 联通在pitch低价 我下周四前给报价: who said what and my promise outweigh a cue word
        account = self._telegraphic and s.note_score >= 3 and diet_note >= 0.8 and not _REQUEST.search(s.rest[:6])
        past = (_PAST_STRONG if _BRIEF_ASK.search(s.text) else _PAST_VISIT).search(s.text)  # 下午去丰泽 帮我捋一遍: to come
        if asks and not account and (not past or s.question) and not _parsed(pending):
            return None  # "帮我把华钢的拜访记录调出来": a request, not an account of a visit
        if s.discount is not None and _DISCOUNT_ASKED.search(s.rest) and s.note_score < 3 and not past and not _parsed(pending):
            return None  # 长江物流要打八折 梁董亲自开的口: a discount to answer, not a visit to log
        telegraphic = self._telegraphic and (account or not asks)
        if not telegraphic and s.note_score < 2 and not more and not (s.note_score >= 1 and diet_note >= 0.6 and len(s.rest) >= 8):
            return None
        if s.question and s.note_score < 3:
            return None
        future = _FUTURE_VISIT.search(s.text)
        if future and telegraphic and future.start() > len(s.text) // 2:
            future = None  # 顺昌妇幼 马主任 … 我下周去问招标时间: the next step of a visit told
        if (future or _BRIEF_ASK.search(s.text)) and not past:
            return None  # "明天去华钢 帮我准备一下", "下午要见马总 给我过一遍": a visit to come, not a note
        business = (
            self.ref.status in ("found", "ambiguous", "unknown") or s.person_title or s.product or s.crm_words
            or s.discount is not None or s.amount is not None or lx.NOTE_SPEECH.search(s.rest)
        )
        if not business and not more:
            return None  # "昨天去北京出差了 好累" is not a visit to a customer
        if s.ood and self.ref.status != "found" and not s.crm_words and not s.person_title:
            return None
        if _parsed(pending) and self.ref.status in ("none",) or (
            _parsed(pending) and self.ref.status == "found" and self.ref.id == pending.get("customer_id")
        ):
            return c.NoteAddition(self.text, c.CustomerRef("found", pending.get("customer_id"), source="note"), self.u.today)
        ref = self.ref
        if ref.status == "none":
            ref = self.context_ref() if (s.pronoun and ctx.customer_id) else c.ASK_CUSTOMER
        return c.NoteDraft(self.text, ref, self.u.today)

    # 7 ---------------------------------------------------------- small talk
    def small_talk(self) -> c.Command | None:
        s = self.s
        t = re.sub(r"[\s,，。.!！~～]+", "", s.text)
        if lx.GREET.match(t) or (re.match(r"^(你好|您好|hi|hello|嗨|哈喽)", t) and len(t) <= 8 and self.ref.status == "none"):
            return c.Greet()
        if lx.THANKS.match(t):
            return c.Thanks()
        if lx.BYE.match(t) or (len(t) <= 16 and lx.BYE_ANY.search(s.text) and not (s.cues or s.aspects) and self.ref.status == "none"):
            return c.Goodbye()
        if s.has("help") and self.ref.status == "none" and not s.aspects:
            return c.Help()
        return None

    # 8 ---------------------------------------------------------- one contact person
    def person(self) -> c.Command | None:
        s = self.s
        if not s.contacts:
            return None
        name, _, cid = s.contacts[0]
        left = re.sub(r"[Ⓒ呢吗啊呀的了?？!！,，。\s]|这个人|这人|情况|怎么样|咋样", "", s.rest.replace(name, ""))
        if "person_q" not in s.aspects and left:
            return None  # "长江物流梁宏" alone asks about him; "梁宏说…" is something else
        ref = self.ref if self.ref.status == "found" else c.CustomerRef("found", cid, source="contact")
        return c.LookUp(ref, "person", name)

    # 9 ---------------------------------------------------------- the whole portfolio
    def portfolio(self) -> c.Command | None:
        s = self.s
        if self.ref.status in ("found", "ambiguous") or (self.ref.status == "unknown" and not s.has("portfolio")):
            return None
        last = self.ctx.last
        if last.get("kind") == "portfolio" and len(s.rest) <= 12 and re.search(
            r"列出来|列一下|列下|有哪些|都是(哪|谁)|具体(是)?哪|名单|看看|哪几|是谁", s.rest
        ) and not (s.tier or s.stage or s.industry or s.warnings):
            f = last.get("filters") or {}
            return c.Portfolio(f.get("tier", ""), f.get("stage", ""), f.get("industry", ""), f.get("warning", ""),
                               f.get("manager", ""))
        if last.get("kind") == "portfolio" and s.team_member and len(s.rest) <= 8 and not (s.tier or s.stage or s.industry or s.warnings):
            f = last.get("filters") or {}  # 陈静的呢: the same question about another manager
            return c.Portfolio(f.get("tier", ""), f.get("stage", ""), f.get("industry", ""), f.get("warning", ""), s.team_member)
        if re.search(r"跟进|待办|任务|todo|follow", s.text):
            return None  # 哪些跟进快到期了: follow-ups, not customers
        filters = bool(s.tier or s.stage or s.industry or s.warnings or s.team_member)
        listing = s.has("portfolio") or re.search(
            r"(客户|的)(有哪些|有几个|有多少|呢|列表)|哪些|几个|多少|(行业|类|期)?的?客户(们)?(吗|没|不)?$|的(呢)?$|谁.{0,10}(多|少)|最多|最少"
            r"|有谁|(那些|这些)$|拉出来|列出来", s.text)
        if s.pronoun and not s.has("portfolio"):
            return None
        if s.team_member and self.ref.status == "none" and (s.warnings or s.tier or s.stage or s.industry):
            listing = True  # 李强那边的预警呢 (a lead): that manager's customers
        top, conf = self.u.top
        if (top == "portfolio_alerts" and conf >= 0.6 and filters and not s.has("policy", "offer", "brief", "fabe", "spin")
                and not self.ctx.customer_id):
            listing = True  # 有投诉超时没处理的客户吗: no customer, a filter, and the classifier agrees
        if re.search(r"(今天|最近|现在|这周)有(啥|什么|哪些)(新的?)?预警", s.text):
            return c.Portfolio(warning="any")
        if not (listing and (filters or re.search(r"我的客户|客户(有哪些|列表|清单|名单)|所有客户|全部客户", s.text))):
            if not (filters and s.warnings and re.search(r"哪些|哪几|哪家|几个|几家|多少个|多少家|有谁|都有|列|有没有客户|的(呢)?$", s.text)):
                if re.search(r"我.{0,4}(管|有|负责|手上|手里).{0,4}(多少|几)(个|家)?客户|客户.{0,3}(一共|总共).{0,3}(多少|几)", s.text):
                    return c.Portfolio(count=True)
                return None
        if s.has("policy") and (lx.POLICY_SPECIFIC.search(s.rest) or not re.search(r"我的客户|我手上|手里|名下|哪些|哪几|列|有几个|有多少个", s.text)):
            return None
        if set(s.warnings) <= {"competitor", "any"} and not (s.tier or s.stage or s.industry or s.team_member) and "客户" not in s.rest:
            if not re.search(r"我的|我手|名下|哪些|哪几|的(呢)?$|(拉|列|调|找)出来|都给我|全部|所有", s.rest) or "any" not in s.warnings:
                return None  # "电信和移动哪个信号好" names a competitor, not a portfolio question
        if s.has("offer") and s.tier and not s.warnings:
            return None  # "白金客户有啥优惠"
        if s.industry and not (s.tier or s.stage or s.warnings or s.team_member) and not re.search(
                r"客户|哪些|哪几|几个|几家|多少|名单|列|我的|手上|名下|有谁|customers?|\blist\b|how many|which", s.text):
            return None  # 钢铁侠是谁演的: an industry word, no question about customers
        if s.has("followups") and not (s.tier or s.stage or s.industry) and not s.warnings:
            return None
        if s.has("visits") and not s.warnings:
            return None
        warning = ""
        for w in s.warnings:
            if w != "any":
                warning = w
                break
        if not warning and "any" in s.warnings:
            warning = "any"
        if s.stage == "decline" and warning == "spend_drop" and "衰退期" in s.rest:
            warning = ""
        if not (s.tier or s.stage or s.industry or warning or s.team_member):
            warning = "any" if re.search(r"风险|预警|问题|注意|关注", s.text) else ""
        count = bool(re.search(r"几个|几家|多少个|多少家|多少|how many|数量|总数|一共|总共", s.text))
        by_manager = self.ctx.role in ("lead", "admin") and s.has("by_manager")
        manager = "" if by_manager else s.team_member  # 李强和王芳 谁手上…多: the team, manager by manager
        return c.Portfolio(s.tier, s.stage, s.industry, warning, manager, by_manager, count)

    # 10 --------------------------------------------------------- the rules themselves
    def policy(self) -> c.Command | None:
        s = self.s
        if self.ref.status in ("found", "ambiguous", "unknown") or s.pronoun:
            return None
        t = s.rest
        last = self.ctx.last
        if last.get("kind") == "policy" and s.tier and len(re.sub(rf"{s.tier}|客户|那|呢|的|[?？,，。\s]", "", t)) == 0:
            return c.Policy(last.get("topic") or "entitlement", tier=s.tier)  # 那翡翠呢
        named_stage = re.search(r"获取期|提升期|成熟期|衰退期|离网期|生命周期", t)
        if (s.discount is None and last.get("kind") in ("offer", "policy") and len(t) <= 12
                and re.search(r"谁(能|来|可以)?批|谁(来)?审批|要谁批|得谁批|谁签字|谁说了算", t)):
            return c.Policy("discount_authority", discount=_float(last.get("discount")))  # 这个谁能批, after 那八五折呢
        if s.discount is not None or s.has("discount_q"):
            if re.search(r"谁(来)?批|谁(来)?审批|谁能批|审批|权限|能批多少|要谁批|谁说了算|归谁|级别批", t):
                return c.Policy("discount_authority", discount=s.discount)
            return None
        if s.amount is not None and re.search(r"级别|档|等级|算|属于|什么客户|啥客户|哪类|哪一级|几级|钻石|翡翠|白金|宝石|黄金|水晶", t):
            return c.Policy("spend_to_tier", amount=s.amount)
        if not (s.has("policy") or named_stage or (s.tier and re.search(r"什么|啥|哪些|怎么|多少|吗|标准", t))):
            return None
        if s.has("offer") and not s.has("policy"):
            return None  # "白金客户有啥优惠" asks for bundles
        if s.has("portfolio") and not s.has("policy") and not named_stage:
            return None
        if not (s.tier or named_stage or s.stage or re.search(r"客户|等级|级别|档|权益|拜访|走访|折|优惠|审批|重要|特大|普通大", t)):
            return None  # "唔该晒是什么意思" is not about the rules
        topic = next((k for k, p in lx.POLICY_TOPIC if p.search(t)), "tier")
        if named_stage and topic not in ("cadence", "entitlement", "discount_authority", "importance"):
            topic = "stage"
        if topic == "tier" and s.tier and not re.search(r"怎么(划|定|分|算)|按(什么|啥)|门槛|标准|依据|够得上|达到", t):
            topic = "entitlement"  # 白金客户有啥: what they get; 宝石级是按什么定的: the threshold
        return c.Policy(topic, tier=s.tier, stage=s.stage)

    # 11 --------------------------------------------------------- one customer
    def about_customer(self) -> c.Command | None:
        s, u = self.s, self.u
        ref = self.ref
        named = ref.status in ("found", "ambiguous", "unknown")
        if not named and re.search(r"跟进|待办|任务|todo|follow", s.text) and not s.pronoun:
            return None  # 哪些跟进快到期了: the to-do list
        follow_up_q = s.pronoun or self._context_follow_up()
        if not named and re.fullmatch(r"(帮我|给我)?(查|看|找)(一?个|一下|下)?客户(的?(信息|情况|资料))?", re.sub(r"[\s,，。?？!！]", "", s.text)):
            return c.LookUp(c.ASK_CUSTOMER, "overview")  # 帮我查个客户: which one?
        if not named and s.has("visits") and re.search(r"哪些|哪几|几个|几家|几次|谁|多少", s.text) and period_in(s.text, u.today):
            return c.ListVisits(c.NO_CUSTOMER, period_in(s.text, u.today))  # 这个月拜访过哪些
        if not named and not follow_up_q:
            return None
        if ref.status == "none":
            ref = self.context_ref()
        carried = self._carry_over(ref)
        if carried is not None:
            return carried
        specific = [a for a in s.aspects if a not in ("overview", "person_q")]
        strong_brief = _STRONG_BRIEF.search(s.rest) and not re.search(r"准备.{0,6}(材料|资料|合同|报价|方案)", s.rest)
        talk = re.search(r"讲讲|说说|讲一下|说一下|过一下|介绍(一)?下|讲下|说下|看看|了解(一)?下", s.rest)
        if (_COMING_VISIT.search(s.text) and (talk or (_EXPLICIT_OVERVIEW.search(s.rest) and not s.has("fabe", "offer")))
                and not s.product and not s.has("spin") and not specific):
            return c.Brief(ref)  # 荆楚农商银行明早要去 先给我讲讲他们情况
        if s.has("brief") and (strong_brief or not (specific or _EXPLICIT_OVERVIEW.search(s.rest))) and (
            not s.has("fabe", "spin") or (not s.product and _BEFORE_VISIT.search(s.rest)
                                          and not (s.has("spin") and re.search(r"spin|问题|提问|问.{0,4}(点|些)?(啥|什么)", s.rest)))
        ):
            return c.Brief(ref)
        if s.has("spin") or (re.search(r"(见|找).{0,8}(cio|cto|老板|领导|总|董|主任|局长|院长)", s.rest) and re.search(r"问|聊|说", s.rest)
                             and s.question and not _PAST_VISIT.search(s.text)):
            role = next((k for k, p in lx.ROLE_WORDS if p.search(s.rest)), "")
            return c.Spin(ref, role, s.contacts[0][0] if s.contacts else "")
        if s.has("fabe") and (s.product or not s.has("offer")):
            return c.Fabe(ref, s.product, s.industry)
        if s.discount is not None or s.has("discount_q") or (s.has("offer") and (not s.aspects or set(s.aspects) <= {"contract", "overview", "spend", "risks"})):
            return c.Offer(ref, discount=s.discount)
        if _OFFER_ASK.search(s.rest):
            return c.Offer(ref)  # 长江物流快跑了 给个挽留方案: the stage is why, the offer is what
        if s.has("visits") and (self._aspect() in (None, "overview") or (self._aspect() == "last_visit" and _RECORDS.search(s.rest))):
            return c.ListVisits(ref, period_in(s.text, u.today))
        if s.product and not s.aspects and re.search(r"讲|介绍|推|卖", s.rest):
            return c.Fabe(ref, s.product, s.industry)
        aspects = self._aspects()
        aspect = aspects[0] if aspects else None
        if aspect is None:
            if not named:
                return None
            aspect = "overview"
            top, conf = u.top
            if conf >= 0.5:
                mapped = _INTENT_TO_KIND.get(top)
                if mapped == "brief":
                    return c.Brief(ref)
                if mapped == "fabe":
                    return c.Fabe(ref, s.product)
                if mapped == "spin":
                    return c.Spin(ref)
                if mapped == "offer":
                    return c.Offer(ref)
                if mapped == "visits":
                    return c.ListVisits(ref)
        return c.LookUp(ref, aspect, also=tuple(a for a in aspects[1:3] if a != "person"))

    def _carry_over(self, ref: c.CustomerRef) -> c.Command | None:
        """"江城银行呢" / "唐院长呢": the same question as the last one, about another customer or person."""
        s, last = self.s, self.ctx.last
        bare = re.sub(r"换一个|换个|再看看|再看|还有|那个|那家|这家|的呢|怎么样|咋样|[Ⓒ呢的那么吗啊呀又?？,，。\s]", "", s.rest)
        if len(bare) > 1 and not (s.contacts and len(bare) <= 3):
            return None
        kind = last.get("kind")
        if s.contacts and last.get("aspect") == "person":
            name, _, cid = s.contacts[0]
            return c.LookUp(ref if ref.status == "found" else c.CustomerRef("found", cid, source="contact"), "person", name)
        if self.ref.status == "none":
            return None
        if kind == "lookup" and last.get("aspect") not in (None, "person"):
            return c.LookUp(ref, last["aspect"])
        if kind in ("brief", "spin", "offer", "fabe", "visits"):
            return self._rebuild_with(ref)
        return None

    def _context_follow_up(self) -> bool:
        """A question about the conversation's customer that names none (联系人呢, 合同几号到期)."""
        s = self.s
        if not self.ctx.customer_id:
            aspect = self._aspect()
            single = aspect in ("contacts", "last_visit", "person", "products")  # about one customer, whatever the list words
            return bool(aspect in NAMELESS_ASPECTS and (s.question or len(s.rest) <= 12) and (single or not s.has("portfolio")))
        if s.has("portfolio") and not s.pronoun:
            return False
        if s.tier and not s.pronoun:
            return False  # "白金客户有啥优惠" is about the tier, not the current customer
        if s.discount is not None or s.has("discount_q"):
            return True
        if s.has("brief", "spin", "fabe", "offer", "visits") and not s.has("portfolio"):
            return True
        aspect = self._aspect()
        return bool(aspect and (aspect != "overview" or len(s.rest) <= 8))

    def _aspects(self) -> list[str]:
        """Every aspect asked about, in the order the message asks (华钢级别 合同 → tier, contract)."""
        s = self.s
        first = self._aspect()
        if first is None:
            return []
        rest = []
        for name, pattern in lx.ASPECT_PATTERNS:
            if name in (first, "overview", "person_q") or name not in s.aspects:
                continue
            m = pattern.search(s.rest)
            rest.append((m.start() if m else 0, name))
        return [first, *[n for _, n in sorted(rest)]]

    def _aspect(self) -> str | None:
        s = self.s
        order = [a for a in s.aspects if a != "person_q"]
        if "overview" in order and set(order) <= {"overview", "risks"} and _EXPLICIT_OVERVIEW.search(s.rest):
            return "overview"  # 最近情况怎么样，听说联通在抢: the whole picture (it shows the warnings)
        positions = []
        for name, pattern in lx.ASPECT_PATTERNS:
            if name in order and name != "overview":
                m = pattern.search(s.rest)
                positions.append((m.start() if m else 0, name))
        if positions and len(positions) > 1 and not ("last_visit" in order and "contract" in order):
            order = [n for _, n in sorted(positions)] + (["overview"] if "overview" in order else [])
        if "person_q" in s.aspects and s.contacts:
            return "person"
        if "person_q" in s.aspects and not s.contacts:
            return "person" if lx.PERSON_TITLE.search(s.rest) else "contacts"
        if "last_visit" in order and "contract" in order and re.search(r"上次|上回", s.rest):
            return "last_visit"
        if not order:
            return None
        first = order[0]
        if first == "overview" and len(order) > 1:
            return order[1]
        return first

    # 12 --------------------------------------------------------- no customer, no context
    def general(self) -> c.Command | None:
        s, u = self.s, self.u
        if s.has("followups") and (not s.has("close", "move", "drop") or s.question):
            state = "overdue" if re.search(r"逾期|过期|超期|没完成|拖", s.text) else (
                "done" if re.search(r"完成了|做完了|办完了|完成率|完成几|完成多少|搞定了几", s.text) else "open")
            by_manager = self.ctx.role in ("lead", "admin") and s.has("by_manager")
            return c.FollowUps(state, period_in(s.text, u.today), by_manager)
        if s.has("visits") or re.search(r"拜访了(哪|几)|走访了(哪|几)|去了(哪|几)", s.text):
            return c.ListVisits(c.NO_CUSTOMER, period_in(s.text, u.today))
        if s.has("brief") and re.search(r"客户|拜访|见", s.text):
            return c.Brief(c.ASK_CUSTOMER)
        if s.product and (s.has("fabe") or re.search(r"讲|介绍|推|卖|优势|好处", s.rest)):
            return c.Fabe(c.NO_CUSTOMER, s.product, s.industry)
        if s.has("fabe") and re.search(r"产品", s.text):
            return c.Fabe(c.ASK_CUSTOMER)
        if s.has("spin") and re.search(r"客户|见|拜访", s.text):
            return c.Spin(c.ASK_CUSTOMER)
        if s.discount is not None or s.has("discount_q"):
            return c.Offer(c.NO_CUSTOMER, discount=s.discount)
        if s.has("offer") and (s.tier or re.search(r"套餐|优惠|活动|预存", s.text)):
            return c.Offer(c.NO_CUSTOMER if s.tier else c.ASK_CUSTOMER, s.tier)
        if s.ood:
            return c.OutOfScope()
        top, conf = u.top
        if top == "out_of_scope" and conf >= 0.5:
            return c.OutOfScope()
        if top in ("greet", "thanks", "goodbye", "help") and conf >= 0.8 and len(s.text) <= 10:
            return {"greet": c.Greet, "thanks": c.Thanks, "goodbye": c.Goodbye, "help": c.Help}[top]()
        if top in ("affirm", "deny") and conf >= 0.8 and len(s.text) <= 6:
            return c.Confirm() if top == "affirm" else c.Cancel()
        if not (s.crm_words or s.aspects or s.tier or s.stage or s.product):
            return c.OutOfScope()
        if conf >= 0.5:  # the rules found nothing definite: the classifier's intent, with safe defaults
            about = self.context_ref()
            fallback = {
                "my_followups": lambda: c.FollowUps(),
                "list_visits": lambda: c.ListVisits(c.NO_CUSTOMER, period_in(s.text, u.today)),
                "portfolio_alerts": lambda: c.Portfolio(warning="any"),
                "tier_policy": lambda: c.Policy(),
                "fabe_pitch": lambda: c.Fabe(about, s.product),
                "spin_questions": lambda: c.Spin(about),
                "visit_brief": lambda: c.Brief(about),
                "bundle_offer": lambda: c.Offer(about if self.ctx.customer_id else c.NO_CUSTOMER),
                "customer_status": lambda: c.LookUp(about, self._aspect() or "overview"),
            }.get(top)
            if fallback is not None:
                return fallback()
        return c.Unclear()


# Aspects that make a question about "the customer" even without a name (合同几号到期, 关键人有谁);
# spend or "how is it" alone could be anything (华为今年营收多少).
NAMELESS_ASPECTS = ("contract", "contacts", "last_visit", "tier", "stage", "risks", "tickets", "products", "person")
_INTENT_TO_KIND = {
    "customer_status": "lookup", "visit_brief": "brief", "fabe_pitch": "fabe", "spin_questions": "spin",
    "bundle_offer": "offer", "list_visits": "visits", "log_visit": "note",
}
_ORG = re.compile(
    r"([\u4e00-\u9fff]{2,10})(?:股份有限公司|有限公司|公司|集团|医院|银行|商行|学校|中学|小学|学院|大学|分局|局|酒店|饭店|宾馆|"
    r"网咖|网吧|工厂|厂|研究所|研究院|委员会|管委会|政府|超市|物流|科技|电子|实业|商贸|贸易|控股|地产|置业|建设|建工|制药|药业|"
    r"食品|旅游|旅行社|机械|汽配|纸业|粮油|航运|船舶|包装|化工|能源|电力|水务|燃气|传媒|文化|教育|卫生院|诊所|保健院|事务所|律所|"
    r"协会|农商行|信用社|证券|保险|基金会|度假村|钢构|钢铁|重工|运输|快运|快递|供应链|电器|服饰|家居|酒业|乳业|养殖|汽车|车业|汽贸|客运)"
)
# Words no organisation's name holds: 后来被教育局, 陈主任说明年局 are pieces of sentences.
_NOT_IN_NAME = re.compile(r"[说被了过我他她们把让叫就都也又才很太吗呢吧着没不]|主任|经理|总监|局长|老总|要过")
# Words around a name: a name is what stands between them ("去武当山旅游公司", not "跟医院介绍").
_AROUND = re.compile(
    r"跟|给|和|对|向|去|见|在|到|从|怎么|如何|介绍|讲讲|讲|推|聊|帮我|准备|明天|今天|后天|最近|现在|的|那边|这边|"
    r"有没有|是不是|还|[，。！？,.!?\s、Ⓒ]"
)
_FUTURE_VISIT = re.compile(r"(明天|明早|后天|下周.?|周.|待会|一会|等下|等会|马上|准备|打算|要|将|下午要|上午要|晚上要)(去|见|拜访|过去|跑一趟|跑一下)|去之前|见之前|拜访前|见面前")
_BRIEF_ASK = re.compile(r"帮我准备|准备一下|准备下|给我(个|一个)?简报|梳理|过一遍|理一理|理一下|汇总|捋一遍|捋一下|帮我过一下")
# A visit that happened: by its verb (见了, 去了), or also by its time (下午去… may be this afternoon's plan).
_PAST_STRONG = re.compile(r"见了|见完|刚见|刚从|拜访了|拜访完|去了|聊了|谈了|刚才|刚刚|转了转|去了趟|跑了一趟|过去了|刚出来|(去|见)的")
_PAST_VISIT = re.compile(_PAST_STRONG.pattern + r"|(今天|昨天|上午|下午|前天)(去|跑|到)")
_EXPLICIT_OVERVIEW = re.compile(r"怎么样|咋样|情况|近况|状况|动态|进展|怎么回事|how is|how's|doing")
_STRONG_BRIEF = re.compile(r"帮我准备|给我准备|准备一下|准备下|准备准备|做(个|点)?准备|简报|brief|prep|拜访前|去之前|见之前|出发前|上门前|见面前|临行前|功课|备课|心里有底|过一遍"
                           r"|帮我过一下|汇总一下|汇总下|捋一遍|捋一下|(谈判|开会)前")
_ADD_TO_NOTE = re.compile(r"\s*(再)?(加|补|添)(上)?(一句|一条|一点|一下|个)|\s*补充(一下|一句|下)?|\s*还有(一点|一句|个事|就是)")
_COMING_VISIT = re.compile(r"(明早|明天|明儿|后天|今天下午|下午|待会|一会|等会|马上|晚点)儿?(要|得|准备|打算)?(去|见|拜访|过去)|(去|见|拜访)\W{0,3}之前")
_DISCOUNT_ASKED = re.compile(r"要(打|给|求)?(个)?([\d.]+|[一二三四五六七八九两]{1,2}(点[一二三四五六七八九])?)折|要.{0,3}折扣|压到.{0,4}折")
_OFFER_ASK = re.compile(r"(给|推荐|出|来|整|弄)(个|一个|套)?.{0,4}(方案|组合|套餐)|保量")
_RECORDS = re.compile(r"记录|历次|几次|调出来|\blist\b|\bvisits\b|走访情况|拜访情况")
_REQUEST = re.compile(
    r"^(帮我|给我|麻烦|请|你)|帮我.{0,12}(看|查|列|调|出|找|准备|理|整|设计|做|弄|翻)|看看|查查|调出来|列一下|出个方案|怎么(问|讲|推|说)|该问|摸底|"
    r"切入|设计一下|\bshould\b|\bwhat\b|\bhow\b"
)
_TELEGRAPHIC = re.compile(r"同意|要|谈|不在|没戏|签|降价|试点|回复|回|认可|拒绝|考虑|答应|嫌|想|说|定|批|约|催|投诉|满意|不满|出差|已|进展|处理|卡|断|发|给|报")
_BEFORE_VISIT = re.compile("|".join((*lx.VISIT_AHEAD, r"拜访前|去前|见前|出发前|上门前|见面前|临行前|准备|简报|梳理|过一遍|功课")))
# An organisation-like name with one of these endings is about a customer even beside everyday words.
_STRONG_ORG = re.compile(r"公司|集团|股份|有限|商行|农商行|分局|管委会|委员会|营业部|事务所")
_GENERIC_ORG = re.compile(r"(装修|物业|快递|外卖|中介|搬家|家政|保洁|房产|租车|培训|健身|年终奖|工资|婚庆|广告|装潢|游戏|互联网|上市|国企|外企|私企|大)公司")
_NOT_ORG = {"我们", "他们", "你们", "这家", "那家", "哪家", "这个", "那个", "一家", "几家", "咱们", "各个", "所有", "全部", "客户", "什么"}
_CONSUMER = re.compile(r"会员|信用卡|商场|婚宴|我家|家里|我的手机|我手机|我的话费|我妈|我爸|自己的|我的(宽带|套餐|合约|号码|流量)|中年|心态|男人|女人|男朋友|女朋友|吵架|头发|脱发|皮肤")
_NOT_MET_EDIT = re.compile(r"没见到|没见上|没见着|不在|没来|没在|没参加|没碰到|^(不对|错了|不是)")


def _what_was_done(text: str) -> str:
    t = clean(text)
    return t[:60]


def _shift_days(text: str) -> int:
    """延后一周 / 往后挪两天 / 推迟三天: how many days later (0 when none is said)."""
    from actions.core.numbers import cn_number

    m = re.search(r"(一|两|二|三|四|五|六|七|八|九|十|半|\d+)\s*(天|日|周|个?星期|个?礼拜|个?月)", text)
    if not m:
        return 0
    n = 0.5 if m.group(1) == "半" else (cn_number(m.group(1)) or 1)
    unit = m.group(2)
    return int(n * (7 if unit[-1] in "周期拜" else 30 if unit.endswith("月") else 1))


def replace_customer(cmd: c.Command, ref: c.CustomerRef) -> c.Command:
    """The same command about another customer (a tapped candidate)."""
    return replace(cmd, customer=ref) if hasattr(cmd, "customer") else cmd


def _shortened(longer: str, full: str, matched: str) -> bool:
    """The registered name cut short: its start (江岸景明保险 for 江岸景明保险代理有限公司) or the matched
    brand with a word the registered name has further on (恩施永安酒店 for 恩施永安商务酒店)."""
    if full.startswith(longer):
        return True
    extra = longer[len(matched):] if longer.startswith(matched) else ""
    return len(extra) >= 2 and extra in full[len(matched):]
