"""Privacy erasure: one transaction removes a person's words and personal fields, unlinks their
opaque id, optionally voids their statements and leaves an audit row; the partner's record
keeps working; a later HRIS sync brings nothing back unless the worker is rehired (SQLite and
PostgreSQL)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from mentorbridge.connectors.workday.sample.tenant import generate_tenant, rehire
from mentorbridge.plugin.errors import StatementValidationError, UnknownReferenceError
from mentorbridge.plugin.jobs.sync import sync_workday
from mentorbridge.plugin.privacy.erase import erase_person
from mentorbridge.plugin.privacy.markers import marker_hash, marker_key
from mentorbridge.plugin.privacy.models import Erasure, ErasureMarker
from mentorbridge.plugin.recorder import Recorder
from mentorbridge.plugin.reports.transcript import read_transcript
from mentorbridge.plugin.store import Base
from mentorbridge.plugin.store.db import Store
from mentorbridge.plugin.store.hris_models import (
    CompetencyAssessment,
    HrisWorker,
    SuccessionCandidate,
)
from mentorbridge.plugin.store.models import Goal, OutboxStatement, Pair, Person, Reflection
from mentorbridge.plugin.store.webhook_models import WebhookEvent
from mentorbridge.plugin.web import create_app
from mentorbridge.xapi import vocab
from mentorbridge.xapi.statements import StatementBuilder
from tests.conftest import SETTINGS
from tests.fakes import NOW
from tests.plugin.test_privacy_export import (
    EXEC_WORDS,
    GOAL,
    JUNIOR_WORDS,
    build_record,
    hris_records,
    run,
    sync_hris,
)
from tests.plugin.web.conftest import ADMIN_TOKEN, web_config

#: What must not survive anywhere in the store once EXEC-1 (Ada) is erased.
ADA = ("EXEC-1", "Ada Lovelace", "ada@example.com", EXEC_WORDS, GOAL, "held words of Ada")


def erase(store: Store, worker_id: str = "EXEC-1", **options: Any) -> Any:
    return erase_person(store, worker_id, erased_by="dpo@example.com", now=lambda: NOW, **options)


def dump(store: Store) -> str:
    """Every row of every table, as text (statement bytes decoded)."""
    rows = []
    with store.reading() as session:
        for table in Base.metadata.sorted_tables:
            for row in session.execute(select(table)):
                rows.append(repr([v.decode("utf-8") if isinstance(v, bytes) else v for v in row]))
    return "\n".join(rows)


def person_of(store: Store, person_id: int) -> Person:
    with store.reading() as session:
        return session.get(Person, person_id)


def exec_person(store: Store) -> Person:
    with store.reading() as session:
        return session.scalar(select(Person).where(Person.worker_id == "EXEC-1"))


# -- what goes ---------------------------------------------------------------------------------


def test_erase_leaves_nothing_personal_about_the_person_anywhere(
    recorder: Recorder, store: Store
) -> None:
    build_record(recorder, store)
    before = exec_person(store)
    assert all(text in dump(store) for text in ADA)
    erase(store)
    text = dump(store)
    assert [t for t in ADA if t in text] == []
    after = person_of(store, before.id)
    assert after.worker_id == f"erased-{before.id}" and after.active is False
    assert after.opaque_id != before.opaque_id  # the store no longer knows their LRS id
    with store.reading() as session:
        assert session.scalar(select(Person).where(Person.opaque_id == before.opaque_id)) is None


def test_erase_deletes_their_reflections_and_goal_wording_and_blanks_hris_fields(
    recorder: Recorder, store: Store
) -> None:
    build_record(recorder, store)
    person_id = exec_person(store).id
    report = erase(store)
    with store.reading() as session:
        reflections = {r.key: r.body for r in session.scalars(select(Reflection))}
        goal = session.scalar(select(Goal).where(Goal.key == "g-exec"))
        worker = session.scalar(select(HrisWorker).where(HrisWorker.person_id == person_id))
        assessed = set(session.scalars(select(CompetencyAssessment.employee_id)))
        candidates = set(session.scalars(select(SuccessionCandidate.employee_id)))
        held = session.scalar(select(WebhookEvent).where(WebhookEvent.event_id == "evt-held-1"))
    assert reflections == {"r-junior": JUNIOR_WORDS}
    assert goal.title == "" and goal.planned_statement_id  # the row stays, its words go
    assert (worker.legal_name, worker.preferred_name, worker.work_email) == ("", None, None)
    assert (worker.manager_employee_id, worker.time_zone, worker.employee_id) == (None, None, "")
    assert worker.workday_id == f"erased-{worker.id}"
    assert assessed == {"JUN-1"} and candidates == {"JUN-1"}
    assert (held.status, held.payload) == ("rejected", None)
    assert report.counts == {
        "statements_voided": 0,
        "reflections_deleted": 1,
        "goal_wordings_erased": 1,
        "pairs_ended": 1,
        "hris_workers_blanked": 1,
        "competency_assessments_deleted": 1,
        "succession_candidacies_deleted": 1,
        "pairing_intake_deleted": 0,
        "pairing_drafts_deleted": 0,
        "webhook_events_scrubbed": 1,
        "evidence_deleted": 0,
        "evidence_statements_voided": 0,
    }


def test_erase_records_who_when_and_counts_never_the_content(
    recorder: Recorder, store: Store
) -> None:
    build_record(recorder, store)
    person_id = exec_person(store).id
    report = erase(store)
    with store.reading() as session:
        (audit,) = session.scalars(select(Erasure)).all()
    assert (audit.id, audit.person_id, audit.erased_by) == (
        report.erasure_id,
        person_id,
        "dpo@example.com",
    )
    assert audit.erased_at == NOW and audit.void_statements is False
    assert audit.counts == report.counts
    assert all(isinstance(n, int) for n in audit.counts.values())


def test_erase_keeps_the_erasure_marker_as_a_keyed_hash_only(
    recorder: Recorder, store: Store
) -> None:
    build_record(recorder, store)
    opaque = exec_person(store).opaque_id
    erase(store)
    with store.reading() as session:
        (marker,) = session.scalars(select(ErasureMarker)).all()
    key = marker_key(store)
    assert marker.employee_hash == marker_hash(key, "employee", "EXEC-1")
    assert marker.workday_hash == marker_hash(key, "workday", f"{1:032x}")
    assert marker.employee_hash != marker_hash(b"another installation", "employee", "EXEC-1")
    assert opaque[2:] not in marker.employee_hash  # not the opaque id either


def test_erase_of_an_unknown_worker_changes_nothing(recorder: Recorder, store: Store) -> None:
    build_record(recorder, store)
    before = dump(store)
    with pytest.raises(UnknownReferenceError, match="worker 'NOBODY' is not known"):
        erase(store, "NOBODY")
    assert dump(store) == before


def test_erase_is_all_or_nothing(recorder: Recorder, store: Store) -> None:
    build_record(recorder, store)
    before = dump(store)

    class Failing(StatementBuilder):
        def voiding(self, *args: Any, **kwargs: Any) -> Any:
            raise StatementValidationError("voiding statement", [("$.object", "broken")])

    with pytest.raises(StatementValidationError):
        erase(store, builder=Failing(SETTINGS, now=lambda: NOW))
    assert dump(store) == before


# -- voiding -----------------------------------------------------------------------------------


def voidings(store: Store) -> dict[str, dict[str, Any]]:
    with store.reading() as session:
        rows = session.scalars(
            select(OutboxStatement).where(OutboxStatement.voids_statement_id.is_not(None))
        ).all()
        return {r.voids_statement_id: json.loads(r.payload) for r in rows}


def test_erase_with_voiding_voids_every_statement_the_person_made_and_no_other(
    recorder: Recorder, store: Store
) -> None:
    ids = build_record(recorder, store)
    report = erase(store, builder=StatementBuilder(SETTINGS, now=lambda: NOW))
    voided = voidings(store)
    own = {ids[k] for k in ("attended", "exec_reflection", "goal", "exec_evidence")}
    assert set(voided) == own and report.counts["statements_voided"] == 4
    for target, statement in voided.items():
        assert statement["verb"]["id"] == vocab.VOIDED
        assert statement["object"] == {"objectType": "StatementRef", "id": target}
    with store.reading() as session:
        (audit,) = session.scalars(select(Erasure)).all()
    assert audit.void_statements is True


def test_erase_without_voiding_queues_no_statement(recorder: Recorder, store: Store) -> None:
    build_record(recorder, store)
    erase(store)
    assert voidings(store) == {}


# -- what stays ---------------------------------------------------------------------------------


def test_the_partners_record_and_transcript_still_work_after_an_erasure(
    recorder: Recorder, store: Store, store_url: str
) -> None:
    ids = build_record(recorder, store)
    erase(store, builder=StatementBuilder(SETTINGS, now=lambda: NOW))
    transcript = read_transcript(store, "JUN-1", viewer="learner")
    (pair,) = transcript.pairs
    assert (pair.pair_id, pair.role, pair.status) == ("pair-1", "mentor", "ended")
    assert pair.partner.startswith("erased-")
    (session_line,) = transcript.sessions
    assert session_line.delivery.statement_id == ids["mentored"]
    assert session_line.delivery.state == "queued"  # the partner's statement is not voided
    assert transcript.reflections == 1
    assert [c.rating for c in transcript.competencies] == [3]
    app = create_app(web_config(store_url), store=store, now=lambda: NOW.timestamp())
    with app.test_client() as client:
        page = client.get(
            "/learners/JUN-1/transcript",
            headers={"Authorization": f"Bearer {ADMIN_TOKEN}", "Accept": "text/html"},
        )
    assert page.status_code == 200
    assert "<td>erased-" in page.text and "ended 2026-11-20" in page.text
    with store.reading() as session:
        assert session.scalar(select(Pair.status).where(Pair.key == "pair-2")) == "active"


# -- a later HRIS sync --------------------------------------------------------------------------


def test_a_later_sync_does_not_bring_the_erased_worker_back(
    recorder: Recorder, store: Store
) -> None:
    build_record(recorder, store)
    erase(store)
    counts = sync_hris(store)
    assert counts["workers"].skipped == 1 and counts["competency_assessments"].skipped == 1
    text = dump(store)
    assert [t for t in ADA if t in text] == []
    with store.reading() as session:
        plan_candidates = set(session.scalars(select(SuccessionCandidate.employee_id)))
        assert session.scalar(select(Person).where(Person.worker_id == "EXEC-1")) is None
    assert plan_candidates == {"JUN-1"}
    assert "Grace Hopper" in text  # the partner is mirrored as before


def test_a_rehire_after_the_erasure_comes_back_as_a_new_person(
    recorder: Recorder, store: Store
) -> None:
    build_record(recorder, store)
    erased_id = exec_person(store).id
    erase(store)
    records = hris_records()
    records["workers"][0]["hire_date"] = (NOW + timedelta(days=30)).date().isoformat()
    counts = sync_hris(store, records)
    assert counts["workers"].skipped == 0
    back = exec_person(store)
    assert back is not None and back.id != erased_id
    with store.reading() as session:
        worker = session.scalar(select(HrisWorker).where(HrisWorker.person_id == back.id))
        assert session.scalar(select(ErasureMarker)) is None
        assert session.get(Person, erased_id).worker_id == f"erased-{erased_id}"
        assessed = set(session.scalars(select(CompetencyAssessment.employee_id)))
    assert worker.legal_name == "Ada Lovelace" and assessed == {"EXEC-1", "JUN-1"}


def test_a_workday_sync_skips_an_erased_worker_until_their_rehire(
    store: Store, tmp_path: Path
) -> None:
    from tests.connectors.workday.test_sync import config as workday_config
    from tests.workday_server import WorkdayServer

    tenant = generate_tenant(40, seed=5)
    with WorkdayServer(tenant) as server:
        cfg = workday_config(server, workers_from="rest")
        sync_workday(cfg, store, full=True, sleep=lambda _: None)
        gone = next(w for w in tenant.workers if w["active"])
        erased_at = datetime.combine(tenant.today, datetime.min.time(), UTC)
        erase_person(store, gone["employee_id"], erased_by="dpo", now=lambda: erased_at)

        report = sync_workday(cfg, store, full=True, sleep=lambda _: None)
        assert report.counts["workers"].skipped == 1
        with store.reading() as session:
            names = set(session.scalars(select(HrisWorker.legal_name)))
            ids = set(session.scalars(select(Person.worker_id)))
        assert gone["legal_name"] not in names and gone["employee_id"] not in ids

        rehire(
            tenant,
            gone["employee_id"],
            on=tenant.today + timedelta(days=1),
            entered_at=datetime.now(UTC) - timedelta(minutes=5),
        )
        report = sync_workday(cfg, store, full=True, sleep=lambda _: None)
        assert report.counts["workers"].skipped == 0
        with store.reading() as session:
            back = session.scalar(
                select(HrisWorker).where(HrisWorker.employee_id == gone["employee_id"])
            )
        assert back.legal_name == gone["legal_name"] and back.active is True


# -- the command line ---------------------------------------------------------------------------


def test_person_erase_asks_first_and_erases_nothing_when_declined(
    recorder: Recorder, store: Store, store_url: str, tmp_path: Path
) -> None:
    build_record(recorder, store)
    declined = run(store_url, tmp_path, "person", "erase", "EXEC-1")
    assert declined.exit_code == 1 and "This cannot be undone" in declined.output
    assert exec_person(store) is not None


def test_person_erase_says_what_it_did_in_one_line(
    recorder: Recorder, store: Store, store_url: str, tmp_path: Path
) -> None:
    build_record(recorder, store)
    result = run(
        store_url,
        tmp_path,
        "person",
        "erase",
        "EXEC-1",
        "--yes",
        "--by",
        "dpo",
        "--void-statements",
    )
    assert result.exit_code == 0, result.output
    first = result.stdout.splitlines()[0]
    assert first.startswith("erased worker 'EXEC-1' (erasure 1, by dpo): ")
    assert "reflections deleted 1" in first and "statements voided 4" in first
    again = run(store_url, tmp_path, "person", "export", "EXEC-1")
    assert again.exit_code == 1 and "worker 'EXEC-1' is not known" in again.output


def test_the_privacy_migration_downgrades_and_upgrades_again(store_url: str) -> None:
    from alembic import command

    from mentorbridge.plugin.store.migrate import (
        _alembic_config,
        current_revision,
        head_revision,
        upgrade,
    )

    with Store(store_url) as store:
        config = _alembic_config()
        with store.engine.begin() as connection:
            config.attributes["connection"] = connection
            command.downgrade(config, "0004")
        assert current_revision(store) == "0004"
        upgrade(store)
        assert current_revision(store) == head_revision()


def test_erase_removes_their_pairing_intake_drafts_and_unpaired_entries(
    recorder: Recorder, store: Store
) -> None:
    from mentorbridge.plugin.store.pairing_models import (
        PairingIntake,
        PairingProposal,
        PairingRun,
    )

    build_record(recorder, store)
    breakdown = {"themes": {"value": 0.0, "weight": 60.0, "points": 0.0}}
    with store.transaction() as session:
        session.add(
            PairingIntake(
                programme_key="rm",
                employee_id="EXEC-1",
                role="mentee",
                themes=["AI"],
                languages=["en"],
                source="test",
            )
        )
        run = PairingRun(
            programme_key="rm",
            objective="best",
            mentees=1,
            mentors=2,
            pairs=1,
            total_score=0.0,
            unmatched=[
                {"employee_id": "EXEC-1", "role": "mentee", "reason": "r"},
                {"employee_id": "JUN-9", "role": "mentor", "reason": "r"},
            ],
        )
        session.add(run)
        session.flush()
        for status, mentor in (("proposed", "JUN-2"), ("approved", "JUN-1")):
            session.add(
                PairingProposal(
                    run_id=run.id,
                    programme_key="rm",
                    mentee="EXEC-1",
                    mentor=mentor,
                    status=status,
                    score=0.0,
                    breakdown=breakdown,
                    rules={},
                    pair_key="rm-pair-1" if status == "approved" else None,
                )
            )
    report = erase(store)
    with store.reading() as session:
        intake = session.scalars(select(PairingIntake)).all()
        proposals = session.scalars(select(PairingProposal)).all()
        unmatched = session.scalar(select(PairingRun)).unmatched
    assert intake == []
    assert [(p.mentee, p.mentor, p.status) for p in proposals] == [("", "JUN-1", "approved")]
    assert [u["employee_id"] for u in unmatched] == ["JUN-9"]
    assert report.counts["pairing_intake_deleted"] == 1
    assert report.counts["pairing_drafts_deleted"] == 1
    assert "EXEC-1" not in dump(store)
