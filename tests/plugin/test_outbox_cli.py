"""``mentorbridge outbox status | retry`` as diagnostics: the last LRS failure of any kind,
with what to fix, and ids that are not dead letters named as such."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from mentorbridge.plugin.cli import cli
from mentorbridge.plugin.errors import LRSAuthError
from mentorbridge.plugin.store.db import Store
from mentorbridge.plugin.store.outbox import SqlOutbox
from mentorbridge.xapi.outbox import Flusher
from mentorbridge.xapi.statements import StatementBuilder
from tests.fakes import FakeClock, ScriptedLRS
from tests.xapi.test_outbox import queue


def run(env: dict[str, str], *args: str) -> Result:
    return CliRunner().invoke(cli, list(args), env=env)


@pytest.fixture
def env(tmp_path: Path, store_url: str) -> dict[str, str]:
    return {"XDG_CONFIG_HOME": str(tmp_path / "cfg"), "MENTORBRIDGE_STORE_URL": store_url}


def flush(store: Store, lrs: ScriptedLRS) -> Flusher:
    flusher = Flusher(SqlOutbox(store), lrs.client(), clock=FakeClock())
    flusher.flush()
    return flusher


@pytest.mark.parametrize(
    ("status", "fix"),
    [(401, "MENTORBRIDGE_LRS_PASSWORD"), (403, "lrs.username"), (404, "lrs.endpoint")],
)
def test_outbox_status_shows_a_refusal_by_the_lrs_until_a_delivery_succeeds(
    env: dict[str, str], store: Store, builder: StatementBuilder, status: int, fix: str
) -> None:
    queue(store, builder, 2)
    with pytest.raises(Exception, match=f"LRS answered {status}"):
        flush(store, ScriptedLRS(script=[status]))
    shown = run(env, "outbox", "status")
    assert shown.exit_code == 0, shown.output
    line = next(x for x in shown.output.splitlines() if x.startswith("last LRS error: "))
    assert f"LRS answered {status}" in line and fix in line
    flush(store, ScriptedLRS())
    assert "last LRS error" not in run(env, "outbox", "status").output


def test_a_401_names_the_username_and_the_password_setting(
    store: Store, builder: StatementBuilder
) -> None:
    queue(store, builder, 1)
    with pytest.raises(LRSAuthError) as err:
        flush(store, ScriptedLRS(script=[401]))
    assert "lrs.username" in str(err.value) and "MENTORBRIDGE_LRS_PASSWORD" in str(err.value)


def test_outbox_status_still_shows_a_connection_failure(
    env: dict[str, str], store: Store, builder: StatementBuilder
) -> None:
    queue(store, builder, 1)
    flush(store, ScriptedLRS(script=[503]))
    assert "last LRS error: LRS answered 503" in run(env, "outbox", "status").output


def test_outbox_retry_names_an_unknown_id(
    env: dict[str, str], store: Store, builder: StatementBuilder
) -> None:
    result = run(env, "outbox", "retry", "--id", "999")
    assert result.exit_code == 1
    assert "no outbox statement has id 999" in result.output
    assert "outbox dead-letters" in result.output


def test_outbox_retry_names_a_statement_that_is_not_a_dead_letter(
    env: dict[str, str], store: Store, builder: StatementBuilder
) -> None:
    queue(store, builder, 2)
    # The batch is refused, then split: the first is delivered, the second parked.
    flush(store, ScriptedLRS(script=[400, 200, 400]))
    outbox = SqlOutbox(store)
    (dead,) = [d.row_id for d in outbox.dead_letters()]
    (delivered,) = [i for i, state in outbox.states([1, 2]).items() if state == "delivered"]
    result = run(env, "outbox", "retry", "--id", str(dead), "--id", str(delivered))
    assert result.exit_code == 1
    assert "1 dead letter(s) queued again" in result.output
    assert f"outbox statement {delivered} is delivered, not a dead letter" in result.output
