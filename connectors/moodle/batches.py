"""Batched calls where one bad record must not stop the rest.

Moodle runs ``core_user_create_users`` and ``enrol_manual_enrol_users`` in one database
transaction: one refused record fails the whole call. The batch is then split in halves until
the refused records stand alone (a handful of extra calls for one bad record, never one call
per record).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from mentorbridge.connectors.moodle.errors import MoodleError

__all__ = ["chunks", "in_parallel", "isolate"]

T = TypeVar("T")
R = TypeVar("R")


def chunks(items: Sequence[T], size: int) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def isolate(
    batch: Sequence[T], send: Callable[[Sequence[T]], Any]
) -> tuple[list[tuple[Sequence[T], Any]], list[tuple[T, MoodleError]]]:
    """Send ``batch``; on a record-level refusal, split it until each refused record is alone.

    Returns:
        the sub-batches that went through with each one's answer, and each refused record with
        Moodle's error.

    Raises:
        MoodleError: an error that is not about a record (token, permission, site).
    """
    try:
        return [(batch, send(batch))], []
    except MoodleError as err:
        if not err.record_level:
            raise
        if len(batch) == 1:
            return [], [(batch[0], err)]
    middle = len(batch) // 2
    done_left, refused_left = isolate(batch[:middle], send)
    done_right, refused_right = isolate(batch[middle:], send)
    return done_left + done_right, refused_left + refused_right


def in_parallel(
    work: Callable[[T], R], items: Sequence[T], concurrency: int
) -> Iterator[tuple[T, R | None, MoodleError | None]]:
    """Run ``work`` on each item with up to ``concurrency`` calls in flight; yields each item
    with its result or its record-level error, in order. Other errors stop the run."""

    def guarded(item: T) -> tuple[R | None, MoodleError | None]:
        try:
            return work(item), None
        except MoodleError as err:
            if not err.record_level:
                raise
            return None, err

    if concurrency <= 1 or len(items) <= 1:
        for item in items:
            yield (item, *guarded(item))
        return
    with ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="moodle") as pool:
        for item, (result, error) in zip(items, pool.map(guarded, items), strict=True):
            yield item, result, error
