"""Erasing a person's competency evidence (``mentorbridge person erase``).

Their evidence rows go with their sources and history; with a statement builder, the last
competency-level statement of each current row is voided first, under the record's
registration (computed from the opaque id the person had, before erasure replaces it). The
mapper never computes evidence for an erased (inactive) person again.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from mentorbridge.plugin.store.evidence_models import CompetencyEvidence, EvidenceDirty
from mentorbridge.plugin.store.models import Person
from mentorbridge.plugin.store.outbox import enqueue
from mentorbridge.xapi.statements import Event, StatementBuilder

__all__ = ["forget_evidence"]


def forget_evidence(
    session: Session,
    person: Person,
    *,
    builder: StatementBuilder | None,
    event: Event,
    moment: datetime,
) -> dict[str, int]:
    """Delete ``person``'s evidence in ``session``'s transaction; call it before their opaque
    id is replaced.

    Returns:
        ``evidence_deleted`` and ``evidence_statements_voided`` counts.
    """
    rows = session.execute(
        select(
            CompetencyEvidence.competency_key,
            CompetencyEvidence.side,
            CompetencyEvidence.statement_id,
        ).where(
            CompetencyEvidence.person_id == person.id,
            CompetencyEvidence.status == "current",
            CompetencyEvidence.statement_id.is_not(None),
        )
    ).all()
    voided = 0
    if builder is not None:
        for competency_key, side, statement_id in rows:
            built = builder.voiding(
                event,
                None,
                target_id=statement_id,
                voided_at=moment,
                registration=builder.evidence_registration(person.opaque_id, competency_key, side),
            )
            enqueue(session, built, voids=statement_id)
            voided += 1
    deleted = session.execute(
        delete(CompetencyEvidence).where(CompetencyEvidence.person_id == person.id)
    ).rowcount
    session.execute(delete(EvidenceDirty).where(EvidenceDirty.person_id == person.id))
    return {"evidence_deleted": deleted, "evidence_statements_voided": voided}
