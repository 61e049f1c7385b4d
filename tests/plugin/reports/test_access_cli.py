"""``mentorbridge token add | list | revoke``: the token printed once, listed without it."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from mentorbridge.plugin.cli import cli
from mentorbridge.plugin.reports.access import TokenRefused, authenticate
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


def test_token_add_prints_the_token_once_and_list_never_shows_it(
    env: dict[str, str], store: Store
) -> None:
    added = run(env, "token", "add", "--role", "talent", "--label", "people analytics")
    assert added.exit_code == 0, added.output
    token = added.output.splitlines()[1]
    assert authenticate(store, token).role == "talent"
    listed = run(env, "token", "list")
    assert listed.exit_code == 0
    prefix = token.split("_")[1]
    line = listed.output.splitlines()[0]
    assert f"mb_{prefix}_…" in line and "talent" in line and "active" in line
    assert "people analytics" in line and "last used never" in line
    assert token.split("_", 2)[2] not in listed.output


def test_token_revoke_by_id_refuses_the_token_at_once(env: dict[str, str], store: Store) -> None:
    token = run(env, "token", "add", "--role", "admin", "--label", "ops").output.splitlines()[1]
    revoked = run(env, "token", "revoke", "1")
    assert revoked.exit_code == 0 and "token 1 (admin, ops) revoked" in revoked.output
    with pytest.raises(TokenRefused, match="revoked"):
        authenticate(store, token)
    assert "revoked" in run(env, "token", "list").output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("add", "--role", "learner", "--label", "x"), "'learner' is not one of 'admin', 'talent'"),
        (("add", "--role", "talent"), "Missing option '--label'"),
        (("add", "--role", "talent", "--label", " "), "give 1 to 100 characters"),
        (("revoke", "7"), "there is no token 7"),
    ],
)
def test_token_bad_usage_exits_2_with_the_fix(
    env: dict[str, str], args: tuple[str, ...], message: str
) -> None:
    result = run(env, "token", *args)
    assert result.exit_code == 2, result.output
    assert message in result.output
