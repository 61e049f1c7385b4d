"""Scaled out: two ``serve`` and two ``worker`` processes on one PostgreSQL database.

Real child processes on 127.0.0.1 (:mod:`tests.cluster`): Ralph recording every statement id it
is sent, the Workday test server, two web instances of two gunicorn workers each, two workers
flushing every second with a Workday sync on ``* * * * *``. Signed events go to both web
instances at once, some of them to both at the same moment, while the sync fires on both
workers, and both update competency evidence every second. Then: each event recorded once,
each queued statement sent to the LRS exactly once, one sync run per firing, and no deadlock,
lock timeout, serialization failure, traceback or error line in any process's output.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bench.webhook_bench import the_pairs
from mentorbridge.plugin.store.db import Store
from mentorbridge.plugin.store.models import MentoringSession
from mentorbridge.plugin.store.sync_models import SyncRun
from mentorbridge.plugin.store.webhook_models import WebhookEvent
from tests.cluster import PROBLEMS, Cluster, peak_connections, send_events
from tests.conftest import PG_URL, fresh_postgres_database

pytestmark = pytest.mark.skipif(
    not PG_URL, reason="scaling out is about PostgreSQL: set MENTORBRIDGE_TEST_DATABASE_URL"
)

EVENTS, TWICE = 400, 40


@pytest.fixture
def database() -> Iterator[str]:
    with fresh_postgres_database() as url:
        yield url


def _before_next_minute(lead: float) -> datetime:
    """Sleep until ``lead`` seconds before the next whole minute (when the cron fires); that
    minute."""
    now = datetime.now(UTC)
    mark = now.replace(second=0, microsecond=0) + timedelta(minutes=1)
    if (mark - now).total_seconds() < lead + 1:
        mark += timedelta(minutes=1)
    time.sleep((mark - now).total_seconds() - lead)
    return mark


def _sync_runs(store_url: str) -> list[SyncRun]:
    store = Store(store_url)
    try:
        with store.reading() as session:
            return list(session.scalars(select(SyncRun).order_by(SyncRun.id)))
    finally:
        store.dispose()


def test_two_web_instances_and_two_workers_share_one_postgresql_database(
    database: str, tmp_path: Path
) -> None:
    pairs = the_pairs(20)
    settings = {
        "MENTORBRIDGE_OUTBOX_FLUSH_INTERVAL_SECONDS": "1",
        "MENTORBRIDGE_WORKDAY_SCHEDULE": "* * * * *",
        "MENTORBRIDGE_MAPPING_UPDATE_INTERVAL_SECONDS": "1",  # both workers, all the time
        # The settings "Running at scale" in the README suggests:
        "MENTORBRIDGE_STORE_POOL_SIZE": "2",
        "MENTORBRIDGE_STORE_MAX_OVERFLOW": "2",
        "MENTORBRIDGE_STORE_STATEMENT_TIMEOUT_SECONDS": "30",
        "MENTORBRIDGE_STORE_LOCK_TIMEOUT_SECONDS": "10",
    }
    with Cluster(database, tmp_path, settings=settings) as cluster:
        cluster.prepare(pairs)
        cluster.start_lrs()
        cluster.start_workday(200)
        urls = [cluster.start_serve(workers=2), cluster.start_serve(workers=2)]
        cluster.start_worker()
        cluster.start_worker()
        firing = _before_next_minute(lead=2)
        with peak_connections(database) as connections:
            sent = send_events(urls, pairs, run="scale", count=EVENTS, twice=TWICE)
            answered = time.monotonic()
            deadline = answered + 60
            while not any(r.started_at >= firing and r.finished_at for r in _sync_runs(database)):
                assert time.monotonic() < deadline, "the scheduled sync did not run"
                time.sleep(0.5)
            # Evidence updates queue statements of their own, a moment after the events: wait
            # until the flushes have had them too (the other worker's firing, had it run too,
            # would show by then as well).
            waited = time.monotonic() - answered
            drained = waited + cluster.wait_until_delivered(timeout=60, settle=3)
        assert cluster.exited() == {}, cluster.exited()
        cluster.stop_workers()
        received = cluster.sent_to_lrs()
        queued = cluster.outbox()
        stored = {line for line in cluster.lrs.statements_file.read_text().splitlines() if line}
        logs = cluster.logs()

    # Every event answered, once as new; at the same moment on both instances: once as new,
    # once as a redelivery.
    answers = Counter(tuple(sorted(codes)) for codes in sent.statuses.values())
    assert answers == {(202,): EVENTS - TWICE, (200, 202): TWICE}, answers

    # Each event recorded once, with its one session.
    store = Store(database)
    try:
        with store.reading() as session:
            per_event = Counter(session.scalars(select(WebhookEvent.event_id)))
            sessions = session.scalar(select(func.count()).select_from(MentoringSession))
    finally:
        store.dispose()
    assert set(per_event) == set(sent.statuses) and set(per_event.values()) == {1}
    assert sessions == EVENTS

    # Every statement queued went to the LRS exactly once, and the LRS holds them all.
    assert set(queued.values()) == {"delivered"} and len(queued) >= 2 * EVENTS
    assert set(received) == set(queued)
    twice_sent = {statement: n for statement, n in received.items() if n != 1}
    assert twice_sent == {}, f"statements sent more than once: {twice_sent}"
    assert len(stored) == len(queued)

    # One sync run per firing of the schedule, the one during the events included.
    runs = _sync_runs(database)
    per_firing = Counter(r.started_at.replace(second=0, microsecond=0) for r in runs)
    assert per_firing[firing] == 1 and set(per_firing.values()) == {1}, per_firing
    (run,) = (r for r in runs if r.started_at.replace(second=0, microsecond=0) == firing)
    assert run.status == "succeeded", run.message  # (a later firing's may have been stopped)

    # Six processes (2 x 2 gunicorn workers, 2 workers) within their pools of 2 + 2, and this
    # test's own reads.
    assert connections[0] <= 6 * 4 + 1, connections[0]
    print(
        f"\n{EVENTS + TWICE} requests in {sent.seconds:.1f} s ({sent.per_second:.0f}/s over both "
        f"instances), outbox drained {drained:.1f} s after the last answer, "
        f"{len(queued)} statements, at most {connections[0]} connections"
    )

    # No process met a deadlock, a lock or statement timeout, a traceback or an error.
    for name, text in logs.items():
        found = PROBLEMS.search(text)
        assert found is None, f"{name}: {text[max(0, found.start() - 500) : found.end() + 500]}"
