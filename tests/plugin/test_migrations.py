"""Migrations build exactly the schema the models describe, on SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

from mentorbridge.plugin.store import Base
from mentorbridge.plugin.store.db import Store
from mentorbridge.plugin.store.migrate import current_revision, head_revision
from tests.conftest import PG_URL


def test_the_migrated_store_matches_the_models(store: Store) -> None:
    assert current_revision(store) == head_revision()
    with store.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, Base.metadata) == []


def test_sqlite_stores_use_write_ahead_logging(tmp_path: Path) -> None:
    with Store(f"sqlite:///{tmp_path / 's.sqlite3'}") as store, store.engine.connect() as c:
        assert c.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert c.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1


def test_the_outbox_has_a_partial_index_for_pending_rows(store: Store) -> None:
    indexes = {i["name"] for i in inspect(store.engine).get_indexes("outbox")}
    assert "ix_outbox_pending" in indexes


@pytest.mark.skipif(not PG_URL, reason="PostgreSQL only: set MENTORBRIDGE_TEST_DATABASE_URL")
def test_outbox_pages_leave_room_for_hot_updates_on_postgresql(pg_database_url: str) -> None:
    with Store(pg_database_url) as store, store.engine.connect() as connection:
        options = connection.exec_driver_sql(
            "SELECT reloptions FROM pg_class WHERE relname = 'outbox'"
        ).scalar()
    assert "fillfactor=50" in options
