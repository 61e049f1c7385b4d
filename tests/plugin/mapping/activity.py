"""Recording mentoring activity for the evidence tests, and reading back what the mapper kept."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from mentorbridge.plugin.recorder import Recorder
from mentorbridge.plugin.store.db import Store
from mentorbridge.plugin.store.evidence_models import (
    CompetencyEvidence,
    EvidenceChange,
    EvidenceDirty,
    EvidenceSource,
    MapperState,
)
from mentorbridge.plugin.store.models import OutboxStatement, Person
from mentorbridge.xapi.statements import Event

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
AI = "generative AI at work"
#: Every table the mapper writes.
MAPPER_TABLES = (
    CompetencyEvidence,
    EvidenceSource,
    EvidenceChange,
    EvidenceDirty,
    MapperState,
    OutboxStatement,
)


def event(name: str) -> Event:
    return Event(source="test", id=name)


def complete(
    recorder: Recorder,
    key: str,
    *,
    pair: str = "pair-1",
    themes: tuple[str, ...] = (AI,),
    at: datetime = T0,
) -> None:
    recorder.complete_session(
        event(f"done-{key}"),
        pair=pair,
        session_key=key,
        started_at=at,
        duration_minutes=45,
        themes=themes,
    )


def sessions(recorder: Recorder, n: int, *, pair: str = "pair-1", prefix: str = "s") -> None:
    for i in range(1, n + 1):
        complete(recorder, f"{prefix}-{i}", pair=pair, at=T0 + timedelta(days=i))


def rate(
    recorder: Recorder,
    *,
    key: str = "o-1",
    session: str = "s-3",
    rating: float = 4,
    released: bool = True,
    subject: str = "EXEC-1",
    rater: str = "JUN-1",
    competency: str = "SUCC-DIGI",
) -> None:
    recorder.rate_outcome(
        event(f"rate-{key}"),
        session_key=session,
        outcome_key=key,
        subject=subject,
        rater=rater,
        competency=competency,
        competency_name="Digital Fluency",
        rating=rating,
        scale=(1, 5),
        released=released,
        rated_at=T0 + timedelta(days=10),
    )


def release(recorder: Recorder, released: bool, *, key: str = "o-1") -> None:
    recorder.change_release(
        event(f"release-{key}-{released}"),
        outcome_key=key,
        released=released,
        changed_at=T0 + timedelta(days=11),
    )


def evidence(store: Store) -> dict[tuple[str, str, str], CompetencyEvidence]:
    """Every evidence row, by (worker id, competency key, side)."""
    with store.reading() as session:
        rows = session.execute(
            select(Person.worker_id, CompetencyEvidence).join(
                Person, Person.id == CompetencyEvidence.person_id
            )
        ).all()
    return {(worker, row.competency_key, row.side): row for worker, row in rows}


def sources(store: Store, evidence_id: int) -> list[tuple[str, str]]:
    with store.reading() as session:
        return [
            tuple(row)
            for row in session.execute(
                select(EvidenceSource.kind, EvidenceSource.ref_key)
                .where(EvidenceSource.evidence_id == evidence_id)
                .order_by(EvidenceSource.occurred_at, EvidenceSource.ref_key)
            )
        ]


def history(store: Store, evidence_id: int) -> list[tuple[int, str, str]]:
    with store.reading() as session:
        return [
            tuple(row)
            for row in session.execute(
                select(EvidenceChange.revision, EvidenceChange.level_name, EvidenceChange.status)
                .where(EvidenceChange.evidence_id == evidence_id)
                .order_by(EvidenceChange.revision)
            )
        ]


def outbox(store: Store, template: str | None = None) -> list[OutboxStatement]:
    with store.reading() as session:
        query = select(OutboxStatement).order_by(OutboxStatement.id)
        if template is not None:
            query = query.where(OutboxStatement.template == template)
        return list(session.scalars(query))


def counts(store: Store) -> dict[str, int]:
    with store.reading() as session:
        return {
            model.__tablename__: session.scalar(select(func.count()).select_from(model))
            for model in MAPPER_TABLES
        }


def snapshot(store: Store) -> dict[str, list]:
    """Every row of the mapper's evidence tables, as plain tuples."""
    found = {}
    with store.reading() as session:
        for model in MAPPER_TABLES:
            columns = [c for c in model.__table__.columns if c.name != "claimed_until"]
            found[model.__tablename__] = sorted(
                (tuple(row) for row in session.execute(select(*columns))), key=repr
            )
    return found
