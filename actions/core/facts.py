"""Plain data the domain works on, built by the repositories from the CRM."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from functools import cached_property

from actions.core import lifecycle, tiering

TITLE_SUFFIXES = ("总经理", "副总经理", "董事长", "主任", "科长", "处长", "局长", "部长", "院长", "校长", "经理", "总监", "主管",
                  "书记", "老板", "行长", "所长", "厂长", "老师")
_SHORT_TITLE = {"局长": "局", "院长": "院", "处长": "处", "董事长": "董"}  # 钱局, 唐院: how colleagues say it


def short_forms(name: str, title: str) -> list[str]:
    """How a manager refers to a contact besides the full name: 马总, 周主任, 王科长, 钱局."""
    surname = name[:1]
    forms = []
    if "总" in title or title in ("董事长", "CEO", "CIO"):
        forms.append(surname + "总")
    suffix = next((x for x in TITLE_SUFFIXES if title.endswith(x)), "")
    if suffix and surname + suffix not in forms:
        forms.append(surname + suffix)
    if suffix in _SHORT_TITLE:
        forms.append(surname + _SHORT_TITLE[suffix])
    return forms


CUTE_ZH = {"coach": "教练", "user": "用户", "technical": "技术把关", "economic": "决策者"}


@dataclass(frozen=True)
class ContactFact:
    name: str
    title: str
    role: str  # coach|user|technical|economic

    @property
    def role_zh(self) -> str:
        return CUTE_ZH.get(self.role, self.role)

    @property
    def label(self) -> str:
        return f"{self.name}（{self.title}）" if self.title else self.name

    def mentions(self) -> list[str]:
        """How a manager refers to this person: 马丽, 马总 (总经理/副总), 周主任, 王科长, 钱局."""
        return [self.name, *short_forms(self.name, self.title)]


@dataclass(frozen=True)
class TicketFact:
    opened: datetime
    kind: str  # 故障|投诉|咨询
    status: str  # open|closed
    summary: str


@dataclass(frozen=True)
class SubscriptionFact:
    product: str  # catalog code
    quantity: int
    monthly_fee: Decimal


@dataclass(frozen=True)
class VisitFact:
    id: int
    visit_date: date
    people: tuple[dict, ...]
    products: tuple[str, ...]
    signals: tuple[str, ...]
    summary: str
    next_step: str
    follow_up: date | None
    follow_up_done: bool
    manager_name: str = ""


@dataclass
class CustomerFacts:
    id: int
    code: str
    name: str
    aliases: tuple[str, ...]
    industry: str
    importance: str
    manager_name: str
    since: date | None
    contract_end: date | None
    status: str
    competitors: tuple[str, ...]
    employees: int | None = None
    address: str = ""
    billing: list[tuple[date, Decimal]] = field(default_factory=list)
    subscriptions: list[SubscriptionFact] = field(default_factory=list)
    contacts: list[ContactFact] = field(default_factory=list)
    tickets: list[TicketFact] = field(default_factory=list)
    visits: list[VisitFact] = field(default_factory=list)  # newest first
    dataset_latest_month: date | None = None
    today: date = field(default_factory=date.today)

    @cached_property
    def avg3(self) -> Decimal:
        return tiering.recent_average(self.billing)[0]

    @cached_property
    def tier(self) -> tiering.Tier:
        return tiering.tier_for_spend(self.avg3)

    @cached_property
    def stage(self) -> lifecycle.Stage:
        return lifecycle.stage_of(
            self.billing,
            status=self.status,
            since=self.since,
            today=self.today,
            dataset_latest_month=self.dataset_latest_month,
        )

    @property
    def importance_label(self) -> str:
        return tiering.importance_grade(self.importance, self.avg3)

    @property
    def open_tickets(self) -> list[TicketFact]:
        return sorted((t for t in self.tickets if t.status == "open"), key=lambda t: t.opened)

    @property
    def last_visit(self) -> VisitFact | None:
        return self.visits[0] if self.visits else None

    @property
    def product_codes(self) -> set[str]:
        return {s.product for s in self.subscriptions}

    @property
    def current_monthly_fee(self) -> Decimal:
        return sum((s.monthly_fee for s in self.subscriptions), Decimal("0"))

    def contacts_by_role(self, role: str) -> list[ContactFact]:
        return [c for c in self.contacts if c.role == role]
