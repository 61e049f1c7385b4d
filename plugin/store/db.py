"""Connecting to the store: SQLite (WAL) by default, PostgreSQL by URL.

Units of work are :meth:`Store.transaction` (commits on success, rolls back on any error) and
:meth:`Store.reading`. On SQLite a write transaction starts with ``BEGIN IMMEDIATE``, so two
processes never fail half-way through upgrading a read lock to a write lock.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

__all__ = ["Store"]

_READONLY = "mentorbridge_readonly"


class Store:
    """The database behind Mentorbridge.

    Args:
        url: an SQLAlchemy URL (``sqlite:///…`` or ``postgresql+psycopg://…``).
    """

    def __init__(self, url: str, **engine_options: Any) -> None:
        self.url = make_url(url)
        self.engine = _create_engine(self.url, **engine_options)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)

    @property
    def dialect(self) -> str:
        """``sqlite`` or ``postgresql``."""
        return self.engine.dialect.name

    def describe(self) -> str:
        """Where the data lives, without any password."""
        if self.dialect == "sqlite":
            return f"SQLite file {self.url.database}"
        return f"PostgreSQL {self.url.render_as_string(hide_password=True)}"

    @contextmanager
    def transaction(self, *, rollback: bool = False) -> Iterator[Session]:
        """One unit of work: everything in it commits together or not at all.

        Args:
            rollback: undo it all at the end even if nothing failed (a dry run).
        """
        with self._sessions() as session, session.begin() as transaction:
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

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.dispose()


def _create_engine(url: Any, **options: Any) -> Engine:
    # Database errors then never quote row values (reflection text, names) into logs.
    options.setdefault("hide_parameters", True)
    if url.get_backend_name() != "sqlite":
        return create_engine(url, pool_pre_ping=True, **options)
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
        connection.exec_driver_sql("BEGIN" if readonly else "BEGIN IMMEDIATE")

    return engine
