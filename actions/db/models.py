"""CRM tables (SQLAlchemy 2.0 style declarations, running on 1.4)."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    Boolean,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import declarative_base, relationship

Base = declarative_base()

MANAGER_ROLES = ("manager", "lead", "admin")
IMPORTANCE = ("重要", "一般")
CUSTOMER_STATUS = ("active", "churned")
CUTE_ROLES = ("coach", "user", "technical", "economic")
TICKET_KINDS = ("故障", "投诉", "咨询")
TICKET_STATUS = ("open", "closed")


def new_visit_key() -> str:
    return "v:" + uuid.uuid4().hex


def _split(value: str | None) -> list[str]:
    return [v for v in (value or "").split("|") if v]


class Manager(Base):
    __tablename__ = "managers"
    id = Column(Integer, primary_key=True)
    code = Column(String(32), nullable=False, unique=True)
    name = Column(String(64), nullable=False)
    team = Column(String(64), nullable=False, default="")
    role = Column(String(16), nullable=False, default="manager")
    telegram_user_id = Column(String(32), unique=True, nullable=True)
    wecom_user_id = Column(String(64), unique=True, nullable=True)

    customers = relationship("Customer", back_populates="manager")


class Customer(Base):
    __tablename__ = "customers"
    id = Column(Integer, primary_key=True)
    code = Column(String(32), nullable=False, unique=True)
    name = Column(String(128), nullable=False)
    aliases = Column(Text, nullable=False, default="")  # "|"-separated
    industry = Column(String(32), nullable=False, default="")
    importance = Column(String(8), nullable=False, default="一般")
    manager_id = Column(Integer, ForeignKey("managers.id"), nullable=True, index=True)
    since = Column(Date, nullable=True)
    contract_end = Column(Date, nullable=True)
    status = Column(String(16), nullable=False, default="active")
    competitors = Column(Text, nullable=False, default="")  # "|"-separated
    employees = Column(Integer, nullable=True)
    address = Column(String(256), nullable=False, default="")
    updated_at = Column(DateTime, nullable=False, default=datetime.utcnow, onupdate=datetime.utcnow)

    manager = relationship("Manager", back_populates="customers")

    @property
    def alias_list(self) -> list[str]:
        return _split(self.aliases)

    @property
    def competitor_list(self) -> list[str]:
        return _split(self.competitors)


class Billing(Base):
    __tablename__ = "billing"
    id = Column(Integer, primary_key=True)
    customer_id = Column(Integer, ForeignKey("customers.id", ondelete="CASCADE"), nullable=False)
    month = Column(Date, nullable=False)  # first day of the month
    amount = Column(Numeric(14, 2), nullable=False)
    __table_args__ = (
        UniqueConstraint("customer_id", "month", name="uq_billing_customer_month"),
        Index("ix_billing_month", "month"),
    )


class Subscription(Base):
    __tablename__ = "subscriptions"
    id = Column(Integer, primary_key=True)
    customer_id = Column(
        Integer, ForeignKey("customers.id", ondelete="CASCADE"), nullable=False, index=True
    )
    product = Column(String(32), nullable=False)  # catalog code
    quantity = Column(Integer, nullable=False, default=1)
    monthly_fee = Column(Numeric(14, 2), nullable=False, default=Decimal("0"))
    start = Column(Date, nullable=True)
    end = Column(Date, nullable=True)


class Contact(Base):
    __tablename__ = "contacts"
    id = Column(Integer, primary_key=True)
    customer_id = Column(
        Integer, ForeignKey("customers.id", ondelete="CASCADE"), nullable=False, index=True
    )
    name = Column(String(64), nullable=False)
    title = Column(String(64), nullable=False, default="")
    role = Column(String(16), nullable=False, default="user")  # CUTE
    phone = Column(String(32), nullable=False, default="")


class Ticket(Base):
    __tablename__ = "tickets"
    id = Column(Integer, primary_key=True)
    customer_id = Column(
        Integer, ForeignKey("customers.id", ondelete="CASCADE"), nullable=False, index=True
    )
    opened = Column(DateTime, nullable=False)
    kind = Column(String(8), nullable=False)
    status = Column(String(8), nullable=False, default="open")
    summary = Column(Text, nullable=False, default="")


class Visit(Base):
    __tablename__ = "visits"
    id = Column(Integer, primary_key=True)
    customer_id = Column(
        Integer, ForeignKey("customers.id", ondelete="CASCADE"), nullable=False, index=True
    )
    manager_id = Column(Integer, ForeignKey("managers.id"), nullable=True, index=True)
    visit_date = Column(Date, nullable=False)
    people = Column(Text, nullable=False, default="[]")  # JSON list of {name,title,role}
    products = Column(Text, nullable=False, default="")  # "|"-separated catalog codes
    signals = Column(Text, nullable=False, default="")  # "|"-separated
    summary = Column(Text, nullable=False, default="")  # the manager's text, verbatim
    next_step = Column(Text, nullable=False, default="")
    follow_up = Column(Date, nullable=True, index=True)
    follow_up_done = Column(Boolean, nullable=False, default=False)  # closed: done or dropped
    follow_up_outcome = Column(String(8), nullable=False, default="")  # "" open | done | dropped
    follow_up_closed_at = Column(DateTime, nullable=True)
    follow_up_note = Column(Text, nullable=False, default="")  # what was done, or why it was dropped
    # The visit's stable key (chat "msg:…", import "imp:…", demo "demo:…", otherwise "v:<uuid>"):
    # the export writes it as `key`, so importing an export finds the same visit.
    dedupe_key = Column(String(64), nullable=False, unique=True, default=new_visit_key)
    deleted = Column(Boolean, nullable=False, default=False)
    created_at = Column(DateTime, nullable=False, default=datetime.utcnow)
    updated_at = Column(DateTime, nullable=False, default=datetime.utcnow, onupdate=datetime.utcnow)

    @property
    def product_list(self) -> list[str]:
        return _split(self.products)

    @property
    def signal_list(self) -> list[str]:
        return _split(self.signals)


class AuditLog(Base):
    __tablename__ = "audit_log"
    id = Column(Integer, primary_key=True)
    at = Column(DateTime, nullable=False, default=datetime.utcnow, index=True)
    actor = Column(String(64), nullable=False)  # manager code, or "tg:<sender>" when unbound
    action = Column(String(32), nullable=False)
    customer_id = Column(Integer, nullable=True, index=True)
    detail = Column(Text, nullable=False, default="")


def month_start(d: date) -> date:
    return date(d.year, d.month, 1)


class UsedMessage(Base):
    """A (sender, message id) already accepted: a replayed signed message is refused."""

    __tablename__ = "used_messages"
    id = Column(Integer, primary_key=True)
    sender = Column(String(96), nullable=False)
    message_id = Column(String(128), nullable=False)
    at = Column(DateTime, nullable=False, default=datetime.utcnow, index=True)
    __table_args__ = (UniqueConstraint("sender", "message_id", name="uq_used_messages_sender_message"),)


class BindCode(Base):
    """One-time code an admin creates so a Telegram user can bind to a manager."""

    __tablename__ = "bind_codes"
    id = Column(Integer, primary_key=True)
    code = Column(String(16), nullable=False, unique=True)
    manager_id = Column(Integer, ForeignKey("managers.id", ondelete="CASCADE"), nullable=False)
    expires_at = Column(DateTime, nullable=False)
    used_at = Column(DateTime, nullable=True)
