"""The in-memory customer index, rebuilt when the CRM's customers or managers change.

One index per process and database URL; the version check is two cheap aggregate queries, so a
customer imported a minute ago is found on the next message, without retraining.
"""

from __future__ import annotations

import threading

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from actions.core.resolver import CustomerIndex, Entry, Resolution, viewer_filter
from actions.db.models import Customer, Manager

_lock = threading.Lock()
_indexes: dict[str, CustomerIndex] = {}


def _version(session: Session):
    c = session.execute(select(func.count(Customer.id), func.max(Customer.updated_at), func.max(Customer.id))).one()
    m = session.execute(select(func.count(Manager.id), func.max(Manager.id))).one()
    teams = tuple(session.execute(select(Manager.id, Manager.team).order_by(Manager.id)).all())
    return (tuple(c), tuple(m), hash(teams))


def customer_index(session: Session) -> CustomerIndex:
    key = str(session.get_bind().url)
    version = _version(session)
    index = _indexes.get(key)
    if index is not None and index.version == version:
        return index
    with _lock:
        index = _indexes.get(key)
        if index is not None and index.version == version:
            return index
        teams = dict(session.execute(select(Manager.id, Manager.team)).all())
        rows = session.execute(
            select(Customer.id, Customer.name, Customer.aliases, Customer.manager_id)
        ).all()
        index = CustomerIndex(
            (
                (Entry(cid, name, mid, teams.get(mid, "")), [a for a in (aliases or "").split("|") if a])
                for cid, name, aliases, mid in rows
            ),
            version=version,
        )
        _indexes[key] = index
        return index


def filter_for(manager: Manager):
    return viewer_filter(manager.role, manager.id, manager.team)


def resolve(session: Session, manager: Manager, text: str, allow_prefix: bool = True) -> tuple[Resolution, CustomerIndex]:
    index = customer_index(session)
    return index.resolve(text, filter_for(manager), allow_prefix=allow_prefix), index


def clear() -> None:
    with _lock:
        _indexes.clear()
