"""Shared fixtures: stores on SQLite and PostgreSQL, the statement builder, Ralph LRS.

The store suites run on SQLite always and on PostgreSQL when
``MENTORBRIDGE_TEST_DATABASE_URL`` names a server (``.ci/run`` sets it). Each test session gets
a database of its own there, dropped at the end.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from mentorbridge.plugin.keyring import Keyring
from mentorbridge.plugin.recorder import Recorder
from mentorbridge.plugin.store import Base
from mentorbridge.plugin.store.db import Store
from mentorbridge.plugin.store.migrate import upgrade
from mentorbridge.xapi.localrs import LocalLRS
from mentorbridge.xapi.statements import StatementBuilder, StatementSettings
from tests.fakes import NOW

PG_URL = os.environ.get("MENTORBRIDGE_TEST_DATABASE_URL")
DIALECTS = ["sqlite", "postgresql"] if PG_URL else ["sqlite"]

#: The keys of PostgreSQL test stores (a SQLite store uses the key file next to it, made by
#: ``upgrade``); the environment form, for tests that go through the configuration.
TEST_KEYRING = Keyring(
    ("eSVPyNxRTFA9yt3OZDl7DwKl69zN8S3BYhmmD1w2FCI=",),
    "3ztv8aGmncsyN2ow6ndk3j5oXNObTq8P0nUL3zy8cxQ=",
    "the test keys",
)
TEST_KEYS_ENV = {
    "MENTORBRIDGE_SECRETS_KEYS": TEST_KEYRING.keys[0],
    "MENTORBRIDGE_SECRETS_IDENTITY_KEY": TEST_KEYRING.identity_key,
}


def keys_env(store_url: str) -> dict[str, str]:
    """The key variables a command needs for ``store_url``: the test keys for PostgreSQL;
    none for SQLite (the key file next to it)."""
    return {} if store_url.startswith("sqlite") else dict(TEST_KEYS_ENV)


SETTINGS = StatementSettings(
    identity_home_page="https://id.example.com",
    activity_base="https://xapi.example.com/reverse-mentoring",
)


@contextmanager
def fresh_postgres_database() -> Iterator[str]:
    """A new, migrated database on the test server, dropped on the way out."""
    assert PG_URL, "MENTORBRIDGE_TEST_DATABASE_URL is not set"
    name = f"mentorbridge_test_{uuid.uuid4().hex[:10]}"
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
    try:
        store = Store(url)
        upgrade(store)
        store.dispose()
        yield url
    finally:
        with admin.connect() as connection:
            connection.execute(
                text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :name"
                ),
                {"name": name},
            )
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        admin.dispose()


@pytest.fixture(scope="session")
def pg_database_url() -> Iterator[str]:
    """A fresh, migrated PostgreSQL database for this test session."""
    with fresh_postgres_database() as url:
        yield url


def _empty_postgres(store: Store) -> None:
    """Back to a freshly migrated state: empty tables, the outbox gate open."""
    tables = ", ".join(t.name for t in Base.metadata.sorted_tables if t.name != "outbox_gate")
    with store.engine.begin() as connection:
        connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
        connection.execute(
            text("UPDATE outbox_gate SET retry_at = NULL, failures = 0, last_error = NULL")
        )


@pytest.fixture(params=DIALECTS)
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """URL of an empty, migrated store: SQLite, and PostgreSQL when configured."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'store.sqlite3'}"
        migrated = Store(url)
        upgrade(migrated)
        migrated.dispose()
        return url
    url = request.getfixturevalue("pg_database_url")
    cleaner = Store(url)
    _empty_postgres(cleaner)
    cleaner.dispose()
    return url


@pytest.fixture
def store(store_url: str) -> Iterator[Store]:
    """An empty, migrated store (see ``store_url``)."""
    opened = Store(store_url, keyring=None if store_url.startswith("sqlite") else TEST_KEYRING)
    yield opened
    opened.dispose()


@pytest.fixture
def builder() -> StatementBuilder:
    """A statement builder whose clock is the tests' fixed "now"."""
    return StatementBuilder(SETTINGS, now=lambda: NOW)


@pytest.fixture
def recorder(store: Store, builder: StatementBuilder) -> Recorder:
    """A recorder on the test store, with a programme, two pairs and their people."""
    rec = Recorder(store, builder)
    rec.register_programme("rm-test", "Reverse mentoring test programme")
    for worker in ("EXEC-1", "JUN-1", "EXEC-2", "JUN-2"):
        rec.register_person(worker)
    started = datetime(2026, 9, 1, tzinfo=UTC).date()
    rec.create_pair(
        key="pair-1", programme="rm-test", mentee="EXEC-1", mentor="JUN-1", started_on=started
    )
    rec.create_pair(
        key="pair-2", programme="rm-test", mentee="EXEC-2", mentor="JUN-2", started_on=started
    )
    return rec


# -- Ralph ------------------------------------------------------------------------------------


_RALPH_DIR = pytest.StashKey[Path]()


def pytest_configure(config: pytest.Config) -> None:
    """Point Ralph at a directory of ours before anything imports it: Ralph reads its settings
    once, when ``ralph.conf`` is first imported (even by ``ralph.models``)."""
    directory = Path(tempfile.mkdtemp(prefix="mentorbridge-ralph-"))
    LocalLRS(directory, port=1).prepare()
    os.environ.update(LocalLRS(directory, port=1).environment())
    config.stash[_RALPH_DIR] = directory


def pytest_unconfigure(config: pytest.Config) -> None:
    shutil.rmtree(config.stash.get(_RALPH_DIR, None) or "/nonexistent", ignore_errors=True)


@pytest.fixture(scope="session")
def ralph_dir(pytestconfig: pytest.Config) -> Path:
    """The directory of the in-process Ralph: its credentials and statements."""
    return pytestconfig.stash[_RALPH_DIR]


@pytest.fixture(scope="session")
def ralph_app(ralph_dir: Path) -> Any:
    """Ralph's ASGI app, in this process, on the file-system backend in ``ralph_dir``."""
    from mentorbridge.xapi.ralph_app import app

    return app


@pytest.fixture
def ralph(ralph_app: Any, ralph_dir: Path) -> Iterator[Any]:
    """An ``httpx.Client`` (FastAPI's TestClient) talking to an empty in-process Ralph."""
    from fastapi.testclient import TestClient

    statements = ralph_dir / "fs_lrs.jsonl"
    statements.unlink(missing_ok=True)
    client = TestClient(ralph_app, base_url="http://lrs.test")
    client.auth = ("mentorbridge", (ralph_dir / "password").read_text().strip())
    with client:
        yield client
    statements.unlink(missing_ok=True)


RALPH_ENDPOINT = "http://lrs.test/xAPI/"


@pytest.fixture
def lrs_server(tmp_path: Path) -> Iterator[LocalLRS]:
    """Ralph as a child process on a free 127.0.0.1 port: can be killed and restarted."""
    server = LocalLRS(tmp_path / "lrs")
    server.start()
    yield server
    server.stop()
