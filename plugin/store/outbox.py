"""The outbox table: enqueue in the caller's transaction, claim and settle for the flusher.

Claims are one ``UPDATE … WHERE id IN (SELECT … FOR UPDATE SKIP LOCKED) RETURNING``: on
PostgreSQL the row locks keep two flushers apart while they claim, on SQLite the statement is
atomic under the database's single write lock, and on both the lease (``claimed_until``) keeps
rows owned while their request is in flight. A crashed flusher's lease simply runs out.

When the LRS is unavailable the whole queue waits behind one gate (``outbox_gate``), so it is
delivered in order: a voiding statement never overtakes the statement it voids.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Select,
    String,
    and_,
    any_,
    bindparam,
    column,
    func,
    insert,
    or_,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from mentorbridge.plugin.store.bulk import insert_rows
from mentorbridge.plugin.store.db import Store
from mentorbridge.plugin.store.models import OutboxGate, OutboxPayload, OutboxStatement
from mentorbridge.plugin.store.prepared import Prepared
from mentorbridge.xapi.outbox import QueuedStatement
from mentorbridge.xapi.statements import BuiltStatement

__all__ = ["DeadLetter", "OutboxStatus", "SqlOutbox", "enqueue", "enqueue_many"]


def enqueue(
    session: Session,
    statement: BuiltStatement,
    *,
    session_id: int | None = None,
    voids: str | None = None,
) -> None:
    """Queue a built (so already validated) statement in the caller's transaction.

    Args:
        session: the unit of work of the domain change that caused the statement.
        statement: what :class:`xapi.statements.StatementBuilder` built.
        session_id: the mentoring session whose record produced it (voided with it).
        voids: for a voiding statement, the id of the statement it voids.
    """
    enqueue_many(session, [(statement, voids)], session_id=session_id)


#: Statements per bulk insert (and per ``IN`` list reading their row ids back).
_BULK = 5000


def enqueue_many(
    session: Session,
    statements: Sequence[tuple[BuiltStatement, str | None]],
    *,
    session_id: int | None = None,
    session_ids: Mapping[str, int] | None = None,
) -> None:
    """Queue built statements (each with the id it voids, or ``None``), all from the mentoring
    session ``session_id`` if given, in the caller's transaction. They are delivered in the order
    given. ``session_ids`` gives, by statement id, the session of statements from several
    sessions (an import writes a batch of sessions at once).

    A few (a webhook's one to three) take two prepared statements: the outbox rows inserted
    returning their ids, then their payloads. Many take two bulk inserts and one read of the new
    row ids per 5,000.
    """
    session_ids = session_ids or {}
    outbox, payloads = OutboxStatement.__table__, OutboxPayload.__table__
    if not statements:
        return
    if len(statements) <= _FEW:
        now = datetime.now(UTC)
        values: dict[str, Any] = {}
        for n, (built, voids) in enumerate(statements):
            values |= {
                f"statement_id_{n}": built.id,
                f"template_{n}": built.template,
                f"verb_{n}": built.verb,
                f"registration_{n}": built.registration,
                f"session_id_{n}": session_ids.get(built.id, session_id),
                f"voids_statement_id_{n}": voids,
                f"created_at_{n}": now,
            }
        ids = dict(_few_rows(len(statements)).run(session, **values))
        payload_values: dict[str, Any] = {}
        for n, (built, _voids) in enumerate(statements):
            payload_values |= {f"outbox_id_{n}": ids[built.id], f"payload_{n}": built.payload}
        _few_payloads(len(statements)).run(session, **payload_values)
        return
    for start in range(0, len(statements), _BULK):
        part = statements[start : start + _BULK]
        now = datetime.now(UTC)
        insert_rows(
            session,
            outbox,
            [
                {
                    "statement_id": built.id,
                    "template": built.template,
                    "verb": built.verb,
                    "registration": built.registration,
                    "session_id": session_ids.get(built.id, session_id),
                    "voids_statement_id": voids,
                    "state": "pending",
                    "attempts": 0,
                    "created_at": now,
                }
                for built, voids in part
            ],
        )
        by_id = {built.id: built for built, _ in part}
        rows = _ROW_IDS.run(session, ids=list(by_id))
        insert_rows(
            session,
            payloads,
            [
                {"outbox_id": row_id, "payload": by_id[statement_id].payload}
                for row_id, statement_id in rows
            ],
        )


#: Up to this many statements are queued through prepared statements (see enqueue_many).
_FEW = 4


@lru_cache(maxsize=_FEW)
def _few_rows(count: int) -> Prepared:
    """Insert ``count`` outbox rows (parameters ``<column>_<n>``), returning each statement id
    with its row id."""
    outbox = OutboxStatement.__table__
    given = ("statement_id", "template", "verb", "registration", "session_id")
    given += ("voids_statement_id", "created_at")
    rows = [
        {name: bindparam(f"{name}_{n}", type_=outbox.c[name].type) for name in given}
        | {"state": "pending", "attempts": 0}
        for n in range(count)
    ]
    return Prepared(
        lambda _dialect: insert(outbox).values(rows).returning(outbox.c.statement_id, outbox.c.id)
    )


@lru_cache(maxsize=_FEW)
def _few_payloads(count: int) -> Prepared:
    """Insert ``count`` payload rows (parameters ``outbox_id_<n>``, ``payload_<n>``)."""
    table = OutboxPayload.__table__
    rows = [
        {
            name: bindparam(f"{name}_{n}", type_=table.c[name].type)
            for name in ("outbox_id", "payload")
        }
        for n in range(count)
    ]
    return Prepared(lambda _dialect: insert(table).values(rows))


def _row_ids(dialect: str) -> Select[tuple[int, str]]:
    """Outbox row id and statement id of the statements bound as one list parameter ``ids``."""
    outbox = OutboxStatement.__table__
    if dialect == "postgresql":
        listed = outbox.c.statement_id == any_(bindparam("ids", type_=ARRAY(String)))
    else:
        listed = outbox.c.statement_id.in_(
            select(column("value")).select_from(func.json_each(bindparam("ids", type_=JSON)))
        )
    return select(outbox.c.id, outbox.c.statement_id).where(listed)


_ROW_IDS = Prepared(_row_ids)


@dataclass(frozen=True, slots=True)
class OutboxStatus:
    """Counts and ages for ``mentorbridge outbox status`` (and later /metrics)."""

    pending: int
    delivered: int
    dead: int
    waiting: int
    oldest_pending: datetime | None
    next_attempt: datetime | None
    last_error: str | None


@dataclass(frozen=True, slots=True)
class DeadLetter:
    """A parked statement and why the LRS refused it."""

    row_id: int
    statement_id: str
    template: str
    attempts: int
    error: str | None
    lrs_status: int | None
    lrs_response: str | None
    payload: bytes


class SqlOutbox:
    """The outbox on the store; satisfies :class:`xapi.outbox.OutboxStore`."""

    def __init__(self, store: Store) -> None:
        self.store = store

    # -- the flusher's protocol -------------------------------------------------------------

    def claim(
        self, *, owner: str, limit: int, now: datetime, lease_until: datetime
    ) -> list[QueuedStatement]:
        table = OutboxStatement
        candidates = (
            select(table.id)
            .where(
                table.state == "pending",
                or_(table.claimed_until.is_(None), table.claimed_until < now),
            )
            .order_by(table.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        claim = (
            update(table)
            .where(table.id.in_(candidates))
            .values(claimed_by=owner, claimed_until=lease_until)
            .returning(table.id, table.statement_id, table.attempts)
        )
        with self.store.transaction() as session:
            retry_at = session.scalar(select(OutboxGate.retry_at).where(OutboxGate.id == 1))
            if retry_at is not None and retry_at > now:
                return []
            rows = session.execute(claim, execution_options={"synchronize_session": False}).all()
            if not rows:
                return []
            payloads = dict(
                session.execute(
                    select(OutboxPayload.outbox_id, OutboxPayload.payload).where(
                        self._one_of(OutboxPayload.outbox_id)
                    ),
                    {"ids": [r.id for r in rows]},
                ).all()
            )
        return sorted(
            (
                QueuedStatement(r.id, r.statement_id, bytes(payloads[r.id]), r.attempts)
                for r in rows
            ),
            key=lambda q: q.row_id,
        )

    def renew(self, row_ids: Sequence[int], *, owner: str, lease_until: datetime) -> None:
        self._update(row_ids, owner, claimed_until=lease_until)

    def mark_delivered(self, row_ids: Sequence[int], *, owner: str, now: datetime) -> None:
        self._update(
            row_ids,
            owner,
            open_gate=True,
            state="delivered",
            delivered_at=now,
            claimed_by=None,
            claimed_until=None,
            last_error=None,
        )

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
        self._update(
            [row_id],
            owner,
            open_gate=True,  # the LRS answered: it is available
            state="dead",
            claimed_by=None,
            claimed_until=None,
            last_error=error,
            lrs_status=status,
            lrs_response=response,
            attempts=OutboxStatement.attempts + 1,
        )

    def release(self, row_ids: Sequence[int], *, owner: str) -> None:
        self._update(row_ids, owner, claimed_by=None, claimed_until=None)

    def back_off(
        self, row_ids: Sequence[int], *, owner: str, retry_at: datetime, error: str
    ) -> None:
        self._update(
            row_ids,
            owner,
            claimed_by=None,
            claimed_until=None,
            attempts=OutboxStatement.attempts + 1,
            last_error=error,
        )
        with self.store.transaction() as session:
            gate = self._gate(session)
            gate.retry_at, gate.failures, gate.last_error = retry_at, gate.failures + 1, error

    @staticmethod
    def _gate(session: Session) -> OutboxGate:
        gate = session.get(OutboxGate, 1, with_for_update=True)
        if gate is None:  # the migration creates it; recreate it if someone removed it
            gate = OutboxGate(id=1, failures=0)
            session.add(gate)
        return gate

    def note_failure(self, error: str) -> None:
        with self.store.transaction() as session:
            gate = self._gate(session)
            gate.failures, gate.last_error = gate.failures + 1, error

    def next_due(self, *, now: datetime) -> datetime | None:
        table = OutboxStatement
        with self.store.reading() as session:
            pending, in_flight_until = session.execute(
                select(func.count(), func.min(table.claimed_until)).where(table.state == "pending")
            ).one()
            retry_at = session.scalar(select(OutboxGate.retry_at).where(OutboxGate.id == 1))
        if not pending:
            return None
        if retry_at is not None and retry_at > now:
            return retry_at
        return _aware(in_flight_until) or now

    def _one_of(self, column: ColumnElement[int]) -> ColumnElement[bool]:
        """``column`` is one of the ids bound as ``ids`` at execution: one array parameter on
        PostgreSQL, an expanding ``IN`` on SQLite (no per-id work in SQLAlchemy either way)."""
        if self.store.dialect == "postgresql":
            return column == any_(bindparam("ids", type_=ARRAY(BigInteger)))
        return column.in_(bindparam("ids", expanding=True))

    def _update(
        self, row_ids: Sequence[int], owner: str, *, open_gate: bool = False, **values: object
    ) -> None:
        if not row_ids:
            return
        table = OutboxStatement
        with self.store.transaction() as session:
            session.execute(
                update(table)
                .where(self._one_of(table.id), table.claimed_by == owner)
                .values(**values),
                {"ids": list(row_ids)},
                execution_options={"synchronize_session": False},
            )
            if open_gate:
                session.execute(
                    update(OutboxGate)
                    .where(OutboxGate.id == 1, OutboxGate.failures > 0)
                    .values(retry_at=None, failures=0, last_error=None)
                )

    # -- operators --------------------------------------------------------------------------

    def status(self, *, now: datetime) -> OutboxStatus:
        """Counts per state, whether the queue waits out a backoff, the oldest pending row."""
        table = OutboxStatement
        with self.store.reading() as session:
            counts = dict(
                session.execute(select(table.state, func.count()).group_by(table.state)).all()
            )
            oldest = session.scalar(
                select(func.min(table.created_at)).where(table.state == "pending")
            )
            gate = session.get(OutboxGate, 1)
        pending = counts.get("pending", 0)
        closed = gate is not None and gate.retry_at is not None and gate.retry_at > now
        return OutboxStatus(
            pending=pending,
            delivered=counts.get("delivered", 0),
            dead=counts.get("dead", 0),
            waiting=pending if closed else 0,
            oldest_pending=_aware(oldest),
            next_attempt=gate.retry_at if closed else None,
            last_error=gate.last_error if gate is not None and gate.failures else None,
        )

    def dead_letters(self, *, limit: int = 100) -> list[DeadLetter]:
        """Parked statements, oldest first."""
        table = OutboxStatement
        with self.store.reading() as session:
            rows = session.scalars(
                select(table).where(table.state == "dead").order_by(table.id).limit(limit)
            ).all()
        return [
            DeadLetter(
                r.id,
                r.statement_id,
                r.template,
                r.attempts,
                r.last_error,
                r.lrs_status,
                r.lrs_response,
                r.payload,
            )
            for r in rows
        ]

    def states(self, row_ids: Sequence[int]) -> dict[int, str]:
        """The state of each of these rows that exists (``pending``, ``delivered``, ``dead``)."""
        table = OutboxStatement
        with self.store.reading() as session:
            rows = session.execute(
                select(table.id, table.state).where(table.id.in_(list(row_ids)))
            ).all()
        return {row_id: state for row_id, state in rows}

    def retry(self, row_ids: Sequence[int] | None = None) -> int:
        """Put dead letters (the given ones, or all) back in the queue; returns how many."""
        table = OutboxStatement
        condition = table.state == "dead"
        if row_ids is not None:
            condition = and_(condition, table.id.in_(list(row_ids)))
        with self.store.transaction() as session:
            result = session.execute(
                update(table)
                .where(condition)
                .values(
                    state="pending",
                    attempts=0,
                    claimed_by=None,
                    claimed_until=None,
                ),
                execution_options={"synchronize_session": False},
            )
        return result.rowcount


def _aware(moment: datetime | None) -> datetime | None:
    """Aggregates bypass the column type on SQLite; make their results aware UTC again."""
    if moment is None:
        return None
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment)
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
