"""Deliver queued statements to the LRS: batched, exactly the stored bytes, nothing lost.

The flusher claims a batch (a lease, so no other flusher sends the same rows meanwhile), POSTs
it as one JSON array and acts on the answer:

========================  ==========================================================
200 / 204                 delivered
400 / 409 / 422           bisect; park only the statement(s) the LRS still refuses
401 / 403                 stop the flush and report (no retry storm)
413                       halve the batch size and go on
429 / 503                 wait as ``Retry-After`` says, then the same bytes again
other 5xx, timeouts,      capped exponential backoff with jitter, the same bytes again
connection errors
========================  ==========================================================

The store it needs is the :class:`OutboxStore` protocol; the clock is :class:`Clock`.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Protocol

from mentorbridge.plugin.errors import (
    FatalError,
    LRSPayloadTooLargeError,
    LRSRejectedError,
    LRSUnavailableError,
)
from mentorbridge.plugin.retry import backoff_delay

__all__ = ["Clock", "FlushReport", "Flusher", "OutboxStore", "QueuedStatement", "SystemClock"]

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class QueuedStatement:
    """A claimed outbox row: its id, its statement id, the exact bytes and failures so far."""

    row_id: int
    statement_id: str
    payload: bytes
    attempts: int


class OutboxStore(Protocol):
    """What the flusher needs from the store (``plugin.store.outbox.SqlOutbox`` has it)."""

    def claim(
        self, *, owner: str, limit: int, now: datetime, lease_until: datetime
    ) -> list[QueuedStatement]:
        """Take up to ``limit`` due, unleased pending rows, oldest first, for ``owner``."""
        ...

    def renew(self, row_ids: Sequence[int], *, owner: str, lease_until: datetime) -> None:
        """Extend ``owner``'s lease on rows it still holds."""
        ...

    def mark_delivered(self, row_ids: Sequence[int], *, owner: str, now: datetime) -> None:
        """The LRS has these rows; never send them again."""
        ...

    def park(
        self,
        row_id: int,
        *,
        owner: str,
        now: datetime,
        error: str,
        status: int | None,
        response: str | None,
    ) -> None:
        """Set a row aside as a dead letter with the LRS's answer."""
        ...

    def release(self, row_ids: Sequence[int], *, owner: str) -> None:
        """Give rows back untouched (the flush stopped for a reason that is not theirs)."""
        ...

    def back_off(
        self, row_ids: Sequence[int], *, owner: str, retry_at: datetime, error: str
    ) -> None:
        """The LRS is unavailable: give rows back with an attempt counted, and hold the whole
        queue until ``retry_at`` (an outage affects every statement alike)."""
        ...

    def next_due(self, *, now: datetime) -> datetime | None:
        """When the next pending row may be claimed (``now`` or later); ``None`` if none pend."""
        ...

    def note_failure(self, error: str) -> None:
        """The flush stopped on an answer retrying cannot fix (refused credentials, a wrong
        endpoint): keep it for operators until a statement is delivered again."""
        ...


class Clock(Protocol):
    """Time, so tests can run the flusher without waiting."""

    def now(self) -> datetime: ...

    def sleep(self, seconds: float) -> None: ...


class SystemClock:
    """The real clock."""

    def now(self) -> datetime:
        return datetime.now(UTC)

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)


class LRSWriter(Protocol):
    """The one call the flusher makes on the LRS (``xapi.lrs.LRSClient`` has it)."""

    request_budget: float

    def post_statements(self, body: bytes) -> None: ...


@dataclass(slots=True)
class FlushReport:
    """What a flush did."""

    delivered: int = 0
    parked: int = 0
    requests: int = 0
    transient_failures: int = 0
    batch_size: int = 0
    stopped_by: str | None = None
    last_error: str | None = None


@dataclass(slots=True)
class _Settings:
    batch_size: int
    lease: timedelta
    backoff_base: float
    backoff_cap: float


class Flusher:
    """Sends the outbox to the LRS.

    Args:
        store: the outbox.
        lrs: the LRS client.
        batch_size: statements per POST (halved for the rest of the run on a 413).
        lease_seconds: how long a claim lasts; renewed before a request could outlive it.
        backoff_base: first retry delay in seconds; backoff_cap: the longest.
        clock: time source (tests pass a fake).
        owner: this flusher's lease owner id (random by default).
        on_progress: called with the running :class:`FlushReport` after every request.
    """

    def __init__(
        self,
        store: OutboxStore,
        lrs: LRSWriter,
        *,
        batch_size: int = 500,
        lease_seconds: float = 300,
        backoff_base: float = 1.0,
        backoff_cap: float = 300.0,
        clock: Clock | None = None,
        owner: str | None = None,
        on_progress: Callable[[FlushReport], None] | None = None,
    ) -> None:
        self.store = store
        self.lrs = lrs
        self.settings = _Settings(
            batch_size, timedelta(seconds=lease_seconds), backoff_base, backoff_cap
        )
        self.clock = clock or SystemClock()
        self.owner = owner or f"flusher-{uuid.uuid4()}"
        self.on_progress = on_progress

    def flush(self, *, wait: bool = False, max_wait: float | None = None) -> FlushReport:
        """Deliver what is due.

        Args:
            wait: keep going through backoffs until nothing is pending (or ``max_wait``).
            max_wait: with ``wait``, give up waiting after this many seconds in total.

        Returns:
            The report; ``stopped_by`` says why a flush ended before the queue was empty
            (``max-wait``, or the name of a fatal error).

        Raises:
            FatalError: the LRS refused our credentials or is not an xAPI endpoint; the
                claimed rows are given back unharmed first.
        """
        report = FlushReport(batch_size=self.settings.batch_size)
        started = self.clock.now()
        while True:
            now = self.clock.now()
            lease_until = now + self.settings.lease
            rows = self.store.claim(
                owner=self.owner, limit=self.settings.batch_size, now=now, lease_until=lease_until
            )
            if rows:
                self._deliver(rows, lease_until, report)
                continue
            due = self.store.next_due(now=now)
            if due is None or not wait:
                return report
            pause = max((due - self.clock.now()).total_seconds(), 0.05)
            if max_wait is not None:
                left = max_wait - (self.clock.now() - started).total_seconds()
                if left <= 0:
                    report.stopped_by = "max-wait"
                    return report
                pause = min(pause, left)
            self.clock.sleep(pause)

    def _deliver(
        self, rows: list[QueuedStatement], lease_until: datetime, report: FlushReport
    ) -> None:
        chunks: deque[list[QueuedStatement]] = deque([rows])
        while chunks:
            chunk = chunks.popleft()
            lease_until = self._keep_lease(rows, lease_until)
            report.requests += 1
            try:
                self.lrs.post_statements(b"[" + b",".join(r.payload for r in chunk) + b"]")
            except LRSRejectedError as err:
                if len(chunk) == 1:
                    self._park(chunk[0], err, report)
                else:
                    chunks.extendleft(reversed(_halves(chunk)))
            except LRSPayloadTooLargeError as err:
                if len(chunk) == 1:
                    self._park(chunk[0], err, report)
                else:
                    self.settings.batch_size = max(1, len(chunk) // 2)
                    report.batch_size = self.settings.batch_size
                    log.warning(
                        "LRS refused a %d-statement body as too large; batches of %d now",
                        len(chunk),
                        self.settings.batch_size,
                    )
                    chunks.extendleft(reversed(_halves(chunk)))
            except LRSUnavailableError as err:
                left = [r for c in (chunk, *chunks) for r in c]
                self._back_off(left, err, report)
                return
            except FatalError as err:
                left = [r.row_id for c in (chunk, *chunks) for r in c]
                self.store.release(left, owner=self.owner)
                self.store.note_failure(str(err))
                report.stopped_by, report.last_error = type(err).__name__, str(err)
                raise
            else:
                self.store.mark_delivered(
                    [r.row_id for r in chunk], owner=self.owner, now=self.clock.now()
                )
                report.delivered += len(chunk)
            finally:
                if self.on_progress is not None:
                    self.on_progress(report)

    def _keep_lease(self, rows: list[QueuedStatement], lease_until: datetime) -> datetime:
        """Renew the claim if the next request could outlast it."""
        now = self.clock.now()
        if now + timedelta(seconds=self.lrs.request_budget * 1.5) < lease_until:
            return lease_until
        lease_until = now + self.settings.lease
        self.store.renew([r.row_id for r in rows], owner=self.owner, lease_until=lease_until)
        return lease_until

    def _park(
        self,
        row: QueuedStatement,
        err: LRSRejectedError | LRSPayloadTooLargeError,
        report: FlushReport,
    ) -> None:
        response = err.response
        self.store.park(
            row.row_id,
            owner=self.owner,
            now=self.clock.now(),
            error=str(err),
            status=response.status_code if response is not None else None,
            response=response.text if response is not None else None,
        )
        report.parked += 1
        log.warning("parked statement %s as a dead letter: %s", row.statement_id, err)

    def _back_off(
        self, rows: list[QueuedStatement], err: LRSUnavailableError, report: FlushReport
    ) -> None:
        attempt = max(r.attempts for r in rows) + 1
        delay = backoff_delay(
            attempt,
            base=self.settings.backoff_base,
            cap=self.settings.backoff_cap,
            retry_after=err.retry_after,
        )
        retry_at = self.clock.now() + timedelta(seconds=delay)
        self.store.back_off(
            [r.row_id for r in rows], owner=self.owner, retry_at=retry_at, error=str(err)
        )
        report.transient_failures += 1
        report.last_error = str(err)
        log.warning("LRS unavailable (%s); %d statements wait %.1fs", err, len(rows), delay)


def _halves(chunk: list[QueuedStatement]) -> list[list[QueuedStatement]]:
    middle = len(chunk) // 2
    return [chunk[:middle], chunk[middle:]]
