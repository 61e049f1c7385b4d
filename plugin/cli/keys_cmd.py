"""``mentorbridge keys init | status | rotate | prune | new``: the keys of stored secrets."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import click

from mentorbridge.plugin import compose
from mentorbridge.plugin.cli import AppContext, pass_app
from mentorbridge.plugin.config import Config
from mentorbridge.plugin.errors import ConfigError
from mentorbridge.plugin.keyring import (
    Keyring,
    KeyringError,
    key_id,
    new_key,
    read_key_file,
    write_key_file,
)
from mentorbridge.plugin.store.db import Store
from mentorbridge.plugin.store.keys import census, default_key_path, keyring_of, reencrypt_all

_BACKUP = (
    "Back it up with the store's backups, apart from them: without it stored secrets cannot be "
    "read (they would have to be added again)."
)


@click.group("keys")
def command() -> None:
    """The keys that encrypt stored secrets and give people their opaque ids."""


def _key_file(config: Config) -> Path:
    """The key file the configuration names: ``secrets.key_file``, else next to SQLite."""
    if config["secrets"].get("key_file"):
        return Path(config["secrets"]["key_file"]).expanduser()
    path = default_key_path(config.store_url)
    if path is None:
        raise ConfigError(
            "secrets.key_file is not set: a PostgreSQL store needs it (or "
            "MENTORBRIDGE_SECRETS_KEYS and MENTORBRIDGE_SECRETS_IDENTITY_KEY); set "
            "MENTORBRIDGE_SECRETS_KEY_FILE to where the key file should live",
            key="secrets.key_file",
        )
    return path


@command.command("init")
@pass_app
def init(app: AppContext) -> None:
    """Write a new key file (an encryption key and the identity key), mode 0600.

    An existing key file is never overwritten."""
    path = _key_file(app.config)
    keyring = Keyring.generate(str(path))
    write_key_file(path, keyring)
    click.echo(
        f"wrote {path} (mode 0600): encryption key {keyring.primary_id}, identity key "
        f"{keyring.identity_id}"
    )
    click.echo(_BACKUP)
    if app.config["secrets"].get("keys") or app.config["secrets"].get("identity_key"):
        click.echo(
            "note: MENTORBRIDGE_SECRETS_KEYS / MENTORBRIDGE_SECRETS_IDENTITY_KEY are set and "
            "take precedence over this file",
            err=True,
        )


@command.command("status")
@pass_app
def status(app: AppContext) -> None:
    """Where the keys are, and which key each stored secret needs (never a key or a secret).

    Exits 1 if a stored secret cannot be decrypted or is stored in plain text."""
    with compose.open_store(app.config) as store:
        keyring = keyring_of(store)
        found = census(store, keyring)
    click.echo(f"keys from:     {keyring.source}")
    click.echo(f"identity key:  {keyring.identity_id} (never rotated)")
    for n, key in enumerate(keyring.keys):
        needed = found.by_key.get(key_id(key), 0)
        role = "encrypts new secrets" if n == 0 else "old, decrypts only"
        click.echo(f"key {key_id(key)}:  {role}; {needed} stored secret(s) use it")
    click.echo(f"stored secrets: {found.total}")
    if any(found.by_key.get(key_id(k), 0) == 0 for k in keyring.keys[1:]):
        click.echo("old keys no stored secret uses can be removed: `mentorbridge keys prune`")
    problem = False
    if found.plaintext:
        click.echo(
            f"{found.plaintext} secret(s) are stored in plain text: run `mentorbridge db "
            "upgrade` or `mentorbridge keys rotate` to encrypt them",
            err=True,
        )
        problem = True
    for what in found.unreadable:
        click.echo(
            f"{what} cannot be decrypted with these keys: restore the key it was encrypted "
            "with from your backup, or add the secret again",
            err=True,
        )
        problem = True
    if problem:
        raise SystemExit(1)


@command.command("rotate")
@pass_app
def rotate(app: AppContext) -> None:
    """Add a new encryption key and re-encrypt every stored secret with it, in one
    transaction. Old keys keep decrypting until removed (`keys prune`). The identity key is
    not rotated."""
    config = app.config
    with compose.open_store(config) as store:
        keyring = keyring_of(store)
        unreadable = census(store, keyring).unreadable
        if unreadable:
            raise KeyringError(
                f"{unreadable[0]}{_more(unreadable)} cannot be decrypted with the "
                "current keys, so nothing was rotated: restore the missing key from your backup "
                "(see `mentorbridge keys status`)",
                key="secrets.keys",
            )
        if config["secrets"].get("keys"):
            count = _reencrypt(store, keyring)
            click.echo(
                f"secrets.keys comes from MENTORBRIDGE_SECRETS_KEYS, so no key was added: "
                f"re-encrypted {count} stored secret(s) under its first key "
                f"{keyring.primary_id}. To rotate, put a new key first in it (`mentorbridge "
                "keys new` prints one) and run this again."
            )
            return
        path = _key_file(config)
        on_file = read_key_file(path)
        rotated = on_file.with_new_primary()
        write_key_file(path, rotated, replace=True)  # durable before anything uses the key
        keyring = replace(read_key_file(path), identity_key=keyring.identity_key)
        count = _reencrypt(store, keyring)
    click.echo(
        f"added encryption key {keyring.primary_id} to {path}; re-encrypted {count} stored "
        f"secret(s) with it. Old key(s) {', '.join(key_id(k) for k in keyring.keys[1:])} still "
        "decrypt until `mentorbridge keys prune` removes them."
    )
    click.echo(_BACKUP.replace("it", "the new file", 1))


def _reencrypt(store: Store, keyring: Keyring) -> int:
    with store.transaction() as session:
        count = reencrypt_all(session, keyring)
    store.keyring = keyring
    return count


@command.command("prune")
@pass_app
def prune(app: AppContext) -> None:
    """Remove the old encryption keys from the key file once no stored secret uses them."""
    config = app.config
    if config["secrets"].get("keys"):
        raise ConfigError(
            "secrets.keys comes from MENTORBRIDGE_SECRETS_KEYS: remove old keys from it there "
            "(`mentorbridge keys status` shows which ones stored secrets still use)",
            key="secrets.keys",
        )
    path = _key_file(config)
    with compose.open_store(config) as store:
        keyring = keyring_of(store)
        found = census(store, keyring)
    old = [key_id(k) for k in keyring.keys[1:]]
    still = [k for k in old if found.by_key.get(k)]
    if still or found.plaintext:
        raise KeyringError(
            f"stored secrets still need old key(s) {', '.join(still) or '(plain text)'}: run "
            "`mentorbridge keys rotate` first, then prune",
            key="secrets.keys",
        )
    if not old:
        click.echo(f"{path} holds no old key")
        return
    write_key_file(path, read_key_file(path).without_old_keys(), replace=True)
    click.echo(f"removed old key(s) {', '.join(old)} from {path}")


@command.command("new")
def new() -> None:
    """Print a fresh random key (for MENTORBRIDGE_SECRETS_KEYS or _IDENTITY_KEY)."""
    click.echo(new_key())


def _more(names: list[str]) -> str:
    return f" (and {len(names) - 1} more)" if len(names) > 1 else ""
