"""SQLite writers queue on a lock file, so a waiting writer goes the moment the lock is free."""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

import pytest
from sqlalchemy.pool import StaticPool

from mentorbridge.plugin.store.db import Store
from mentorbridge.plugin.store.migrate import upgrade


def lock_is_free(path: Path) -> bool:
    fd = os.open(path, os.O_RDWR | os.O_CREAT)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    finally:
        os.close(fd)  # closing the file drops a lock taken through it
    return True


def test_a_write_transaction_holds_the_writer_lock_and_a_read_does_not(tmp_path: Path) -> None:
    database = tmp_path / "store.sqlite3"
    lock = tmp_path / "store.sqlite3-writer.lock"
    with Store(f"sqlite:///{database}") as store:
        upgrade(store)
        with store.reading():
            assert lock_is_free(lock)
        with store.transaction():
            assert not lock_is_free(lock)
        assert lock_is_free(lock)
        with pytest.raises(RuntimeError), store.transaction():
            raise RuntimeError("a failed unit of work")
        assert lock_is_free(lock)


def test_a_write_lock_held_outside_the_queue_is_sqlalchemys_operational_error(
    tmp_path: Path,
) -> None:
    # A writer that does not queue on the lock file (another program, the sqlite3 shell)
    # holds the database: BEGIN IMMEDIATE fails as SQLAlchemy reports any store failure, which
    # the web service answers with a 503, and the store works again once it lets go.
    import sqlite3

    from sqlalchemy import text
    from sqlalchemy.exc import OperationalError

    from mentorbridge.plugin.store.connect import is_store_failure

    database = tmp_path / "store.sqlite3"
    with Store(f"sqlite:///{database}", poolclass=StaticPool) as store:
        upgrade(store)
        with store.reading() as session:
            session.connection().exec_driver_sql("PRAGMA busy_timeout=0")  # no 30 s wait here
        other = sqlite3.connect(database, isolation_level=None)
        other.execute("BEGIN IMMEDIATE")
        with (
            pytest.raises(OperationalError, match="locked") as caught,
            store.transaction() as session,
        ):
            session.execute(text("SELECT 1"))  # the unit of work begins with its first use
        assert is_store_failure(caught.value)
        other.execute("ROLLBACK")
        other.close()
        with store.transaction() as session:
            assert session.execute(text("SELECT 1")).scalar() == 1
