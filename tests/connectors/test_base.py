"""The sync runner: validation, skips, batches, bookmarks with the records, failed runs, resume."""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from mentorbridge.connectors.base import (
    BATCH_SIZE,
    CheckResult,
    Connector,
    Skipped,
    Stream,
    Window,
    prefetched,
    run_sync,
)
from mentorbridge.plugin.errors import FatalError, SourceUnavailableError, SyncFailedError
from mentorbridge.plugin.store.db import Store
from mentorbridge.plugin.store.hris import HrisMirror
from mentorbridge.plugin.store.hris_models import HrisOrganization
from mentorbridge.plugin.store.sync_models import SyncRun

T0 = datetime(2026, 11, 1, 2, 0, tzinfo=UTC)


def org(n: int, **changes: Any) -> dict[str, Any]:
    return {
        "organization_id": f"ORG-{n:05d}",
        "name": f"Organisation {n}",
        "type": None,
        "superior_organization_id": None,
        "manager_employee_id": None,
        "inactive": False,
    } | changes


class Organizations(Stream):
    name = "organizations"
    primary_key = ("organization_id",)
    incremental = True

    def __init__(self, items: list[Any], *, fail_after: int | None = None) -> None:
        self.items, self.fail_after = items, fail_after
        self.windows: list[Window] = []

    def records(self, window: Window) -> Iterator[dict[str, Any] | Skipped]:
        self.windows.append(window)
        for index, item in enumerate(self.items):
            if self.fail_after is not None and index == self.fail_after:
                raise SourceUnavailableError("organizations page 7 still failing after 7 attempts")
            yield item


class Fake(Connector):
    name = "workday"

    def __init__(self, stream: Stream) -> None:
        self.stream = stream

    def streams(self) -> Sequence[Stream]:
        return [self.stream]

    def check(self) -> list[CheckResult]:
        return []


def organizations(store: Store) -> int:
    with store.reading() as session:
        return session.scalar(select(func.count()).select_from(HrisOrganization))


def runs(store: Store) -> list[SyncRun]:
    with store.reading() as session:
        return list(session.scalars(select(SyncRun).order_by(SyncRun.id)))


def clock(*moments: datetime) -> Any:
    iterator = iter(moments)
    return lambda: next(iterator)


def test_invalid_records_are_skipped_counted_and_reported(store: Store) -> None:
    items = [
        org(1),
        org(2, name=""),
        Skipped("ORG-3", "manager (column Manager_ID) = 'x'"),
        org(4, inactive="maybe"),
    ]
    report = run_sync(
        Fake(Organizations(items)), HrisMirror(store), now=clock(T0), max_skipped_share=1
    )
    counts = report.counts["organizations"]
    assert (counts.created, counts.skipped) == (1, 3)
    reasons = {s["key"]: s["reason"] for s in report.skips}
    assert "organizations.name" in reasons["ORG-00002"]
    assert reasons["ORG-3"] == "manager (column Manager_ID) = 'x'"
    assert "organizations.inactive" in reasons["ORG-00004"]
    (run,) = runs(store)
    assert run.status == "succeeded" and run.counts["organizations"]["skipped"] == 3
    assert {e["key"] for e in run.errors} == {"ORG-00002", "ORG-3", "ORG-00004"}


def test_the_bookmark_moves_only_with_a_complete_stream(store: Store) -> None:
    mirror = HrisMirror(store)
    stream = Organizations([org(n) for n in range(3)])
    run_sync(Fake(stream), mirror, now=clock(T0))
    assert stream.windows[0] == Window(since=None, until=T0)
    assert mirror.bookmark("workday", "organizations") == T0
    later = T0 + timedelta(days=1)
    run_sync(Fake(stream), mirror, now=clock(later))
    assert stream.windows[1] == Window(since=T0, until=later)
    run_sync(Fake(stream), mirror, full=True, now=clock(later + timedelta(days=1)))
    assert stream.windows[2].since is None


def test_a_failing_source_fails_the_run_loudly_and_a_rerun_resumes(store: Store) -> None:
    mirror = HrisMirror(store)
    items = [org(n) for n in range(BATCH_SIZE * 2 + 10)]
    run_sync(Fake(Organizations(items[:5])), mirror, now=clock(T0))
    later = T0 + timedelta(days=1)
    with pytest.raises(SyncFailedError, match=r"organizations: .* still failing"):
        run_sync(Fake(Organizations(items, fail_after=BATCH_SIZE + 7)), mirror, now=clock(later))
    failed = runs(store)[-1]
    assert failed.status == "failed" and "still failing" in failed.message
    assert organizations(store) == BATCH_SIZE  # the complete batch before the failure stays
    assert mirror.bookmark("workday", "organizations") == T0  # but the bookmark did not move
    resumed = Organizations(items)
    run_sync(Fake(resumed), mirror, now=clock(later + timedelta(hours=1)))
    assert resumed.windows[0].since == T0  # the window starts where the last good run ended
    assert organizations(store) == len(items)


def test_a_dry_run_writes_nothing_and_keeps_the_bookmark(store: Store) -> None:
    mirror = HrisMirror(store)
    report = run_sync(Fake(Organizations([org(1), org(2)])), mirror, dry_run=True, now=clock(T0))
    assert report.counts["organizations"].created == 2
    assert organizations(store) == 0
    assert mirror.bookmark("workday", "organizations") is None
    assert runs(store)[-1].dry_run is True


def test_asking_for_an_unknown_stream_is_an_error(store: Store) -> None:
    with pytest.raises(FatalError, match="workday has no stream workerz; it syncs organizations"):
        run_sync(Fake(Organizations([])), HrisMirror(store), only=["workerz"])


def test_prefetched_keeps_order_and_raises_the_producers_error_in_turn() -> None:
    def pages() -> Iterator[int]:
        yield 1
        yield 2
        raise SourceUnavailableError("page 3 still failing")

    seen = []
    with pytest.raises(SourceUnavailableError, match="page 3"):
        for page in prefetched(pages()):
            seen.append(page)
    assert seen == [1, 2]


def test_closing_a_prefetched_iterator_stops_its_producer() -> None:
    produced: list[int] = []
    closed = threading.Event()

    def pages() -> Iterator[int]:
        try:
            for n in range(1_000_000):
                produced.append(n)
                yield n
        finally:
            closed.set()

    consumer = prefetched(pages(), depth=2)
    assert next(consumer) == 0
    consumer.close()
    assert closed.wait(5)
    assert len(produced) < 10  # it never ran far ahead
