"""``session.completed`` events recorded set-wise: the bulk of any history, written with a few
queries and bulk inserts per batch instead of the event processor's queries for each.

Only an event that can be recorded plainly goes this way: not recorded before (by id), its
pair known and active, its attendees exactly the pair's two members, its session new. Any
other (a redelivery, an unknown pair or worker, a session scheduled earlier, a statement that
does not validate) goes through :meth:`~plugin.webhooks.processor.EventProcessor.process_within`
like every other type, after the events offered before it are written, so it sees them and
answers as the webhook would.

What is written is what the recorder writes for the same event: the session, numbered after
the pair's earlier sessions; its ``attended`` and ``mentored`` statements built by the same
:class:`~xapi.statements.StatementBuilder` and queued in the outbox in that order; the pair's
members marked for the mapper; the event's row with the result the processor would give.
``tests/plugin/backfill/test_sessions_bulk.py`` holds the two ways to the same rows.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, aliased

from mentorbridge.plugin.errors import RejectedError
from mentorbridge.plugin.mapping.dirty import mark_dirty
from mentorbridge.plugin.store.bulk import insert_rows
from mentorbridge.plugin.store.models import MentoringSession, Pair, Person, Programme
from mentorbridge.plugin.store.outbox import enqueue_many
from mentorbridge.plugin.store.webhook_models import WebhookEvent
from mentorbridge.plugin.webhooks.events import IncomingEvent
from mentorbridge.plugin.webhooks.processor import EventProcessor
from mentorbridge.xapi.statements import BuiltStatement, Event, PairContext

__all__ = ["BULK_TYPE", "SessionsInBulk"]

BULK_TYPE = "session.completed"


@dataclass(frozen=True, slots=True)
class _PairRow:
    id: int
    status: str
    members: frozenset[str]
    member_ids: tuple[int, int]
    context: PairContext


class SessionsInBulk:
    """Collects plain ``session.completed`` events of one transaction and writes them together.

    Args:
        processor: whose recorder's statement builder and clock are used.
        session: the transaction.
        upcoming: the events of the batch, so lookups are made once for all of them.
    """

    def __init__(
        self, processor: EventProcessor, session: Session, upcoming: list[IncomingEvent]
    ) -> None:
        self.processor = processor
        self.builder = processor.recorder.builder
        self.session = session
        self._upcoming = [e for e in upcoming if e.type == BULK_TYPE]
        self._offered = 0  # every event of the type is offered, in order
        self._pending: list[tuple[IncomingEvent, Any]] = []
        self._known: _Known | None = None

    def offer(self, event: IncomingEvent, tag: Any) -> bool:
        """Take ``event`` (with ``tag``, the caller's name for it) if it can be written in
        bulk; ``False``: record it the usual way (after :meth:`write`)."""
        known = self._lookups()
        self._offered += 1
        data = event.data
        pair = known.pairs.get(data["pair_id"])
        plain = (
            event.id not in known.event_ids
            and data["session_id"] not in known.session_keys
            and pair is not None
            and pair.status == "active"
            and len(data["attendees"]) == 2
            and frozenset(data["attendees"]) == pair.members
        )
        if not plain:
            return False
        known.event_ids.add(event.id)
        known.session_keys.add(data["session_id"])
        self._pending.append((event, tag))
        return True

    def write(self) -> tuple[int, list[tuple[IncomingEvent, Any]]]:
        """Write the events taken so far: how many were written, and the ones left out
        because a statement did not validate (the caller records them the usual way, which
        refuses them with the same error). Lookups are made again after this, since the
        usual way may change what they found."""
        pending, self._pending = self._pending, []
        known, self._known = self._known, None
        if not pending:
            return 0, []
        assert known is not None
        built: list[tuple[IncomingEvent, int, BuiltStatement, BuiltStatement]] = []
        failed: list[tuple[IncomingEvent, Any]] = []
        for event, tag in pending:
            pair = known.pairs[event.data["pair_id"]]
            sequence = known.sequences[pair.id] + 1
            try:
                attended, mentored = self._statements(event, pair.context, sequence)
            except RejectedError:
                failed.append((event, tag))
                continue
            known.sequences[pair.id] = sequence
            built.append((event, sequence, attended, mentored))
        if built:
            self._insert(known, built)
        return len(built), failed

    def _statements(
        self, event: IncomingEvent, context: PairContext, sequence: int
    ) -> tuple[BuiltStatement, BuiltStatement]:
        d = event.data
        common: dict[str, Any] = {
            "session": d["session_id"],
            "sequence": sequence,
            "started_at": d["started_at"],
            "duration": timedelta(minutes=d["duration_minutes"]),
        }
        return self.builder.session_completed(
            Event(source=event.source, id=event.id), context, **common
        )

    def _insert(
        self,
        known: _Known,
        built: list[tuple[IncomingEvent, int, BuiltStatement, BuiltStatement]],
    ) -> None:
        session = self.session
        session.flush()  # what the usual way left pending goes first
        now = self.processor.clock()
        insert_rows(
            session,
            MentoringSession.__table__,
            [
                {
                    "key": event.data["session_id"],
                    "pair_id": known.pairs[event.data["pair_id"]].id,
                    "sequence": sequence,
                    "status": "completed",
                    "planned_start": None,
                    "planned_minutes": None,
                    "started_at": event.data["started_at"],
                    "duration_seconds": round(
                        timedelta(minutes=event.data["duration_minutes"]).total_seconds()
                    ),
                    "themes": list(event.data.get("themes_discussed", ())),
                    "cancel_reason": None,
                    "attended_statement_id": attended.id,
                    "mentored_statement_id": mentored.id,
                    "created_at": now,
                }
                for event, sequence, attended, mentored in built
            ],
        )
        keys = [event.data["session_id"] for event, *_ in built]
        row_ids = dict(
            session.execute(
                select(MentoringSession.key, MentoringSession.id).where(
                    MentoringSession.key.in_(keys)
                )
            ).all()
        )
        statements = [(s, None) for _, _, attended, mentored in built for s in (attended, mentored)]
        session_ids = {
            s.id: row_ids[event.data["session_id"]]
            for event, _, attended, mentored in built
            for s in (attended, mentored)
        }
        enqueue_many(session, statements, session_ids=session_ids)
        mark_dirty(
            session,
            {i for event, *_ in built for i in known.pairs[event.data["pair_id"]].member_ids},
        )
        insert_rows(
            session,
            WebhookEvent.__table__,
            [
                {
                    "event_id": event.id,
                    "type": event.type,
                    "source": event.source,
                    "body_sha256": event.digest,
                    "status": "processed",
                    "result": {
                        "event_id": event.id,
                        "type": event.type,
                        "status": "processed",
                        "statement_ids": [attended.id, mentored.id],
                    },
                    "payload": None,
                    "received_at": now,
                    "processed_at": now,
                }
                for event, _, attended, mentored in built
            ],
        )

    def _lookups(self) -> _Known:
        if self._known is None:  # read for this event and the ones after it
            upcoming = self._upcoming[self._offered :]
            self._known = _Known.read(self.session, self.builder, upcoming)
        return self._known


@dataclass(slots=True)
class _Known:
    """What the store holds about the batch's events, read once: their ids and sessions
    already recorded, their pairs (locked, as the recorder locks a pair it adds a session to)
    and how many sessions each has."""

    event_ids: set[str]
    session_keys: set[str]
    pairs: dict[str, _PairRow]
    sequences: Counter[int]

    @classmethod
    def read(cls, session: Session, builder: Any, events: list[IncomingEvent]) -> _Known:
        session.flush()
        event_ids = set(
            session.scalars(
                select(WebhookEvent.event_id).where(
                    WebhookEvent.event_id.in_({e.id for e in events})
                )
            )
        )
        session_keys = set(
            session.scalars(
                select(MentoringSession.key).where(
                    MentoringSession.key.in_({e.data["session_id"] for e in events})
                )
            )
        )
        mentee, mentor = aliased(Person), aliased(Person)
        rows = session.execute(
            select(
                Pair.id,
                Pair.key,
                Pair.status,
                mentee.id,
                mentee.worker_id,
                mentee.opaque_id,
                mentor.id,
                mentor.worker_id,
                mentor.opaque_id,
                Programme.key,
                Programme.name,
            )
            .join(mentee, Pair.mentee_id == mentee.id)
            .join(mentor, Pair.mentor_id == mentor.id)
            .join(Programme, Pair.programme_id == Programme.id)
            .where(Pair.key.in_({e.data["pair_id"] for e in events}))
            .with_for_update(of=Pair)
        ).all()
        pairs = {
            key: _PairRow(
                id=pair_id,
                status=status,
                members=frozenset((mentee_worker, mentor_worker)),
                member_ids=(mentee_id, mentor_id),
                context=PairContext(
                    key=key,
                    registration=builder.registration(key),
                    programme=programme,
                    programme_name=programme_name,
                    mentee=mentee_opaque,
                    mentor=mentor_opaque,
                ),
            )
            for (
                pair_id,
                key,
                status,
                mentee_id,
                mentee_worker,
                mentee_opaque,
                mentor_id,
                mentor_worker,
                mentor_opaque,
                programme,
                programme_name,
            ) in rows
        }
        sequences: Counter[int] = Counter()
        if pairs:
            sequences.update(
                dict(
                    session.execute(
                        select(MentoringSession.pair_id, func.count())
                        .where(MentoringSession.pair_id.in_([p.id for p in pairs.values()]))
                        .group_by(MentoringSession.pair_id)
                    ).all()
                )
            )
        return cls(event_ids, session_keys, pairs, sequences)
