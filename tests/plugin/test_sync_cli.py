"""`mentorbridge sync workday | status` and `mentorbridge workday check`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from mentorbridge.connectors.workday.connector import sample_directory
from mentorbridge.connectors.workday.sample.tenant import generate_tenant
from mentorbridge.plugin.cli import cli
from tests.conftest import keys_env
from tests.workday_server import WorkdayServer


def run(env: dict[str, str], *args: str) -> Result:
    return CliRunner().invoke(cli, list(args), env=env)


@pytest.fixture
def env(tmp_path: Path, store_url: str) -> dict[str, str]:
    return {
        "XDG_CONFIG_HOME": str(tmp_path / "cfg"),
        "MENTORBRIDGE_STORE_URL": store_url,
        **keys_env(store_url),
    }


def test_sync_workday_mirrors_the_sample_tenant_and_reports_counts(env: dict[str, str]) -> None:
    first = run(env, "sync", "workday")
    assert first.exit_code == 0, first.output
    assert "sync run 1 (incremental)" in first.output
    assert "  workers" in first.output and "500" in first.output
    again = run(env, "sync", "workday", "--full", "--stream", "workers")
    line = next(row for row in again.output.splitlines() if row.strip().startswith("workers"))
    assert line.split()[1:] == ["0", "0", "500", "0", "0", "0"]  # all unchanged
    status = run(env, "sync", "status", "--limit", "2")
    assert "run 2: workday full, succeeded" in status.output
    assert "run 1: workday incremental, succeeded" in status.output


def test_a_dry_run_writes_nothing(env: dict[str, str]) -> None:
    result = run(env, "sync", "workday", "--dry-run")
    assert result.exit_code == 0 and "dry run: nothing written" in result.output
    status = run(env, "sync", "status")
    assert "dry run" in status.output
    second = run(env, "sync", "workday")
    line = next(row for row in second.output.splitlines() if row.strip().startswith("workers"))
    assert line.split()[1] == "500"  # created now: the dry run stored nothing


def export_workers(tmp_path: Path, env: dict[str, str], change: Any) -> dict[str, str]:
    """The sample workers report, changed by ``change(rows)``, as the files source."""
    rows = json.loads((sample_directory() / "workers.json").read_text())["Report_Entry"]
    change(rows)
    files = tmp_path / "export"
    files.mkdir()
    (files / "workers.json").write_text(json.dumps({"Report_Entry": rows}))
    return {
        **env,
        "MENTORBRIDGE_WORKDAY_SOURCE": "files",
        "MENTORBRIDGE_WORKDAY_FILES_DIR": str(files),
    }


def test_skipped_records_are_listed_with_their_reason(env: dict[str, str], tmp_path: Path) -> None:
    def break_two(rows: list[dict[str, Any]]) -> None:
        rows[1]["Hire_Date"] = "2020-02-31"
        del rows[2]["Legal_Name"]

    env = export_workers(tmp_path, env, break_two)
    result = run(env, "sync", "workday")
    assert result.exit_code == 0, result.output  # 2 of 500: within the allowed 1%
    assert (
        "hire_date (report column Hire_Date) = '2020-02-31': expected a date such as 2024-03-01"
    ) in result.output
    assert "workers.legal_name" in result.output
    assert "skipped workers ad2b92edb90759c50f5cb6a8cf482c12" in run(env, "sync", "status").output


def test_a_stream_skipping_more_than_the_allowed_share_exits_1_with_reasons_counted(
    env: dict[str, str], tmp_path: Path
) -> None:
    def drop_names(rows: list[dict[str, Any]]) -> None:
        for row in rows[:20]:
            del row["Legal_Name"]
        rows[20]["Hire_Date"] = "soon"

    env = export_workers(tmp_path, env, drop_names)
    result = CliRunner().invoke(cli, ["sync", "workday"], env=env)
    assert result.exit_code == 1, result.output
    assert "FAILED workers: 21 of 500 records skipped (4%; workday.max_skipped_share " in (
        result.stdout
    )
    assert (
        "workers skipped, by reason: workers.legal_name: missing: expected non-empty text "
        "(20 records); "
        "hire_date (report column Hire_Date): expected a date such as 2024-03-01 (1 record)"
    ) in result.stdout
    last = result.stderr.splitlines()[-1]  # log lines come first
    assert last.startswith("mentorbridge: workday sync run 1 failed in 1 of 1 streams: workers: ")
    assert "Traceback" not in result.stderr
    assert "run 1: workday incremental, failed" in run(env, "sync", "status").output
    relaxed = run({**env, "MENTORBRIDGE_WORKDAY_MAX_SKIPPED_SHARE": "0.05"}, "sync", "workday")
    assert relaxed.exit_code == 0, relaxed.output


def test_a_failing_source_exits_1_and_the_run_is_recorded(
    env: dict[str, str], tmp_path: Path
) -> None:
    env = {
        **env,
        "MENTORBRIDGE_WORKDAY_SOURCE": "files",
        "MENTORBRIDGE_WORKDAY_FILES_DIR": str(tmp_path / "missing"),
    }
    result = run(env, "sync", "workday")
    assert result.exit_code == 2  # the folder is configuration: the key is named
    assert "workday.files_dir" in result.output


def test_workday_check_reports_each_source(env: dict[str, str]) -> None:
    ok = run(env, "workday", "check")
    assert ok.exit_code == 0, ok.output
    assert "ok   workers (file " in ok.output and "record(s) read" in ok.output
    with WorkdayServer(generate_tenant(40, seed=3)) as server:
        api = {
            **env,
            "MENTORBRIDGE_WORKDAY_SOURCE": "api",
            "MENTORBRIDGE_WORKDAY_HOST": server.url,
            "MENTORBRIDGE_WORKDAY_TENANT": "acme",
            "MENTORBRIDGE_WORKDAY_WORKERS_FROM": "rest",
            "MENTORBRIDGE_WORKDAY_CLIENT_ID": "mentorbridge",
            "MENTORBRIDGE_WORKDAY_CLIENT_SECRET": "wrong-secret",
            "MENTORBRIDGE_WORKDAY_REFRESH_TOKEN": "refresh-token-1",
            "MENTORBRIDGE_WORKDAY_REPORTS_ORGANIZATIONS": "",
        }
        for name in (
            "COMPETENCIES",
            "COMPETENCY_ASSESSMENTS",
            "JOB_PROFILE_COMPETENCIES",
            "SUCCESSION_PLANS",
        ):
            api[f"MENTORBRIDGE_WORKDAY_REPORTS_{name}"] = ""
        failed = run(api, "workday", "check")
    assert failed.exit_code == 1
    assert (
        "FAIL OAuth token: Workday refused the credentials at the token endpoint" in failed.output
    )
    assert "wrong-secret" not in failed.output


@pytest.mark.parametrize(
    ("nameless", "exit_code", "line"),  # the exit code is the source's: it can be read
    [
        (
            10,
            0,
            "warning: 10 of 200 records read would be skipped: workers.legal_name: missing: "
            "expected non-empty text (10 records) — more than workday.max_skipped_share (1%) "
            "allows, so a sync would fail this stream",
        ),
        (
            1,
            0,
            "warning: 1 of 200 records read would be skipped: workers.legal_name: missing: "
            "expected non-empty text (1 record)",
        ),
    ],
)
def test_workday_check_says_what_a_sync_would_skip_and_why(
    env: dict[str, str], tmp_path: Path, nameless: int, exit_code: int, line: str
) -> None:
    def drop_names(rows: list[dict[str, Any]]) -> None:
        for row in rows[:nameless]:
            del row["Legal_Name"]

    env = export_workers(tmp_path, env, drop_names)
    result = run(env, "workday", "check")
    assert result.exit_code == exit_code, result.output
    assert line in result.output
