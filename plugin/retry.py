"""The one place that decides how long to wait before trying idempotent work again."""

from __future__ import annotations

import random
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

__all__ = ["backoff_delay", "parse_retry_after"]


def backoff_delay(
    attempt: int,
    *,
    base: float,
    cap: float,
    retry_after: float | None = None,
    rng: random.Random | None = None,
) -> float:
    """Seconds to wait before attempt ``attempt + 1``.

    A server's ``Retry-After`` is honoured as given (capped at ``cap``). Otherwise the delay is
    capped exponential backoff with "equal jitter": half of ``base * 2**(attempt-1)`` for
    certain, plus up to the other half at random, so many clients never retry in lockstep.

    Args:
        attempt: how many attempts have failed so far (1 after the first failure).
        base: the first delay in seconds.
        cap: the longest delay in seconds.
        retry_after: what the server asked for, if it did.
        rng: a seeded ``random.Random`` for tests.
    """
    if retry_after is not None:
        return min(max(retry_after, 0.0), cap)
    ceiling = min(cap, base * 2 ** min(max(attempt - 1, 0), 64))  # 2**64: past any cap
    return ceiling / 2 + (rng or random).uniform(0, ceiling / 2)


def parse_retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """``Retry-After`` in seconds (RFC 9110: delay-seconds or an HTTP-date); None if absent."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max((when - (now or datetime.now(UTC))).total_seconds(), 0.0)
