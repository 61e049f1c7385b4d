"""The sync runner across streams: one stream's failure never stops the others, a stream that
skips too much fails with its reasons grouped, and fixable skips hold the bookmark."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from mentorbridge.connectors.base import CheckResult, Connector, Skipped, Stream, Window, run_sync
from mentorbridge.plugin.errors import SourceUnavailableError, SyncFailedError
from mentorbridge.plugin.store.db import Store
from mentorbridge.plugin.store.hris import HrisMirror
from mentorbridge.plugin.store.hris_models import Competency
from tests.connectors.test_base import T0, Organizations, clock, org, organizations, runs


def competency(n: int) -> dict[str, Any]:
    return {
        "competency_id": f"C-{n}",
        "name": f"Competency {n}",
        "category": None,
        "scale_id": None,
        "levels": [{"level_id": "L1", "name": "One", "rank": 1}],
        "inactive": False,
    }


class Competencies(Stream):
    name = "competencies"
    primary_key = ("competency_id",)
    incremental = True

    def __init__(self, items: list[Any], *, error: Exception | None = None) -> None:
        self.items, self.error = items, error

    def records(self, window: Window) -> Iterator[dict[str, Any] | Skipped]:
        if self.error is not None:
            raise self.error
        yield from self.items


class Many(Connector):
    name = "workday"

    def __init__(self, *streams: Stream) -> None:
        self._streams = list(streams)

    def streams(self) -> Sequence[Stream]:
        return self._streams

    def check(self) -> list[CheckResult]:
        return []


def competencies(store: Store) -> int:
    with store.reading() as session:
        return len(session.scalars(select(Competency)).all())


def test_a_failing_stream_does_not_stop_the_streams_after_it(store: Store) -> None:
    mirror = HrisMirror(store)
    run_sync(Many(Organizations([org(1)])), mirror, now=clock(T0))
    later = T0 + timedelta(days=1)
    failing = Organizations([org(1), org(2)], fail_after=1)
    with pytest.raises(SyncFailedError) as caught:
        run_sync(Many(failing, Competencies([competency(1)])), mirror, now=clock(later, later))
    assert caught.value.failed == {
        "organizations": "organizations page 7 still failing after 7 attempts"
    }
    assert str(caught.value).startswith(
        "workday sync run 2 failed in 1 of 2 streams (competencies synced): organizations: "
    )
    assert caught.value.report.counts["competencies"].created == 1
    assert competencies(store) == 1  # the stream after the failed one ran
    run = runs(store)[-1]
    assert run.status == "failed" and "organizations: organizations page 7" in run.message
    assert mirror.bookmark("workday", "organizations") == T0  # the failed stream's stays
    assert mirror.bookmark("workday", "competencies") == later


def test_an_unexpected_error_fails_its_stream_in_one_line_without_the_values(
    store: Store,
) -> None:
    boom = ValueError("cannot compare\nrow: {'legal_name': 'Zoë Ångström'}")
    with pytest.raises(SyncFailedError) as caught:
        run_sync(
            Many(Competencies([], error=boom), Organizations([org(1)])),
            HrisMirror(store),
            now=clock(T0, T0),
        )
    assert caught.value.failed == {"competencies": "ValueError: cannot compare"}
    assert organizations(store) == 1
    assert "Zoë" not in runs(store)[-1].message


def nameless(n: int) -> dict[str, Any]:
    return org(n, name="")


def test_a_stream_skipping_more_than_its_share_fails_with_the_reasons_grouped(
    store: Store,
) -> None:
    mirror = HrisMirror(store)
    items = [org(n) for n in range(97)] + [nameless(97), nameless(98)]
    items.append(
        Skipped("ORG-X", "hire_date (report column Hire_Date) = '2020-02-31': expected a date")
    )
    with pytest.raises(SyncFailedError) as caught:
        run_sync(Many(Organizations(items)), mirror, now=clock(T0))
    message = caught.value.failed["organizations"]
    assert message.startswith(
        "3 of 100 records skipped (3%; workday.max_skipped_share allows 1%): "
        "organizations.name: missing: expected non-empty text (2 records); "
        "hire_date (report column Hire_Date): expected a date (1 record) — fix the report"
    )
    assert caught.value.report.reasons["organizations"] == {
        "organizations.name: missing: expected non-empty text": 2,
        "hire_date (report column Hire_Date): expected a date": 1,
    }
    assert organizations(store) == 97  # what could be read is stored
    assert mirror.bookmark("workday", "organizations") is None  # but the bookmark stays
    assert runs(store)[-1].status == "failed"
    # Within the share, the run succeeds.
    report = run_sync(Many(Organizations(items)), mirror, now=clock(T0), max_skipped_share=0.05)
    assert report.ok and report.counts["organizations"].skipped == 3


def test_fixable_skips_hold_the_bookmark_until_the_records_are_read(store: Store) -> None:
    mirror = HrisMirror(store)
    run_sync(Many(Organizations([org(n) for n in range(3)])), mirror, now=clock(T0))
    day1, day2, day3 = (T0 + timedelta(days=n) for n in (1, 2, 3))
    broken = Organizations([org(n) for n in range(200)] + [nameless(200)])
    report = run_sync(Many(broken), mirror, now=clock(day1))
    assert report.ok and report.counts["organizations"].skipped == 1
    assert mirror.bookmark("workday", "organizations") == T0  # not moved past the skip
    assert report.notes == [
        "organizations: bookmark not moved: 1 skipped record(s) will be read again by the "
        "next run once fixed"
    ]
    fixed = Organizations([org(200)])
    run_sync(Many(fixed), mirror, now=clock(day2))
    assert fixed.windows[0].since == T0  # the fixed record is read without --full
    assert organizations(store) == 201
    assert mirror.bookmark("workday", "organizations") == day2
    unfixable = Organizations([org(1), *[org(n) for n in range(2, 300)]])
    unfixable.items.append(Skipped("?", "an item without an id", fixable=False))
    run_sync(Many(unfixable), mirror, now=clock(day3))
    assert mirror.bookmark("workday", "organizations") == day3


def test_a_source_error_before_any_record_fails_only_that_stream(store: Store) -> None:
    error = SourceUnavailableError("competencies report: Workday answered 503")
    with pytest.raises(SyncFailedError, match="competencies: competencies report") as caught:
        run_sync(
            Many(Organizations([org(1)]), Competencies([], error=error)),
            HrisMirror(store),
            now=clock(T0, T0),
        )
    assert list(caught.value.failed) == ["competencies"]
    assert caught.value.report.counts["organizations"].created == 1
