"""``mentorbridge report succession | impact | audit``: reports written whole or not at all,
each generation audited with the local operator, bad usage exit 2 with the fix."""

from __future__ import annotations

import getpass
import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from mentorbridge.plugin.cli import cli
from mentorbridge.plugin.reports.access import Caller, audit_log, record
from mentorbridge.plugin.store.db import Store
from tests.conftest import keys_env


def run(env: dict[str, str], *args: str) -> Result:
    return CliRunner().invoke(cli, list(args), env=env)


@pytest.fixture
def env(tmp_path: Path, store_url: str) -> dict[str, str]:
    return {
        "XDG_CONFIG_HOME": str(tmp_path / "cfg"),
        "MENTORBRIDGE_STORE_URL": store_url,
        **keys_env(store_url),
    }


def test_report_audit_lists_newest_first_and_is_audited_itself(
    env: dict[str, str], store: Store
) -> None:
    record(store, Caller("anonymous"), "impact", filters={}, outcome="refused", detail="401 x")
    record(
        store,
        Caller("token 1 (bi)", "talent", None),
        "succession",
        filters={"plan": "SP-1"},
        outcome="ok",
        format="csv",
        row_count=12,
    )
    listed = run(env, "report", "audit")
    assert listed.exit_code == 0, listed.output
    first, second = listed.output.splitlines()
    assert "ok" in first and "succession" in first and "csv" in first and "12 rows" in first
    assert "token 1 (bi)" in first and "[plan=SP-1]" in first
    assert "refused" in second and "anonymous" in second and "401 x" in second
    as_json = run(env, "report", "audit", "--json", "--limit", "2")
    newest = json.loads(as_json.output.splitlines()[0])
    assert newest["report"] == "audit" and newest["who"] == f"cli:{getpass.getuser()}"
    assert newest["filters"] == {"limit": 50} and newest["row_count"] == 2
    assert len(as_json.output.splitlines()) == 2
    assert audit_log(store)[0].filters == {"limit": 2}


def test_report_audit_a_bad_limit_exits_2(env: dict[str, str]) -> None:
    result = run(env, "report", "audit", "--limit", "0")
    assert result.exit_code == 2 and "--limit" in result.output
