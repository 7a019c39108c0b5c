"""Binding Telegram users to managers with one-time codes (24 h, single use)."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from actions.db.models import BindCode, Manager
from actions.db.repositories import audit, manager_by_code

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


def redeem_bind_code(
    session: Session, code: str, telegram_user_id: str, now: datetime | None = None
) -> Manager | None:
    """Bind the Telegram user; None when the code is unknown, used or expired."""
    now = now or datetime.utcnow()
    row = session.execute(
        select(BindCode).where(BindCode.code == (code or "").strip().upper())
    ).scalar_one_or_none()
    if row is None or row.used_at is not None or row.expires_at < now:
        audit(session, f"tg:{telegram_user_id}", "bind_refused")
        return None
    manager = session.get(Manager, row.manager_id)
    previous = session.execute(
        select(Manager).where(Manager.telegram_user_id == str(telegram_user_id))
    ).scalar_one_or_none()
    if previous is not None and previous.id != manager.id:
        previous.telegram_user_id = None
    row.used_at = now
    manager.telegram_user_id = str(telegram_user_id)
    audit(session, manager.code, "bound", telegram_user=str(telegram_user_id))
    return manager
