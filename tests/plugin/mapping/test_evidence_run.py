"""Mapper runs on a real store (SQLite and PostgreSQL): incremental, idempotent, consent-aware,
with provenance, history and statements, all in one transaction."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import timedelta

import pytest
from sqlalchemy import select, text

from mentorbridge.plugin.mapping.model import EvidenceRules, Level
from mentorbridge.plugin.mapping.run import STATEMENT_SOURCE, update_evidence
from mentorbridge.plugin.mapping.writes import clear_marks
from mentorbridge.plugin.recorder import Recorder
from mentorbridge.plugin.store.db import Store
from mentorbridge.plugin.store.evidence_models import EvidenceDirty, MapperState
from mentorbridge.plugin.store.hris_models import Competency as SyncedCompetency
from mentorbridge.plugin.store.models import Person
from mentorbridge.xapi import vocab
from mentorbridge.xapi.statements import Event, StatementBuilder
from tests.fakes import NOW
from tests.plugin.mapping.activity import (
    complete,
    counts,
    event,
    evidence,
    history,
    outbox,
    rate,
    release,
    sessions,
    snapshot,
    sources,
)
from tests.plugin.mapping.mappings import DIGITAL, RULES, mapping

DIGI = ("EXEC-1", "digital-fluency", "mentee")


def run(store: Store, builder: StatementBuilder | None, chosen=None, **options):
    return update_evidence(store, chosen or mapping(), now=NOW, builder=builder, **options)


def test_sessions_alone_make_evidence_with_its_sources_history_and_statement(
    recorder: Recorder, store: Store, builder: StatementBuilder
) -> None:
    sessions(recorder, 3)
    result = run(store, builder)
    assert (result.full, result.reason) == (True, "first run")
    assert (result.created, result.changed, result.withdrawn) == (2, 0, 0)
    rows = evidence(store)
    assert {key: row.level_name for key, row in rows.items()} == {
        DIGI: "Developing",
        ("JUN-1", "coaching", "mentor"): "Developing",
    }
    row = rows[DIGI]
    assert (row.revision, row.status, row.sessions, row.rating) == (1, "current", 3.0, None)
    assert sources(store, row.id) == [("session", "s-1"), ("session", "s-2"), ("session", "s-3")]
    assert history(store, row.id) == [(1, "Developing", "current")]
    levels = outbox(store, "competency-level")
    assert len(levels) == result.statements == 2
    statement = next(s for s in levels if s.statement_id == row.statement_id)
    data = json.loads(statement.payload)
    with store.reading() as session:
        opaque = session.scalar(select(Person.opaque_id).where(Person.worker_id == "EXEC-1"))
    assert data["actor"]["account"]["name"] == opaque
    assert data["object"]["id"] == DIGITAL.xapi_iri
    assert data["result"]["score"] == {"scaled": 0.5}
    assert data["result"]["extensions"] == {builder.vocabulary.level_name: "Developing"}
    expected_id = builder.statement_id(
        Event(source=STATEMENT_SOURCE, id=f"{opaque}/digital-fluency/mentee/1"),
        "competency-level",
    )
    assert row.statement_id == expected_id
    assert "generative" not in statement.payload.decode().lower()  # no session content


def test_a_rerun_on_unchanged_data_changes_nothing_anywhere(
    recorder: Recorder, store: Store, builder: StatementBuilder
) -> None:
    sessions(recorder, 3)
    rate(recorder)
    run(store, builder)
    before = snapshot(store)
    again = run(store, builder)
    assert (again.people, again.created, again.changed, again.statements) == (0, 0, 0, 0)
    forced = run(store, builder, full=True)
    assert forced.people == 4 and (forced.created, forced.changed, forced.statements) == (0, 0, 0)
    assert snapshot(store) == before


def test_only_the_people_a_change_touched_are_recomputed(
    recorder: Recorder, store: Store, builder: StatementBuilder
) -> None:
    sessions(recorder, 3)
    run(store, builder)
    sessions(recorder, 3, pair="pair-2", prefix="p2")
    result = run(store, builder)
    assert (result.full, result.people, result.created) == (False, 2, 2)
    with store.reading() as session:
        assert session.scalars(select(EvidenceDirty)).all() == []


def test_a_rating_released_later_counts_at_the_next_run(
    recorder: Recorder, store: Store, builder: StatementBuilder
) -> None:
    sessions(recorder, 3)
    rate(recorder, released=False)
    run(store, builder)
    assert evidence(store)[DIGI].level_name == "Developing"
    release(recorder, True)
    result = run(store, builder)
    assert (result.people, result.changed) == (1, 1)
    row = evidence(store)[DIGI]
    assert (row.level_name, row.revision, row.rating) == ("Proficient", 2, 0.75)
    assert ("outcome", "o-1") in sources(store, row.id)
    assert history(store, row.id) == [(1, "Developing", "current"), (2, "Proficient", "current")]
    assert outbox(store, "competency-level")[-1].statement_id == row.statement_id


def test_a_retracted_release_withdraws_the_evidence_and_voids_its_statement(
    recorder: Recorder, store: Store, builder: StatementBuilder
) -> None:
    rated_only = mapping(EvidenceRules(levels=(Level("Rated", 0.5, min_rating=0.5),)), DIGITAL)
    complete(recorder, "s-3")
    rate(recorder)
    run(store, builder, rated_only)
    level_statement = evidence(store)[DIGI].statement_id
    release(recorder, False)
    result = run(store, builder, rated_only)
    assert (result.withdrawn, result.statements) == (1, 1)
    row = evidence(store)[DIGI]
    assert (row.status, row.revision, row.level_name) == ("withdrawn", 2, "Rated")
    assert sources(store, row.id) == []
    assert history(store, row.id)[-1] == (2, "Rated", "withdrawn")
    voiding = outbox(store)[-1]
    assert voiding.voids_statement_id == level_statement
    assert voiding.statement_id == row.statement_id
    data = json.loads(voiding.payload)
    assert data["verb"]["id"] == vocab.VOIDED
    assert (
        data["context"]["registration"]
        == json.loads(outbox(store, "competency-level")[-1].payload)["context"]["registration"]
    )
    assert run(store, builder, rated_only).statements == 0  # withdrawn once, voided once


def test_a_cancelled_session_and_its_outcomes_stop_counting(
    recorder: Recorder, store: Store, builder: StatementBuilder
) -> None:
    sessions(recorder, 4)
    rate(recorder, session="s-4")
    run(store, builder)
    assert evidence(store)[DIGI].level_name == "Proficient"
    recorder.cancel_session(event("cancel"), session_key="s-4", cancelled_at=NOW)
    run(store, builder)
    row = evidence(store)[DIGI]
    assert (row.level_name, row.rating, row.sessions) == ("Developing", None, 3.0)
    assert ("session", "s-4") not in sources(store, row.id)
    recorder.cancel_session(event("cancel-3"), session_key="s-3", cancelled_at=NOW)
    run(store, builder)
    assert evidence(store)[DIGI].status == "withdrawn"


def test_evidence_that_returns_after_withdrawal_is_current_again(
    recorder: Recorder, store: Store, builder: StatementBuilder
) -> None:
    sessions(recorder, 3)
    run(store, builder)
    recorder.cancel_session(event("cancel"), session_key="s-3", cancelled_at=NOW)
    run(store, builder)
    complete(recorder, "s-9")
    run(store, builder)
    row = evidence(store)[DIGI]
    assert (row.status, row.revision) == ("current", 3)
    assert [h[2] for h in history(store, row.id)] == ["current", "withdrawn", "current"]


def test_a_changed_mapping_recomputes_everyone(
    recorder: Recorder, store: Store, builder: StatementBuilder
) -> None:
    sessions(recorder, 3)
    run(store, builder)
    stricter_levels = tuple(replace(lv, min_sessions=4) for lv in RULES.levels)
    stricter = mapping(replace(RULES, levels=stricter_levels))
    result = run(store, builder, stricter)
    assert (result.full, result.reason) == (True, "the mapping changed")
    assert result.people == 4
    assert evidence(store)[DIGI].status == "withdrawn"  # every level now needs 4 sessions
    with store.reading() as session:
        assert session.get(MapperState, "default").mapping_digest == stricter.digest


def test_workday_level_and_moodle_value_come_from_the_synced_scale(
    recorder: Recorder, store: Store, builder: StatementBuilder
) -> None:
    sessions(recorder, 3)
    with store.transaction() as session:
        session.add(
            SyncedCompetency(
                competency_id="COMP-DIGI",
                name="Digital Fluency",
                scale_id="PROF-4",
                levels=[
                    {"level_id": f"L{rank}", "name": f"Level {rank}", "rank": rank}
                    for rank in range(1, 5)
                ],
                inactive=False,
                record_hash="x",
            )
        )
    run(store, builder)
    row = evidence(store)[DIGI]
    assert (row.workday_level_id, row.moodle_value) == ("L2", 1)  # 0.5: 2/4 and 1/3 reached
    assert evidence(store)[("JUN-1", "coaching", "mentor")].workday_level_id is None
    with store.transaction() as session:
        synced = session.scalar(select(SyncedCompetency))
        synced.levels = [{"level_id": f"N{rank}", "name": "", "rank": rank} for rank in (1, 2)]
    result = run(store, builder)
    assert (result.full, result.reason) == (True, "the synced Workday proficiency scales changed")
    row = evidence(store)[DIGI]
    assert (row.workday_level_id, row.revision) == ("N1", 2)


class _FailingBuilder(StatementBuilder):
    """Fails building the second level statement: a run stopped half-way."""

    def __init__(self, builder: StatementBuilder) -> None:
        super().__init__(builder.settings, now=builder._now)
        self.calls = 0

    def competency_level(self, *args, **kwargs):
        self.calls += 1
        if self.calls == 2:
            raise RuntimeError("stopped half-way")
        return super().competency_level(*args, **kwargs)


def test_a_run_that_fails_half_way_leaves_every_table_as_it_was(
    recorder: Recorder, store: Store, builder: StatementBuilder
) -> None:
    sessions(recorder, 3)
    run(store, builder)
    sessions(recorder, 3, pair="pair-2", prefix="p2")
    before = snapshot(store)
    failing = _FailingBuilder(builder)
    with pytest.raises(RuntimeError, match="half-way"):
        run(store, failing, full=True, batch_size=1)
    assert failing.calls == 2  # one person per batch: the first batch was written already
    assert snapshot(store) == before
    assert counts(store)["evidence_dirty"] == 2  # the marks wait for the next run


def test_decay_reaches_untouched_people_with_a_periodic_full_run(
    recorder: Recorder, store: Store, builder: StatementBuilder
) -> None:
    windowed = mapping(replace(RULES, recency_days=60))
    sessions(recorder, 3)  # early November
    run(store, builder, windowed)
    assert evidence(store)[DIGI].status == "current"
    later = NOW + timedelta(days=70)
    quiet = update_evidence(store, windowed, now=later, full_every=timedelta(days=1))
    assert (quiet.full, quiet.reason) == (
        True,
        "decay and the recency window since the last full run",
    )
    assert evidence(store)[DIGI].status == "withdrawn"  # outside the window now
    again = update_evidence(
        store, windowed, now=later + timedelta(hours=1), full_every=timedelta(days=1)
    )
    assert (again.full, again.people) == (False, 0)  # a full run is a day old at most


def test_a_mark_made_while_a_run_was_under_way_stays_for_the_next(
    recorder: Recorder, store: Store
) -> None:
    with store.reading() as session:
        seen = dict(session.execute(select(EvidenceDirty.person_id, EvidenceDirty.marked_at)).all())
    complete(recorder, "s-1")  # marks EXEC-1 and JUN-1 again, later
    with store.transaction() as session:
        clear_marks(session, seen)
    with store.reading() as session:
        left = set(
            session.scalars(
                select(Person.worker_id).join(EvidenceDirty, EvidenceDirty.person_id == Person.id)
            )
        )
    assert left == {"EXEC-1", "JUN-1"}


def test_a_run_without_a_builder_keeps_the_last_statement_to_void_later(
    recorder: Recorder, store: Store, builder: StatementBuilder
) -> None:
    sessions(recorder, 3)
    run(store, builder)
    first = evidence(store)[DIGI].statement_id
    complete(recorder, "s-9")
    rate(recorder, session="s-9")
    result = run(store, None)
    assert (result.changed, result.statements) == (2, 0)  # and JUN-1 on coaching
    row = evidence(store)[DIGI]
    assert (row.level_name, row.statement_id) == ("Proficient", first)
    for key in ("s-1", "s-2", "s-3", "s-9"):
        recorder.cancel_session(event(f"cancel-{key}"), session_key=key, cancelled_at=NOW)
    run(store, builder)
    assert first in {s.voids_statement_id for s in outbox(store, "statement-voided")}


def test_a_full_run_leaves_postgresql_statistics_that_know_the_new_rows(
    recorder: Recorder, store: Store, builder: StatementBuilder
) -> None:
    # Reports plan their joins from these statistics; an empty table's (or none, with
    # autovacuum off) turned a two-second succession report into minutes at 100,000 workers.
    sessions(recorder, 3)
    run(store, builder)
    with store.reading() as session:
        if store.dialect == "postgresql":
            estimated = session.scalar(
                text("SELECT reltuples FROM pg_class WHERE relname = 'competency_evidence'")
            )
            assert estimated == len(evidence(store)) == 2
        else:  # SQLite plans these joins well without statistics: none are gathered
            assert (
                session.scalar(
                    text("SELECT count(*) FROM sqlite_master WHERE name = 'sqlite_stat1'")
                )
                == 0
            )
