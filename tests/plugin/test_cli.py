"""The command line: db, outbox, xapi profile, against a real store and a real local LRS."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from mentorbridge.plugin.cli import cli
from mentorbridge.plugin.recorder import Recorder
from mentorbridge.plugin.store.db import Store
from mentorbridge.plugin.store.migrate import head_revision
from mentorbridge.plugin.store.outbox import SqlOutbox
from mentorbridge.xapi.localrs import LocalLRS
from mentorbridge.xapi.statements import Event, StatementBuilder
from tests.xapi.test_outbox import queue


def run(env: dict[str, str], *args: str) -> Result:
    return CliRunner().invoke(cli, list(args), env=env)


@pytest.fixture
def env(tmp_path: Path, store_url: str) -> dict[str, str]:
    return {"XDG_CONFIG_HOME": str(tmp_path / "cfg"), "MENTORBRIDGE_STORE_URL": store_url}


def test_db_upgrade_creates_the_store_and_status_reports_it(tmp_path: Path) -> None:
    env = {
        "XDG_CONFIG_HOME": str(tmp_path / "cfg"),
        "MENTORBRIDGE_STORE_URL": f"sqlite:///{tmp_path / 'new' / 'store.sqlite3'}",
    }
    assert run(env, "db", "status").exit_code == 1
    first = run(env, "db", "upgrade")
    head = head_revision()
    assert first.exit_code == 0 and f"revision (empty) → {head}" in first.output
    assert f"already at revision {head}" in run(env, "db", "upgrade").output
    status = run(env, "db", "status")
    assert status.exit_code == 0 and f"revision: {head}" in status.output


def test_commands_refuse_an_unmigrated_store(tmp_path: Path) -> None:
    (tmp_path / "empty.sqlite3").touch()  # a missing file is another message: test_store_errors
    env = {
        "XDG_CONFIG_HOME": str(tmp_path / "cfg"),
        "MENTORBRIDGE_STORE_URL": f"sqlite:///{tmp_path / 'empty.sqlite3'}",
    }
    result = run(env, "outbox", "status")
    assert result.exit_code == 1
    assert "has no Mentorbridge tables yet: run `mentorbridge db upgrade` first" in result.output


def test_outbox_status_counts_what_is_queued(
    env: dict[str, str], store: Store, builder: StatementBuilder
) -> None:
    queue(store, builder, 3)
    result = run(env, "outbox", "status")
    assert result.exit_code == 0
    assert "pending:      3" in result.output and "dead letters: 0" in result.output


def test_outbox_flush_delivers_to_the_configured_lrs(
    env: dict[str, str], store: Store, builder: StatementBuilder, lrs_server: LocalLRS
) -> None:
    queue(store, builder, 5)
    env = {
        **env,
        "MENTORBRIDGE_LRS_ENDPOINT": lrs_server.endpoint,
        "MENTORBRIDGE_LRS_PASSWORD_FILE": str(lrs_server.password_file),
    }
    result = run(env, "outbox", "flush")
    assert result.exit_code == 0, result.output
    assert "delivered 5, parked 0" in result.output
    assert len(lrs_server.statements_file.read_text().splitlines()) == 5


def test_outbox_flush_with_wrong_credentials_exits_1_and_keeps_everything(
    env: dict[str, str], store: Store, builder: StatementBuilder, lrs_server: LocalLRS
) -> None:
    queue(store, builder, 2)
    env = {
        **env,
        "MENTORBRIDGE_LRS_ENDPOINT": lrs_server.endpoint,
        "MENTORBRIDGE_LRS_PASSWORD": "wrong-password",
    }
    result = run(env, "outbox", "flush")
    assert result.exit_code == 1
    assert "LRS answered 401" in result.output and "check lrs.username" in result.output
    assert "wrong-password" not in result.output
    assert SqlOutbox(store).status(now=_now()).pending == 2


def test_outbox_flush_without_a_password_is_a_config_error(env: dict[str, str]) -> None:
    result = run(env, "outbox", "flush")
    assert result.exit_code == 2
    assert "lrs.password is not set" in result.output


def test_dead_letters_are_listed_shown_and_retried(
    env: dict[str, str], store: Store, builder: StatementBuilder
) -> None:
    ids = queue(store, builder, 2)
    outbox = SqlOutbox(store)
    for row in outbox.claim(owner="t", limit=2, now=_now(), lease_until=_now()):
        outbox.park(
            row.row_id,
            owner="t",
            now=_now(),
            error="LRS answered 409 Conflict",
            status=409,
            response='{"detail":"differs"}',
        )
    listing = run(env, "outbox", "dead-letters")
    assert listing.exit_code == 0 and ids[0] in listing.output and "409" in listing.output
    letters = outbox.dead_letters()
    shown = run(env, "outbox", "dead-letters", "--id", str(letters[0].row_id))
    assert '{"detail":"differs"}' in shown.output and ids[0] in shown.output
    assert run(env, "outbox", "retry").exit_code == 2  # needs --id or --all
    assert (
        "1 dead letter(s) queued again"
        in run(env, "outbox", "retry", "--id", str(letters[0].row_id)).output
    )
    assert "1 dead letter(s) queued again" in run(env, "outbox", "retry", "--all").output
    assert outbox.status(now=_now()).dead == 0


def test_xapi_profile_is_printed_under_the_configured_iri(env: dict[str, str]) -> None:
    result = run(
        {**env, "MENTORBRIDGE_XAPI_PROFILE_IRI": "https://xapi.acme.com/rm"}, "xapi", "profile"
    )
    profile = json.loads(result.output)
    assert profile["id"] == "https://xapi.acme.com/rm"
    assert profile["versions"][0]["id"] == "https://xapi.acme.com/rm/v1.0"


def test_the_cli_reads_what_the_recorder_wrote(env: dict[str, str], recorder: Recorder) -> None:
    recorder.complete_session(
        Event(source="t", id="1"),
        pair="pair-1",
        session_key="s",
        started_at=datetime(2026, 11, 1, tzinfo=UTC),
        duration_minutes=30,
    )
    assert "pending:      2" in run(env, "outbox", "status").output


def _now() -> datetime:
    return datetime.now(UTC)
