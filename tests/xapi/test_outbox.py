"""The flusher against the real outbox table (SQLite and PostgreSQL) and a scripted LRS."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime, timedelta
from itertools import pairwise
from typing import Any

import httpx
import pytest
from sqlalchemy import delete, select, update

from mentorbridge.plugin.errors import LRSAuthError, LRSEndpointError
from mentorbridge.plugin.store.db import Store
from mentorbridge.plugin.store.models import OutboxGate, OutboxPayload, OutboxStatement
from mentorbridge.plugin.store.outbox import SqlOutbox, enqueue
from mentorbridge.xapi.outbox import Flusher
from mentorbridge.xapi.statements import Event, PairContext, StatementBuilder
from tests.fakes import NOW, FakeClock, ScriptedLRS


def queue(store: Store, builder: StatementBuilder, n: int, *, first: int = 0) -> list[str]:
    """Queue ``n`` distinct statements; returns their ids in queue order."""
    pair = PairContext(
        key="pair-1",
        registration=builder.registration("pair-1"),
        programme="rm",
        programme_name="RM",
        mentee="p-1",
        mentor="p-2",
    )
    built = [
        builder.session_attended(
            Event(source="t", id=f"e{i}"),
            pair,
            session=f"s{i}",
            sequence=i,
            started_at=NOW - timedelta(days=1),
            duration=timedelta(minutes=30),
        )
        for i in range(first, first + n)
    ]
    with store.transaction() as session:
        for statement in built:
            enqueue(session, statement)
    return [b.id for b in built]


def states(store: Store) -> dict[str, str]:
    with store.reading() as session:
        return dict(
            session.execute(select(OutboxStatement.statement_id, OutboxStatement.state)).all()
        )


def payloads(store: Store) -> list[bytes]:
    with store.reading() as session:
        return [
            bytes(p)
            for p in session.scalars(
                select(OutboxPayload.payload).order_by(OutboxPayload.outbox_id)
            )
        ]


def make_flusher(
    store: Store | SqlOutbox, lrs: ScriptedLRS, clock: FakeClock, **kwargs: Any
) -> Flusher:
    options = {
        "batch_size": 3,
        "lease_seconds": 60,
        "backoff_base": 1.0,
        "backoff_cap": 4.0,
        **kwargs,
    }
    outbox = store if isinstance(store, SqlOutbox) else SqlOutbox(store)
    return Flusher(outbox, lrs.client(), clock=clock, **options)


class RenewalRecordingOutbox(SqlOutbox):
    """The real outbox, noting every lease renewal."""

    def __init__(self, store: Store) -> None:
        super().__init__(store)
        self.renewals: list[datetime] = []

    def renew(self, row_ids: Sequence[int], *, owner: str, lease_until: datetime) -> None:
        self.renewals.append(lease_until)
        super().renew(row_ids, owner=owner, lease_until=lease_until)


def test_flusher_posts_the_exact_stored_bytes_in_batches(
    store: Store, builder: StatementBuilder
) -> None:
    ids = queue(store, builder, 7)
    lrs = ScriptedLRS()
    report = make_flusher(store, lrs, FakeClock()).flush()
    assert [len(p) for p in lrs.posts] == [3, 3, 1]
    stored = payloads(store)
    assert [r.content for r in lrs.requests] == [
        b"[" + b",".join(stored[i : i + 3]) + b"]" for i in (0, 3, 6)
    ]
    assert report.delivered == 7 and report.requests == 3
    assert set(states(store).values()) == {"delivered"}
    assert lrs.accepted_ids() == ids


@pytest.mark.parametrize("status", [400, 409, 422])
def test_a_rejected_statement_is_bisected_out_and_parked_alone(
    store: Store, builder: StatementBuilder, status: int
) -> None:
    ids = queue(store, builder, 8)
    bad = ids[5]

    def answer(request: httpx.Request, statements: list[dict]) -> httpx.Response:
        if any(s["id"] == bad for s in statements):
            return httpx.Response(status, json={"detail": f"statement {bad} is not acceptable"})
        return httpx.Response(200, json=[s["id"] for s in statements])

    lrs = ScriptedLRS(default=answer)
    report = make_flusher(store, lrs, FakeClock(), batch_size=8).flush()
    assert report.delivered == 7 and report.parked == 1
    assert sorted(lrs.accepted_ids()) == sorted(set(ids) - {bad})
    assert states(store) == {i: ("dead" if i == bad else "delivered") for i in ids}
    (letter,) = SqlOutbox(store).dead_letters()
    assert letter.statement_id == bad and letter.lrs_status == status
    assert f"statement {bad} is not acceptable" in letter.lrs_response
    assert len(lrs.requests) <= 1 + 2 * 3  # bisection, not one request per statement


@pytest.mark.parametrize("status", [401, 403])
def test_refused_credentials_stop_the_flush_without_retrying(
    store: Store, builder: StatementBuilder, status: int
) -> None:
    queue(store, builder, 5)
    lrs = ScriptedLRS(default=status)
    clock = FakeClock()
    with pytest.raises(LRSAuthError, match=r"check lrs.username"):
        make_flusher(store, lrs, clock).flush(wait=True, max_wait=3600)
    assert len(lrs.requests) == 1 and clock.sleeps == []
    with store.reading() as session:
        rows = session.scalars(select(OutboxStatement)).all()
    assert {(r.state, r.attempts, r.claimed_by) for r in rows} == {("pending", 0, None)}
    # Nothing waits out a backoff: the next flush (credentials fixed) sends at once.
    assert make_flusher(store, ScriptedLRS(), clock).flush().delivered == 5


def test_a_wrong_endpoint_stops_the_flush(store: Store, builder: StatementBuilder) -> None:
    queue(store, builder, 2)
    with pytest.raises(LRSEndpointError, match=r"lrs.endpoint"):
        make_flusher(store, ScriptedLRS(default=404), FakeClock()).flush()
    assert set(states(store).values()) == {"pending"}


def test_payload_too_large_halves_the_batch(store: Store, builder: StatementBuilder) -> None:
    ids = queue(store, builder, 8)

    def answer(request: httpx.Request, statements: list[dict]) -> httpx.Response:
        if len(statements) > 2:
            return httpx.Response(413)
        return httpx.Response(200, json=[s["id"] for s in statements])

    lrs = ScriptedLRS(default=answer)
    report = make_flusher(store, lrs, FakeClock(), batch_size=8).flush()
    assert report.delivered == 8 and report.batch_size == 2
    assert sorted(lrs.accepted_ids()) == sorted(ids)
    assert [len(p) for p in lrs.posts] == [8, 4, 2, 2, 4, 2, 2]


def test_a_single_statement_too_large_is_parked(store: Store, builder: StatementBuilder) -> None:
    queue(store, builder, 1)
    report = make_flusher(store, ScriptedLRS(default=413), FakeClock()).flush()
    assert report.parked == 1 and set(states(store).values()) == {"dead"}


@pytest.mark.parametrize("status", [429, 503])
def test_retry_after_is_honoured_then_the_same_bytes_go_again(
    store: Store, builder: StatementBuilder, status: int
) -> None:
    queue(store, builder, 2)

    def busy(request: httpx.Request, statements: list[dict]) -> httpx.Response:
        return httpx.Response(status, headers={"Retry-After": "7"})

    lrs = ScriptedLRS(script=[busy])
    clock = FakeClock()
    report = make_flusher(store, lrs, clock, backoff_cap=60).flush(wait=True)
    assert clock.sleeps == [7.0]
    assert lrs.requests[0].content == lrs.requests[1].content
    assert report.delivered == 2 and report.transient_failures == 1


def test_server_errors_back_off_exponentially_with_jitter(
    store: Store, builder: StatementBuilder
) -> None:
    queue(store, builder, 2)

    def timeout(request: httpx.Request, statements: list[dict]) -> httpx.Response:
        raise httpx.ReadTimeout("the LRS is slow")

    lrs = ScriptedLRS(script=[500, timeout, 502, 503])
    clock = FakeClock()
    report = make_flusher(store, lrs, clock, backoff_base=1.0, backoff_cap=4.0).flush(wait=True)
    assert report.delivered == 2 and report.transient_failures == 4
    bounds = [(0.5, 1.0), (1.0, 2.0), (2.0, 4.0), (2.0, 4.0)]  # capped at 4 s
    assert len(clock.sleeps) == 4
    for slept, (low, high) in zip(clock.sleeps, bounds, strict=True):
        assert low <= slept <= high
    assert len({r.content for r in lrs.requests}) == 1  # the same bytes every time


def test_without_wait_a_failed_flush_leaves_rows_backing_off(
    store: Store, builder: StatementBuilder
) -> None:
    queue(store, builder, 3)
    clock = FakeClock()
    report = make_flusher(store, ScriptedLRS(default=500), clock).flush()
    assert report.delivered == 0 and report.transient_failures == 1
    status = SqlOutbox(store).status(now=clock.now())
    assert (status.pending, status.waiting) == (3, 3)
    assert status.next_attempt > clock.now()
    assert "LRS answered 500" in status.last_error
    # Before the backoff ends nothing is sent; after it, everything is.
    later = ScriptedLRS()
    assert make_flusher(store, later, clock).flush().delivered == 0 and later.requests == []
    clock.advance(5)
    assert make_flusher(store, later, clock).flush().delivered == 3


def test_newer_statements_wait_behind_an_older_one_in_backoff(
    store: Store, builder: StatementBuilder
) -> None:
    """Order is kept: a voiding statement can never overtake the statement it voids."""
    (first,) = queue(store, builder, 1)
    clock = FakeClock()
    make_flusher(store, ScriptedLRS(default=503), clock).flush()
    queue(store, builder, 2, first=1)
    lrs = ScriptedLRS()
    assert make_flusher(store, lrs, clock).flush().delivered == 0
    clock.advance(5)
    make_flusher(store, lrs, clock).flush()
    assert lrs.accepted_ids()[0] == first


def test_a_lease_keeps_other_flushers_off_until_it_runs_out(
    store: Store, builder: StatementBuilder
) -> None:
    queue(store, builder, 4)
    outbox = SqlOutbox(store)
    now = NOW
    mine = outbox.claim(owner="a", limit=10, now=now, lease_until=now + timedelta(seconds=60))
    assert len(mine) == 4
    assert (
        outbox.claim(
            owner="b",
            limit=10,
            now=now + timedelta(seconds=59),
            lease_until=now + timedelta(seconds=120),
        )
        == []
    )
    # "a" died without settling: once its lease is over, "b" takes the same rows.
    theirs = outbox.claim(
        owner="b",
        limit=10,
        now=now + timedelta(seconds=61),
        lease_until=now + timedelta(seconds=120),
    )
    assert [q.statement_id for q in theirs] == [q.statement_id for q in mine]
    # "a" can no longer settle rows it lost.
    outbox.mark_delivered([q.row_id for q in mine], owner="a", now=now)
    assert set(states(store).values()) == {"pending"}


def test_the_flusher_renews_its_lease_before_a_request_could_outlive_it(
    store: Store, builder: StatementBuilder
) -> None:
    queue(store, builder, 6)
    clock = FakeClock()

    def slow(request: httpx.Request, statements: list[dict]) -> httpx.Response:
        clock.advance(8)  # each request takes 8 s of a 10 s lease
        return httpx.Response(200, json=[s["id"] for s in statements])

    def rejecting(request: httpx.Request, statements: list[dict]) -> httpx.Response:
        clock.advance(8)
        return httpx.Response(400, json={"detail": "no"})

    # One rejection forces a bisection: three requests, 24 s, under one 10 s claim.
    lrs = ScriptedLRS(script=[rejecting], default=slow)
    outbox = RenewalRecordingOutbox(store)
    report = make_flusher(outbox, lrs, clock, batch_size=6, lease_seconds=10).flush()
    assert report.delivered == 6 and len(lrs.requests) == 3
    assert len(outbox.renewals) >= 2
    assert all(later > earlier for earlier, later in pairwise(outbox.renewals))


def test_dead_letters_can_be_retried(store: Store, builder: StatementBuilder) -> None:
    ids = queue(store, builder, 2)
    make_flusher(store, ScriptedLRS(default=409), FakeClock(), batch_size=1).flush()
    outbox = SqlOutbox(store)
    letters = outbox.dead_letters()
    assert [d.statement_id for d in letters] == ids
    assert outbox.retry([letters[0].row_id]) == 1
    assert make_flusher(store, ScriptedLRS(), FakeClock()).flush().delivered == 1
    assert outbox.retry() == 1
    assert make_flusher(store, ScriptedLRS(), FakeClock()).flush().delivered == 1
    assert set(states(store).values()) == {"delivered"}


def test_claims_skip_rows_of_other_states(store: Store, builder: StatementBuilder) -> None:
    ids = queue(store, builder, 3)
    with store.transaction() as session:
        session.execute(
            update(OutboxStatement)
            .where(OutboxStatement.statement_id == ids[0])
            .values(state="delivered")
        )
        session.execute(
            update(OutboxStatement)
            .where(OutboxStatement.statement_id == ids[1])
            .values(state="dead")
        )
    claimed = SqlOutbox(store).claim(
        owner="a", limit=10, now=NOW, lease_until=NOW + timedelta(seconds=30)
    )
    assert [q.statement_id for q in claimed] == [ids[2]]
    assert json.loads(claimed[0].payload)["id"] == ids[2]


def test_the_queue_gate_is_recreated_if_it_went_missing(
    store: Store, builder: StatementBuilder
) -> None:
    queue(store, builder, 2)
    with store.transaction() as session:
        session.execute(delete(OutboxGate))
    clock = FakeClock()
    make_flusher(store, ScriptedLRS(default=503), clock).flush()
    assert SqlOutbox(store).status(now=clock.now()).waiting == 2
    clock.advance(5)
    assert make_flusher(store, ScriptedLRS(), clock).flush().delivered == 2
