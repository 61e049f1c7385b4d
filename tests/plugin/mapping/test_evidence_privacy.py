"""Erasing a person takes their competency evidence with them, and it never comes back."""

from __future__ import annotations

import json

from sqlalchemy import select

from mentorbridge.plugin.mapping.run import update_evidence
from mentorbridge.plugin.privacy.erase import erase_person
from mentorbridge.plugin.recorder import Recorder
from mentorbridge.plugin.store.db import Store
from mentorbridge.plugin.store.evidence_models import EvidenceChange, EvidenceSource
from mentorbridge.xapi.statements import StatementBuilder
from tests.fakes import NOW
from tests.plugin.mapping.activity import evidence, outbox, sessions
from tests.plugin.mapping.mappings import mapping


def test_erasure_deletes_the_evidence_voids_its_statements_and_it_stays_gone(
    recorder: Recorder, store: Store, builder: StatementBuilder
) -> None:
    sessions(recorder, 3)
    update_evidence(store, mapping(), now=NOW, builder=builder)
    mine = evidence(store)[("EXEC-1", "digital-fluency", "mentee")]
    first_level = json.loads(
        next(s for s in outbox(store) if s.statement_id == mine.statement_id).payload
    )
    report = erase_person(store, "EXEC-1", erased_by="dpo", builder=builder, now=lambda: NOW)
    assert (report.counts["evidence_deleted"], report.counts["evidence_statements_voided"]) == (
        1,
        1,
    )
    assert list(evidence(store)) == [("JUN-1", "coaching", "mentor")]  # the partner's stays
    with store.reading() as session:
        assert (
            session.scalars(
                select(EvidenceSource.id).where(EvidenceSource.evidence_id == mine.id)
            ).all()
            == []
        )
        assert (
            session.scalars(
                select(EvidenceChange.id).where(EvidenceChange.evidence_id == mine.id)
            ).all()
            == []
        )
    voiding = next(s for s in outbox(store) if s.voids_statement_id == mine.statement_id)
    registration = json.loads(voiding.payload)["context"]["registration"]
    assert registration == first_level["context"]["registration"]
    again = update_evidence(store, mapping(), now=NOW, builder=builder, full=True)
    assert (again.created, again.statements) == (0, 0)
    assert list(evidence(store)) == [("JUN-1", "coaching", "mentor")]


def test_erasure_without_voiding_still_deletes_the_evidence(
    recorder: Recorder, store: Store, builder: StatementBuilder
) -> None:
    sessions(recorder, 3)
    update_evidence(store, mapping(), now=NOW, builder=builder)
    queued = len(outbox(store))
    report = erase_person(store, "EXEC-1", erased_by="dpo", now=lambda: NOW)
    assert report.counts["evidence_deleted"] == 1
    assert report.counts["evidence_statements_voided"] == 0
    assert len(outbox(store)) == queued
