"""Record checked events in dependency order, in batches that each commit all or nothing.

Each batch is one transaction. Plain ``session.completed`` events, the bulk of any history, are
written set-wise (:mod:`.sessions_bulk`); every other event runs through
:meth:`~plugin.webhooks.processor.EventProcessor.process_within` in a savepoint of its own, so
an event the store refuses (an unknown pair, a conflict with what is recorded) is rolled back
alone and rejected, and the rest of the batch commits. Anything else that fails (the store
goes away, the process is killed) loses the open batch only: every batch before it is
committed whole. Running the import again continues where it stopped, since an event already
recorded is recognised by its id and counted as already present.

``strict`` puts the whole file in one transaction, stored only if every event is accepted.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from mentorbridge.plugin.backfill.lines import Candidate, Reject, reason_of
from mentorbridge.plugin.backfill.sessions_bulk import BULK_TYPE, SessionsInBulk
from mentorbridge.plugin.errors import RejectedError
from mentorbridge.plugin.webhooks.events import IncomingEvent, reparse_event
from mentorbridge.plugin.webhooks.processor import EventProcessor, StoreBusyError

__all__ = ["BATCH_SIZE", "ImportReport", "import_events", "write_rejects"]

#: Events per transaction: large enough that commits cost little, small enough that a crash
#: loses little and locks are short.
BATCH_SIZE = 500


@dataclass
class ImportReport:
    """What an import did: events newly recorded, already recorded before, held until the HRIS
    mirror knows a worker they name, and rejected (with the lines checking rejected)."""

    imported: int = 0
    already_present: int = 0
    held: int = 0
    rejects: list[Reject] = field(default_factory=list)
    #: ``strict`` only: nothing was stored, because something was rejected.
    rolled_back: bool = False

    @property
    def done(self) -> int:
        """Events handled, whatever the outcome."""
        return self.imported + self.already_present + self.held + len(self.rejects)


class _StrictRollback(Exception):
    """Leaves a strict import's one transaction, undoing it."""


def import_events(
    processor: EventProcessor,
    ordered: Sequence[Candidate],
    *,
    batch_size: int = BATCH_SIZE,
    strict: bool = False,
    progress: Callable[[int], None] | None = None,
) -> ImportReport:
    """Record ``ordered`` (in :func:`~plugin.backfill.order.dependency_order`).

    Args:
        batch_size: events per transaction (ignored when ``strict``).
        strict: one transaction for everything, rolled back if any event is rejected.
        progress: called with the number of events handled so far, after each one (inside
            its batch's transaction).
    """
    report = ImportReport()
    store = processor.store
    size = max(len(ordered), 1) if strict else batch_size
    for start in range(0, len(ordered), size):
        batch = ordered[start : start + size]
        try:
            with store.transaction() as session:
                _batch(processor, session, batch, report, progress)
                if strict and report.rejects:
                    raise _StrictRollback
        except _StrictRollback:
            report.rolled_back = True
            report.imported = report.already_present = report.held = 0
    return report


def _batch(
    processor: EventProcessor,
    session: Session,
    batch: Sequence[Candidate],
    report: ImportReport,
    progress: Callable[[int], None] | None,
) -> None:
    """Record ``batch`` in ``session``: plain ``session.completed`` events in bulk, the
    others one by one, in order."""
    events = [reparse_event(candidate.body, candidate.digest) for candidate in batch]
    bulk = SessionsInBulk(processor, session, events)
    offered = 0

    def write_bulk() -> None:
        nonlocal offered
        written, failed = bulk.write()
        report.imported += written
        offered = 0
        for event, candidate in failed:
            _record(processor, session, candidate, event, report)

    for candidate, event in zip(batch, events, strict=True):
        if event.type == BULK_TYPE and bulk.offer(event, candidate):
            offered += 1
        else:
            write_bulk()
            _record(processor, session, candidate, event, report)
        if progress is not None:
            progress(report.done + offered)
    write_bulk()


def _record(
    processor: EventProcessor,
    session: Session,
    candidate: Candidate,
    event: IncomingEvent,
    report: ImportReport,
) -> None:
    for attempt in range(2):
        try:
            with session.begin_nested():
                accepted = processor.process_within(session, event)
            break
        except RejectedError as err:
            report.rejects.append(Reject(candidate.line, candidate.id, reason_of(err)))
            return
        except IntegrityError as err:
            # A webhook delivery of the same event committed meanwhile: the second attempt
            # finds it.
            if attempt:
                raise StoreBusyError(
                    f"event {candidate.id!r} (line {candidate.line}) kept colliding with "
                    "concurrent writes: run the import again"
                ) from err
    if accepted.redelivery:
        report.already_present += 1
    elif accepted.result["status"] == "held":
        report.held += 1
    else:
        report.imported += 1


def write_rejects(path: Path, rejects: Sequence[Reject]) -> None:
    """The reject file: CSV with ``line,event_id,reason``, one row per reject, by line."""
    with path.open("w", encoding="utf-8", errors="backslashreplace", newline="") as file:
        writer = csv.writer(file)
        writer.writerow(["line", "event_id", "reason"])
        for reject in sorted(rejects, key=lambda r: r.line):
            writer.writerow([reject.line, reject.event_id or "", reject.reason])
