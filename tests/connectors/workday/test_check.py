"""``mentorbridge workday check`` as a diagnostic: it answers in seconds, names the host and
the key that sets it once, says when it read a sample, and names a report's key."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from mentorbridge.connectors.workday.sample.tenant import generate_tenant
from mentorbridge.plugin import compose
from mentorbridge.plugin.cli import cli
from mentorbridge.plugin.config import Config, load_config
from mentorbridge.plugin.errors import SourceUnreachableError, SyncFailedError
from mentorbridge.plugin.jobs.sync import sync_workday
from mentorbridge.plugin.store.db import Store
from mentorbridge.xapi.localrs import free_port
from tests.workday_server import WorkdayServer

SECRETS = {
    "MENTORBRIDGE_WORKDAY_CLIENT_SECRET": "client-secret-1",
    "MENTORBRIDGE_WORKDAY_REFRESH_TOKEN": "refresh-token-1",
    "MENTORBRIDGE_WORKDAY_ISU_PASSWORD": "isu-password-1",
}
#: A tenant on a closed port: every connection is refused at once.
API = {
    "MENTORBRIDGE_WORKDAY_SOURCE": "api",
    "MENTORBRIDGE_WORKDAY_TENANT": "acme",
    "MENTORBRIDGE_WORKDAY_ISU_USERNAME": "ISU_Mentoring@acme",
    "MENTORBRIDGE_WORKDAY_REPORT_OWNER": "ISU_Mentoring",
}


def api_config(host: str, **settings: Any) -> Config:
    overrides = {
        "workday.source": "api",
        "workday.host": host,
        "workday.tenant": "acme",
        "workday.isu_username": "ISU_Mentoring@acme",
        "workday.report_owner": "ISU_Mentoring",
    }
    overrides |= {f"workday.{key}": value for key, value in settings.items()}
    return load_config(environ={"XDG_CONFIG_HOME": "/nonexistent", **SECRETS}, overrides=overrides)


def test_check_against_a_closed_port_answers_in_seconds_naming_the_host_once(
    store_url: str, tmp_path: Path
) -> None:
    host = f"http://127.0.0.1:{free_port()}"
    env = {
        **os.environ,
        **SECRETS,
        **API,
        "XDG_CONFIG_HOME": str(tmp_path / "cfg"),
        "MENTORBRIDGE_STORE_URL": store_url,
        "MENTORBRIDGE_WORKDAY_HOST": host,
    }
    started = time.monotonic()
    # Default retries and backoff: a sync would wait minutes for this host.
    result = subprocess.run(
        [sys.executable, "-m", "mentorbridge.plugin.cli", "workday", "check"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    elapsed = time.monotonic() - started
    output = result.stdout + result.stderr
    assert result.returncode == 1, output
    assert elapsed < 8, f"workday check took {elapsed:.1f}s"
    assert "Traceback" not in output
    assert output.count(host) == 1, output
    assert output.count("workday.host") == 1
    assert "connection refused" in output
    failures = [line for line in output.splitlines() if "FAIL" in line]
    assert len(failures) == 1, output
    assert "not tried on this host: " in failures[0] and "succession_plans" in failures[0]


def test_check_reports_an_unreachable_token_endpoint_once_and_fast(store: Store) -> None:
    host = f"http://127.0.0.1:{free_port()}"
    config = api_config(host, client_id="mentorbridge", workers_from="rest")
    connector = compose.workday_connector(config, store)
    started = time.monotonic()
    try:
        results = connector.check()
    finally:
        connector.close()
    assert time.monotonic() - started < 5
    (result,) = results
    assert not result.ok and result.source == "Workday host"
    assert f"{host}/ccx/oauth2/acme/token" in result.detail
    assert "workday.host" in result.detail and "not tried on this host: " in result.detail


def test_a_sync_still_retries_a_host_it_cannot_reach(store: Store) -> None:
    host = f"http://127.0.0.1:{free_port()}"
    config = api_config(host, max_retries=3)
    waits: list[float] = []
    with pytest.raises(SyncFailedError, match="still failing after 4 attempts") as err:
        sync_workday(config, store, sleep=waits.append)
    assert len(waits) == 3  # retried once, not once per stream: the other streams wait no more
    cause = err.value.__cause__
    assert isinstance(cause, SourceUnreachableError)
    assert cause.url.startswith(f"{host}/ccx/service/customreport2/acme/")
    assert err.value.failed["succession_plans"].startswith("not tried: the source could not")


def test_check_names_the_key_of_a_report_it_cannot_find(store: Store) -> None:
    with WorkdayServer(generate_tenant(30, seed=5)) as server:
        config = api_config(server.url, **{"reports.competencies": "RM_No_Such_Report"})
        connector = compose.workday_connector(config, store)
        try:
            results = {r.source.split(" ")[0]: r for r in connector.check()}
        finally:
            connector.close()
    failed = results["competencies"]
    assert not failed.ok
    assert "report RM_No_Such_Report, workday.reports.competencies" in failed.source
    assert results["workers"].ok


def test_check_says_when_it_read_only_a_sample(store_url: str, tmp_path: Path) -> None:
    env = {"XDG_CONFIG_HOME": str(tmp_path / "cfg"), "MENTORBRIDGE_STORE_URL": store_url}
    result = CliRunner().invoke(cli, ["workday", "check"], env=env)
    assert result.exit_code == 0, result.output
    workers = next(line for line in result.output.splitlines() if "ok   workers" in line)
    assert "first 200 rows read (a sample" in workers  # the sample tenant has 500 workers
    assert "200 record(s) read" not in result.output
    assert "record(s) read (all there are)" in result.output
