"""The store's PostgreSQL settings: each process's connection pool, ``statement_timeout`` and
``lock_timeout`` on every connection, and one clear line when a timeout cancels a command."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import OperationalError

from mentorbridge.plugin import compose
from mentorbridge.plugin.config import load_config
from mentorbridge.plugin.errors import ConfigError, StoreUnavailableError
from mentorbridge.plugin.store.connect import is_store_failure, postgres_options, store_failure
from mentorbridge.plugin.store.db import Store
from mentorbridge.plugin.store.models import OutboxGate
from mentorbridge.plugin.store.webhook_models import WebhookEvent
from mentorbridge.plugin.web import create_app
from mentorbridge.plugin.webhooks.sender import EVENTS_PATH, encode_event
from mentorbridge.plugin.webhooks.signing import HEADER, signature_header
from tests.conftest import PG_URL, TEST_KEYS_ENV, fresh_postgres_database

needs_postgres = pytest.mark.skipif(
    not PG_URL, reason="PostgreSQL only: set MENTORBRIDGE_TEST_DATABASE_URL"
)


def _open(url: str, tmp_path: Path, **settings: str) -> Store:
    environ = {
        "XDG_CONFIG_HOME": str(tmp_path),
        "MENTORBRIDGE_STORE_URL": url,
        **TEST_KEYS_ENV,
        **{f"MENTORBRIDGE_STORE_{key.upper()}": value for key, value in settings.items()},
    }
    return compose.open_store(load_config(environ=environ))


@pytest.fixture
def timed_store(pg_database_url: str, tmp_path: Path) -> Iterator[Store]:
    store = _open(
        pg_database_url,
        tmp_path,
        pool_size="3",
        max_overflow="1",
        statement_timeout_seconds="0.3",
        lock_timeout_seconds="0.2",
    )
    yield store
    store.dispose()


@needs_postgres
def test_the_pool_and_the_timeouts_reach_every_connection(timed_store: Store) -> None:
    assert timed_store.engine.pool.size() == 3
    assert timed_store.engine.pool._max_overflow == 1
    with timed_store.reading() as session:
        assert session.scalar(text("SHOW statement_timeout")) == "300ms"
        assert session.scalar(text("SHOW lock_timeout")) == "200ms"


@needs_postgres
def test_by_default_postgresql_sets_no_limit(pg_database_url: str, tmp_path: Path) -> None:
    with _open(pg_database_url, tmp_path) as store, store.reading() as session:
        assert session.scalar(text("SHOW statement_timeout")) == "0"
        assert session.scalar(text("SHOW lock_timeout")) == "0"
        assert store.engine.pool.size() == 5


@needs_postgres
def test_a_statement_running_too_long_is_one_line_naming_the_setting(timed_store: Store) -> None:
    with pytest.raises(OperationalError) as raised, timed_store.reading() as session:
        session.execute(text("SELECT pg_sleep(2)"))
    assert is_store_failure(raised.value)
    error = store_failure(raised.value, timed_store.url)
    assert isinstance(error, StoreUnavailableError)
    assert "a statement ran longer than store.statement_timeout_seconds" in str(error)
    assert "nothing was changed" in str(error)


@needs_postgres
def test_a_lock_held_too_long_is_one_line_naming_the_setting(timed_store: Store) -> None:
    with timed_store.transaction() as holder:
        holder.get(OutboxGate, 1, with_for_update=True)
        with pytest.raises(OperationalError) as raised, timed_store.transaction() as waiter:
            waiter.get(OutboxGate, 1, with_for_update=True)
    error = store_failure(raised.value, timed_store.url)
    assert isinstance(error, StoreUnavailableError)
    assert "not released within store.lock_timeout_seconds" in str(error)


def test_sqlite_has_no_server_settings_to_take() -> None:
    options = {"pool_size": 2, "max_overflow": 0}
    timeouts = {"statement_timeout_seconds": 5, "lock_timeout_seconds": 1}
    assert postgres_options("sqlite:///x.sqlite3", **options, **timeouts) == {}
    kept = postgres_options(
        "postgresql+psycopg://db/mb?options=-c%20search_path%3Dmb", **options, **timeouts
    )
    assert kept["connect_args"] == {
        "options": "-c search_path=mb -c statement_timeout=5000 -c lock_timeout=1000"
    }


@pytest.mark.parametrize(
    ("variable", "value"),
    [("POOL_SIZE", "0"), ("MAX_OVERFLOW", "-1"), ("STATEMENT_TIMEOUT_SECONDS", "-5")],
)
def test_pool_and_timeout_settings_out_of_range_name_the_key(
    variable: str, value: str, tmp_path: Path
) -> None:
    with pytest.raises(ConfigError, match=rf"store\.{variable.lower()}"):
        load_config(
            environ={"XDG_CONFIG_HOME": str(tmp_path), f"MENTORBRIDGE_STORE_{variable}": value}
        )


@needs_postgres
def test_a_request_kept_waiting_past_the_lock_timeout_is_a_503_and_records_nothing(
    tmp_path: Path,
) -> None:
    from tests.plugin.web.conftest import CLOCK, SECRET, example

    with fresh_postgres_database() as url:
        config = load_config(
            environ={
                "XDG_CONFIG_HOME": str(tmp_path),
                "MENTORBRIDGE_STORE_URL": url,
                **TEST_KEYS_ENV,
                "MENTORBRIDGE_STORE_LOCK_TIMEOUT_SECONDS": "0.3",
                "MENTORBRIDGE_WEB_SIGNING_SECRET": SECRET,
                "MENTORBRIDGE_LRS_AUTH": "none",
            }
        )
        app = create_app(config, now=lambda: CLOCK)
        body = encode_event(example("session.completed"))
        headers = {
            "Content-Type": "application/json",
            HEADER: signature_header(body, [SECRET], int(CLOCK)),
        }
        holder = Store(url)
        try:
            with (
                httpx.Client(transport=httpx.WSGITransport(app=app)) as client,
                holder.transaction() as session,
            ):
                session.execute(text("LOCK TABLE webhook_event IN ACCESS EXCLUSIVE MODE"))
                began = time.monotonic()
                answer = client.post("http://mb.test" + EVENTS_PATH, content=body, headers=headers)
                waited = time.monotonic() - began
            assert answer.status_code == 503 and answer.json()["error"] == "unavailable"
            assert answer.headers["Retry-After"] == "1"
            assert waited < 5  # the lock timeout ended the wait, not the other transaction
            with holder.reading() as session:
                assert session.scalar(select(func.count()).select_from(WebhookEvent)) == 0
        finally:
            holder.dispose()
            app.extensions["mentorbridge"].store.dispose()


def _backend_pid(store: Store) -> int:
    with store.reading() as session:
        return session.execute(text("SELECT pg_backend_pid()")).scalar_one()


def _terminate(url: str, pid: int) -> None:
    admin = Store(url)
    try:
        with admin.reading() as session:
            assert session.execute(text("SELECT pg_terminate_backend(:p)"), {"p": pid}).scalar()
    finally:
        admin.dispose()


@needs_postgres
def test_an_idle_connection_the_server_closed_is_replaced_before_use(
    pg_database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from mentorbridge.plugin.store import db

    store = _open(pg_database_url, tmp_path, pool_size="1", max_overflow="0")
    try:
        first = _backend_pid(store)
        _terminate(pg_database_url, first)
        monkeypatch.setattr(db, "IDLE_CHECK_SECONDS", 0.0)  # it has now been idle long enough
        assert _backend_pid(store) != first  # checked, found closed, replaced: no error
    finally:
        store.dispose()


@needs_postgres
def test_a_connection_in_steady_use_is_not_pinged_and_a_break_fails_one_unit_of_work(
    pg_database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from mentorbridge.plugin.store import db

    monkeypatch.setattr(db, "IDLE_CHECK_SECONDS", 3600.0)
    store = _open(pg_database_url, tmp_path, pool_size="1", max_overflow="0")
    pings: list[object] = []
    real_ping = store.engine.dialect.do_ping
    monkeypatch.setattr(store.engine.dialect, "do_ping", lambda c: pings.append(c) or real_ping(c))
    try:
        first = _backend_pid(store)
        for _ in range(5):
            assert _backend_pid(store) == first
        assert pings == []  # no round trip spent checking a connection just used
        _terminate(pg_database_url, first)
        with pytest.raises(OperationalError) as caught:
            _backend_pid(store)
        assert is_store_failure(caught.value)  # which the web service answers with a 503
        assert _backend_pid(store) != first  # the pool replaced it
    finally:
        store.dispose()
