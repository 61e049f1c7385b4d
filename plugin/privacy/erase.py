"""``mentorbridge person erase``: erase a person (GDPR article 17) in one transaction.

What goes: the reflections they wrote, the wording of their goals, their competency
assessments and succession candidacies, their competency evidence (its level statements voided
with the others), the personal fields of their HRIS rows (name, email,
identifiers, job, manager, location, time zone …), the reason texts and held payloads of
webhook events that name them, and the link between the person and their opaque id: the
person row keeps no Employee ID and gets a fresh opaque id, so statements already in the LRS
can no longer be tied to anyone from the store.

What stays, so the other participant's record still works: the person row itself (as
``erased-<row id>``), their pairs (ended), sessions, ratings and the outbox rows. With
``void_statements`` every statement whose actor is the person is voided through the outbox;
statements that name them only as their partner's instructor or team member are the
partner's record and stay. An :class:`~plugin.privacy.models.Erasure` row records who erased
whom (the row id), when and the counts; an
:class:`~plugin.privacy.models.ErasureMarker` keeps the identifiers as keyed hashes so the
next HRIS sync does not bring them back (:mod:`plugin.privacy.markers`).
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from mentorbridge.plugin.mapping.forget import forget_evidence
from mentorbridge.plugin.privacy.markers import marker_hash, marker_key
from mentorbridge.plugin.privacy.models import Erasure, ErasureMarker
from mentorbridge.plugin.privacy.records import (
    ERASED_PREFIX,
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
)
from mentorbridge.plugin.store.models import (
    Goal,
    OutboxStatement,
    Pair,
    Person,
    Programme,
    Reflection,
)
from mentorbridge.plugin.store.outbox import enqueue
from mentorbridge.plugin.store.pairing_models import PairingIntake, PairingProposal, PairingRun
from mentorbridge.xapi.statements import Event, PairContext, StatementBuilder

__all__ = ["ErasureReport", "erase_person"]

log = logging.getLogger(__name__)

#: The personal fields of an HRIS worker row, blanked (NOT NULL ones get a neutral value).
_BLANK_WORKER = {
    "legal_name": "",
    "preferred_name": None,
    "work_email": None,
    "business_title": None,
    "job_profile_id": None,
    "job_profile": None,
    "management_level": None,
    "supervisory_organization_id": None,
    "supervisory_organization": None,
    "manager_employee_id": None,
    "location": None,
    "country": None,
    "time_zone": None,
    "original_hire_date": None,
    "termination_date": None,
    "additional_jobs": [],
    "source_updated_at": None,
    "sensitive": None,
    "employee_id": "",
    "record_hash": "",
}


@dataclass(frozen=True, slots=True)
class ErasureReport:
    """What :func:`erase_person` did: the audit row's id and its counts."""

    erasure_id: int
    erased_at: datetime
    counts: dict[str, int]


def erase_person(
    store: Store,
    worker_id: str,
    *,
    erased_by: str,
    builder: StatementBuilder | None = None,
    now: Callable[[], datetime] = utc_now,
) -> ErasureReport:
    """Erase the worker with Employee ID ``worker_id``; all of it or nothing.

    Args:
        erased_by: who asked for it (kept in the audit trail).
        builder: builds the voiding statements; ``None`` voids nothing.

    Raises:
        UnknownReferenceError: the store holds no person with that Employee ID.
    """
    moment = now()
    key = marker_key(store)
    with store.transaction() as session:
        person = find_person(session, worker_id)
        pairs = pairs_of(session, person)
        named = statements_about(session, person, pairs)
        counts: dict[str, int] = {}
        events = events_naming(session, worker_id, {n.row.statement_id for n in named})
        audit = Erasure(
            person_id=person.id,
            erased_at=moment,
            erased_by=erased_by,
            void_statements=builder is not None,
            counts={},
        )
        session.add(audit)
        session.flush()
        counts["statements_voided"] = (
            _void(session, builder, audit.id, pairs, [n.row for n in named if n.as_actor], moment)
            if builder is not None
            else 0
        )
        counts |= _erase_content(session, person, pairs, moment)
        counts |= forget_evidence(
            session,
            person,
            builder=builder,
            event=Event(source="mentorbridge-privacy", id=f"erasure-{audit.id}"),
            moment=moment,
        )
        counts |= _erase_hris(session, person, worker_id, key, moment)
        counts["webhook_events_scrubbed"] = _scrub_events(session, events)
        person.worker_id = f"{ERASED_PREFIX}{person.id}"
        person.opaque_id = f"p-{secrets.token_hex(10)}"
        person.active = False
        audit.counts = counts
    log.info("erasure %d recorded (person row %d)", audit.id, person.id)
    return ErasureReport(audit.id, moment, counts)


def _void(
    session: Session,
    builder: StatementBuilder,
    erasure_id: int,
    pairs: list[Pair],
    targets: list[OutboxStatement],
    moment: datetime,
) -> int:
    """Queue a voiding statement for each target not voided yet (a cancelled session's are)."""
    ids = [t.statement_id for t in targets if t.voids_statement_id is None]
    voided = set(
        session.scalars(
            select(OutboxStatement.voids_statement_id).where(
                OutboxStatement.voids_statement_id.in_(ids)
            )
        )
    )
    by_registration = {p.registration: p for p in pairs}
    event = Event(source="mentorbridge-privacy", id=f"erasure-{erasure_id}")
    queued = 0
    for target in targets:
        if target.voids_statement_id is not None or target.statement_id in voided:
            continue
        context = _pair_context(session, builder, by_registration[target.registration])
        built = builder.voiding(event, context, target_id=target.statement_id, voided_at=moment)
        enqueue(session, built, session_id=target.session_id, voids=target.statement_id)
        queued += 1
    return queued


def _pair_context(session: Session, builder: StatementBuilder, pair: Pair) -> PairContext:
    programme = session.get(Programme, pair.programme_id)
    return PairContext(
        key=pair.key,
        registration=builder.registration(pair.key),
        programme=programme.key,
        programme_name=programme.name,
        mentee=session.get(Person, pair.mentee_id).opaque_id,
        mentor=session.get(Person, pair.mentor_id).opaque_id,
    )


def _erase_content(
    session: Session, person: Person, pairs: list[Pair], moment: datetime
) -> dict[str, int]:
    reflections = session.execute(delete(Reflection).where(Reflection.author_id == person.id))
    goals = session.execute(update(Goal).where(Goal.owner_id == person.id).values(title=""))
    ended = 0
    for pair in pairs:
        if pair.status == "active":
            pair.status, pair.ended_on = "ended", moment.date()
            ended += 1
    return {
        "reflections_deleted": reflections.rowcount,
        "goal_wordings_erased": goals.rowcount,
        "pairs_ended": ended,
    }


def _erase_hris(
    session: Session, person: Person, worker_id: str, key: bytes, moment: datetime
) -> dict[str, int]:
    workers = session.scalars(select(HrisWorker).where(HrisWorker.person_id == person.id)).all()
    employee_ids = {w.employee_id for w in workers} | {worker_id}
    assessments = session.execute(
        delete(CompetencyAssessment).where(CompetencyAssessment.employee_id.in_(employee_ids))
    )
    candidacies = session.execute(
        delete(SuccessionCandidate).where(SuccessionCandidate.employee_id.in_(employee_ids))
    )
    identifiers = {w.employee_id: w.workday_id for w in workers}
    identifiers.setdefault(worker_id, None)
    for worker in workers:
        for field, value in _BLANK_WORKER.items():
            setattr(worker, field, value)
        worker.workday_id = f"{ERASED_PREFIX}{worker.id}"
    for employee_id, workday_id in sorted(identifiers.items()):
        session.merge(
            ErasureMarker(
                employee_hash=marker_hash(key, "employee", employee_id),
                workday_hash=marker_hash(key, "workday", workday_id) if workday_id else None,
                erased_at=moment,
            )
        )
    return {
        "hris_workers_blanked": len(workers),
        "competency_assessments_deleted": assessments.rowcount,
        "succession_candidacies_deleted": candidacies.rowcount,
        **_erase_pairing(session, employee_ids),
    }


def _erase_pairing(session: Session, employee_ids: set[str]) -> dict[str, int]:
    """Their intake goes; draft pairs naming them go; an approved pair keeps its row (its
    ``pair`` stays, ended) without their Employee ID; runs forget them as unpaired."""
    intake = session.execute(
        delete(PairingIntake).where(PairingIntake.employee_id.in_(employee_ids))
    )
    named = PairingProposal.mentee.in_(employee_ids) | PairingProposal.mentor.in_(employee_ids)
    drafts = session.execute(
        delete(PairingProposal).where(named, PairingProposal.status != "approved")
    )
    for row in session.scalars(select(PairingProposal).where(named)):
        row.mentee = "" if row.mentee in employee_ids else row.mentee
        row.mentor = "" if row.mentor in employee_ids else row.mentor
    for run in session.scalars(select(PairingRun)):
        kept = [u for u in run.unmatched if u.get("employee_id") not in employee_ids]
        if len(kept) != len(run.unmatched):
            run.unmatched = kept
    return {
        "pairing_intake_deleted": intake.rowcount,
        "pairing_drafts_deleted": drafts.rowcount,
    }


def _scrub_events(session: Session, events: list[tuple[object, str]]) -> int:
    """Held payloads naming the person are dropped (the event is refused); refusal reasons
    quoting their id are replaced. Events that only produced statements keep nothing of them."""
    scrubbed = 0
    for event, how in events:
        if how == "statements":
            continue
        event.payload = None
        event.status = "rejected" if event.status == "held" else event.status
        event.result = {
            **(event.result or {}),
            "status": event.status,
            "reason": "the event named a worker whose data was erased",
        }
        scrubbed += 1
    return scrubbed
