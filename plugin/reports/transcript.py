"""A learner's reverse-mentoring transcript, read from the store and confirmed against the LRS.

Each line that produced a statement shows where that statement is: queued in the outbox,
delivered, or failed (a dead letter), and whether the LRS confirms it has it. Private content
stays private: reflections appear as a count, goal wording only to the learner themselves,
unreleased ratings only to the learner.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from typing import Any, Literal

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from mentorbridge.plugin.errors import LRSError, UnknownReferenceError
from mentorbridge.plugin.store.base import utc_now
from mentorbridge.plugin.store.db import Store
from mentorbridge.plugin.store.hris_models import HrisWorker
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
from mentorbridge.xapi.lrs import LRSClient

__all__ = ["Delivery", "Transcript", "Viewer", "lrs_lookup", "read_transcript"]

Viewer = Literal["learner", "admin"]
#: Looks up which of a person's statements the LRS has, by their opaque id; raises on failure.
LrsLookup = Callable[[str], set[str]]

_STATES = {"pending": "queued", "delivered": "delivered", "dead": "failed"}


@dataclass(frozen=True, slots=True)
class Delivery:
    """Where a line's statement is. ``state``: ``queued``, ``delivered``, ``failed`` or
    ``voided`` (its session was cancelled); ``in_lrs``: whether the LRS confirmed it
    (``None`` when it was not asked or did not answer)."""

    statement_id: str
    state: str
    in_lrs: bool | None


@dataclass(frozen=True, slots=True)
class PairLine:
    pair_id: str
    role: str
    programme: str
    partner: str
    status: str
    started_on: date
    ended_on: date | None
    themes: list[str]


@dataclass(frozen=True, slots=True)
class SessionLine:
    session_id: str
    pair_id: str
    sequence: int
    role: str
    status: str
    when: datetime | None
    minutes: int | None
    themes: list[str]
    cancel_reason: str | None
    delivery: Delivery | None


@dataclass(frozen=True, slots=True)
class GoalLine:
    goal_id: str
    pair_id: str
    title: str | None
    status: str
    target_date: date | None
    set: Delivery
    achieved: Delivery | None


@dataclass(frozen=True, slots=True)
class CompetencyLine:
    competency: str
    name: str
    rating: float
    scale_min: float
    scale_max: float
    rated_at: datetime
    session_id: str
    released: bool
    delivery: Delivery | None


@dataclass
class Transcript:
    """What :func:`read_transcript` returns; :meth:`as_json` is the API's shape."""

    worker_id: str
    name: str
    viewer: Viewer
    lrs_check: str
    generated_at: datetime
    pairs: list[PairLine] = field(default_factory=list)
    sessions: list[SessionLine] = field(default_factory=list)
    goals: list[GoalLine] = field(default_factory=list)
    competencies: list[CompetencyLine] = field(default_factory=list)
    reflections: int = 0

    @property
    def hours(self) -> float:
        seconds = sum((s.minutes or 0) * 60 for s in self.sessions if s.status == "completed")
        return round(seconds / 3600, 1)

    def summary(self) -> dict[str, Any]:
        completed = [s for s in self.sessions if s.status == "completed"]
        return {
            "pairs": len(self.pairs),
            "sessions_attended": sum(s.role == "attended" for s in completed),
            "sessions_given": sum(s.role == "gave" for s in completed),
            "hours": self.hours,
            "goals_set": len(self.goals),
            "goals_achieved": sum(g.status == "achieved" for g in self.goals),
            "competencies_evidenced": len({c.competency for c in self.competencies if c.released}),
            "reflections": self.reflections,
        }

    def as_json(self) -> dict[str, Any]:
        return _jsonable(
            {
                "learner": {"worker_id": self.worker_id, "name": self.name},
                "viewer": self.viewer,
                "generated_at": self.generated_at,
                "lrs_check": self.lrs_check,
                "summary": self.summary(),
                "pairs": [asdict(p) for p in self.pairs],
                "sessions": [asdict(s) for s in self.sessions],
                "goals": [asdict(g) for g in self.goals],
                "competencies": [asdict(c) for c in self.competencies],
            }
        )


def read_transcript(
    store: Store, worker_id: str, *, viewer: Viewer, lrs: LrsLookup | None = None
) -> Transcript:
    """The transcript of ``worker_id`` as ``viewer`` may see it.

    Args:
        lrs: finds which statements the LRS has; ``None`` skips the check. If it raises, the
            transcript says the LRS could not confirm and shows the outbox's word alone.
    """
    with store.reading() as session:
        person = session.scalar(select(Person).where(Person.worker_id == worker_id))
        if person is None:
            raise UnknownReferenceError(
                f"no transcript for worker {worker_id!r}: they have no reverse-mentoring record",
                kind="worker",
                key=worker_id,
            )
        lines = _Lines(session, person, viewer)
        states = _outbox_states(session, lines.statement_ids())
        reflections = session.scalar(
            select(func.count()).select_from(Reflection).where(Reflection.author_id == person.id)
        )
    in_lrs, check = None, "skipped"
    if lrs is not None and states:
        try:
            in_lrs, check = lrs(person.opaque_id), "confirmed"
        except LRSError:  # the transcript still shows what the store knows
            check = "unavailable"
    return lines.transcript(worker_id, viewer, check, states, in_lrs, reflections=reflections or 0)


def lrs_lookup(client: LRSClient, home_page: str) -> LrsLookup:
    """Ask the LRS for the ids of every statement about a person (xAPI's ``agent`` filter)."""

    def lookup(opaque_id: str) -> set[str]:
        agent = {"objectType": "Agent", "account": {"homePage": home_page, "name": opaque_id}}
        return {s["id"] for s in client.statements(agent=agent, limit=500)}

    return lookup


class _Lines:
    """The rows behind a transcript, read in one session."""

    def __init__(self, session: Session, person: Person, viewer: Viewer) -> None:
        self.person = person
        self.name = _name(session, person.id) or person.worker_id
        self.pairs = session.scalars(
            select(Pair)
            .where(or_(Pair.mentee_id == person.id, Pair.mentor_id == person.id))
            .order_by(Pair.started_on, Pair.id)
        ).all()
        pair_ids = [p.id for p in self.pairs]
        self.programmes = dict(
            session.execute(
                select(Programme.id, Programme.name).where(
                    Programme.id.in_({p.programme_id for p in self.pairs})
                )
            ).all()
        )
        partners = {p.mentor_id if p.mentee_id == person.id else p.mentee_id for p in self.pairs}
        self.partner_names = {pid: _name(session, pid) for pid in partners}
        self.partner_ids = dict(
            session.execute(
                select(Person.id, Person.worker_id).where(Person.id.in_(partners))
            ).all()
        )
        self.sessions = session.scalars(
            select(MentoringSession)
            .where(MentoringSession.pair_id.in_(pair_ids))
            .order_by(MentoringSession.pair_id, MentoringSession.sequence)
        ).all()
        self.goals = session.scalars(
            select(Goal).where(Goal.owner_id == person.id).order_by(Goal.planned_at, Goal.id)
        ).all()
        outcomes = select(Outcome).where(Outcome.subject_id == person.id)
        if viewer == "admin":
            outcomes = outcomes.where(Outcome.released.is_(True))
        self.outcomes = session.scalars(outcomes.order_by(Outcome.rated_at, Outcome.id)).all()
        self.session_keys = {s.id: s.key for s in self.sessions}
        self.pair_keys = {p.id: p.key for p in self.pairs}
        self.mentee_of = {p.id: p.mentee_id == person.id for p in self.pairs}

    def statement_ids(self) -> list[str]:
        ids = [self._session_statement(s) for s in self.sessions]
        ids += [g.planned_statement_id for g in self.goals]
        ids += [g.achieved_statement_id for g in self.goals]
        ids += [o.evidence_statement_id for o in self.outcomes]
        return [i for i in ids if i]

    def _session_statement(self, row: MentoringSession) -> str | None:
        if self.mentee_of[row.pair_id]:
            return row.attended_statement_id
        return row.mentored_statement_id

    def transcript(
        self,
        worker_id: str,
        viewer: Viewer,
        check: str,
        states: dict[str, str],
        in_lrs: set[str] | None,
        *,
        reflections: int,
    ) -> Transcript:
        def delivery(statement_id: str | None, *, voided: bool = False) -> Delivery | None:
            if not statement_id:
                return None
            if voided:  # an LRS hides voided statements from queries: nothing to confirm
                return Delivery(statement_id, "voided", None)
            state = _STATES.get(states.get(statement_id, ""), "queued")
            found = None if in_lrs is None else statement_id in in_lrs
            return Delivery(statement_id, state, found)

        result = Transcript(worker_id, self.name, viewer, check, utc_now(), reflections=reflections)
        for pair in self.pairs:
            partner = pair.mentor_id if self.mentee_of[pair.id] else pair.mentee_id
            result.pairs.append(
                PairLine(
                    pair.key,
                    "mentee" if self.mentee_of[pair.id] else "mentor",
                    self.programmes[pair.programme_id],
                    self.partner_names[partner] or self.partner_ids[partner],
                    pair.status,
                    pair.started_on,
                    pair.ended_on,
                    list(pair.themes or []),
                )
            )
        for row in self.sessions:
            minutes = round(row.duration_seconds / 60) if row.duration_seconds else None
            result.sessions.append(
                SessionLine(
                    row.key,
                    self.pair_keys[row.pair_id],
                    row.sequence,
                    "attended" if self.mentee_of[row.pair_id] else "gave",
                    row.status,
                    row.started_at or row.planned_start,
                    minutes if row.status == "completed" else row.planned_minutes,
                    list(row.themes or []),
                    row.cancel_reason,
                    delivery(self._session_statement(row), voided=row.status == "cancelled"),
                )
            )
        for goal in self.goals:
            result.goals.append(
                GoalLine(
                    goal.key,
                    self.pair_keys.get(goal.pair_id, ""),
                    goal.title if viewer == "learner" else None,
                    goal.status,
                    goal.target_date,
                    delivery(goal.planned_statement_id),
                    delivery(goal.achieved_statement_id),
                )
            )
        for outcome in self.outcomes:
            result.competencies.append(
                CompetencyLine(
                    outcome.competency,
                    outcome.competency_name,
                    outcome.rating,
                    outcome.scale_min,
                    outcome.scale_max,
                    outcome.rated_at,
                    self.session_keys.get(outcome.session_id, ""),
                    outcome.released,
                    delivery(outcome.evidence_statement_id),
                )
            )
        return result


def _name(session: Session, person_id: int) -> str | None:
    worker = session.execute(
        select(HrisWorker.preferred_name, HrisWorker.legal_name)
        .where(HrisWorker.person_id == person_id)
        .order_by(HrisWorker.active.desc(), HrisWorker.id)
        .limit(1)
    ).first()
    return (worker.preferred_name or worker.legal_name) if worker else None


def _outbox_states(session: Session, statement_ids: Iterable[str]) -> dict[str, str]:
    ids = list(statement_ids)
    states: dict[str, str] = {}
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        states.update(
            session.execute(
                select(OutboxStatement.statement_id, OutboxStatement.state).where(
                    OutboxStatement.statement_id.in_(chunk)
                )
            ).all()
        )
    return states


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value
