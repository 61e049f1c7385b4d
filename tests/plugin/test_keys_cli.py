"""``mentorbridge keys init | status | rotate | prune`` and the key file ``db upgrade`` makes."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import select

from mentorbridge.plugin.cli import cli
from mentorbridge.plugin.keyring import Keyring, key_id, read_key_file
from mentorbridge.plugin.store.db import Store
from mentorbridge.plugin.store.webhook_models import WebhookSecret
from tests.conftest import TEST_KEYRING, TEST_KEYS_ENV


def run(env: dict[str, str], *args: str) -> Result:
    return CliRunner().invoke(cli, list(args), env=env)


def stored(url: str) -> list[str]:
    with Store(url, keyring=TEST_KEYRING) as store, store.reading() as session:
        return list(session.scalars(select(WebhookSecret.secret).order_by(WebhookSecret.id)))


@pytest.fixture
def embedded(tmp_path: Path) -> dict[str, str]:
    """A fresh trial: no configuration at all, the store in the data directory."""
    return {
        "XDG_CONFIG_HOME": str(tmp_path / "cfg"),
        "XDG_DATA_HOME": str(tmp_path / "data"),
        "HOME": str(tmp_path),
    }


def test_keys_db_upgrade_makes_the_key_file_next_to_a_new_sqlite_store(
    embedded: dict[str, str], tmp_path: Path
) -> None:
    key_file = tmp_path / "data" / "mentorbridge" / "mentorbridge.keys"
    upgraded = run(embedded, "db", "upgrade")
    assert upgraded.exit_code == 0, upgraded.output
    assert f"created the key file {key_file}: back it up" in upgraded.output
    assert os.stat(key_file).st_mode & 0o777 == 0o600
    again = run(embedded, "db", "upgrade")
    assert "created the key file" not in again.output

    added = run(embedded, "webhook", "secret", "add")
    secret = added.output.splitlines()[1]
    url = f"sqlite:///{tmp_path / 'data' / 'mentorbridge' / 'mentorbridge.sqlite3'}"
    assert secret.startswith("whsec_") and secret not in stored(url)[0]
    status = run(embedded, "keys", "status")
    primary = read_key_file(key_file).primary_id
    assert status.exit_code == 0
    assert f"key {primary}:  encrypts new secrets; 1 stored secret(s) use it" in status.output


def test_keys_rotate_reencrypts_keeps_the_old_key_until_pruned(
    embedded: dict[str, str], tmp_path: Path
) -> None:
    key_file = tmp_path / "data" / "mentorbridge" / "mentorbridge.keys"
    url = f"sqlite:///{tmp_path / 'data' / 'mentorbridge' / 'mentorbridge.sqlite3'}"
    run(embedded, "db", "upgrade")
    secret = run(embedded, "webhook", "secret", "add").output.splitlines()[1]
    before, old = stored(url), read_key_file(key_file)

    rotated = run(embedded, "keys", "rotate")

    assert rotated.exit_code == 0, rotated.output
    now = read_key_file(key_file)
    assert now.keys[1:] == old.keys and now.identity_key == old.identity_key
    assert "re-encrypted 1 stored secret(s)" in rotated.output
    assert stored(url) != before
    assert now.without_old_keys().decrypt(stored(url)[0]) == secret
    status = run(embedded, "keys", "status").output
    assert f"key {old.primary_id}:  old, decrypts only; 0 stored secret(s) use it" in status
    assert "`mentorbridge keys prune`" in status

    pruned = run(embedded, "keys", "prune")
    assert pruned.exit_code == 0 and f"removed old key(s) {old.primary_id}" in pruned.output
    assert read_key_file(key_file).keys == now.keys[:1]
    assert os.stat(key_file).st_mode & 0o777 == 0o600
    assert run(embedded, "webhook", "secret", "list").output.count("sha256:") == 1


def test_keys_a_wrong_key_file_is_one_clear_line_and_nothing_rotates(
    embedded: dict[str, str], tmp_path: Path
) -> None:
    key_file = tmp_path / "data" / "mentorbridge" / "mentorbridge.keys"
    run(embedded, "db", "upgrade")
    secret = run(embedded, "webhook", "secret", "add").output.splitlines()[1]
    key_file.unlink()
    key_file.write_text(json.dumps({"format": "mentorbridge-keys/1", "note": "", **_keys()}))
    key_file.chmod(0o600)

    status = run(embedded, "keys", "status")
    rotated = run(embedded, "keys", "rotate")

    assert status.exit_code == 1
    assert "webhook signing secret 1 cannot be decrypted with these keys" in status.output
    assert rotated.exit_code == 2
    assert rotated.output.count("\n") == 1 and "Traceback" not in rotated.output
    assert "webhook signing secret 1 cannot be decrypted" in rotated.output
    assert "restore the missing key from your backup" in rotated.output
    assert len(read_key_file(key_file).keys) == 1  # not rotated
    for result in (status, rotated):
        assert secret not in result.output


def _keys() -> dict[str, object]:
    other = Keyring.generate()
    return {"encryption_keys": list(other.keys), "identity_key": other.identity_key}


def test_keys_init_writes_the_configured_file_once(tmp_path: Path) -> None:
    path = tmp_path / "etc" / "mentorbridge.keys"
    env = {
        "XDG_CONFIG_HOME": str(tmp_path / "cfg"),
        "MENTORBRIDGE_STORE_URL": "postgresql+psycopg://mb@db.invalid/mb",
        "MENTORBRIDGE_SECRETS_KEY_FILE": str(path),
    }
    first = run(env, "keys", "init")
    assert first.exit_code == 0, first.output
    keyring = read_key_file(path)
    assert f"encryption key {keyring.primary_id}, identity key {keyring.identity_id}" in (
        first.output
    )
    assert keyring.keys[0] not in first.output and keyring.identity_key not in first.output
    second = run(env, "keys", "init")
    assert second.exit_code == 2 and "never overwritten" in second.output
    assert read_key_file(path) == keyring


def test_keys_init_for_postgresql_names_the_setting_it_needs(tmp_path: Path) -> None:
    env = {
        "XDG_CONFIG_HOME": str(tmp_path / "cfg"),
        "MENTORBRIDGE_STORE_URL": "postgresql+psycopg://mb@db.invalid/mb",
    }
    result = run(env, "keys", "init")
    assert result.exit_code == 2
    assert "secrets.key_file is not set: a PostgreSQL store needs it" in result.output


def test_keys_rotate_with_keys_from_the_environment_reencrypts_under_the_first(
    tmp_path: Path, store_url: str
) -> None:
    env = {"XDG_CONFIG_HOME": str(tmp_path / "cfg"), "MENTORBRIDGE_STORE_URL": store_url}
    env |= TEST_KEYS_ENV
    secret = run(env, "webhook", "secret", "add").output.splitlines()[1]
    newer = Keyring.generate().keys[0]
    env["MENTORBRIDGE_SECRETS_KEYS"] = f"{newer},{TEST_KEYRING.keys[0]}"

    rotated = run(env, "keys", "rotate")

    assert rotated.exit_code == 0, rotated.output
    assert f"re-encrypted 1 stored secret(s) under its first key {key_id(newer)}" in (
        rotated.output
    )
    only_newer = Keyring((newer,), TEST_KEYRING.identity_key)
    assert only_newer.decrypt(stored(store_url)[0]) == secret
    assert run(env, "webhook", "secret", "list").exit_code == 0


def test_keys_init_then_secrets_and_rotation_through_a_configured_key_file(
    tmp_path: Path, store_url: str
) -> None:
    key_file = tmp_path / "etc" / "mentorbridge.keys"
    env = {
        "XDG_CONFIG_HOME": str(tmp_path / "cfg"),
        "MENTORBRIDGE_STORE_URL": store_url,
        "MENTORBRIDGE_SECRETS_KEY_FILE": str(key_file),
    }
    before_init = run(env, "webhook", "secret", "add")
    assert before_init.exit_code == 2 and f"the key file {key_file} does not exist" in (
        before_init.output
    )
    assert run(env, "keys", "init").exit_code == 0
    secret = run(env, "webhook", "secret", "add").output.splitlines()[1]
    first = read_key_file(key_file)
    assert first.decrypt(stored(store_url)[0]) == secret != stored(store_url)[0]

    rotated = run(env, "keys", "rotate")
    status = run(env, "keys", "status")

    assert rotated.exit_code == 0, rotated.output
    now = read_key_file(key_file)
    assert now.keys[1:] == first.keys
    assert now.without_old_keys().decrypt(stored(store_url)[0]) == secret
    assert status.exit_code == 0
    assert f"key {now.primary_id}:  encrypts new secrets; 1 stored secret(s) use it" in (
        status.output
    )
    assert f"keys from:     {key_file}" in status.output
