"""Queries the rest of the code uses. Every function takes a Session: the caller owns the unit of work."""

from __future__ import annotations

import json
import os
import time
from datetime import date, datetime, timedelta
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from actions.core.facts import (
    ContactFact,
    CustomerFacts,
    SubscriptionFact,
    TicketFact,
    VisitFact,
)
from actions.db.models import (
    AuditLog,
    Billing,
    Contact,
    Customer,
    Manager,
    Subscription,
    Ticket,
    Visit,
)

BILLING_MONTHS_LOADED = 24


# ---------------------------------------------------------------- identity & access
WECOM_PREFIX = "wecom:"


def manager_by_sender(session: Session, sender_id: str) -> Manager | None:
    """The sender Rasa sees names the channel: `wecom:<UserId>` for WeCom, the bare Telegram user
    id for Telegram (so data bound before WeCom existed stays valid)."""
    sender_id = str(sender_id or "")
    if sender_id.startswith(WECOM_PREFIX):
        column, value = Manager.wecom_user_id, sender_id[len(WECOM_PREFIX):]
    else:
        column, value = Manager.telegram_user_id, sender_id
    if not value:
        return None
    return session.execute(select(Manager).where(column == value)).scalar_one_or_none()


def manager_by_code(session: Session, code: str) -> Manager | None:
    return session.execute(select(Manager).where(Manager.code == code)).scalar_one_or_none()


def visible_customers_stmt(manager: Manager):
    """SELECT of the customers this manager may see (least privilege)."""
    stmt = select(Customer)
    if manager.role == "admin":
        return stmt
    if manager.role == "lead":
        team_ids = select(Manager.id).where(Manager.team == manager.team)
        return stmt.where(Customer.manager_id.in_(team_ids))
    return stmt.where(Customer.manager_id == manager.id)


def visible_customer_ids(session: Session, manager: Manager) -> set[int]:
    stmt = visible_customers_stmt(manager).with_only_columns(Customer.id)
    return set(session.execute(stmt).scalars())


def can_see(session: Session, manager: Manager, customer: Customer) -> bool:
    if manager.role == "admin":
        return True
    if customer.manager_id == manager.id:
        return True
    if manager.role == "lead" and customer.manager_id is not None:
        owner = session.get(Manager, customer.manager_id)
        return owner is not None and owner.team == manager.team
    return False


def audit(
    session: Session,
    actor: str,
    action: str,
    customer_id: int | None = None,
    **detail,
) -> None:
    session.add(
        AuditLog(
            actor=actor[:64],
            action=action[:32],
            customer_id=customer_id,
            detail=json.dumps(detail, ensure_ascii=False, default=str),
            at=datetime.utcnow(),
        )
    )


# ---------------------------------------------------------------- customer facts
def cache_ttl() -> float:
    """Seconds a process may answer from its caches of the CRM (customer index, latest billed month)
    before it checks the database again (KAM_DIRECTORY_TTL)."""
    return float(os.environ.get("KAM_DIRECTORY_TTL", "2"))


_latest_month: dict[str, tuple[float, date | None]] = {}  # database URL -> (monotonic time read, month)


def dataset_latest_month(session: Session) -> date | None:
    """The latest billed month in the CRM (changes once a month, with a billing import): read again
    at most every KAM_DIRECTORY_TTL seconds, like the customer index."""
    key = str(session.get_bind().url)
    now = time.monotonic()
    cached = _latest_month.get(key)
    if cached is not None and now - cached[0] < cache_ttl():
        return cached[1]
    month = session.execute(select(func.max(Billing.month))).scalar()
    _latest_month[key] = (now, month)
    return month


def customer_by_code(session: Session, code: str) -> Customer | None:
    return session.execute(select(Customer).where(Customer.code == code)).scalar_one_or_none()


def load_facts(session: Session, customer: Customer, *, today: date | None = None) -> CustomerFacts:
    today = today or date.today()
    cid = customer.id
    billing_rows = session.execute(
        select(Billing.month, Billing.amount)
        .where(Billing.customer_id == cid)
        .order_by(Billing.month.desc())
        .limit(BILLING_MONTHS_LOADED)
    ).all()
    # columns, not mapped objects: a look-up reads these once and never changes them
    subs = session.execute(
        select(Subscription.product, Subscription.quantity, Subscription.monthly_fee, Subscription.end)
        .where(Subscription.customer_id == cid)
        .order_by(Subscription.id)
    ).all()
    contacts = session.execute(
        select(Contact.name, Contact.title, Contact.role).where(Contact.customer_id == cid).order_by(Contact.id)
    ).all()
    tickets = session.execute(
        select(Ticket.opened, Ticket.kind, Ticket.status, Ticket.summary)
        .where(Ticket.customer_id == cid)
        .order_by(Ticket.opened.desc())
        .limit(50)
    ).all()
    visits = recent_visits(session, customer_id=cid, limit=10)
    manager = session.get(Manager, customer.manager_id) if customer.manager_id else None
    return CustomerFacts(
        id=cid,
        code=customer.code,
        name=customer.name,
        aliases=tuple(customer.alias_list),
        industry=customer.industry,
        importance=customer.importance,
        manager_name=manager.name if manager else "",
        since=customer.since,
        contract_end=customer.contract_end,
        status=customer.status,
        competitors=tuple(customer.competitor_list),
        employees=customer.employees,
        address=customer.address,
        billing=sorted((m, Decimal(a)) for m, a in billing_rows),
        subscriptions=[
            SubscriptionFact(product, quantity, Decimal(fee))
            for product, quantity, fee, end in subs
            if end is None or end >= today
        ],
        contacts=[ContactFact(*c) for c in contacts],
        tickets=[TicketFact(*t) for t in tickets],
        visits=visits,
        dataset_latest_month=dataset_latest_month(session),
        today=today,
    )


def visit_fact(v: Visit, manager_name: str = "") -> VisitFact:
    try:
        people = tuple(json.loads(v.people or "[]"))
    except ValueError:
        people = ()
    return VisitFact(
        id=v.id,
        visit_date=v.visit_date,
        people=people,
        products=tuple(v.product_list),
        signals=tuple(v.signal_list),
        summary=v.summary,
        next_step=v.next_step,
        follow_up=v.follow_up,
        follow_up_done=v.follow_up_done,
        manager_name=manager_name,
    )


def recent_visits(
    session: Session,
    *,
    customer_id: int | None = None,
    manager_id: int | None = None,
    since: date | None = None,
    limit: int = 10,
) -> list[VisitFact]:
    stmt = (
        select(Visit, Manager.name)
        .outerjoin(Manager, Manager.id == Visit.manager_id)
        .where(Visit.deleted.is_(False))
    )
    if customer_id is not None:
        stmt = stmt.where(Visit.customer_id == customer_id)
    if manager_id is not None:
        stmt = stmt.where(Visit.manager_id == manager_id)
    if since is not None:
        stmt = stmt.where(Visit.visit_date >= since)
    stmt = stmt.order_by(Visit.visit_date.desc(), Visit.id.desc()).limit(limit)
    return [visit_fact(v, name or "") for v, name in session.execute(stmt).all()]


def portfolio_facts(
    session: Session, manager: Manager, *, today: date | None = None, own_only: bool = False
) -> list[CustomerFacts]:
    """Facts for every customer the manager may see (own_only: only those they own), in a
    handful of batched queries.

    Loads only what the warning rules need: the latest 9 months of billing, open tickets,
    visits of the last year; contacts and subscriptions are left empty.
    """
    from actions.core.lifecycle import add_months

    today = today or date.today()
    stmt = select(Customer).where(Customer.manager_id == manager.id) if own_only else visible_customers_stmt(manager)
    customers = list(session.execute(stmt.order_by(Customer.id)).scalars())
    if not customers:
        return []
    ids = [c.id for c in customers]
    latest = dataset_latest_month(session)
    since_month = add_months(latest, -8) if latest else None
    billing: dict[int, list] = {i: [] for i in ids}
    tickets: dict[int, list] = {i: [] for i in ids}
    visits: dict[int, list] = {i: [] for i in ids}
    managers = dict(session.execute(select(Manager.id, Manager.name)).all())
    for chunk in _chunks(ids, 900):
        stmt = select(Billing.customer_id, Billing.month, Billing.amount).where(Billing.customer_id.in_(chunk))
        if since_month:
            stmt = stmt.where(Billing.month >= since_month)
        for cid, month, amount in session.execute(stmt):
            billing[cid].append((month, Decimal(amount)))
        for t in session.execute(
            select(Ticket).where(Ticket.customer_id.in_(chunk), Ticket.status == "open")
        ).scalars():
            tickets[t.customer_id].append(TicketFact(t.opened, t.kind, t.status, t.summary))
        year_ago = today - timedelta(days=365)
        for v in session.execute(
            select(Visit)
            .where(Visit.customer_id.in_(chunk), Visit.deleted.is_(False), Visit.visit_date >= year_ago)
            .order_by(Visit.visit_date.desc(), Visit.id.desc())
        ).scalars():
            visits[v.customer_id].append(visit_fact(v))
    out = []
    for c in customers:
        out.append(
            CustomerFacts(
                id=c.id, code=c.code, name=c.name, aliases=tuple(c.alias_list), industry=c.industry,
                importance=c.importance, manager_name=managers.get(c.manager_id, ""), since=c.since,
                contract_end=c.contract_end, status=c.status, competitors=tuple(c.competitor_list),
                billing=sorted(billing[c.id]), tickets=tickets[c.id], visits=visits[c.id],
                dataset_latest_month=latest, today=today,
            )
        )
    return out


def _chunks(items: list, size: int):
    for i in range(0, len(items), size):
        yield items[i : i + size]
