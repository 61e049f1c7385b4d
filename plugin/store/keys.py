"""A store's keys, and every secret it keeps.

:func:`keyring_of` finds the keys a store uses: the ones the composition root attached
(``secrets.*`` in the configuration), else, for a SQLite file, the key file next to it
(``mentorbridge.sqlite3`` → ``mentorbridge.keys``), which :func:`prepare_keys` creates when the
store is migrated (``mentorbridge db upgrade``, the demo). A PostgreSQL store without
configured keys keeps no secret and records no person: it says which setting to set instead.

A column is a stored secret when its ``info`` has ``"secret"`` (what to call it in messages);
:func:`encrypt_plaintext`, :func:`reencrypt_all` and :func:`census` walk every such column, so a
new kind of secret (LTI keys, Moodle tokens) only marks its column.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import Column, Table, inspect, select, update
from sqlalchemy.engine import URL, make_url
from sqlalchemy.orm import Session

from mentorbridge.plugin.keyring import (
    KEY_SETTINGS,
    Keyring,
    KeyringError,
    read_key_file,
    write_key_file,
)
from mentorbridge.plugin.store.base import Base
from mentorbridge.plugin.store.db import Store

__all__ = [
    "PreparedKeys",
    "SecretCensus",
    "census",
    "default_key_file",
    "default_key_path",
    "encrypt_plaintext",
    "ensure_key_file",
    "keyring_of",
    "prepare_keys",
    "reencrypt_all",
    "secret_columns",
]


def default_key_file(store: Store) -> Path | None:
    """Where a SQLite file store keeps its keys when none are configured; ``None`` otherwise."""
    return default_key_path(store.url)


def default_key_path(url: str | URL) -> Path | None:
    """:func:`default_key_file` for a store URL (without opening the store)."""
    parsed = make_url(url)
    database = parsed.database
    if parsed.get_backend_name() != "sqlite" or not database or database == ":memory:":
        return None
    return Path(database).expanduser().with_suffix(".keys")


def keyring_of(store: Store) -> Keyring:
    """The keys of ``store`` (see the module docstring).

    Raises:
        KeyringError: no keys are configured for a PostgreSQL store, or the key file is
            missing while the store holds secrets encrypted with it, or it is unreadable.
    """
    if store.keyring is None:
        path = default_key_file(store)
        if path is not None:
            if not path.exists():
                raise KeyringError(
                    f"the key file {path} of the store ({store.describe()}) is missing: restore "
                    "it from your backup, or run `mentorbridge db upgrade` to create one for a "
                    "store that never held secrets",
                    key="secrets.key_file",
                )
            store.keyring = read_key_file(path)
        elif store.dialect == "sqlite":  # in memory: the keys live and die with the data
            store.keyring = Keyring.generate("the keys of an in-memory store")
        else:
            raise KeyringError(
                f"no secret keys are configured for the store ({store.describe()}), so it can "
                f"neither keep a secret nor give a person their opaque id: set {KEY_SETTINGS}",
                key="secrets.key_file",
            )
    store.keyring = store.keyring.current()  # a rotation by another process is seen at once
    return store.keyring


def ensure_key_file(store: Store, path: Path) -> Keyring:
    """The keyring in ``path``, which is created if it does not exist yet, unless ``store``
    already holds secrets encrypted with a key (then that key file was lost: a new one would
    not open them)."""
    if not path.exists():
        if _holds_encrypted_secrets(store):
            raise KeyringError(
                f"the key file {path} is missing, but the store ({store.describe()}) holds "
                "secrets encrypted with it: restore the key file from your backup (if it is "
                "lost, delete the stored secrets and add them again)",
                key="secrets.key_file",
            )
        try:
            write_key_file(path, Keyring.generate(str(path)))
        except KeyringError:
            if not path.exists():  # not a race with another process creating it
                raise
    return read_key_file(path)


@dataclass(frozen=True, slots=True)
class PreparedKeys:
    """What :func:`prepare_keys` did."""

    created: Path | None
    encrypted: int
    plaintext_left: int


def prepare_keys(store: Store) -> PreparedKeys:
    """Make a migrated store ready for its secrets: create the default key file of a SQLite
    store that has none, then encrypt every secret stored in plain text before encryption.
    Without keys (PostgreSQL with none configured) plain-text secrets are only counted.

    Raises:
        KeyringError: as :func:`ensure_key_file` and :func:`keyring_of`.
    """
    created = None
    if store.keyring is None and (path := default_key_file(store)) is not None:
        if not path.exists():
            created = path
        store.keyring = ensure_key_file(store, path)
    if store.keyring is None and store.dialect != "sqlite":
        with store.reading() as session:
            left = sum(
                not Keyring.is_encrypted(stored)
                for column in secret_columns()
                for _what, _key, stored in _rows(session, column)
            )
        return PreparedKeys(None, 0, left)
    keyring = keyring_of(store)
    with store.transaction() as session:
        encrypted = encrypt_plaintext(session, keyring)
    return PreparedKeys(created, encrypted, 0)


def secret_columns() -> list[Column[str]]:
    """Every column that holds a secret, in table order."""
    return [
        column
        for table in Base.metadata.sorted_tables
        for column in table.columns
        if column.info.get("secret")
    ]


def _rows(session: Session, column: Column[str]) -> Iterator[tuple[str, tuple[object, ...], str]]:
    """``(what, primary key, stored value)`` of every row with a value in ``column``."""
    table: Table = column.table
    keys = list(table.primary_key.columns)
    query = select(*keys, column).where(column.is_not(None)).order_by(*keys)
    for row in session.execute(query):
        key = tuple(row[: len(keys)])
        name = column.info["secret"]
        yield f"{name} {'/'.join(map(str, key))}", key, row[-1]


def _store(session: Session, column: Column[str], key: tuple[object, ...], value: str) -> None:
    table: Table = column.table
    condition = [c == k for c, k in zip(table.primary_key.columns, key, strict=True)]
    session.execute(update(table).where(*condition).values({column.name: value}))


def encrypt_plaintext(session: Session, keyring: Keyring) -> int:
    """Encrypt every secret stored before encryption; returns how many there were."""
    done = 0
    for column in secret_columns():
        for _what, key, stored in list(_rows(session, column)):
            if not keyring.is_encrypted(stored):
                _store(session, column, key, keyring.encrypt(stored))
                done += 1
    return done


def reencrypt_all(session: Session, keyring: Keyring) -> int:
    """Encrypt every stored secret again under the newest key (within the caller's
    transaction: all or none); returns how many.

    Raises:
        KeyringError: a secret no key decrypts (nothing is changed).
    """
    done = 0
    for column in secret_columns():
        for what, key, stored in list(_rows(session, column)):
            _store(session, column, key, keyring.reencrypt(stored, what=what))
            done += 1
    return done


@dataclass(slots=True)
class SecretCensus:
    """How the stored secrets are kept: per key id, in plain text, or unreadable (by name)."""

    by_key: Counter[str] = field(default_factory=Counter)
    plaintext: int = 0
    unreadable: list[str] = field(default_factory=list)

    @property
    def total(self) -> int:
        return sum(self.by_key.values()) + self.plaintext + len(self.unreadable)


def census(store: Store, keyring: Keyring) -> SecretCensus:
    """Which key each stored secret needs (decrypts each one, shows none)."""
    found = SecretCensus()
    with store.reading() as session:
        for column in secret_columns():
            for what, _key, stored in _rows(session, column):
                try:
                    key_id = keyring.decrypts_with(stored)
                except KeyringError:
                    found.unreadable.append(what)
                    continue
                if key_id is None:
                    found.plaintext += 1
                else:
                    found.by_key[key_id] += 1
    return found


def _holds_encrypted_secrets(store: Store) -> bool:
    tables = set(inspect(store.engine).get_table_names())
    with store.reading() as session:
        for column in secret_columns():
            if column.table.name not in tables:
                continue
            for _what, _key, stored in _rows(session, column):
                if Keyring.is_encrypted(stored):
                    return True
    return False
