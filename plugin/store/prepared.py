"""Statements compiled once per dialect and run straight on the driver's cursor.

SQLAlchemy builds, keys and looks up a Core statement's compiled form on every execution, and
sets up an execution context around each; the event path runs about ten small statements per
webhook, and that machinery cost more than SQLite took to run them (``bench.webhook_profile``).
A :class:`Prepared` statement is built and compiled once per dialect; each run only orders its
parameters, applies the columns' bind processors (JSON, UTC timestamps) and executes on the
session's own connection, in its transaction (the driver keeps the statement prepared: SQLite's
statement cache, psycopg's automatic server-side prepare). Errors are raised as SQLAlchemy
raises them (an :class:`~sqlalchemy.exc.IntegrityError` for a clash). Rows are the driver's own
tuples: use it for ids, keys, numbers and text.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session
from sqlalchemy.sql import Executable

from mentorbridge.plugin.store.bulk import bind_processor

__all__ = ["Prepared"]


@dataclass(frozen=True, slots=True)
class _Compiled:
    sql: str
    order: tuple[str, ...] | None  # positional drivers (SQLite): the parameters' order
    defaults: dict[str, Any]  # values written into the statement itself
    processors: tuple[tuple[str, Callable[[Any], Any]], ...]


class Prepared:
    """A statement made by ``build(dialect_name)`` with named ``bindparam``\\s, run by
    :meth:`run` with those names as keywords, in the session's transaction."""

    def __init__(self, build: Callable[[str], Executable]) -> None:
        self._build = build
        self._compiled: dict[str, _Compiled] = {}

    def run(self, session: Session, **params: Any) -> list[tuple[Any, ...]]:
        """Run it; returns its rows (none for a statement that returns none)."""
        connection = session.connection()
        dialect = connection.dialect
        compiled = self._compiled.get(dialect.name) or self._compile(dialect)
        values = compiled.defaults | params
        for name, process in compiled.processors:
            value = values[name]
            if value is not None:
                values[name] = process(value)
        bound = values if compiled.order is None else tuple(values[n] for n in compiled.order)
        cursor = connection.connection.driver_connection.cursor()
        try:
            cursor.execute(compiled.sql, bound)
            return cursor.fetchall() if cursor.description is not None else []
        except dialect.loaded_dbapi.Error as err:
            raise DBAPIError.instance(
                compiled.sql, None, err, dialect.loaded_dbapi.Error, hide_parameters=True
            ) from err
        finally:
            cursor.close()

    def first(self, session: Session, **params: Any) -> tuple[Any, ...] | None:
        """Its first row, or ``None``."""
        rows = self.run(session, **params)
        return rows[0] if rows else None

    def scalar(self, session: Session, **params: Any) -> Any:
        """The first column of its first row, or ``None``."""
        rows = self.run(session, **params)
        return rows[0][0] if rows else None

    def _compile(self, dialect: Any) -> _Compiled:
        compiled = self._build(dialect.name).compile(dialect=dialect)
        names = {compiled.bind_names[bind]: bind for bind in compiled.binds.values()}
        found = _Compiled(
            sql=str(compiled),
            order=tuple(compiled.positiontup) if compiled.positional else None,
            defaults={name: bind.value for name, bind in names.items() if not bind.required},
            processors=tuple(
                (name, process)
                for name, bind in names.items()
                if (process := bind_processor(bind.type, dialect)) is not None
            ),
        )
        self._compiled[dialect.name] = found
        return found
