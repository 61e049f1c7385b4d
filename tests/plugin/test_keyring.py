"""Secrets at rest: stored secrets are encrypted, keys rotate, a wrong key says what to do."""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path

import pytest
from sqlalchemy import insert, select, text

from mentorbridge.plugin.config import load_config
from mentorbridge.plugin.errors import ConfigError
from mentorbridge.plugin.keyring import (
    Keyring,
    KeyringError,
    keyring_from_config,
    read_key_file,
    write_key_file,
)
from mentorbridge.plugin.store.credentials import StoredRefreshToken
from mentorbridge.plugin.store.db import Store
from mentorbridge.plugin.store.keys import census, default_key_file, reencrypt_all
from mentorbridge.plugin.store.migrate import upgrade
from mentorbridge.plugin.store.sync_models import OAuthCredential
from mentorbridge.plugin.store.webhook_models import WebhookSecret
from mentorbridge.plugin.webhooks.signing_secrets import UNREADABLE, SigningSecrets
from tests.conftest import TEST_KEYRING


def stored_values(store: Store) -> list[str]:
    """Every stored secret column value, as the database holds it."""
    with store.reading() as session:
        return [
            *session.scalars(select(WebhookSecret.secret).order_by(WebhookSecret.id)),
            *session.scalars(select(OAuthCredential.refresh_token)),
        ]


def test_keyring_round_trips_and_the_database_never_holds_the_secret(store: Store) -> None:
    _id, secret = SigningSecrets(store).add("calendar")
    tokens = StoredRefreshToken(store, provider="workday", client_id="mb", configured="rt-seed")
    tokens.replace("rt-rotated-0123456789")

    in_database = stored_values(store)
    assert len(in_database) == 2
    for value in in_database:
        assert value.startswith("fernet:")
        assert secret not in value and "rt-rotated-0123456789" not in value
    assert SigningSecrets(store).active() == (secret,)
    assert tokens.current() == "rt-rotated-0123456789"


def test_keyring_rotation_reencrypts_and_the_old_key_decrypts_until_removed(store: Store) -> None:
    from mentorbridge.plugin.store.keys import keyring_of

    old = keyring_of(store)
    _id, secret = SigningSecrets(store).add()
    before = stored_values(store)

    rotated = old.with_new_primary()
    assert rotated.decrypt(before[0]) == secret  # old key still in the ring
    with store.transaction() as session:
        assert reencrypt_all(session, rotated) == 1
    store.keyring = rotated
    after = stored_values(store)

    assert after != before
    assert census(store, rotated).by_key == {rotated.primary_id: 1}
    assert rotated.without_old_keys().decrypt(after[0]) == secret  # old key removable now
    with pytest.raises(KeyringError):
        rotated.without_old_keys().decrypt(before[0])
    assert rotated.identity_key == old.identity_key  # never rotated
    assert SigningSecrets(store).active() == (secret,)


def test_keyring_a_wrong_key_gives_one_clear_error_without_the_secret(store: Store) -> None:
    tokens = StoredRefreshToken(store, provider="workday", client_id="mb", configured="rt-seed")
    tokens.replace("rt-secret-value-42")
    store.keyring = Keyring.generate("/etc/mentorbridge/keys")

    with pytest.raises(KeyringError) as caught:
        tokens.current()

    message = str(caught.value)
    assert "\n" not in message and "rt-secret-value-42" not in message
    assert "the stored workday refresh token (client mb)" in message
    assert "/etc/mentorbridge/keys" in message and "Restore the key file" in message
    assert "workday.refresh_token" in message
    assert caught.value.key == "secrets.keys"


def test_signing_secrets_skip_and_log_a_secret_no_key_decrypts(
    store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    secrets = SigningSecrets(store, "configured-secret-123")
    _id, lost = secrets.add("lost")
    store.keyring = Keyring.generate("the new keys")
    _id, kept = SigningSecrets(store).add("kept")

    with caplog.at_level(logging.ERROR):
        active = SigningSecrets(store, "configured-secret-123").active()
        listed = SigningSecrets(store).list()

    assert active == (kept, "configured-secret-123")
    assert [info.fingerprint == UNREADABLE for info in listed] == [True, False]
    assert "webhook signing secret 1 cannot be decrypted" in caplog.text
    assert lost not in caplog.text


def test_db_upgrade_encrypts_secrets_stored_before_encryption(store_url: str) -> None:
    with Store(store_url) as first:
        if first.dialect == "postgresql":
            first.keyring = TEST_KEYRING
        with first.transaction() as session:  # as revision 0003 left them
            session.execute(insert(WebhookSecret).values(secret="whsec_plain_0123456789"))
        assert census(first, first.keyring or Keyring.generate()).plaintext == 1
        prepared = upgrade(first)
        assert prepared is not None and prepared.encrypted == 1
        assert stored_values(first)[0].startswith("fernet:")
        assert SigningSecrets(first).active() == ("whsec_plain_0123456789",)


def test_postgresql_store_without_keys_refuses_to_store_a_secret() -> None:
    store = Store("postgresql+psycopg://mentorbridge@db.invalid/mentorbridge")  # never connects
    with pytest.raises(KeyringError) as caught:
        SigningSecrets(store).add()
    assert "no secret keys are configured for the store" in str(caught.value)
    assert "secrets.key_file" in str(caught.value)
    assert "MENTORBRIDGE_SECRETS_KEYS" in str(caught.value)
    store.dispose()


def test_a_lost_key_file_is_not_silently_replaced(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'store.sqlite3'}"
    with Store(url) as store:
        upgrade(store)
        SigningSecrets(store).add()
        key_file = default_key_file(store)
    assert key_file == tmp_path / "store.keys"
    key_file.unlink()
    with Store(url) as store:
        with pytest.raises(KeyringError, match=r"is missing.*restore it from your backup"):
            SigningSecrets(store).add()
        with pytest.raises(KeyringError, match="holds secrets encrypted with it"):
            upgrade(store)
    assert not key_file.exists()


def test_key_file_is_written_0600_and_refused_when_open_to_others(tmp_path: Path) -> None:
    path = tmp_path / "keys.json"
    write_key_file(path, Keyring.generate())
    assert os.stat(path).st_mode & 0o777 == 0o600
    with pytest.raises(KeyringError, match="already exists"):
        write_key_file(path, Keyring.generate())
    os.chmod(path, 0o640)
    with pytest.raises(KeyringError, match=r"open to other users \(mode 0640\).*chmod 600"):
        read_key_file(path)


def test_key_file_that_is_not_one_is_named(tmp_path: Path) -> None:
    path = tmp_path / "keys.json"
    path.write_text(json.dumps({"encryption_keys": ["x"]}))
    path.chmod(0o600)
    with pytest.raises(KeyringError, match="is not a Mentorbridge key file"):
        read_key_file(path)


def test_keys_from_the_environment_take_the_identity_from_the_key_file(tmp_path: Path) -> None:
    path = tmp_path / "keys.json"
    on_file = Keyring.generate()
    write_key_file(path, on_file)
    config = load_config(
        None,
        environ={
            "MENTORBRIDGE_SECRETS_KEYS": f"{TEST_KEYRING.keys[0]}, {on_file.keys[0]}",
            "MENTORBRIDGE_SECRETS_KEY_FILE": str(path),
        },
    )
    keyring = keyring_from_config(config)
    assert keyring is not None
    assert keyring.keys == (TEST_KEYRING.keys[0], on_file.keys[0])
    assert keyring.identity_key == on_file.identity_key


def test_a_malformed_key_names_the_setting() -> None:
    config = load_config(
        None,
        environ={"MENTORBRIDGE_SECRETS_KEYS": "short", "MENTORBRIDGE_SECRETS_IDENTITY_KEY": "x"},
    )
    with pytest.raises(KeyringError, match=r"secrets.keys is not a key: expected 32 bytes"):
        keyring_from_config(config)


def test_nothing_configured_leaves_the_store_default() -> None:
    assert keyring_from_config(load_config(None, environ={})) is None


def test_the_migrated_secret_columns_hold_long_encrypted_values(store: Store) -> None:
    long_secret = "s" * 200  # Fernet tokens of it are over 300 characters
    store.keyring = store.keyring or read_key_file(default_key_file(store))
    with store.transaction() as session:
        session.execute(insert(WebhookSecret).values(secret=store.keyring.encrypt(long_secret)))
    assert SigningSecrets(store).active() == (long_secret,)
    with store.engine.connect() as connection:
        length = connection.execute(text("SELECT length(secret) FROM webhook_secret")).scalar()
    assert length > 300


def test_a_running_process_sees_a_rotation_and_a_prune_by_another(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'store.sqlite3'}"
    with Store(url) as running:  # the web service, say: it read the key file at start
        upgrade(running)
        _id, first = SigningSecrets(running).add()
        path = default_key_file(running)
        assert path is not None

        with Store(url) as admin:  # `keys rotate`, then `keys prune`, in another process
            rotated = read_key_file(path).with_new_primary()
            write_key_file(path, rotated, replace=True)
            with admin.transaction() as session:
                reencrypt_all(session, rotated)
            write_key_file(path, rotated.without_old_keys(), replace=True)

        assert SigningSecrets(running).active() == (first,)  # needs the new key
        _id, second = SigningSecrets(running).add()  # encrypted with the new key, not the pruned
        assert rotated.without_old_keys().decrypt(stored_values(running)[1]) == second


def test_signing_secrets_without_their_key_file_keep_the_configured_secret_working(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    url = f"sqlite:///{tmp_path / 'store.sqlite3'}"
    with Store(url) as store:
        upgrade(store)
        _id, lost = SigningSecrets(store).add()
        default_key_file(store).unlink()
    with Store(url) as store, caplog.at_level(logging.ERROR):
        active = SigningSecrets(store, "configured-secret-123").active()
    assert active == ("configured-secret-123",)
    assert "store.keys of the store" in caplog.text and "is missing" in caplog.text
    assert lost not in caplog.text


def test_keys_in_the_config_file_are_refused_pointing_at_the_key_file(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text(f'[secrets]\nkeys = "{TEST_KEYRING.keys[0]}"\n')
    with pytest.raises(ConfigError) as caught:
        load_config(path, environ={})
    assert "set MENTORBRIDGE_SECRETS_KEYS or secrets.key_file" in str(caught.value)
    assert TEST_KEYRING.keys[0] not in str(caught.value)
