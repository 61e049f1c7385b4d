"""The event processor: holding events about workers the HRIS mirror does not know yet,
releasing them after a sync, and one answer per event id under concurrency."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, select

from mentorbridge.plugin.errors import ConflictError, UnknownReferenceError
from mentorbridge.plugin.recorder import Recorder
from mentorbridge.plugin.store.db import Store
from mentorbridge.plugin.store.models import OutboxStatement, Pair, Reflection
from mentorbridge.plugin.store.webhook_models import WebhookEvent
from mentorbridge.plugin.webhooks.events import parse_event
from mentorbridge.plugin.webhooks.processor import EventProcessor
from mentorbridge.plugin.webhooks.sender import encode_event
from mentorbridge.xapi.statements import StatementBuilder
from tests.conftest import SETTINGS
from tests.plugin.web.conftest import MENTEE, MENTOR, example, table_counts

NEWCOMER = "20001"  # a junior mentor hired after the last HRIS sync


def processor(store: Store, unknown_people: str = "hold") -> EventProcessor:
    return EventProcessor(
        Recorder(store, StatementBuilder(SETTINGS)), unknown_people=unknown_people
    )


def incoming(event_type: str, **changes):
    return parse_event(encode_event(example(event_type, **changes)))


def held_rows(store: Store) -> dict[str, str]:
    with store.reading() as session:
        return dict(session.execute(select(WebhookEvent.event_id, WebhookEvent.status)).all())


@pytest.fixture
def known(store: Store) -> Store:
    recorder = Recorder(store, StatementBuilder(SETTINGS))
    for worker in (MENTEE, MENTOR):
        recorder.register_person(worker)
    return store


def test_processor_holds_an_event_naming_an_unknown_worker_and_what_builds_on_it(
    known: Store,
) -> None:
    events = processor(known)
    pair = events.process(incoming("pair.created", data={"mentor": NEWCOMER}))
    assert pair.result["status"] == "held"
    assert "worker '20001' is not known" in pair.result["reason"]
    session = events.process(incoming("session.completed", data={"attendees": [MENTEE, NEWCOMER]}))
    reflection = events.process(incoming("reflection.submitted"))
    assert session.result["status"] == reflection.result["status"] == "held"
    with known.reading() as s:
        assert s.scalar(select(func.count()).select_from(Pair)) == 0
        assert s.scalar(select(func.count()).select_from(OutboxStatement)) == 0
    # An event about something no held event creates is still refused.
    with pytest.raises(UnknownReferenceError, match="goal 'goal-nope'"):
        events.process(incoming("goal.achieved", data={"goal_id": "goal-nope"}))
    # A redelivery of a held event gets the same answer.
    again = events.process(incoming("pair.created", data={"mentor": NEWCOMER}))
    assert again.redelivery and again.result["status"] == "held"


def test_processor_releases_held_events_once_the_worker_is_known(known: Store) -> None:
    events = processor(known)
    events.process(incoming("pair.created", data={"mentor": NEWCOMER}))
    events.process(incoming("session.completed", data={"attendees": [MENTEE, NEWCOMER]}))
    events.process(incoming("reflection.submitted", data={"author": NEWCOMER}))
    # Not yet: the worker is still unknown.
    assert events.release_held().still_held == [
        "evt-example-01",
        "evt-example-04",
        "evt-example-06",
    ]
    Recorder(known, StatementBuilder(SETTINGS)).register_person(NEWCOMER)  # the HRIS sync
    report = events.release_held()
    assert report.processed == ["evt-example-01", "evt-example-04", "evt-example-06"]
    assert held_rows(known) == dict.fromkeys(report.processed, "processed")
    with known.reading() as s:
        assert s.scalar(select(func.count()).select_from(OutboxStatement)) == 3
        assert s.scalar(select(Reflection.body)).startswith("We tried three assistants")
        assert all(p is None for p in s.scalars(select(WebhookEvent.payload)))
    again = events.process(incoming("session.completed", data={"attendees": [MENTEE, NEWCOMER]}))
    assert again.redelivery and len(again.result["statement_ids"]) == 2


def test_processor_a_held_event_that_fails_for_another_reason_is_rejected(known: Store) -> None:
    events = processor(known)
    events.process(incoming("pair.created", data={"mentor": NEWCOMER}))
    # Held because its pair is held; once released, its owner is not a member of the pair.
    events.process(incoming("goal.set", data={"owner": "10005"}))
    for worker in (NEWCOMER, "10005"):
        Recorder(known, StatementBuilder(SETTINGS)).register_person(worker)
    report = events.release_held()
    assert (report.processed, report.rejected) == (["evt-example-01"], ["evt-example-07"])
    with known.reading() as s:
        row = s.scalar(select(WebhookEvent).where(WebhookEvent.event_id == "evt-example-07"))
    assert row.status == "rejected" and row.payload is None
    assert "not a member" in row.result["reason"]


def test_processor_in_reject_mode_refuses_and_keeps_nothing(known: Store) -> None:
    before = table_counts(known)
    with pytest.raises(UnknownReferenceError, match="20001"):
        processor(known, "reject").process(incoming("pair.created", data={"mentor": NEWCOMER}))
    assert table_counts(known) == before


def test_processor_the_same_event_delivered_twice_at_once_is_recorded_once(known: Store) -> None:
    events = processor(known, "reject")
    events.process(incoming("pair.created"))
    results, errors = [], []
    start = threading.Barrier(4)

    def deliver() -> None:
        start.wait()
        try:
            results.append(events.process(incoming("session.completed")))
        except Exception as err:  # collected, asserted below
            errors.append(err)

    threads = [threading.Thread(target=deliver) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert sorted(r.redelivery for r in results) == [False, True, True, True]
    assert len({tuple(r.result["statement_ids"]) for r in results}) == 1
    with known.reading() as s:
        assert s.scalar(select(func.count()).select_from(OutboxStatement)) == 2


def test_processor_conflicting_content_under_one_id_is_refused(known: Store) -> None:
    events = processor(known, "reject")
    events.process(incoming("pair.created"))
    with pytest.raises(ConflictError, match="different content"):
        events.process(incoming("pair.created", data={"cadence": "weekly"}))


def test_processor_held_events_go_through_after_the_hris_sync(store: Store, store_url: str) -> None:
    from mentorbridge.plugin import compose
    from mentorbridge.plugin.config import load_config
    from mentorbridge.plugin.jobs.sync import sync_workday

    config = load_config(
        None,
        environ={},
        overrides={
            "store.url": store_url,
            "web.unknown_people": "hold",
            "workday.source": "sample",
        },
    )
    events = compose.event_processor(config, store)
    assert events.process(incoming("pair.created")).result["status"] == "held"
    sync_workday(config, store)  # the sample tenant knows both workers
    assert held_rows(store) == {"evt-example-01": "processed"}
    with store.reading() as s:
        assert s.scalar(select(Pair.key)) == "pair-2026-017"


def test_processor_two_releases_at_once_process_each_held_event_once(
    known: Store, store_url: str
) -> None:
    events = processor(known)
    events.process(incoming("pair.created", data={"mentor": NEWCOMER}))
    events.process(incoming("session.completed", data={"attendees": [MENTEE, NEWCOMER]}))
    events.process(incoming("reflection.submitted", data={"author": NEWCOMER}))
    Recorder(known, StatementBuilder(SETTINGS)).register_person(NEWCOMER)  # the HRIS sync
    # Two workers release after their syncs at the same moment, each with its own store.
    stores = [Store(store_url, keyring=known.keyring) for _ in range(2)]
    start, reports, failures = threading.Barrier(2), [], []

    def release(store: Store) -> None:
        start.wait()
        try:
            reports.append(processor(store).release_held())
        except Exception as err:  # reported below, from either thread
            failures.append(err)

    threads = [threading.Thread(target=release, args=(s,)) for s in stores]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for store in stores:
        store.dispose()
    assert failures == []
    processed = [event for report in reports for event in report.processed]
    assert sorted(processed) == ["evt-example-01", "evt-example-04", "evt-example-06"]
    with known.reading() as s:
        assert s.scalar(select(func.count()).select_from(OutboxStatement)) == 3
