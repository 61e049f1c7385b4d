"""Statements compiled once per dialect and run straight through the driver.

SQLAlchemy builds, keys and looks up a Core statement's compiled form on every execution. The
event path runs about ten small statements per webhook, and that machinery cost more than
SQLite took to run them (``bench.webhook_profile``). A :class:`Prepared` statement is built and
compiled once per dialect; each run only orders its parameters, applies the columns' bind
processors (JSON, UTC timestamps) and hands the SQL to the driver. Result rows are the
driver's own values: use it for ids, keys, numbers and text.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import CursorResult
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

    def run(self, session: Session, **params: Any) -> CursorResult[Any]:
        connection = session.connection()
        dialect = connection.dialect
        compiled = self._compiled.get(dialect.name) or self._compile(dialect)
        values = compiled.defaults | params
        for name, process in compiled.processors:
            value = values[name]
            if value is not None:
                values[name] = process(value)
        if compiled.order is not None:
            return connection.exec_driver_sql(
                compiled.sql, tuple(values[name] for name in compiled.order)
            )
        return connection.exec_driver_sql(compiled.sql, values)

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
