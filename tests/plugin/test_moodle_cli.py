"""`mentorbridge moodle check`, `sync moodle` and `sync status` as an admin runs them, against
a local Moodle-shaped site; the token never shows, in output or in logs."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from mentorbridge.connectors.moodle.client import MoodleClient
from mentorbridge.connectors.moodle.localsite import LocalMoodleSite
from mentorbridge.plugin.cli import cli
from mentorbridge.plugin.store.db import Store
from tests.conftest import keys_env
from tests.connectors.moodle.programme import build


def run(env: dict[str, str], *args: str) -> Result:
    return CliRunner().invoke(cli, list(args), env=env)


@pytest.fixture
def site() -> Iterator[LocalMoodleSite]:
    with LocalMoodleSite() as running:
        yield running


@pytest.fixture
def env(tmp_path: Path, store_url: str, store: Store, site: LocalMoodleSite) -> dict[str, str]:
    build(store)
    return {
        "XDG_CONFIG_HOME": str(tmp_path / "cfg"),
        "MENTORBRIDGE_STORE_URL": store_url,
        "MENTORBRIDGE_LOGGING_LEVEL": "DEBUG",
        "MENTORBRIDGE_MOODLE_URL": site.url,
        "MENTORBRIDGE_MOODLE_TOKEN": site.token,
        "MENTORBRIDGE_MOODLE_SCALE_ID": "2",
        "MENTORBRIDGE_MOODLE_COURSE": "RMP",
        "MENTORBRIDGE_MOODLE_MILESTONE_FIRST_SESSION": "2",
        "MENTORBRIDGE_MOODLE_MILESTONE_SESSIONS": "3",
        "MENTORBRIDGE_MOODLE_MILESTONE_GOAL": "4",
        "MENTORBRIDGE_MOODLE_MILESTONE_SESSIONS_COUNT": "3",
        **keys_env(store_url),
    }


def test_check_then_push_then_status(
    env: dict[str, str], site: LocalMoodleSite, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    checked = run(env, "moodle", "check")
    assert checked.exit_code == 0, checked.output
    assert "Moodle 4.3" in checked.output and "ready: `mentorbridge sync moodle`" in checked.output

    pushed = run(env, "sync", "moodle")
    assert pushed.exit_code == 0, pushed.output
    assert "sync run 1 (incremental)" in pushed.output
    assert "users       created 6" in pushed.output
    assert "evidence    written 6" in pushed.output
    again = run(env, "sync", "moodle")
    assert again.exit_code == 0 and ", 0 writes" in again.output  # nothing changed: reads only

    status = run(env, "sync", "status")
    assert "run 2: moodle incremental, succeeded" in status.output
    assert "run 1: moodle incremental, succeeded" in status.output
    # Both held 3 sessions (the configured count) and each executive achieved a goal.
    assert "milestones  completed 15" in status.output
    assert "calls       2 reads, 0 writes" in status.output

    assert "server.php" in caplog.text  # every request was logged, at DEBUG
    everything = checked.output + pushed.output + again.output + status.output + caplog.text
    assert site.token not in everything


def test_a_refused_user_fails_the_push_naming_the_record_and_the_fix(
    env: dict[str, str], site: LocalMoodleSite, store: Store
) -> None:
    with MoodleClient(site.url, site.token) as client:  # someone else has E-1's username
        client.call(
            "core_user_create_users",
            users=[
                {
                    "username": "exec1@example.com",
                    "firstname": "Other",
                    "lastname": "Person",
                    "email": "other@example.com",
                    "createpassword": True,
                }
            ],
        )
    result = run(env, "sync", "moodle")
    assert result.exit_code == 1, result.output
    assert "NOT WRITTEN users E-1" in result.output
    assert "username" in result.output
    status = run(env, "sync", "status")
    assert "moodle incremental, failed" in status.output
    assert "skipped users E-1" in status.output
    assert site.token not in result.output + status.output


def test_a_bad_token_is_one_line_without_the_token(env: dict[str, str]) -> None:
    wrong = "f" * 32
    for args in (("moodle", "check"), ("sync", "moodle")):
        result = run({**env, "MENTORBRIDGE_MOODLE_TOKEN": wrong}, *args)
        assert result.exit_code == 1, result.output
        assert "Traceback" not in result.output and wrong not in result.output
        assert "token" in result.output.lower()


def test_moodle_not_configured_says_which_setting(env: dict[str, str]) -> None:
    result = run({**env, "MENTORBRIDGE_MOODLE_URL": ""}, "sync", "moodle")
    assert result.exit_code == 2
    assert "moodle.url is not set" in result.output


def test_a_wrong_site_url_is_named_with_the_fix(env: dict[str, str], site: LocalMoodleSite) -> None:
    result = run({**env, "MENTORBRIDGE_MOODLE_URL": site.url + "/lms"}, "moodle", "check")
    assert result.exit_code == 1, result.output
    assert f"Moodle at {site.url}/lms cannot be used" in result.output
    assert "HTTP 404" in result.output and "set moodle.url" in result.output
