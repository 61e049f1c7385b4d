"""Connecting to the store: SQLite (WAL) by default, PostgreSQL by URL.

Units of work are :meth:`Store.transaction` (commits on success, rolls back on any error) and
:meth:`Store.reading`. On SQLite a write transaction starts with ``BEGIN IMMEDIATE``, so two
processes never fail half-way through upgrading a read lock to a write lock, and writers of a
file database queue on a lock file first (:class:`_WriterQueue`).
"""

from __future__ import annotations

import fcntl
import os
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import DBAPIError, DisconnectionError
from sqlalchemy.orm import Session, sessionmaker

if TYPE_CHECKING:
    from mentorbridge.plugin.keyring import Keyring

__all__ = ["Store", "masked_url"]

_READONLY = "mentorbridge_readonly"
#: How ``config show`` masks a secret.
_MASK = "********"


def masked_url(url: str | URL) -> str:
    """The URL as an admin may see it: the password (if any) shown as ``********``."""
    parsed = make_url(url)
    if parsed.password is None:
        return parsed.render_as_string(hide_password=False)
    return parsed.render_as_string(hide_password=True).replace(":***@", f":{_MASK}@", 1)


class Store:
    """The database behind Mentorbridge.

    Args:
        url: an SQLAlchemy URL (``sqlite:///…`` or ``postgresql+psycopg://…``).
        keyring: the keys for the secrets it keeps and people's opaque ids; ``None`` means
            the key file next to a SQLite file (see :func:`plugin.store.keys.keyring_of`).
    """

    def __init__(self, url: str, *, keyring: Keyring | None = None, **engine_options: Any) -> None:
        self.url = make_url(url)
        self.keyring = keyring
        self.engine = _create_engine(self.url, **engine_options)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        self._writers = _WriterQueue.for_url(self.url)

    @property
    def dialect(self) -> str:
        """``sqlite`` or ``postgresql``."""
        return self.engine.dialect.name

    def describe(self) -> str:
        """Where the data lives, without any password."""
        if self.dialect == "sqlite":
            return f"SQLite file {self.url.database}"
        return f"PostgreSQL {masked_url(self.url)}"

    @contextmanager
    def transaction(self, *, rollback: bool = False) -> Iterator[Session]:
        """One unit of work: everything in it commits together or not at all.

        Args:
            rollback: undo it all at the end even if nothing failed (a dry run).
        """
        with (
            self._writers or nullcontext(),
            self._sessions() as session,
            session.begin() as transaction,
        ):
            yield session
            if rollback:
                transaction.rollback()

    @contextmanager
    def reading(self) -> Iterator[Session]:
        """A read-only unit of work (no write lock on SQLite)."""
        with self._sessions() as session:  # closing ends the transaction; rows stay loaded
            session.connection(execution_options={_READONLY: True})
            yield session

    def dispose(self) -> None:
        """Close every pooled connection."""
        self.engine.dispose()
        if self._writers is not None:
            self._writers.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.dispose()


def _create_engine(url: Any, **options: Any) -> Engine:
    # Database errors then never quote row values (reflection text, names) into logs.
    options.setdefault("hide_parameters", True)
    if url.get_backend_name() != "sqlite":
        engine = create_engine(url, **options)
        _check_when_idle(engine)
        return engine
    if url.database and url.database != ":memory:":
        Path(url.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, connect_args={"timeout": 30}, **options)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we issue BEGIN ourselves, below
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        readonly = connection.get_execution_options().get(_READONLY)
        statement = "BEGIN" if readonly else "BEGIN IMMEDIATE"
        # On the driver itself: every unit of work begins here, and SQLAlchemy's execution
        # machinery around one BEGIN cost a webhook more than SQLite took to run it.
        try:
            connection.connection.driver_connection.execute(statement)
        except sqlite3.Error as err:
            raise DBAPIError.instance(
                statement, None, err, sqlite3.Error, hide_parameters=True
            ) from err

    return engine


#: A pooled PostgreSQL connection unused for this long is checked before it is handed out.
IDLE_CHECK_SECONDS = 5.0
_IDLE_SINCE = "mentorbridge_idle_since"


def _check_when_idle(engine: Engine) -> None:
    """Check a pooled connection with a ping before use if it sat idle :data:`IDLE_CHECK_SECONDS`
    or more, and replace it if the server or a proxy closed it meanwhile (``idle_session_timeout``,
    a failover).

    A ping before every use (SQLAlchemy's ``pool_pre_ping``) is a round trip per request, one in
    ten of a webhook's; a connection in steady use is not checked. One that breaks while in
    use fails its unit of work, which the web service answers with 503 and ``Retry-After`` and
    the pool replaces.
    """

    @event.listens_for(engine, "checkin")
    def _checked_in(_dbapi_connection: Any, record: Any) -> None:
        record.info[_IDLE_SINCE] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _checked_out(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        since = record.info.get(_IDLE_SINCE)
        if since is None or time.monotonic() - since < IDLE_CHECK_SECONDS:
            return
        try:
            engine.dialect.do_ping(dbapi_connection)
        except Exception as err:
            raise DisconnectionError("the idle connection was closed") from err


class _WriterQueue:
    """Writers of one SQLite file wait their turn here, woken the moment it is theirs.

    SQLite's own busy handler polls with sleeps of up to 100 ms, so under concurrent writes
    (gunicorn workers, the worker's flusher) a waiting writer slept long after the lock was
    free. An exclusive ``flock`` on ``<database>-writer.lock`` across processes, and a thread
    lock within one (``flock`` locks belong to the open file, shared by its threads), queue
    them in the kernel instead. ``BEGIN IMMEDIATE`` and the busy timeout stay as the guard
    for any writer that does not use this queue.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._threads = threading.Lock()
        self._fd: int | None = None
        self._pid = 0

    @classmethod
    def for_url(cls, url: Any) -> _WriterQueue | None:
        if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
            return None
        return cls(Path(f"{Path(url.database).expanduser()}-writer.lock"))

    def __enter__(self) -> None:
        self._threads.acquire()
        try:
            if self._fd is None or self._pid != os.getpid():
                # A forked child shares its parent's open file, and with it the lock: its own.
                self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
                self._pid = os.getpid()
            fcntl.flock(self._fd, fcntl.LOCK_EX)
        except BaseException:
            self._threads.release()
            raise

    def __exit__(self, *_exc: object) -> None:
        try:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
        finally:
            self._threads.release()

    def close(self) -> None:
        with self._threads:
            if self._fd is not None and self._pid == os.getpid():
                os.close(self._fd)
            self._fd = None
