"""Record reverse-mentoring activity: each change and its statements in one transaction.

Every method is one unit of work. The domain rows and the outbox rows it queues commit
together; if anything fails (an unknown pair, a statement that does not validate, a database
constraint) nothing is written. People are referred to by their HRIS worker id; statements
carry only their opaque id.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, NamedTuple, TypeVar

from sqlalchemy import bindparam, func, insert, literal_column, select, update
from sqlalchemy.orm import Session
from sqlalchemy.sql import Select

from mentorbridge.plugin.errors import ConflictError, UnknownReferenceError
from mentorbridge.plugin.mapping.dirty import mark_dirty
from mentorbridge.plugin.store.base import utc_now
from mentorbridge.plugin.store.db import Store
from mentorbridge.plugin.store.keys import keyring_of
from mentorbridge.plugin.store.models import (
    Goal,
    MentoringSession,
    OutboxStatement,
    Outcome,
    Pair,
    Person,
    Programme,
    Reflection,
)
from mentorbridge.plugin.store.outbox import enqueue, enqueue_many
from mentorbridge.plugin.store.prepared import Prepared
from mentorbridge.xapi.statements import BuiltStatement, Event, PairContext, StatementBuilder

__all__ = ["Recorded", "Recorder"]

_Row = TypeVar("_Row")


@dataclass(frozen=True, slots=True)
class Recorded:
    """What one recorded change queued: the statement ids, in order."""

    statement_ids: tuple[str, ...]


class Recorder:
    """The one way mentoring activity enters the store.

    Every method is one unit of work of its own, or part of the caller's when given
    ``within=`` (a webhook records the event and its effects in one transaction).

    Args:
        store: where it is recorded.
        builder: builds the statements each change produces.
    """

    def __init__(self, store: Store, builder: StatementBuilder) -> None:
        self.store = store
        self.builder = builder

    @contextmanager
    def _unit(self, within: Session | None) -> Iterator[Session]:
        """The caller's unit of work (``within``), or a transaction of the method's own."""
        if within is not None:
            yield within
            return
        with self.store.transaction() as session:
            yield session

    # -- people and programmes -------------------------------------------------------------

    def register_person(self, worker_id: str, *, within: Session | None = None) -> str:
        """Make a worker known (idempotent); returns their opaque id for statements: the same
        in every store with this installation's identity key (:mod:`plugin.identity`)."""
        with self._unit(within) as session:
            person = session.scalar(select(Person).where(Person.worker_id == worker_id))
            if person is None:
                opaque_id = keyring_of(self.store).identity.opaque_id_for(worker_id)
                person = Person(worker_id=worker_id, opaque_id=opaque_id)
                session.add(person)
            return person.opaque_id

    def register_programme(
        self, key: str, name: str | None, *, within: Session | None = None
    ) -> None:
        """Create a programme (named ``key`` until a name is given), or rename it."""
        with self._unit(within) as session:
            programme = session.scalar(select(Programme).where(Programme.key == key))
            if programme is None:
                session.add(Programme(key=key, name=name or key))
            elif name is not None:
                programme.name = name

    # -- pairs ----------------------------------------------------------------------------

    def create_pair(
        self,
        *,
        key: str,
        programme: str,
        mentee: str,
        mentor: str,
        started_on: date,
        cadence: str | None = None,
        themes: Sequence[str] = (),
        within: Session | None = None,
    ) -> str:
        """Pair an executive ``mentee`` with a junior ``mentor``; returns the registration."""
        with self._unit(within) as session:
            _absent(session, Pair, key, "pair")
            programme_row = _one(
                session, Programme, Programme.key == programme, "programme", programme
            )
            mentee_row, mentor_row = _person(session, mentee), _person(session, mentor)
            if mentee_row.id == mentor_row.id:
                raise ConflictError("a pair needs two different people as mentee and mentor")
            registration = str(self.builder.registration(key))
            session.add(
                Pair(
                    key=key,
                    programme_id=programme_row.id,
                    mentee_id=mentee_row.id,
                    mentor_id=mentor_row.id,
                    registration=registration,
                    status="active",
                    started_on=started_on,
                    cadence=cadence,
                    themes=list(themes),
                )
            )
            mark_dirty(session, (mentee_row.id, mentor_row.id))
            return registration

    def end_pair(self, *, key: str, ended_on: date, within: Session | None = None) -> None:
        """Close a pair; it takes no new sessions."""
        with self._unit(within) as session:
            pair = _one(session, Pair, Pair.key == key, "pair", key)
            if pair.status == "ended":
                raise ConflictError(f"pair {key!r} has already ended")
            pair.status, pair.ended_on = "ended", ended_on
            mark_dirty(session, (pair.mentee_id, pair.mentor_id))

    # -- sessions -------------------------------------------------------------------------

    def schedule_session(
        self,
        event: Event,
        *,
        pair: str,
        session_key: str,
        planned_start: datetime,
        planned_minutes: int | None,
        scheduled_at: datetime,
        within: Session | None = None,
    ) -> Recorded:
        """A session went into the calendar."""
        with self._unit(within) as session:
            pair_row = _active_pair(session, pair, lock=True)
            known, sequence = _session_slot(session, session_key, pair_row)
            if known is not None:
                raise ConflictError(f"session {session_key!r} is already recorded")
            built = self.builder.session_scheduled(
                event,
                self._pair_context(pair_row),
                session=session_key,
                sequence=sequence,
                planned_start=planned_start,
                planned_duration=timedelta(minutes=planned_minutes) if planned_minutes else None,
                scheduled_at=scheduled_at,
            )
            row_id = _SCHEDULE.scalar(
                session,
                key=session_key,
                pair_id=pair_row.id,
                sequence=sequence,
                planned_start=planned_start,
                planned_minutes=planned_minutes,
                created_at=utc_now(),
            )
            return _queue(session, [built], session_id=row_id)

    def complete_session(
        self,
        event: Event,
        *,
        pair: str,
        session_key: str,
        started_at: datetime,
        duration_minutes: float,
        themes: Sequence[str] = (),
        attendees: Sequence[str] | None = None,
        within: Session | None = None,
    ) -> Recorded:
        """Both members attended: the mentee's ``attended`` and the mentor's ``mentored``.

        ``attendees`` (worker ids), when given, must be exactly the pair's two members.
        """
        with self._unit(within) as session:
            pair_row = _active_pair(session, pair, lock=True)
            if attendees is not None:
                _check_attendees(session, pair_row, attendees)
            known, sequence = _session_slot(session, session_key, pair_row)
            if known is not None and known.pair_id != pair_row.id:
                raise ConflictError(f"session {session_key!r} belongs to another pair")
            if known is not None and known.status != "scheduled":
                raise ConflictError(f"session {session_key!r} is already {known.status}")
            if known is not None:
                sequence = known.sequence
            duration = timedelta(minutes=duration_minutes)
            context = self._pair_context(pair_row)
            built = self.builder.session_completed(
                event,
                context,
                session=session_key,
                sequence=sequence,
                started_at=started_at,
                duration=duration,
            )
            completed = {
                "started_at": started_at,
                "duration_seconds": round(duration.total_seconds()),
                "themes": list(themes),
                "attended": built[0].id,
                "mentored": built[1].id,
            }
            if known is None:
                row_id = _INSERT_COMPLETED.scalar(
                    session,
                    key=session_key,
                    pair_id=pair_row.id,
                    sequence=sequence,
                    created_at=utc_now(),
                    **completed,
                )
            else:
                row_id = known.id
                _COMPLETE.run(session, row_id=row_id, **completed)
            mark_dirty(session, (pair_row.mentee_id, pair_row.mentor_id))
            return _queue(session, built, session_id=row_id)

    def cancel_session(
        self,
        event: Event,
        *,
        session_key: str,
        cancelled_at: datetime,
        reason: str | None = None,
        within: Session | None = None,
    ) -> Recorded:
        """Retract a session: void every statement its record produced."""
        with self._unit(within) as session:
            row = _session_row(session, session_key)
            if row.status == "cancelled":
                raise ConflictError(f"session {session_key!r} is already cancelled")
            row.status, row.cancel_reason = "cancelled", reason
            # A session is cancelled once; of its statements only a retracted rating's
            # competency evidence may be voided already.
            voided = select(OutboxStatement.voids_statement_id).where(
                OutboxStatement.session_id == row.id,
                OutboxStatement.voids_statement_id.is_not(None),
            )
            targets = session.scalars(
                select(OutboxStatement.statement_id)
                .where(
                    OutboxStatement.session_id == row.id,
                    OutboxStatement.voids_statement_id.is_(None),
                    OutboxStatement.statement_id.not_in(voided),
                )
                .order_by(OutboxStatement.id)
            ).all()
            pair_row = _pair_by_id(session, row.pair_id)
            mark_dirty(session, (pair_row.mentee_id, pair_row.mentor_id))
            context = self._pair_context(pair_row)
            built = [
                self.builder.voiding(event, context, target_id=target, voided_at=cancelled_at)
                for target in targets
            ]
            enqueue_many(session, list(zip(built, targets, strict=True)), session_id=row.id)
            return Recorded(tuple(s.id for s in built))

    # -- reflections, goals, outcomes ------------------------------------------------------

    def submit_reflection(
        self,
        event: Event,
        *,
        session_key: str,
        reflection_key: str,
        author: str,
        text: str,
        visibility: str,
        submitted_at: datetime,
        within: Session | None = None,
    ) -> Recorded:
        """Keep a reflection's text here; the LRS gets only a reference to it."""
        with self._unit(within) as session:
            row = _session_row(session, session_key)
            if row.status == "cancelled":
                raise ConflictError(f"session {session_key!r} was cancelled")
            _absent(session, Reflection, reflection_key, "reflection")
            pair_row = _pair_by_id(session, row.pair_id)
            author_row = _member(session, pair_row, author)
            session.add(
                Reflection(
                    key=reflection_key,
                    session_id=row.id,
                    author_id=author_row.id,
                    body=text,
                    visibility=visibility,
                    submitted_at=submitted_at,
                )
            )
            built = self.builder.reflection_submitted(
                event,
                self._pair_context(pair_row),
                session=session_key,
                reflection=reflection_key,
                author=author_row.opaque_id,
                visibility=visibility,
                submitted_at=submitted_at,
            )
            return _queue(session, [built], session_id=row.id)

    def set_goal(
        self,
        event: Event,
        *,
        pair: str,
        goal_key: str,
        owner: str,
        title: str,
        target_date: date | None,
        session_key: str | None,
        set_at: datetime,
        within: Session | None = None,
    ) -> Recorded:
        """A participant sets a goal; its wording stays here."""
        with self._unit(within) as session:
            _absent(session, Goal, goal_key, "goal")
            pair_row = _active_pair(session, pair)
            owner_row = _member(session, pair_row, owner)
            session_row = None
            if session_key is not None:
                session_row = _session_row(session, session_key)
            built = self.builder.goal_planned(
                event,
                self._pair_context(pair_row),
                goal=goal_key,
                owner=owner_row.opaque_id,
                target_date=target_date,
                session=session_key,
                planned_at=set_at,
            )
            session.add(
                Goal(
                    key=goal_key,
                    pair_id=pair_row.id,
                    owner_id=owner_row.id,
                    session_id=session_row.id if session_row else None,
                    title=title,
                    target_date=target_date,
                    status="planned",
                    planned_at=set_at,
                    planned_statement_id=built.id,
                )
            )
            return _queue(session, [built], session_id=session_row.id if session_row else None)

    def achieve_goal(
        self, event: Event, *, goal_key: str, achieved_at: datetime, within: Session | None = None
    ) -> Recorded:
        """A goal set earlier is reached."""
        with self._unit(within) as session:
            goal = _one(session, Goal, Goal.key == goal_key, "goal", goal_key)
            if goal.status == "achieved":
                raise ConflictError(f"goal {goal_key!r} is already achieved")
            goal.status, goal.achieved_at = "achieved", achieved_at
            pair_row = _pair_by_id(session, goal.pair_id)
            owner = session.get(Person, goal.owner_id)
            built = self.builder.goal_achieved(
                event,
                self._pair_context(pair_row),
                goal=goal_key,
                owner=owner.opaque_id,
                planned_statement_id=goal.planned_statement_id,
                achieved_at=achieved_at,
            )
            goal.achieved_statement_id = built.id
            mark_dirty(session, (goal.owner_id,))
            return _queue(session, [built], session_id=goal.session_id)

    def rate_outcome(
        self,
        event: Event,
        *,
        session_key: str,
        outcome_key: str,
        subject: str,
        rater: str,
        competency: str,
        competency_name: str,
        rating: float,
        scale: tuple[float, float],
        released: bool,
        rated_at: datetime,
        within: Session | None = None,
    ) -> Recorded:
        """Record a rating; only a released one becomes competency evidence in the LRS."""
        with self._unit(within) as session:
            row = _session_row(session, session_key)
            if row.status != "completed":
                raise ConflictError(
                    f"session {session_key!r} is {row.status}; outcomes rest on a completed one"
                )
            _absent(session, Outcome, outcome_key, "outcome")
            pair_row = _pair_by_id(session, row.pair_id)
            subject_row, rater_row = (
                _member(session, pair_row, subject),
                _member(session, pair_row, rater),
            )
            outcome = Outcome(
                key=outcome_key,
                pair_id=pair_row.id,
                session_id=row.id,
                subject_id=subject_row.id,
                rater_id=rater_row.id,
                competency=competency,
                competency_name=competency_name,
                rating=rating,
                scale_min=scale[0],
                scale_max=scale[1],
                released=released,
                rated_at=rated_at,
            )
            session.add(outcome)
            mark_dirty(session, (subject_row.id,))
            if not released:
                return Recorded(())
            return self._release(session, event, outcome, row, pair_row, rated_at)

    def change_release(
        self,
        event: Event,
        *,
        outcome_key: str,
        released: bool,
        changed_at: datetime,
        within: Session | None = None,
    ) -> Recorded:
        """The person rated releases an outcome to talent teams, or takes the release back.

        Releasing queues its competency-evidence statement (as a rating released at once
        does); retracting voids it. Either way the mapper recomputes the person. A release
        that is already as asked changes nothing.
        """
        with self._unit(within) as session:
            outcome = _one(session, Outcome, Outcome.key == outcome_key, "outcome", outcome_key)
            if outcome.released == released:
                return Recorded(())
            row = session.get(MentoringSession, outcome.session_id)
            pair_row = _pair_by_id(session, outcome.pair_id)
            outcome.released = released
            mark_dirty(session, (outcome.subject_id,))
            if released:
                if row.status != "completed":
                    raise ConflictError(
                        f"outcome {outcome_key!r} rests on session {row.key!r}, which is "
                        f"{row.status}: it cannot be released"
                    )
                return self._release(session, event, outcome, row, pair_row, changed_at)
            target, outcome.evidence_statement_id = outcome.evidence_statement_id, None
            if target is None or row.status == "cancelled":
                return Recorded(())  # never sent, or voided with its session already
            built = self.builder.voiding(
                event, self._pair_context(pair_row), target_id=target, voided_at=changed_at
            )
            enqueue(session, built, session_id=row.id, voids=target)
            return Recorded((built.id,))

    def _release(
        self,
        session: Session,
        event: Event,
        outcome: Outcome,
        row: MentoringSession,
        pair_row: PairView,
        released_at: datetime,
    ) -> Recorded:
        """Queue a released outcome's competency-evidence statement."""
        subject, rater = (
            session.get(Person, outcome.subject_id),
            session.get(Person, outcome.rater_id),
        )
        evidence = (
            row.attended_statement_id
            if subject.id == pair_row.mentee_id
            else row.mentored_statement_id
        )
        built = self.builder.competency_evidence(
            event,
            self._pair_context(pair_row),
            session=row.key,
            competency_id=outcome.competency,
            competency_name=outcome.competency_name,
            subject=subject.opaque_id,
            rater=rater.opaque_id,
            score=(outcome.rating, outcome.scale_min, outcome.scale_max),
            evidence_statement_id=evidence,
            rated_at=released_at,
        )
        outcome.evidence_statement_id = built.id
        return _queue(session, [built], session_id=row.id)

    # -- helpers ----------------------------------------------------------------------------

    def _pair_context(self, pair: PairView) -> PairContext:
        return PairContext(
            key=pair.key,
            registration=self.builder.registration(pair.key),
            programme=pair.programme,
            programme_name=pair.programme_name,
            mentee=pair.mentee_opaque,
            mentor=pair.mentor_opaque,
        )


_SESSIONS = MentoringSession.__table__


@dataclass(frozen=True, slots=True)
class PairView:
    """A pair with what its statements and membership checks need, read in one query."""

    id: int
    key: str
    status: str
    mentee_id: int
    mentor_id: int
    mentee_worker: str
    mentor_worker: str
    mentee_opaque: str
    mentor_opaque: str
    programme: str
    programme_name: str


def _pair_view_query() -> Select[Any]:
    pair, programme = Pair.__table__, Programme.__table__
    mentee, mentor = Person.__table__.alias("mentee"), Person.__table__.alias("mentor")
    return (
        select(
            pair.c.id,
            pair.c.key,
            pair.c.status,
            pair.c.mentee_id,
            pair.c.mentor_id,
            mentee.c.worker_id.label("mentee_worker"),
            mentor.c.worker_id.label("mentor_worker"),
            mentee.c.opaque_id.label("mentee_opaque"),
            mentor.c.opaque_id.label("mentor_opaque"),
            programme.c.key.label("programme"),
            programme.c.name.label("programme_name"),
        )
        .join_from(pair, programme, pair.c.programme_id == programme.c.id)
        .join(mentee, pair.c.mentee_id == mentee.c.id)
        .join(mentor, pair.c.mentor_id == mentor.c.id)
    )


_PAIR_BY_KEY = Prepared(
    lambda _dialect: _pair_view_query().where(Pair.__table__.c.key == bindparam("key"))
)
#: The same, holding the pair's row until commit (PostgreSQL; SQLite's writes are serial).
_PAIR_BY_KEY_LOCKED = Prepared(
    lambda _dialect: (
        _pair_view_query()
        .where(Pair.__table__.c.key == bindparam("key"))
        .with_for_update(of=Pair.__table__)
    )
)
_PAIR_BY_ID = Prepared(
    lambda _dialect: _pair_view_query().where(Pair.__table__.c.id == bindparam("pair_id"))
)


def _pair_by_id(session: Session, pair_id: int) -> PairView:
    row = _PAIR_BY_ID.first(session, pair_id=pair_id)
    assert row is not None, "a row's pair is kept by a foreign key"
    return PairView(*row)


class KnownSession(NamedTuple):
    """A session row as completing it needs it."""

    id: int
    pair_id: int
    status: str
    sequence: int


def _session_slot_query() -> Select[Any]:
    """The session ``key`` (if recorded) and how many sessions pair ``pair_id`` has: one row."""
    counted = _SESSIONS.alias("counted")
    sessions = (
        select(func.count())
        .select_from(counted)
        .where(counted.c.pair_id == bindparam("pair_id"))
        .scalar_subquery()
    )
    one = select(literal_column("1").label("one")).subquery("one")
    return select(
        _SESSIONS.c.id, _SESSIONS.c.pair_id, _SESSIONS.c.status, _SESSIONS.c.sequence, sessions
    ).select_from(one.outerjoin(_SESSIONS, _SESSIONS.c.key == bindparam("key")))


_SESSION_SLOT = Prepared(lambda _dialect: _session_slot_query())


def _session_slot(session: Session, key: str, pair: PairView) -> tuple[KnownSession | None, int]:
    """The session ``key`` if recorded, and the sequence number a new session of ``pair`` takes
    (read after the pair's row is locked, so sessions added at once are numbered in turn)."""
    *found, sessions = _SESSION_SLOT.first(session, key=key, pair_id=pair.id)
    return (KnownSession(*found) if found[0] is not None else None), sessions + 1


#: What every new session row is given (its number read under the pair's lock).
_NEW = {
    "key": bindparam("key"),
    "pair_id": bindparam("pair_id"),
    "sequence": bindparam("sequence"),
    "created_at": bindparam("created_at"),
}
_SCHEDULE = Prepared(
    lambda _dialect: (
        insert(_SESSIONS)
        .values(
            **_NEW,
            status="scheduled",
            planned_start=bindparam("planned_start"),
            planned_minutes=bindparam("planned_minutes"),
            themes=[],
        )
        .returning(_SESSIONS.c.id)
    )
)
#: What completing a session writes, whether it was scheduled first or not.
_COMPLETED = {
    "status": "completed",
    "started_at": bindparam("started_at"),
    "duration_seconds": bindparam("duration_seconds"),
    "themes": bindparam("themes"),
    "attended_statement_id": bindparam("attended"),
    "mentored_statement_id": bindparam("mentored"),
}
_INSERT_COMPLETED = Prepared(
    lambda _dialect: insert(_SESSIONS).values(**_NEW, **_COMPLETED).returning(_SESSIONS.c.id)
)
_COMPLETE = Prepared(
    lambda _dialect: (
        update(_SESSIONS).where(_SESSIONS.c.id == bindparam("row_id")).values(**_COMPLETED)
    )
)


def _queue(
    session: Session, built: Sequence[BuiltStatement], *, session_id: int | None
) -> Recorded:
    enqueue_many(session, [(statement, None) for statement in built], session_id=session_id)
    return Recorded(tuple(s.id for s in built))


def _one(session: Session, model: type[_Row], condition: Any, kind: str, key: str) -> _Row:
    row = session.scalar(select(model).where(condition))
    if row is None:
        raise UnknownReferenceError(f"{kind} {key!r} is not known", kind=kind, key=key)
    return row


def _absent(session: Session, model: Any, key: str, kind: str) -> None:
    if session.scalar(select(model.id).where(model.key == key)) is not None:
        raise ConflictError(f"{kind} {key!r} is already recorded")


def _session_row(session: Session, key: str) -> MentoringSession:
    return _one(session, MentoringSession, MentoringSession.key == key, "session", key)


def _person(session: Session, worker_id: str) -> Person:
    person = session.scalar(select(Person).where(Person.worker_id == worker_id))
    if person is None:
        raise UnknownReferenceError(
            f"worker {worker_id!r} is not known: the HRIS mirror has no such worker yet; run "
            f"`mentorbridge sync workday` so the HRIS mirror knows worker {worker_id}",
            kind="worker",
            key=worker_id,
        )
    return person


def _active_pair(session: Session, key: str, *, lock: bool = False) -> PairView:
    """The pair ``key``; ``lock`` holds its row until commit (PostgreSQL; SQLite's writes are
    serial anyway), so concurrent requests adding sessions to it number them one at a time."""
    row = (_PAIR_BY_KEY_LOCKED if lock else _PAIR_BY_KEY).first(session, key=key)
    if row is None:
        raise UnknownReferenceError(f"pair {key!r} is not known", kind="pair", key=key)
    pair = PairView(*row)
    if pair.status != "active":
        raise ConflictError(f"pair {key!r} has ended")
    return pair


@dataclass(frozen=True, slots=True)
class Member:
    """One of a pair's two people."""

    id: int
    opaque_id: str


def _member(session: Session, pair: PairView, worker_id: str) -> Member:
    if worker_id == pair.mentee_worker:
        return Member(pair.mentee_id, pair.mentee_opaque)
    if worker_id == pair.mentor_worker:
        return Member(pair.mentor_id, pair.mentor_opaque)
    _person(session, worker_id)  # an unknown worker is named as such (and may be waited for)
    raise ConflictError(f"worker {worker_id!r} is not a member of pair {pair.key!r}")


def _check_attendees(session: Session, pair: PairView, attendees: Sequence[str]) -> None:
    if len(attendees) == 2 and set(attendees) == {pair.mentee_worker, pair.mentor_worker}:
        return
    for worker_id in attendees:
        _person(session, worker_id)  # an unknown worker is named as such (and may be waited for)
    raise ConflictError(
        f"the attendees of a session of pair {pair.key!r} must be its executive mentee "
        "and its junior mentor, each once"
    )
