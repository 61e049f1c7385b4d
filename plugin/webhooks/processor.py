"""Turn a valid event into records and statements, exactly once.

One transaction holds the event's row (its id is unique), the domain change and the
statements it queues: a failure anywhere leaves none of them. A redelivery gets the first
delivery's answer; the same id with other content is refused. With ``unknown_people = hold``
an event naming a worker the HRIS mirror does not know yet is kept, with the events that
build on it, and processed by :meth:`EventProcessor.release_held` after an HRIS sync.
``intake.submitted`` is recorded by the pairing intake desk (``intake``) and queues no
statement; an intake naming a worker the mirror does not know is held the same way.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal

from sqlalchemy import bindparam, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from mentorbridge.plugin.errors import (
    ConflictError,
    RejectedError,
    RetriableError,
    UnknownReferenceError,
)
from mentorbridge.plugin.recorder import Recorder
from mentorbridge.plugin.store.base import utc_now
from mentorbridge.plugin.store.prepared import Prepared
from mentorbridge.plugin.store.webhook_models import WebhookEvent
from mentorbridge.plugin.webhooks.events import IncomingEvent, parse_event
from mentorbridge.plugin.webhooks.handlers import apply_event, created_by

if TYPE_CHECKING:
    from mentorbridge.plugin.pairing.intake import IntakeDesk

__all__ = ["Accepted", "EventProcessor", "ReleaseReport", "StoreBusyError"]

log = logging.getLogger(__name__)

UnknownPeople = Literal["reject", "hold"]


class StoreBusyError(RetriableError):
    """A concurrent request changed the same records; sending the event again will work."""


@dataclass(frozen=True, slots=True)
class Accepted:
    """The answer to an accepted event: ``result`` as first given, and whether this delivery
    was a redelivery of it."""

    result: dict[str, Any]
    redelivery: bool = False


@dataclass
class ReleaseReport:
    """What :meth:`EventProcessor.release_held` did with the held events."""

    processed: list[str] = field(default_factory=list)
    rejected: list[str] = field(default_factory=list)
    still_held: list[str] = field(default_factory=list)


class EventProcessor:
    """Records events through ``recorder``.

    Args:
        recorder: the one way activity enters the store (its store is used too).
        unknown_people: ``reject`` an event naming an unknown worker, or ``hold`` it.
        clock: the time (tests pass a fake one).
        intake: records ``intake.submitted`` (pairing intake); without it those events are
            refused.
    """

    def __init__(
        self,
        recorder: Recorder,
        *,
        unknown_people: UnknownPeople = "reject",
        clock: Callable[[], datetime] = utc_now,
        intake: IntakeDesk | None = None,
    ) -> None:
        self.recorder = recorder
        self.store = recorder.store
        self.unknown_people = unknown_people
        self.clock = clock
        self.intake = intake

    def process(self, event: IncomingEvent) -> Accepted:
        """Record ``event`` and queue its statements, or raise a
        :class:`~plugin.errors.RejectedError` (nothing recorded) saying why not."""
        try:
            with self.store.transaction() as session:
                return self.process_within(session, event)
        except IntegrityError as err:
            with self.store.reading() as session:
                known = _find(session, event.id)
                if known is not None:
                    return _redelivery(known, event)
            raise StoreBusyError(
                "another event changed the same records at the same moment: send it again"
            ) from err

    def process_within(self, session: Session, event: IncomingEvent) -> Accepted:
        """Like :meth:`process`, in the caller's transaction (which then commits or rolls back
        the event with the caller's own changes)."""
        # The unique event id is claimed first: a concurrent duplicate waits here, then finds
        # it taken and answers as a redelivery.
        row_id = _CLAIM.scalar(
            session,
            event_id=event.id,
            type=event.type,
            source=event.source,
            digest=event.digest,
            received_at=utc_now(),
        )
        if row_id is None:
            known = _find(session, event.id)
            if known is None:  # taken, then rolled back by its holder between our two reads
                raise StoreBusyError(
                    "another delivery of this event was being recorded: send it again"
                )
            return _redelivery(known, event)
        return Accepted(self._record(session, row_id, event, held=False))

    def release_held(self) -> ReleaseReport:
        """Process the held events whose workers the HRIS mirror now knows, oldest first."""
        report = ReleaseReport()
        with self.store.reading() as session:
            held = session.scalars(
                select(WebhookEvent.id)
                .where(WebhookEvent.status == "held")
                .order_by(WebhookEvent.id)
            ).all()
        for row_id in held:
            with self.store.transaction() as session:
                # Locked (PostgreSQL), so a second process releasing at the same moment waits,
                # then finds it released and passes it by.
                row = session.get(WebhookEvent, row_id, with_for_update=True)
                if row is None or row.status != "held":
                    continue  # another process released it meanwhile
                event = parse_event(json.dumps(row.payload).encode("utf-8"))
                try:
                    result = self._record(session, row_id, event, held=True)
                except RejectedError as err:
                    result = _settle(session, row_id, "rejected", event, (), self.clock(), err)
                {
                    "processed": report.processed,
                    "rejected": report.rejected,
                    "held": report.still_held,
                }[result["status"]].append(event.id)
        if report.processed or report.rejected:
            log.info(
                "held events: %d processed, %d rejected, %d still held",
                len(report.processed),
                len(report.rejected),
                len(report.still_held),
            )
        return report

    def _record(
        self, session: Session, row_id: int, event: IncomingEvent, *, held: bool
    ) -> dict[str, Any]:
        """Apply ``event`` and settle its row ``row_id`` (held: it was held before); holds it
        instead when it must wait. Returns the row's result."""
        if self.unknown_people == "reject" and not held:
            try:
                statement_ids = apply_event(self.recorder, session, event, intake=self.intake)
            except UnknownReferenceError as err:
                if err.kind != "worker":
                    raise
                raise UnknownReferenceError(
                    f'{err}, or set web.unknown_people = "hold" to accept events naming workers '
                    "the mirror does not know yet and process them after that sync",
                    kind=err.kind,
                    key=err.key,
                ) from err
        else:
            try:
                # A savepoint, so holding keeps the event row but none of its effects.
                with session.begin_nested():
                    statement_ids = apply_event(self.recorder, session, event, intake=self.intake)
            except UnknownReferenceError as err:
                if not _must_wait(session, err, exclude=row_id):
                    raise
                return _hold(session, row_id, event, err)
        return _settle(session, row_id, "processed", event, statement_ids, self.clock())


_EVENTS = WebhookEvent.__table__

#: Insert the event's row unless its id is taken; returns the new row's id (or none).
_CLAIM = Prepared(
    lambda dialect: (
        (postgresql if dialect == "postgresql" else sqlite)
        .insert(_EVENTS)
        .values(
            event_id=bindparam("event_id"),
            type=bindparam("type"),
            source=bindparam("source"),
            body_sha256=bindparam("digest"),
            status="processed",
            result={},
            received_at=bindparam("received_at"),
        )
        .on_conflict_do_nothing(index_elements=[_EVENTS.c.event_id])
        .returning(_EVENTS.c.id)
    )
)

#: Set an event row's outcome.
_SETTLE = Prepared(
    lambda _dialect: (
        update(_EVENTS)
        .where(_EVENTS.c.id == bindparam("row_id"))
        .values(
            status=bindparam("new_status"),
            payload=bindparam("new_payload"),
            result=bindparam("new_result"),
            processed_at=bindparam("settled_at"),
        )
    )
)


def _find(session: Session, event_id: str) -> WebhookEvent | None:
    return session.scalar(select(WebhookEvent).where(WebhookEvent.event_id == event_id))


def _redelivery(known: WebhookEvent, event: IncomingEvent) -> Accepted:
    if known.body_sha256 != event.digest:
        raise ConflictError(
            f"event {event.id!r} was received before with different content: "
            "give a new event a new id"
        )
    return Accepted(known.result, redelivery=True)


def _must_wait(session: Session, err: UnknownReferenceError, *, exclude: int) -> bool:
    """An unknown worker, or something only a held event creates, is worth waiting for."""
    if err.kind == "worker":
        return True
    held = session.execute(
        select(WebhookEvent.type, WebhookEvent.payload).where(
            WebhookEvent.status == "held", WebhookEvent.id != exclude
        )
    ).all()
    return any(
        created_by(event_type, payload["data"]) == (err.kind, err.key)
        for event_type, payload in held
    )


def _hold(
    session: Session, row_id: int, event: IncomingEvent, err: UnknownReferenceError
) -> dict[str, Any]:
    result = {
        "event_id": event.id,
        "type": event.type,
        "status": "held",
        "statement_ids": [],
        "reason": f"{err}; the event is held and processed after the HRIS sync that knows "
        "every worker it names",
        # What it waits for, for `mentorbridge events held`: a worker, or what a held event makes.
        "waiting_for": {"kind": err.kind, "key": err.key},
    }
    _SETTLE.run(
        session,
        row_id=row_id,
        new_status="held",
        new_payload=event.document,
        new_result=result,
        settled_at=None,
    )
    return result


def _settle(
    session: Session,
    row_id: int,
    status: str,
    event: IncomingEvent,
    statement_ids: tuple[str, ...],
    now: datetime,
    error: RejectedError | None = None,
) -> dict[str, Any]:
    result: dict[str, Any] = {
        "event_id": event.id,
        "type": event.type,
        "status": status,
        "statement_ids": list(statement_ids),
    }
    if error is not None:
        result["reason"] = str(error)
    _SETTLE.run(
        session,
        row_id=row_id,
        new_status=status,
        new_payload=None,
        new_result=result,
        settled_at=now,
    )
    return result
