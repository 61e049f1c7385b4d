"""The worker: its schedule, the flush job's pause after a fatal answer, a real worker process."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from apscheduler.triggers.interval import IntervalTrigger

from plugin.config import load_config
from plugin.jobs import FlushJob, build_scheduler
from plugin.store.db import Store
from plugin.store.outbox import SqlOutbox
from tests.fakes import FakeClock, ScriptedLRS
from tests.xapi.test_outbox import queue, states
from xapi.localrs import LocalLRS
from xapi.outbox import Flusher
from xapi.statements import StatementBuilder


def test_the_schedule_flushes_the_outbox_at_the_configured_interval(tmp_path: Path) -> None:
    config = load_config(
        environ={
            "XDG_CONFIG_HOME": str(tmp_path),
            "MENTORBRIDGE_OUTBOX_FLUSH_INTERVAL_SECONDS": "15",
        }
    )
    job = FlushJob(Flusher(SqlOutbox(Store("sqlite://")), ScriptedLRS().client()), pause_seconds=60)
    scheduler = build_scheduler(config, flush=job)
    (scheduled,) = scheduler.get_jobs()
    assert scheduled.id == "outbox-flush" and scheduled.func is job
    assert isinstance(scheduled.trigger, IntervalTrigger)
    assert scheduled.trigger.interval.total_seconds() == 15
    assert (scheduled.max_instances, scheduled.coalesce) == (1, True)


def test_the_flush_job_pauses_after_a_fatal_answer(store: Store, builder: StatementBuilder) -> None:
    queue(store, builder, 3)
    lrs, clock = ScriptedLRS(script=[401]), FakeClock()
    job = FlushJob(Flusher(SqlOutbox(store), lrs.client(), clock=clock), pause_seconds=300)
    assert job() is None and "401" in job.last_error
    clock.advance(299)
    assert job() is None and len(lrs.requests) == 1  # quiet while paused: no retry storm
    clock.advance(2)
    report = job()
    assert report is not None and report.delivered == 3 and job.last_error is None


def test_the_worker_delivers_what_is_queued_and_stops_on_sigterm(
    store_url: str, store: Store, builder: StatementBuilder, lrs_server: LocalLRS, tmp_path: Path
) -> None:
    ids = queue(store, builder, 20)
    env = {
        **os.environ,
        "XDG_CONFIG_HOME": str(tmp_path),
        "MENTORBRIDGE_STORE_URL": store_url,
        "MENTORBRIDGE_LRS_ENDPOINT": lrs_server.endpoint,
        "MENTORBRIDGE_LRS_PASSWORD_FILE": str(lrs_server.password_file),
        "MENTORBRIDGE_OUTBOX_FLUSH_INTERVAL_SECONDS": "1",
    }
    worker = subprocess.Popen(
        [sys.executable, "-m", "plugin.cli", "worker"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 30
        while set(states(store).values()) != {"delivered"} and time.monotonic() < deadline:
            time.sleep(0.1)
        queue(store, builder, 5, first=20)  # queued while it runs: picked up on a later run
        while len(states(store)) != 25 or set(states(store).values()) != {"delivered"}:
            assert time.monotonic() < deadline, "the worker did not deliver in time"
            time.sleep(0.1)
    finally:
        worker.send_signal(signal.SIGTERM)
        output = worker.communicate(timeout=30)[0].decode()
    assert worker.returncode == 0, output
    assert "worker running: outbox flush every 1s" in output
    assert len(lrs_server.statements_file.read_text().splitlines()) == 25
    assert set(ids) <= set(states(store))
