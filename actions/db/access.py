"""Binding chat identities (Telegram user ids, WeCom UserIds) to managers with one-time codes
(24 h, single use)."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from actions.db.models import BindCode, Manager
from actions.db.repositories import WECOM_PREFIX, audit, manager_by_code

BIND_CODE_TTL = timedelta(hours=24)
_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O/1/I: typed on a phone


def create_bind_code(session: Session, manager_code: str, now: datetime | None = None):
    manager = manager_by_code(session, manager_code)
    if manager is None:
        raise LookupError(f"没有编码为 {manager_code} 的客户经理")
    now = now or datetime.utcnow()
    code = "".join(secrets.choice(_ALPHABET) for _ in range(8))
    expires = now + BIND_CODE_TTL
    session.add(BindCode(code=code, manager_id=manager.id, expires_at=expires))
    audit(session, "admin", "bind_code_created", manager=manager.code)
    return code, expires


def redeem_bind_code(session: Session, code: str, sender: str, now: datetime | None = None) -> Manager | None:
    """Bind the sender (a Telegram user id, or `wecom:<UserId>`) to the code's manager; None when
    the code is unknown, used or expired. Whoever held that chat identity before loses it."""
    now = now or datetime.utcnow()
    sender = str(sender)
    is_wecom = sender.startswith(WECOM_PREFIX)
    column = Manager.wecom_user_id if is_wecom else Manager.telegram_user_id
    value = sender[len(WECOM_PREFIX):] if is_wecom else sender
    actor = sender if is_wecom else f"tg:{sender}"
    row = session.execute(
        select(BindCode).where(BindCode.code == (code or "").strip().upper())
    ).scalar_one_or_none()
    if row is None or row.used_at is not None or row.expires_at < now or not value:
        audit(session, actor, "bind_refused")
        return None
    manager = session.get(Manager, row.manager_id)
    set_chat_identity(session, manager, column.key, value)
    row.used_at = now
    audit(session, manager.code, "bound", **{"wecom_user" if is_wecom else "telegram_user": value})
    return manager


def set_chat_identity(session: Session, manager: Manager, attribute: str, value: str | None) -> None:
    """Give `manager` this Telegram id or WeCom UserId (attribute `telegram_user_id` or
    `wecom_user_id`), taking it from any other manager; None clears it."""
    if value is not None:
        column = getattr(Manager, attribute)
        previous = session.execute(select(Manager).where(column == value)).scalar_one_or_none()
        if previous is not None and previous.id != manager.id:
            setattr(previous, attribute, None)
            session.flush()  # the unique constraint sees the old holder cleared first
    setattr(manager, attribute, value)
