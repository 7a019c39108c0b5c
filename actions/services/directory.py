"""The in-memory customer index, rebuilt when the CRM's customers or managers change.

One index per process and database URL. The version check (aggregates over customers and
managers) runs at most every KAM_DIRECTORY_TTL seconds (default 2): profiling showed it was 43% of
a customer_status turn at 10,000 customers. A customer imported a minute ago is still found on
the next message, without retraining.
"""

from __future__ import annotations

import re
import threading
import time

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from actions.core import homophones
from actions.core.facts import short_forms
from actions.core.resolver import CustomerIndex, Entry, Resolution, normalize, viewer_filter
from actions.db.models import Contact, Customer, Manager
from actions.db.repositories import cache_ttl

_lock = threading.Lock()
_indexes: dict[str, CustomerIndex] = {}
_checked: dict[str, float] = {}  # url -> monotonic time of the last version check


def _version(session: Session):
    c = session.execute(select(func.count(Customer.id), func.max(Customer.updated_at), func.max(Customer.id))).one()
    m = session.execute(select(func.count(Manager.id), func.max(Manager.id))).one()
    k = session.execute(select(func.count(Contact.id), func.max(Contact.id))).one()
    teams = tuple(session.execute(select(Manager.id, Manager.team, Manager.name).order_by(Manager.id)).all())
    return (tuple(c), tuple(m), tuple(k), hash(teams))


def customer_index(session: Session) -> CustomerIndex:
    key = str(session.get_bind().url)
    index = _indexes.get(key)
    if index is not None and time.monotonic() - _checked.get(key, 0.0) < cache_ttl():
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
        index.contacts = [
            (name, title or "", cid)
            for name, title, cid in session.execute(select(Contact.name, Contact.title, Contact.customer_id)).all()
            if name and len(name) >= 2
        ]
        index.managers = [(mid, name, team) for mid, team, name in session.execute(select(Manager.id, Manager.team, Manager.name)).all()]
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


def _contact_index(index: CustomerIndex):
    """(full name → contacts, 周主任-style form → contacts, customer → contacts), built once per index."""
    cached = getattr(index, "_contact_maps", None)
    if cached is None:
        names: dict[str, list] = {}
        forms: dict[str, list] = {}
        by_customer: dict[int, list] = {}
        for name, title, cid in getattr(index, "contacts", ()):
            person = (name, title, cid)
            names.setdefault(normalize(name), []).append(person)
            by_customer.setdefault(cid, []).append(person)
            for form in short_forms(name, title):
                forms.setdefault(form, []).append(person)
        cached = index._contact_maps = (names, forms, by_customer)
    return cached


class CrmGazetteer:
    """The CRM's names as understanding sees them: only this manager's visible customers."""

    def __init__(self, session: Session, manager: Manager):
        self.session, self.manager = session, manager
        self.index = customer_index(session)
        self.visible = filter_for(manager)

    def resolve(self, text: str) -> Resolution:
        return self.index.resolve(text, self.visible)

    def strength_of(self, variant: str) -> int:
        """How sure a match on this name form is (resolver.STRONG / DERIVED / WEAK)."""
        return self.index.strength.get(normalize(variant), 0)

    def full_name(self, customer_id: int) -> str:
        entry = self.index.entries.get(customer_id)
        return entry.name if entry is not None else ""

    def by_code(self, code: str) -> Resolution:
        for e in self.index.entries.values():
            if e.code == code:
                if self.visible(e):
                    return Resolution("found", [e.id], e.name, "button")
                return Resolution("forbidden", [], "", "button", hidden_ids=[e.id])
        return Resolution("not_found")

    def contacts_in(self, text: str, customer_id: int | None) -> list[tuple[str, str, int]]:
        """Contacts named in the text: by full name; by surname + title (周主任) among the given
        customer's contacts, or among all visible customers' when only one contact fits."""
        low = normalize(text)
        names, forms, by_customer = _contact_index(self.index)
        hits: list[tuple[int, str, str, int]] = []
        found: set[str] = set()
        for i in range(len(low) - 1):
            for length in (2, 3, 4):
                piece = low[i : i + length]
                named = names.get(piece, ())
                own = [p for p in named if p[2] == customer_id]  # 赵霞 at this customer and at another
                for name, title, cid in own or named:
                    entry = self.index.entries.get(cid)
                    if entry is not None and self.visible(entry) and name not in found:
                        hits.append((i, name, title, cid))
                        found.add(name)
                people = forms.get(piece)
                if not people:
                    continue
                own = [p for p in people if p[2] == customer_id]
                if customer_id is not None and own:
                    pick = own
                else:
                    seen = [p for p in people if self.index.entries.get(p[2]) and self.visible(self.index.entries[p[2]])]
                    pick = seen if len(seen) == 1 else []
                if len(pick) == 1 and pick[0][0] not in found:
                    hits.append((i, *pick[0]))
                    found.add(pick[0][0])
        m = re.search(r"姓(.)", low)
        if m and customer_id is not None:  # 有个姓胡的: the one contact of this customer with that surname
            same = [p for p in by_customer.get(customer_id, ()) if p[0].startswith(m.group(1))]
            if len(same) == 1 and same[0][0] not in found:
                hits.append((m.start(), *same[0]))
        hits.sort()
        return [(n, t, cid) for _, n, t, cid in hits]

    def team_member_in(self, text: str) -> str:
        """For a lead: a manager named in the text (of any team: the handler answers one outside the
        team like a name nobody has)."""
        if self.manager.role not in ("lead", "admin"):
            return ""
        for _, name, _team in getattr(self.index, "managers", ()):
            if name and name != self.manager.name and name in text:
                return name
        return ""

    def product_in(self, text: str) -> str:
        from actions.kb.loader import products

        low = (text or "").lower()
        best: tuple[str, int] | None = None
        for p in products():
            for alias in (*p.spoken, p.code.lower()):
                a = alias.lower()
                pos = low.find(a)
                if pos < 0:
                    continue
                if a.isdigit() and (low[pos + len(a) : pos + len(a) + 1] in ("万", "元", "块", "个", "条", "天", "多") or low[pos - 1 : pos].isdigit()):
                    continue  # 400万 is money, not the 400 service
                if best is None or len(a) > best[1]:
                    best = (p.code, len(a))
        if best is None:  # 云卓面的卖点: the same sounds, a wrong character
            by_alias = {a: p.code for p in products() for a in p.spoken}
            hits = homophones.find(text or "", by_alias)
            if hits:
                return by_alias[hits[0][0]]
        return best[0] if best else ""
