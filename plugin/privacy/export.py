"""``mentorbridge person export``: everything the store holds about one person, as JSON
(GDPR articles 15 and 20).

The document's shape is ``schemas/privacy/person-export.schema.json`` (``format`` names its
version). It holds the HRIS mirror's rows about the worker, the pairs they are in (either
side), those pairs' sessions, the goals they own, the reflections they wrote, the ratings
about or by them with their release flags, the webhook events that name them and the xAPI
statements about them. Reflections the other participant wrote are the other person's data:
they are counted, never included.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from mentorbridge.plugin.privacy.records import (
    events_naming,
    find_person,
    pairs_of,
    statements_about,
)
from mentorbridge.plugin.store.base import utc_now
from mentorbridge.plugin.store.db import Store
from mentorbridge.plugin.store.hris_models import (
    CompetencyAssessment,
    HrisWorker,
    SuccessionCandidate,
    SuccessionPlan,
    WorkerEvent,
)
from mentorbridge.plugin.store.models import (
    Goal,
    MentoringSession,
    OutboxStatement,
    Outcome,
    Person,
    Programme,
    Reflection,
)

__all__ = ["FORMAT", "export_person"]

#: The export's format and version; a change of shape gets a new version.
FORMAT = "mentorbridge/person-export/v1"

_WORKER_FIELDS = (
    "workday_id",
    "employee_id",
    "worker_type",
    "legal_name",
    "preferred_name",
    "work_email",
    "business_title",
    "job_profile_id",
    "job_profile",
    "management_level",
    "supervisory_organization_id",
    "supervisory_organization",
    "manager_employee_id",
    "location",
    "country",
    "time_zone",
    "hire_date",
    "original_hire_date",
    "active",
    "termination_date",
    "additional_jobs",
    "sensitive",
    "source_updated_at",
    "first_seen_at",
    "updated_at",
)
_STATES = {"pending": "queued", "delivered": "delivered", "dead": "failed"}
_NOT_INCLUDED = (
    "Reflections written by the other participant of a pair are that person's data and are "
    "not included; only their number is."
)


def export_person(
    store: Store, worker_id: str, *, now: Callable[[], datetime] = utc_now
) -> dict[str, Any]:
    """The export document for the worker with Employee ID ``worker_id``.

    Raises:
        UnknownReferenceError: the store holds no person with that Employee ID.
    """
    with store.reading() as session:
        person = find_person(session, worker_id)
        pairs = pairs_of(session, person)
        named = statements_about(session, person, pairs)
        statement_ids = {n.row.statement_id for n in named}
        document = {
            "format": FORMAT,
            "generated_at": now(),
            "worker_id": person.worker_id,
            "person": {
                "opaque_id": person.opaque_id,
                "active": person.active,
                "created_at": person.created_at,
            },
            "hris": _hris(session, person),
            "programme": _programme(session, person, pairs),
            "statements": _statements(session, named),
            "webhook_events": [
                {
                    "event_id": event.event_id,
                    "type": event.type,
                    "source": event.source,
                    "status": event.status,
                    "names_them_by": how,
                    "received_at": event.received_at,
                    "processed_at": event.processed_at,
                }
                for event, how in events_naming(session, worker_id, statement_ids)
            ],
        }
    return _jsonable(document)


def _hris(session: Session, person: Person) -> dict[str, Any]:
    workers = session.scalars(
        select(HrisWorker).where(HrisWorker.person_id == person.id).order_by(HrisWorker.id)
    ).all()
    employee_ids = {w.employee_id for w in workers} | {person.worker_id}
    events = session.scalars(
        select(WorkerEvent)
        .where(WorkerEvent.worker_id.in_([w.id for w in workers]))
        .order_by(WorkerEvent.id)
    ).all()
    assessments = session.scalars(
        select(CompetencyAssessment)
        .where(CompetencyAssessment.employee_id.in_(employee_ids))
        .order_by(CompetencyAssessment.assessed_on, CompetencyAssessment.id)
    ).all()
    candidacies = session.execute(
        select(SuccessionCandidate, SuccessionPlan)
        .join(SuccessionPlan, SuccessionCandidate.plan_id == SuccessionPlan.id)
        .where(SuccessionCandidate.employee_id.in_(employee_ids))
        .order_by(SuccessionPlan.position_id)
    ).all()
    incumbent_of = session.scalars(
        select(SuccessionPlan)
        .where(SuccessionPlan.incumbent_employee_id.in_(employee_ids))
        .order_by(SuccessionPlan.position_id)
    ).all()
    return {
        "workers": [{f: getattr(w, f) for f in _WORKER_FIELDS} for w in workers],
        "worker_events": [
            {"kind": e.kind, "effective_on": e.effective_on, "noticed_at": e.noticed_at}
            for e in events
        ],
        "competency_assessments": [
            {
                "employee_id": a.employee_id,
                "competency_id": a.competency_id,
                "level_id": a.level_id,
                "level": a.level,
                "assessed_on": a.assessed_on,
                "source": a.source,
            }
            for a in assessments
        ],
        "succession_candidacies": [
            {
                "position_id": plan.position_id,
                "position": plan.position,
                "readiness_id": c.readiness_id,
                "readiness": c.readiness,
                "top_candidate": c.top_candidate,
                "temporary_fill": c.temporary_fill,
            }
            for c, plan in candidacies
        ],
        "incumbent_of": [
            {"position_id": p.position_id, "position": p.position} for p in incumbent_of
        ],
    }


def _programme(session: Session, person: Person, pairs: list[Any]) -> dict[str, Any]:
    pair_ids = [p.id for p in pairs]
    programmes = {p.id: p for p in session.scalars(select(Programme))}
    partners = {p.mentor_id if p.mentee_id == person.id else p.mentee_id for p in pairs}
    partner_ids = dict(
        session.execute(select(Person.id, Person.worker_id).where(Person.id.in_(partners))).all()
    )
    sessions = session.scalars(
        select(MentoringSession)
        .where(MentoringSession.pair_id.in_(pair_ids))
        .order_by(MentoringSession.pair_id, MentoringSession.sequence)
    ).all()
    session_keys = {s.id: s.key for s in sessions}
    pair_keys = {p.id: p.key for p in pairs}
    goals = session.scalars(
        select(Goal).where(Goal.owner_id == person.id).order_by(Goal.planned_at, Goal.id)
    ).all()
    reflections = session.scalars(
        select(Reflection)
        .where(Reflection.author_id == person.id)
        .order_by(Reflection.submitted_at, Reflection.id)
    ).all()
    others = session.scalar(
        select(func.count())
        .select_from(Reflection)
        .where(Reflection.session_id.in_(list(session_keys)), Reflection.author_id != person.id)
    )
    outcomes = session.scalars(
        select(Outcome)
        .where(or_(Outcome.subject_id == person.id, Outcome.rater_id == person.id))
        .order_by(Outcome.rated_at, Outcome.id)
    ).all()
    return {
        "pairs": [
            {
                "pair_id": p.key,
                "programme": programmes[p.programme_id].key,
                "programme_name": programmes[p.programme_id].name,
                "role": "mentee" if p.mentee_id == person.id else "mentor",
                "partner_worker_id": partner_ids.get(
                    p.mentor_id if p.mentee_id == person.id else p.mentee_id
                ),
                "status": p.status,
                "started_on": p.started_on,
                "ended_on": p.ended_on,
                "cadence": p.cadence,
                "themes": list(p.themes or []),
            }
            for p in pairs
        ],
        "sessions": [
            {
                "session_id": s.key,
                "pair_id": pair_keys[s.pair_id],
                "sequence": s.sequence,
                "status": s.status,
                "planned_start": s.planned_start,
                "planned_minutes": s.planned_minutes,
                "started_at": s.started_at,
                "duration_seconds": s.duration_seconds,
                "themes": list(s.themes or []),
                "cancel_reason": s.cancel_reason,
            }
            for s in sessions
        ],
        "goals": [
            {
                "goal_id": g.key,
                "pair_id": pair_keys.get(g.pair_id),
                "session_id": session_keys.get(g.session_id),
                "title": g.title,
                "target_date": g.target_date,
                "status": g.status,
                "planned_at": g.planned_at,
                "achieved_at": g.achieved_at,
            }
            for g in goals
        ],
        "reflections": [
            {
                "reflection_id": r.key,
                "session_id": session_keys.get(r.session_id),
                "text": r.body,
                "visibility": r.visibility,
                "submitted_at": r.submitted_at,
            }
            for r in reflections
        ],
        "reflections_not_included": {"count": others or 0, "reason": _NOT_INCLUDED},
        "outcomes": [
            {
                "outcome_id": o.key,
                "session_id": session_keys.get(o.session_id),
                "role": _outcome_role(o, person),
                "competency": o.competency,
                "competency_name": o.competency_name,
                "rating": o.rating,
                "scale_min": o.scale_min,
                "scale_max": o.scale_max,
                "released": o.released,
                "rated_at": o.rated_at,
            }
            for o in outcomes
        ],
    }


def _outcome_role(outcome: Outcome, person: Person) -> str:
    if outcome.subject_id == outcome.rater_id:
        return "self-rated"
    return "subject" if outcome.subject_id == person.id else "rater"


def _statements(session: Session, named: list[Any]) -> list[dict[str, Any]]:
    ids = [n.row.statement_id for n in named]
    voided_by = dict(
        session.execute(
            select(OutboxStatement.voids_statement_id, OutboxStatement.statement_id).where(
                OutboxStatement.voids_statement_id.in_(ids)
            )
        ).all()
    )
    return [
        {
            "statement_id": n.row.statement_id,
            "template": n.row.template,
            "verb": n.row.verb,
            "names_them_as": "actor" if n.as_actor else "participant",
            "state": _STATES.get(n.row.state, n.row.state),
            "queued_at": n.row.created_at,
            "delivered_at": n.row.delivered_at,
            "voided_by": voided_by.get(n.row.statement_id),
        }
        for n in named
    ]


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value
