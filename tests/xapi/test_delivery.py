"""Delivery end to end against a real LRS (Ralph), crashes and concurrent flushers included."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, select, update

from mentorbridge.plugin.store.db import Store
from mentorbridge.plugin.store.models import OutboxPayload, OutboxStatement
from mentorbridge.plugin.store.outbox import SqlOutbox
from mentorbridge.xapi.localrs import LocalLRS
from mentorbridge.xapi.lrs import LRSClient, LRSCredentials
from mentorbridge.xapi.outbox import Flusher, FlushReport
from mentorbridge.xapi.statements import StatementBuilder
from tests.conftest import RALPH_ENDPOINT
from tests.fakes import FakeClock, RecordingLRS
from tests.xapi.test_outbox import queue, states


def lrs_ids(statements_file: Path) -> Counter[str]:
    """How many times each statement id is stored in Ralph's file."""
    if not statements_file.exists():
        return Counter()
    return Counter(
        json.loads(line)["id"] for line in statements_file.read_text().splitlines() if line.strip()
    )


def ralph_client(ralph: Any) -> LRSClient:
    return LRSClient(RALPH_ENDPOINT, client=ralph)


def server_client(server: LocalLRS, **timeouts: float) -> LRSClient:
    return LRSClient(
        server.endpoint,
        credentials=LRSCredentials(
            "basic", server.username, server.password_file.read_text().strip()
        ),
        **timeouts,
    )


def test_replaying_a_flushed_batch_changes_nothing_in_the_lrs(
    store: Store, builder: StatementBuilder, ralph: Any, ralph_dir: Path
) -> None:
    ids = queue(store, builder, 30)
    client = ralph_client(ralph)
    assert Flusher(SqlOutbox(store), client, batch_size=10).flush().delivered == 30
    before = sorted(client.statements(limit=100), key=lambda s: s["id"])
    assert [s["id"] for s in before] == sorted(ids)
    lines = (ralph_dir / "fs_lrs.jsonl").read_text()

    with store.transaction() as session:  # replay: the same rows, the same bytes, once more
        session.execute(update(OutboxStatement).values(state="pending"))
    report = Flusher(SqlOutbox(store), client, batch_size=10).flush()

    assert report.delivered == 30 and report.parked == 0
    assert sorted(client.statements(limit=100), key=lambda s: s["id"]) == before
    assert (ralph_dir / "fs_lrs.jsonl").read_text() == lines


def test_one_conflicting_statement_is_parked_and_the_rest_delivered(
    store: Store, builder: StatementBuilder, ralph: Any
) -> None:
    ids = queue(store, builder, 12)
    with store.reading() as session:
        victim = json.loads(
            session.scalar(
                select(OutboxPayload.payload)
                .join(OutboxStatement)
                .where(OutboxStatement.statement_id == ids[7])
            )
        )
    victim["result"]["duration"] = "PT1H"  # someone else stored a different statement, same id
    assert (
        ralph.post(
            "/xAPI/statements", json=[victim], headers={"X-Experience-API-Version": "1.0.3"}
        ).status_code
        == 200
    )

    report = Flusher(SqlOutbox(store), ralph_client(ralph), batch_size=12).flush()

    assert (report.delivered, report.parked) == (11, 1)
    assert states(store) == {i: ("dead" if i == ids[7] else "delivered") for i in ids}
    (letter,) = SqlOutbox(store).dead_letters()
    assert letter.lrs_status == 409 and ids[7] in letter.lrs_response
    stored = {s["id"]: s for s in ralph_client(ralph).statements(limit=100)}
    assert set(stored) == set(ids)
    assert stored[ids[7]]["result"]["duration"] == "PT1H"  # the LRS kept its own version


def test_an_lrs_outage_delays_delivery_but_loses_and_duplicates_nothing(
    store: Store, builder: StatementBuilder, lrs_server: LocalLRS
) -> None:
    ids = queue(store, builder, 200)
    restarts: list[threading.Timer] = []

    def kill_after_first_batch(report: FlushReport) -> None:
        if report.delivered and not restarts:
            lrs_server.kill()
            restarts.append(threading.Timer(1.5, lrs_server.start))
            restarts[0].start()

    client = server_client(lrs_server, connect_timeout=1, read_timeout=5)
    flusher = Flusher(
        SqlOutbox(store),
        client,
        batch_size=20,
        backoff_base=0.2,
        backoff_cap=1.0,
        lease_seconds=30,
        on_progress=kill_after_first_batch,
    )
    report = flusher.flush(wait=True, max_wait=60)
    restarts[0].join()
    client.close()

    assert report.delivered == 200 and report.transient_failures >= 1
    assert set(states(store).values()) == {"delivered"}
    stored = lrs_ids(lrs_server.statements_file)
    assert set(stored) == set(ids) and set(stored.values()) == {1}


def _flusher_process(
    store_url: str, endpoint: str, password_file: Path | None, batch_size: int
) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "MENTORBRIDGE_STORE_URL": store_url,
        "MENTORBRIDGE_LRS_ENDPOINT": endpoint,
        "MENTORBRIDGE_OUTBOX_BATCH_SIZE": str(batch_size),
        "MENTORBRIDGE_OUTBOX_LEASE_SECONDS": "10",
        "MENTORBRIDGE_LRS_CONNECT_TIMEOUT": "1",
        "MENTORBRIDGE_LRS_READ_TIMEOUT": "5",
    }
    if password_file is None:
        env["MENTORBRIDGE_LRS_AUTH"] = "none"
    else:
        env["MENTORBRIDGE_LRS_PASSWORD_FILE"] = str(password_file)
    return subprocess.Popen(
        [sys.executable, "-m", "mentorbridge.plugin.cli", "outbox", "flush"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )


def test_a_flusher_killed_mid_batch_loses_and_duplicates_nothing(
    store_url: str, store: Store, builder: StatementBuilder, lrs_server: LocalLRS
) -> None:
    ids = queue(store, builder, 300)
    with RecordingLRS(upstream=lrs_server.endpoint, delay=0.3) as proxy:
        process = _flusher_process(store_url, proxy.endpoint, lrs_server.password_file, 25)
        deadline = time.monotonic() + 60
        while not proxy.received and time.monotonic() < deadline:  # one batch went through
            time.sleep(0.02)
        proxy.request_started.clear()
        assert proxy.request_started.wait(30), "the flusher sent no second request"
        process.send_signal(signal.SIGKILL)  # mid-request: its batch is claimed, not settled
        process.communicate()
        with store.reading() as session:
            in_flight = session.scalar(
                select(func.count()).where(
                    OutboxStatement.state == "pending", OutboxStatement.claimed_by.is_not(None)
                )
            )
        assert in_flight == 25  # the killed flusher held a batch it never settled
        with store.reading() as session:
            left = session.scalar(select(func.count()).where(OutboxStatement.state == "pending"))
        time.sleep(0.5)  # the proxy still hands the orphaned batch to the LRS

        # A new flusher takes over once the dead one's lease has run out.
        later = FakeClock(current=datetime.now(UTC) + timedelta(seconds=11))
        client = server_client(lrs_server)
        report = Flusher(SqlOutbox(store), client, batch_size=25, clock=later).flush()
        client.close()

    assert report.delivered == left  # the orphaned batch included: the LRS takes it as a replay
    assert set(states(store).values()) == {"delivered"}
    stored = lrs_ids(lrs_server.statements_file)
    assert set(stored) == set(ids) and set(stored.values()) == {1}


def test_two_concurrent_flushers_never_send_the_same_statement(
    store_url: str, store: Store, builder: StatementBuilder
) -> None:
    ids = queue(store, builder, 400)
    with RecordingLRS(delay=0.05) as lrs:
        flushers = [_flusher_process(store_url, lrs.endpoint, None, 10) for _ in range(2)]
        outputs = [p.communicate(timeout=120)[0].decode() for p in flushers]
    assert [p.returncode for p in flushers] == [0, 0], outputs
    sent = lrs.received_ids()
    assert sorted(sent) == sorted(ids)  # every statement once: none twice, none missing
    assert lrs.max_in_flight == 2  # the two really did run side by side
    delivered = [int(o.split("delivered ")[1].split(",")[0]) for o in outputs]
    assert sum(delivered) == 400 and min(delivered) > 0
