"""The recorder's side of competency evidence: releases given and taken back later, and the
people each change marks for the mapper's next run."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import delete, select

from mentorbridge.plugin.errors import ConflictError, UnknownReferenceError
from mentorbridge.plugin.recorder import Recorder
from mentorbridge.plugin.store.db import Store
from mentorbridge.plugin.store.evidence_models import EvidenceDirty
from mentorbridge.plugin.store.models import OutboxStatement, Outcome, Person
from mentorbridge.xapi import vocab
from mentorbridge.xapi.statements import Event

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


def event(name: str) -> Event:
    return Event(source="test", id=name)


def complete(recorder: Recorder, key: str = "s-1", pair: str = "pair-1") -> None:
    recorder.complete_session(
        event(f"done-{key}"), pair=pair, session_key=key, started_at=T0, duration_minutes=45
    )


def rate(recorder: Recorder, *, released: bool, key: str = "o-1", session: str = "s-1") -> None:
    recorder.rate_outcome(
        event(f"rate-{key}"),
        session_key=session,
        outcome_key=key,
        subject="EXEC-1",
        rater="JUN-1",
        competency="SUCC-DIGI",
        competency_name="Digital Fluency",
        rating=4,
        scale=(1, 5),
        released=released,
        rated_at=T0 + timedelta(hours=1),
    )


def release(recorder: Recorder, released: bool, name: str, key: str = "o-1") -> tuple[str, ...]:
    return recorder.change_release(
        event(name), outcome_key=key, released=released, changed_at=T0 + timedelta(days=1)
    ).statement_ids


def outbox(store: Store) -> list[OutboxStatement]:
    with store.reading() as session:
        return list(session.scalars(select(OutboxStatement).order_by(OutboxStatement.id)))


def outcome(store: Store) -> Outcome:
    with store.reading() as session:
        return session.scalar(select(Outcome))


def dirty_workers(store: Store) -> set[str]:
    with store.reading() as session:
        return set(
            session.scalars(
                select(Person.worker_id).join(EvidenceDirty, EvidenceDirty.person_id == Person.id)
            )
        )


def clear_dirty(store: Store) -> None:
    with store.transaction() as session:
        session.execute(delete(EvidenceDirty))


def test_a_later_release_queues_the_competency_evidence_statement(
    recorder: Recorder, store: Store
) -> None:
    complete(recorder)
    rate(recorder, released=False)
    assert [r.template for r in outbox(store)] == ["session-attended", "session-mentored"]
    (statement_id,) = release(recorder, True, "release-1")
    rows = outbox(store)
    assert rows[-1].template == "competency-evidence"
    assert rows[-1].statement_id == statement_id == outcome(store).evidence_statement_id
    assert outcome(store).released is True
    data = json.loads(rows[-1].payload)
    assert data["result"]["score"] == {"raw": 4, "min": 1, "max": 5, "scaled": 0.75}
    assert data["context"]["statement"]["id"] == rows[0].statement_id  # the attended one


def test_retracting_a_release_voids_its_statement(recorder: Recorder, store: Store) -> None:
    complete(recorder)
    rate(recorder, released=True)
    evidence_id = outcome(store).evidence_statement_id
    (voiding_id,) = release(recorder, False, "retract-1")
    last = outbox(store)[-1]
    assert (last.statement_id, last.voids_statement_id) == (voiding_id, evidence_id)
    assert json.loads(last.payload)["verb"]["id"] == vocab.VOIDED
    assert (outcome(store).released, outcome(store).evidence_statement_id) == (False, None)


def test_a_release_already_as_asked_changes_nothing(recorder: Recorder, store: Store) -> None:
    complete(recorder)
    rate(recorder, released=True)
    before = len(outbox(store))
    assert release(recorder, True, "release-again") == ()
    assert len(outbox(store)) == before


def test_a_session_cancelled_after_a_retraction_voids_nothing_twice(
    recorder: Recorder, store: Store
) -> None:
    complete(recorder)
    rate(recorder, released=True)
    release(recorder, False, "retract-1")
    recorder.cancel_session(event("cancel"), session_key="s-1", cancelled_at=T0 + timedelta(2))
    voided = [r.voids_statement_id for r in outbox(store) if r.voids_statement_id]
    assert len(voided) == len(set(voided)) == 3  # attended, mentored, the evidence once


def test_an_outcome_of_a_cancelled_session_cannot_be_released(
    recorder: Recorder, store: Store
) -> None:
    complete(recorder)
    rate(recorder, released=False)
    recorder.cancel_session(event("cancel"), session_key="s-1", cancelled_at=T0 + timedelta(2))
    with pytest.raises(ConflictError, match="cancelled"):
        release(recorder, True, "release-1")
    assert outcome(store).released is False


def test_an_unknown_outcome_is_named(recorder: Recorder) -> None:
    with pytest.raises(UnknownReferenceError, match="outcome 'o-404'"):
        release(recorder, True, "release-1", key="o-404")


def test_each_change_marks_the_people_it_touches_for_the_mapper(
    recorder: Recorder, store: Store
) -> None:
    assert dirty_workers(store) == {"EXEC-1", "JUN-1", "EXEC-2", "JUN-2"}  # pairs created
    clear_dirty(store)
    complete(recorder)
    assert dirty_workers(store) == {"EXEC-1", "JUN-1"}
    clear_dirty(store)
    rate(recorder, released=False)
    assert dirty_workers(store) == {"EXEC-1"}
    clear_dirty(store)
    release(recorder, True, "release-1")
    assert dirty_workers(store) == {"EXEC-1"}
    clear_dirty(store)
    recorder.set_goal(
        event("goal"),
        pair="pair-2",
        goal_key="g-1",
        owner="JUN-2",
        title="private wording",
        target_date=None,
        session_key=None,
        set_at=T0,
    )
    assert dirty_workers(store) == set()  # a goal set is not evidence yet
    recorder.achieve_goal(event("achieved"), goal_key="g-1", achieved_at=T0 + timedelta(1))
    assert dirty_workers(store) == {"JUN-2"}
    clear_dirty(store)
    recorder.cancel_session(event("cancel"), session_key="s-1", cancelled_at=T0 + timedelta(2))
    assert dirty_workers(store) == {"EXEC-1", "JUN-1"}
    clear_dirty(store)
    recorder.end_pair(key="pair-2", ended_on=date(2026, 11, 10))
    assert dirty_workers(store) == {"EXEC-2", "JUN-2"}


def test_marking_again_moves_the_mark_on(recorder: Recorder, store: Store) -> None:
    with store.reading() as session:
        first = session.scalar(select(EvidenceDirty.marked_at).limit(1))
    complete(recorder)
    with store.reading() as session:
        marks = list(session.scalars(select(EvidenceDirty.marked_at)))
    assert len(marks) == 4 and max(marks) > first
