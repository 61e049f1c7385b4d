"""``mentorbridge evidence update | explain`` and the worker's evidence job, with the shipped
default mapping on a real store."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from apscheduler.triggers.interval import IntervalTrigger
from click.testing import CliRunner, Result

from mentorbridge.plugin.cli import cli
from mentorbridge.plugin.config import load_config
from mentorbridge.plugin.jobs import EvidenceJob, FlushJob, build_scheduler
from mentorbridge.plugin.recorder import Recorder
from mentorbridge.plugin.store.db import Store
from mentorbridge.plugin.store.leases import hold_lease
from mentorbridge.plugin.store.outbox import SqlOutbox
from mentorbridge.xapi.outbox import Flusher
from mentorbridge.xapi.statements import StatementBuilder
from tests.conftest import SETTINGS, keys_env
from tests.fakes import ScriptedLRS
from tests.plugin.mapping.activity import complete, evidence, rate

#: Recent by the command's own clock, which is the real one.
RECENT = datetime.now(UTC) - timedelta(days=20)


def run(env: dict[str, str], *args: str) -> Result:
    return CliRunner().invoke(cli, list(args), env=env)


@pytest.fixture
def env(tmp_path: Path, store_url: str) -> dict[str, str]:
    return {
        "XDG_CONFIG_HOME": str(tmp_path / "cfg"),
        "MENTORBRIDGE_STORE_URL": store_url,
        **keys_env(store_url),
    }


@pytest.fixture
def builder() -> StatementBuilder:
    """On the real clock, as the command is: the tests' fixed "now" would put the recent
    sessions in the future once the calendar passes it."""
    return StatementBuilder(SETTINGS)


@pytest.fixture
def recorded(recorder: Recorder) -> Recorder:
    """EXEC-1: four recent sessions on generative AI and a released rating of 4 of 5 on
    digital fluency (SUCC-DIGI): Developing in the default mapping."""
    for n in range(1, 5):
        complete(recorder, f"s-{n}", at=RECENT + timedelta(days=n))
    rate(recorder, session="s-4")
    return recorder


def test_update_prints_what_it_did_and_a_rerun_does_nothing(
    env: dict[str, str], recorded: Recorder, store: Store
) -> None:
    first = run(env, "evidence", "update")
    assert first.exit_code == 0, first.output
    assert "recomputed 4 people: everyone (first run)" in first.output
    created = len(evidence(store))
    assert created >= 2
    assert (
        f"evidence rows: {created} created, 0 changed, 0 withdrawn; {created} statements queued"
        in first.output
    )
    assert evidence(store)[("EXEC-1", "digital-fluency", "mentee")].level_name == "Developing"
    again = run(env, "evidence", "update")
    assert again.exit_code == 0, again.output
    assert "recomputed 0 people: the people events touched" in again.output
    assert "0 created, 0 changed, 0 withdrawn; 0 statements queued" in again.output
    forced = run(env, "evidence", "update", "--full")
    assert "everyone (asked for)" in forced.output and "0 statements queued" in forced.output


def test_explain_prints_the_chain_in_words_and_as_json(
    env: dict[str, str], recorded: Recorder
) -> None:
    assert run(env, "evidence", "update").exit_code == 0
    shown = run(env, "evidence", "explain", "EXEC-1", "digital-fluency")
    assert shown.exit_code == 0, shown.output
    assert "Digital Fluency, mentee side: Developing (0.5) since" in shown.output
    assert "4 completed sessions on 'generative AI at work'" in shown.output
    assert "a released rating of 4 of 5" in shown.output
    as_json = run(env, "evidence", "explain", "EXEC-1", "Digital Fluency", "--json")
    found = json.loads(as_json.output)
    kinds = sorted(s["kind"] for s in found["sides"][0]["sources"])
    assert kinds == ["outcome"] + ["session"] * 4


@pytest.mark.parametrize(
    ("worker", "competency", "message"),
    [
        ("EXEC-9", "digital-fluency", "worker 'EXEC-9' is not known; did you mean"),
        ("EXEC-1", "digital-fluensy", "did you mean 'digital-fluency'"),
    ],
)
def test_explain_of_an_unknown_worker_or_competency_exits_2(
    env: dict[str, str], recorded: Recorder, worker: str, competency: str, message: str
) -> None:
    result = run(env, "evidence", "explain", worker, competency)
    assert result.exit_code == 2
    assert message in result.output and "Traceback" not in result.output


def test_an_invalid_mapping_file_exits_2_and_writes_nothing(
    env: dict[str, str], recorded: Recorder, store: Store, tmp_path: Path
) -> None:
    bad = tmp_path / "mapping.toml"
    bad.write_text("[rules]\nminimum_level = 'high'\n", "utf-8")
    result = run({**env, "MENTORBRIDGE_MAPPING_FILE": str(bad)}, "evidence", "update")
    assert result.exit_code == 2
    assert str(bad) in result.output
    assert evidence(store) == {}


def test_a_second_run_at_the_same_time_is_refused(
    env: dict[str, str], recorded: Recorder, store: Store
) -> None:
    with hold_lease(store, "mapper:evidence"):
        result = run(env, "evidence", "update")
    assert result.exit_code == 1
    assert "already running" in result.output
    assert evidence(store) == {}


def test_the_worker_updates_evidence_at_the_configured_interval(tmp_path: Path) -> None:
    config = load_config(
        environ={
            "XDG_CONFIG_HOME": str(tmp_path),
            "MENTORBRIDGE_MAPPING_UPDATE_INTERVAL_SECONDS": "30",
        }
    )
    store = Store("sqlite://")
    flush = FlushJob(Flusher(SqlOutbox(store), ScriptedLRS().client()), pause_seconds=60)
    job = EvidenceJob(config, store)
    scheduler = build_scheduler(config, flush=flush, evidence=job)
    scheduled = scheduler.get_job("evidence-update")
    assert scheduled.func is job and isinstance(scheduled.trigger, IntervalTrigger)
    assert scheduled.trigger.interval.total_seconds() == 30
    assert (scheduled.max_instances, scheduled.coalesce) == (1, True)


def test_the_evidence_job_logs_a_failure_and_goes_on(
    env: dict[str, str],
    recorded: Recorder,
    store: Store,
    caplog: pytest.LogCaptureFixture,
    tmp_path: Path,
) -> None:
    broken = tmp_path / "missing-mapping.toml"
    job = EvidenceJob(load_config(environ={**env, "MENTORBRIDGE_MAPPING_FILE": str(broken)}), store)
    with caplog.at_level(logging.ERROR):
        assert job() is None
    assert "evidence update failed" in caplog.text
    result = EvidenceJob(load_config(environ=env), store)()
    assert result is not None and result.created >= 2


def test_an_evidence_update_another_worker_is_running_is_left_to_it_quietly(
    env: dict[str, str], recorded: Recorder, store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    job = EvidenceJob(load_config(environ=env), store)
    with hold_lease(store, "mapper:evidence"), caplog.at_level(logging.INFO):
        assert job() is None
    assert caplog.records == []  # workers sharing a store meet here every interval: no error
    result = job()
    assert result is not None and result.created >= 2
