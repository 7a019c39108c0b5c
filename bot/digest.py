"""When the working-day morning digest goes out (both channels)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from bot.config import RelaySettings

log = logging.getLogger(__name__)


def is_workday(day: date) -> bool:
    try:
        import chinese_calendar

        return chinese_calendar.is_workday(day)
    except (NotImplementedError, ImportError):  # a year the calendar does not know yet
        return day.weekday() < 5


def next_digest_at(now: datetime, settings: RelaySettings) -> datetime:
    at = now.replace(hour=settings.digest_time.hour, minute=settings.digest_time.minute, second=0, microsecond=0)
    if at <= now:
        at += timedelta(days=1)
    while settings.digest_workdays_only and not is_workday(at.date()):
        at += timedelta(days=1)
    return at


async def digest_loop(settings: RelaySettings, run: Callable[[], Awaitable[int]]) -> None:
    """Sleep until the next digest time, run it, forever (cancelled at shutdown)."""
    tz = ZoneInfo(settings.timezone)
    while True:
        now = datetime.now(tz)
        await asyncio.sleep((next_digest_at(now, settings) - now).total_seconds())
        try:
            await run()
        except Exception:  # noqa: BLE001 - the loop must survive anything
            log.exception("digest run failed")
