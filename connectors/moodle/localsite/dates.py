"""Dates as Moodle prints them, and PHP's ``uniqid``.

The recorded site ran in Europe/London (its ``userdate`` for a November timestamp equals UTC, for
a May one UTC+1). Without a time-zone database the UK summer-time rule is applied directly.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta, tzinfo

__all__ = ["SITE_TIMEZONE", "uniqid", "userdate"]

SITE_TIMEZONE = "Europe/London"


def _zone(name: str) -> tzinfo | None:
    try:
        from zoneinfo import ZoneInfo

        return ZoneInfo(name)
    except Exception:  # no tz database on this machine: fall back to the UK rule
        return None


def _last_sunday(year: int, month: int) -> datetime:
    day = datetime(year, month + 1, 1, 1, tzinfo=UTC) - timedelta(days=1)
    return day - timedelta(days=(day.weekday() + 1) % 7)


def _london(timestamp: int) -> datetime:
    moment = datetime.fromtimestamp(timestamp, UTC)
    start, end = _last_sunday(moment.year, 3), _last_sunday(moment.year, 10)
    offset = timedelta(hours=1) if start <= moment < end else timedelta(0)
    return (moment + offset).replace(tzinfo=None)


def userdate(timestamp: int, timezone: str = SITE_TIMEZONE) -> str:
    """``userdate($t)`` with ``strftimedaydatetime``: ``Wednesday, 25 November 2026, 12:56 AM``."""
    zone = _zone(timezone)
    if zone is not None:
        local = datetime.fromtimestamp(timestamp, zone)
    elif timezone == SITE_TIMEZONE:
        local = _london(timestamp)
    else:
        local = datetime.fromtimestamp(timestamp, UTC)
    hour = local.hour % 12 or 12
    return (
        f"{local:%A}, {local.day} {local:%B} {local.year}, "
        f"{hour}:{local:%M} {'AM' if local.hour < 12 else 'PM'}"
    )


def uniqid(now: float | None = None) -> str:
    """PHP's ``uniqid()``: seconds and microseconds in hex, 13 characters."""
    moment = time.time() if now is None else now
    seconds = int(moment)
    return f"{seconds:08x}{int((moment - seconds) * 1_000_000):05x}"
