"""SQLite writers queue on a lock file, so a waiting writer goes the moment the lock is free."""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

import pytest

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
