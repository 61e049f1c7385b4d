"""The worker: its schedule, the flush job's pause after a fatal answer, a real worker process."""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy import select

from mentorbridge.plugin.config import load_config
from mentorbridge.plugin.errors import ConfigError
from mentorbridge.plugin.jobs import FlushJob, SyncJob, build_scheduler
from mentorbridge.plugin.jobs.cron import last_firing
from mentorbridge.plugin.jobs.scheduler import crontab_trigger
from mentorbridge.plugin.logs import configure_logging
from mentorbridge.plugin.store.db import Store
from mentorbridge.plugin.store.leases import hold_lease
from mentorbridge.plugin.store.outbox import SqlOutbox
from mentorbridge.plugin.store.sync_models import SyncRun
from mentorbridge.xapi.localrs import LocalLRS
from mentorbridge.xapi.outbox import Flusher
from mentorbridge.xapi.statements import StatementBuilder
from tests.conftest import keys_env
from tests.fakes import FakeClock, ScriptedLRS
from tests.xapi.test_outbox import queue, states


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
        **keys_env(store_url),
        "MENTORBRIDGE_LRS_ENDPOINT": lrs_server.endpoint,
        "MENTORBRIDGE_LRS_PASSWORD_FILE": str(lrs_server.password_file),
        "MENTORBRIDGE_OUTBOX_FLUSH_INTERVAL_SECONDS": "1",
    }
    worker = subprocess.Popen(
        [sys.executable, "-m", "mentorbridge.plugin.cli", "worker"],
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


def test_the_worker_logs_json_lines_without_the_schedulers_per_run_chatter(
    store_url: str, store: Store, builder: StatementBuilder, lrs_server: LocalLRS, tmp_path: Path
) -> None:
    queue(store, builder, 3)
    env = {
        **os.environ,
        "XDG_CONFIG_HOME": str(tmp_path),
        "MENTORBRIDGE_STORE_URL": store_url,
        **keys_env(store_url),
        "MENTORBRIDGE_LRS_ENDPOINT": lrs_server.endpoint,
        "MENTORBRIDGE_LRS_PASSWORD_FILE": str(lrs_server.password_file),
        "MENTORBRIDGE_OUTBOX_FLUSH_INTERVAL_SECONDS": "1",
        "MENTORBRIDGE_LOGGING_FORMAT": "json",
        "MENTORBRIDGE_LOGGING_LEVEL": "INFO",
    }
    worker = subprocess.Popen(
        [sys.executable, "-m", "mentorbridge.plugin.cli", "worker"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 30
        while set(states(store).values()) != {"delivered"}:
            assert time.monotonic() < deadline, "the worker did not deliver in time"
            time.sleep(0.1)
        time.sleep(2.5)  # several more scheduled runs, with nothing left to deliver
    finally:
        worker.send_signal(signal.SIGTERM)
        _, stderr = worker.communicate(timeout=30)
    assert worker.returncode == 0, stderr.decode()
    records = [json.loads(line) for line in stderr.decode().splitlines()]
    assert {r["logger"] for r in records} >= {
        "apscheduler.scheduler",
        "mentorbridge.plugin.jobs.outbox",
    }
    assert any(r["message"] == "Scheduler started" for r in records)
    assert [r["message"] for r in records if r["logger"].endswith("jobs.outbox")] == [
        "outbox flush: 3 delivered, 0 parked, 0 transient failures"
    ]  # the runs that found nothing to do say nothing at INFO
    assert not [r for r in records if r["logger"].startswith("apscheduler.executors")]


def test_the_schedulers_per_run_lines_are_debug_lines(capsys: pytest.CaptureFixture[str]) -> None:
    ran = threading.Event()
    configure_logging("DEBUG", json_lines=True)
    try:
        scheduler = BackgroundScheduler(timezone="UTC")
        scheduler.add_job(
            ran.set, "interval", minutes=5, next_run_time=datetime.now(UTC), name="once"
        )
        scheduler.start()
        assert ran.wait(10)
        time.sleep(0.2)  # its closing line comes just after the job returns
        scheduler.shutdown(wait=True)
    finally:
        configure_logging("WARNING")
    records = [json.loads(line) for line in capsys.readouterr().err.splitlines()]
    per_run = [r for r in records if r["logger"].startswith("apscheduler.executors")]
    assert len(per_run) == 2, per_run
    assert per_run[0]["message"].startswith('Running job "once')
    assert per_run[1]["message"].endswith("executed successfully")
    assert [r["level"] for r in per_run] == ["DEBUG", "DEBUG"]


def test_the_schedule_syncs_workday_on_its_cron(tmp_path: Path) -> None:
    config = load_config(
        environ={"XDG_CONFIG_HOME": str(tmp_path), "MENTORBRIDGE_WORKDAY_SCHEDULE": "30 3 * * 1-5"}
    )
    store = Store("sqlite://")
    job = FlushJob(Flusher(SqlOutbox(store), ScriptedLRS().client()), pause_seconds=60)
    scheduler = build_scheduler(config, flush=job, sync=SyncJob(config, store))
    sync = scheduler.get_job("workday-sync")
    assert isinstance(sync.trigger, CronTrigger)
    assert str(sync.trigger) == (
        "cron[month='*', day='*', day_of_week='mon,tue,wed,thu,fri', hour='3', minute='30']"
    )
    assert (sync.max_instances, sync.coalesce) == (1, True)
    store.dispose()


def test_a_bad_cron_expression_is_a_config_error_naming_the_key(tmp_path: Path) -> None:
    config = load_config(
        environ={"XDG_CONFIG_HOME": str(tmp_path), "MENTORBRIDGE_WORKDAY_SCHEDULE": "61 * * * *"}
    )
    store = Store("sqlite://")
    job = FlushJob(Flusher(SqlOutbox(store), ScriptedLRS().client()), pause_seconds=60)
    with pytest.raises(ConfigError, match=r"workday.schedule = '61 \* \* \* \*'"):
        build_scheduler(config, flush=job, sync=SyncJob(config, store))
    store.dispose()


def test_the_sync_job_runs_an_incremental_sync_and_survives_failures(
    store_url: str, store: Store, tmp_path: Path
) -> None:
    config = load_config(environ={"XDG_CONFIG_HOME": str(tmp_path)})
    report = SyncJob(config, store)()
    assert report is not None and report.counts["workers"].created == 500
    broken = load_config(
        environ={
            "XDG_CONFIG_HOME": str(tmp_path),
            "MENTORBRIDGE_WORKDAY_SOURCE": "files",
            "MENTORBRIDGE_WORKDAY_FILES_DIR": str(tmp_path / "none"),
        }
    )
    assert SyncJob(broken, store)() is None  # logged, and the worker goes on


def test_the_sync_job_says_at_info_only_what_changed(
    store_url: str, store: Store, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    config = load_config(environ={"XDG_CONFIG_HOME": str(tmp_path)})
    job = SyncJob(config, store)
    with caplog.at_level(logging.DEBUG, logger="mentorbridge.plugin.jobs.sync"):
        job()
        job()  # the same sample tenant again: nothing changed
    summaries = [
        (r.levelname, r.getMessage())
        for r in caplog.records
        if r.name == "mentorbridge.plugin.jobs.sync"
    ]
    assert len(summaries) == 2
    assert summaries[0][0] == "INFO" and "'workers': {'created': 500}" in summaries[0][1]
    assert summaries[1][0] == "DEBUG" and summaries[1][1].endswith("none changed")


@pytest.mark.parametrize(
    ("weekday", "meaning"),
    [
        ("1-5", "mon,tue,wed,thu,fri"),
        ("0", "sun"),
        ("7", "sun"),
        ("6,0", "sun,sat"),
        ("*/2", "sun,tue,thu,sat"),
        ("mon-fri", "mon-fri"),
        ("*", "*"),
    ],
)
def test_crontab_weekdays_keep_their_crontab_meaning(weekday: str, meaning: str) -> None:
    trigger = crontab_trigger(f"0 2 * * {weekday}")
    assert f"day_of_week='{meaning}'" in str(trigger)


def _sync_runs(store: Store) -> list[SyncRun]:
    with store.reading() as session:
        return list(session.scalars(select(SyncRun).order_by(SyncRun.id)))


def test_workers_sharing_a_schedule_run_each_firing_once(store: Store, tmp_path: Path) -> None:
    config = load_config(
        environ={"XDG_CONFIG_HOME": str(tmp_path), "MENTORBRIDGE_WORKDAY_SCHEDULE": "* * * * *"}
    )
    fired = datetime.now(UTC)
    first, second = (SyncJob(config, store, now=lambda: fired) for _ in range(2))
    assert first.scheduled() is not None
    assert second.scheduled() is None  # the same firing, a moment later on another worker
    assert len(_sync_runs(store)) == 1
    later = datetime.now(UTC) + timedelta(minutes=1)
    assert SyncJob(config, store, now=lambda: later).scheduled() is not None  # the next one
    assert len(_sync_runs(store)) == 2


def test_a_firing_another_worker_is_running_is_left_to_it(
    store: Store, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    config = load_config(
        environ={"XDG_CONFIG_HOME": str(tmp_path), "MENTORBRIDGE_WORKDAY_SCHEDULE": "* * * * *"}
    )
    with (
        caplog.at_level(logging.INFO, logger="mentorbridge.plugin.jobs.sync"),
        hold_lease(store, "sync:workday"),
    ):
        assert SyncJob(config, store).scheduled() is None
    assert _sync_runs(store) == []
    (record,) = [r for r in caplog.records if r.name == "mentorbridge.plugin.jobs.sync"]
    assert record.levelname == "INFO" and "left to another process" in record.getMessage()


@pytest.mark.parametrize(
    ("expression", "now", "firing"),
    [
        ("* * * * *", "2026-12-07T03:00:59", "2026-12-07T03:00:00"),
        ("30 3 * * 1-5", "2026-12-07T03:30:00.5", "2026-12-07T03:30:00"),  # a Monday
        ("30 3 * * 1-5", "2026-12-07T04:29:00", "2026-12-07T03:30:00"),  # late, within grace
        ("30 3 * * 1-5", "2026-12-07T03:29:00", "2026-12-07T03:29:00"),  # none within grace
    ],
)
def test_the_last_firing_is_the_latest_at_or_before_now(
    expression: str, now: str, firing: str
) -> None:
    moment = datetime.fromisoformat(now).replace(tzinfo=UTC)
    expected = datetime.fromisoformat(firing).replace(tzinfo=UTC)
    assert last_firing(crontab_trigger(expression), moment) == expected
