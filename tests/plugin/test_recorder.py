"""The recorder: a domain change and its outbox rows commit or roll back together."""

from __future__ import annotations

import json
import threading
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from mentorbridge.plugin.errors import (
    ConflictError,
    StatementValidationError,
    UnknownReferenceError,
)
from mentorbridge.plugin.recorder import Recorder
from mentorbridge.plugin.store.db import Store
from mentorbridge.plugin.store.models import (
    Goal,
    MentoringSession,
    OutboxPayload,
    OutboxStatement,
    Outcome,
    Reflection,
)
from mentorbridge.plugin.store.outbox import SqlOutbox
from mentorbridge.xapi import vocab
from mentorbridge.xapi.statements import Event, StatementBuilder, StatementSettings
from tests.conftest import SETTINGS
from tests.fakes import NOW

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


def event(n: int) -> Event:
    return Event(source="test", id=f"ev-{n}")


def count(store: Store, model: type) -> int:
    with store.reading() as session:
        return session.scalar(select(func.count()).select_from(model))


def outbox_rows(store: Store) -> list[OutboxStatement]:
    with store.reading() as session:
        return list(session.scalars(select(OutboxStatement).order_by(OutboxStatement.id)))


def complete(
    recorder: Recorder, n: int, session_key: str = "s-1", pair: str = "pair-1"
) -> tuple[str, ...]:
    return recorder.complete_session(
        event(n), pair=pair, session_key=session_key, started_at=T0, duration_minutes=45
    ).statement_ids


def test_recorder_commits_the_session_and_its_statements_together(
    recorder: Recorder, store: Store
) -> None:
    ids = complete(recorder, 1)
    with store.reading() as session:
        row = session.scalar(select(MentoringSession))
        assert (row.status, row.duration_seconds) == ("completed", 45 * 60)
        assert (row.attended_statement_id, row.mentored_statement_id) == ids
    rows = outbox_rows(store)
    assert [r.statement_id for r in rows] == list(ids)
    assert [r.template for r in rows] == ["session-attended", "session-mentored"]
    assert {r.state for r in rows} == {"pending"}
    assert json.loads(rows[0].payload)["verb"]["id"] == vocab.ATTENDED


def test_sessions_of_one_pair_recorded_at_once_are_numbered_one_by_one(
    recorder: Recorder, store: Store
) -> None:
    start = threading.Barrier(6)
    errors: list[Exception] = []

    def record(n: int) -> None:
        start.wait()
        try:
            complete(recorder, n, session_key=f"s-{n}")
        except Exception as err:  # collected, asserted below
            errors.append(err)

    threads = [threading.Thread(target=record, args=(n,)) for n in range(1, 7)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    with store.reading() as session:
        numbers = session.scalars(select(MentoringSession.sequence)).all()
    assert sorted(numbers) == [1, 2, 3, 4, 5, 6]


def test_recorder_writes_nothing_when_a_statement_fails_validation(store: Store) -> None:
    """The domain change is rolled back with the statement that could not be queued."""
    bad = Recorder(
        store,
        StatementBuilder(
            StatementSettings(identity_home_page="not a url", activity_base=SETTINGS.activity_base),
            now=lambda: NOW,
        ),
    )
    bad.register_programme("rm", "RM")
    bad.register_person("E")
    bad.register_person("J")
    bad.create_pair(key="p", programme="rm", mentee="E", mentor="J", started_on=T0.date())
    with pytest.raises(StatementValidationError, match="homePage"):
        bad.complete_session(
            event(1), pair="p", session_key="s", started_at=T0, duration_minutes=30
        )
    assert count(store, MentoringSession) == 0
    assert count(store, OutboxStatement) == 0


def test_recorder_writes_nothing_when_the_outbox_insert_fails(
    recorder: Recorder, store: Store, builder: StatementBuilder
) -> None:
    """A database failure on the outbox row (here a clashing statement id) undoes the session."""
    clash = builder.statement_id(event(1), "session-mentored")
    with store.transaction() as session:
        session.add(
            OutboxStatement(
                statement_id=clash,
                template="x",
                verb="x",
                body=OutboxPayload(payload=b"{}"),
                state="delivered",
                attempts=0,
            )
        )
    with pytest.raises(IntegrityError):
        complete(recorder, 1)
    assert count(store, MentoringSession) == 0
    assert [r.statement_id for r in outbox_rows(store)] == [clash]


def test_recorder_refuses_unknown_references_and_conflicts(
    recorder: Recorder, store: Store
) -> None:
    with pytest.raises(UnknownReferenceError, match="pair 'nope' is not known"):
        complete(recorder, 1, pair="nope")
    with pytest.raises(UnknownReferenceError, match="worker 'W-404' is not known"):
        recorder.create_pair(
            key="p-x", programme="rm-test", mentee="W-404", mentor="JUN-1", started_on=T0.date()
        )
    complete(recorder, 2)
    with pytest.raises(ConflictError, match="already completed"):
        complete(recorder, 3)
    with pytest.raises(ConflictError, match="not a member"):
        recorder.submit_reflection(
            event(4),
            session_key="s-1",
            reflection_key="r",
            author="EXEC-2",
            text="x",
            visibility="private",
            submitted_at=T0,
        )
    assert count(store, OutboxStatement) == 2


def test_reflection_text_stays_in_the_store(recorder: Recorder, store: Store) -> None:
    complete(recorder, 1)
    secret = "The CEO admitted she has never used the intranet"
    recorder.submit_reflection(
        event(2),
        session_key="s-1",
        reflection_key="r-1",
        author="JUN-1",
        text=secret,
        visibility="private",
        submitted_at=T0 + timedelta(hours=2),
    )
    with store.reading() as session:
        assert session.scalar(select(Reflection.body)) == secret
    assert all(secret.encode() not in row.payload for row in outbox_rows(store))
    assert outbox_rows(store)[-1].template == "reflection-submitted"


def test_only_released_ratings_become_competency_evidence(recorder: Recorder, store: Store) -> None:
    attended, _ = complete(recorder, 1)
    common = dict(
        session_key="s-1",
        subject="EXEC-1",
        rater="JUN-1",
        competency="https://hr.example.com/c/digital",
        competency_name="Digital",
        scale=(1, 5),
        rated_at=T0 + timedelta(hours=3),
    )
    private = recorder.rate_outcome(event(2), outcome_key="o-1", rating=2, released=False, **common)
    released = recorder.rate_outcome(event(3), outcome_key="o-2", rating=4, released=True, **common)
    assert private.statement_ids == ()
    assert count(store, Outcome) == 2
    evidence = json.loads(outbox_rows(store)[-1].payload)
    assert evidence["id"] == released.statement_ids[0]
    assert evidence["context"]["statement"]["id"] == attended
    assert evidence["result"]["score"] == {"raw": 4, "min": 1, "max": 5, "scaled": 0.75}


def test_goal_achieved_points_at_the_goal_planned_statement(
    recorder: Recorder, store: Store
) -> None:
    (planned,) = recorder.set_goal(
        event(1),
        pair="pair-1",
        goal_key="g-1",
        owner="EXEC-1",
        title="Post on the internal social network weekly",
        target_date=date(2027, 1, 31),
        session_key=None,
        set_at=T0,
    ).statement_ids
    (achieved,) = recorder.achieve_goal(
        event(2), goal_key="g-1", achieved_at=T0 + timedelta(days=9)
    ).statement_ids
    data = json.loads(outbox_rows(store)[-1].payload)
    assert data["id"] == achieved and data["context"]["statement"]["id"] == planned
    with store.reading() as session:
        assert session.scalar(select(Goal.status)) == "achieved"
    assert b"internal social network" not in b"".join(r.payload for r in outbox_rows(store))
    with pytest.raises(ConflictError, match="already achieved"):
        recorder.achieve_goal(event(3), goal_key="g-1", achieved_at=T0 + timedelta(days=10))


def test_cancelling_a_session_voids_everything_it_produced(
    recorder: Recorder, store: Store
) -> None:
    recorder.schedule_session(
        event(1),
        pair="pair-1",
        session_key="s-1",
        planned_start=T0,
        planned_minutes=45,
        scheduled_at=T0 - timedelta(days=3),
    )
    complete(recorder, 2)
    recorder.submit_reflection(
        event(3),
        session_key="s-1",
        reflection_key="r-1",
        author="EXEC-1",
        text="x",
        visibility="pair",
        submitted_at=T0,
    )
    recorder.set_goal(
        event(4),
        pair="pair-1",
        goal_key="g-1",
        owner="EXEC-1",
        title="x",
        target_date=None,
        session_key="s-1",
        set_at=T0,
    )
    complete(recorder, 5, session_key="s-other")  # another session: must stay untouched
    produced = [
        r.statement_id
        for r in outbox_rows(store)
        if r.statement_id not in {r2.statement_id for r2 in outbox_rows(store)[-2:]}
    ]

    voids = recorder.cancel_session(
        event(6), session_key="s-1", cancelled_at=T0 + timedelta(days=1)
    ).statement_ids

    rows = outbox_rows(store)
    voiding = [r for r in rows if r.template == "statement-voided"]
    assert [r.statement_id for r in voiding] == list(voids)
    assert [r.voids_statement_id for r in voiding] == produced
    for row in voiding:
        data = json.loads(row.payload)
        assert data["verb"]["id"] == vocab.VOIDED
        assert data["object"] == {"objectType": "StatementRef", "id": row.voids_statement_id}
    with store.reading() as session:
        assert (
            session.scalar(select(MentoringSession.status).where(MentoringSession.key == "s-1"))
            == "cancelled"
        )
    with pytest.raises(ConflictError, match="already cancelled"):
        recorder.cancel_session(event(7), session_key="s-1", cancelled_at=T0 + timedelta(days=2))


def test_outbox_status_counts_every_state(recorder: Recorder, store: Store) -> None:
    complete(recorder, 1)
    status = SqlOutbox(store).status(now=NOW)
    assert (status.pending, status.delivered, status.dead, status.waiting) == (2, 0, 0, 0)
    assert status.oldest_pending is not None and status.oldest_pending.tzinfo is not None
