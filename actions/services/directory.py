"""The in-memory customer index, rebuilt when the CRM's customers or managers change.

One index per process and database URL. The version check (aggregates over customers and
managers) runs at most every KAM_DIRECTORY_TTL seconds (default 2): profiling showed it was 43% of
a customer_status turn at 10,000 customers. A customer imported a minute ago is still found on
the next message, without retraining.
"""

from __future__ import annotations

import os
import threading
import time

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from actions.core.resolver import CustomerIndex, Entry, Resolution, viewer_filter
from actions.db.models import Customer, Manager

_lock = threading.Lock()
_indexes: dict[str, CustomerIndex] = {}
_checked: dict[str, float] = {}  # url -> monotonic time of the last version check


def _ttl() -> float:
    return float(os.environ.get("KAM_DIRECTORY_TTL", "2"))


def _version(session: Session):
    c = session.execute(select(func.count(Customer.id), func.max(Customer.updated_at), func.max(Customer.id))).one()
    m = session.execute(select(func.count(Manager.id), func.max(Manager.id))).one()
    teams = tuple(session.execute(select(Manager.id, Manager.team).order_by(Manager.id)).all())
    return (tuple(c), tuple(m), hash(teams))


def customer_index(session: Session) -> CustomerIndex:
    key = str(session.get_bind().url)
    index = _indexes.get(key)
    if index is not None and time.monotonic() - _checked.get(key, 0.0) < _ttl():
        return index
    version = _version(session)
    _checked[key] = time.monotonic()
    index = _indexes.get(key)
    if index is not None and index.version == version:
        return index
    with _lock:
        index = _indexes.get(key)
        if index is not None and index.version == version:
            return index
        teams = dict(session.execute(select(Manager.id, Manager.team)).all())
        rows = session.execute(
            select(Customer.id, Customer.name, Customer.aliases, Customer.manager_id, Customer.code)
        ).all()
        index = CustomerIndex(
            (
                (Entry(cid, name, mid, teams.get(mid, ""), code), [a for a in (aliases or "").split("|") if a])
                for cid, name, aliases, mid, code in rows
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
        _checked.clear()
