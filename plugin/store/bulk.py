"""Inserting many rows at once, straight through the driver's ``executemany``.

SQLAlchemy's executemany runs its generic per-row parameter machinery (a dict per row, a
type processor call per value, the UTC conversion of :class:`UTCDateTime` in two steps): for a
mapper run writing a million rows that machinery cost more than the database did. Here the
statement is compiled once per table, set of columns and dialect, each column's bind processor
is looked up once, and timestamps take one fast path per dialect; the driver then gets plain
tuples (SQLite), or many rows go through ``COPY`` (PostgreSQL with psycopg; dicts to any other
driver's executemany).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from operator import itemgetter
from typing import Any

from sqlalchemy import Table, insert
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from mentorbridge.plugin.store.base import UTCDateTime

__all__ = ["bind_processor", "insert_rows"]

#: Rows from which ``COPY`` beats an executemany on PostgreSQL (a webhook queues two).
_COPY_FROM = 50

Values = Callable[[dict[str, Any]], Sequence[Any]]


def insert_rows(session: Session, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    """Insert ``rows`` (dicts of column name to value) into ``table`` in ``session``'s
    transaction. Rows may differ in which columns they name; each set is one executemany.
    Columns with a Python-side default must be given (they are not filled in here)."""
    groups: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for row in rows:
        groups.setdefault(tuple(row), []).append(row)
    connection = session.connection()
    dialect = connection.dialect
    for names, group in groups.items():
        plan = _plan(table, names, dialect)
        if dialect.driver == "psycopg" and len(group) >= _COPY_FROM:
            _copy(connection, table, names, group, plan.named_values)
        elif plan.ordered_values is not None:
            connection.exec_driver_sql(plan.sql, [plan.ordered_values(row) for row in group])
        else:
            params = [_processed(row, plan.active) if plan.active else row for row in group]
            connection.exec_driver_sql(plan.sql, params)


@dataclass(frozen=True, slots=True)
class _Plan:
    sql: str
    #: Positional drivers (SQLite): a row's values in the statement's order.
    ordered_values: Values | None
    #: A row's values in the order of its column names (``COPY``).
    named_values: Values
    #: The columns with a bind processor, for drivers taking dicts.
    active: list[tuple[str, Callable[[Any], Any]]]


@lru_cache(maxsize=256)
def _plan(table: Table, names: tuple[str, ...], dialect: Any) -> _Plan:
    """How to insert rows naming ``names`` into ``table``, worked out once per table, set of
    columns and dialect (a webhook queues its statements through here on every request)."""
    compiled = (
        insert(table)
        .inline()
        .compile(dialect=dialect, column_keys=list(names), for_executemany=True)
    )
    order = tuple(compiled.positiontup) if compiled.positional else None
    defaulted = set(order if order is not None else compiled.params) - set(names)
    if defaulted:  # Python-side defaults are SQLAlchemy's to run: name them instead
        raise ValueError(f"{table.name} rows must give {', '.join(sorted(defaulted))}")
    processors = {name: bind_processor(table.c[name].type, dialect) for name in names}
    return _Plan(
        sql=str(compiled),
        ordered_values=_values(order, processors) if order is not None else None,
        named_values=_values(names, processors),
        active=[(name, p) for name, p in processors.items() if p is not None],
    )


def _values(names: Sequence[str], processors: dict[str, Callable[[Any], Any] | None]) -> Values:
    """A row's values in the order of ``names``, each non-null one processed by its column's
    bind processor: one C-level item lookup per row, then only the columns that need it."""
    get = itemgetter(*names) if len(names) > 1 else lambda row: (row[names[0]],)
    active = [(i, p) for i, name in enumerate(names) if (p := processors[name]) is not None]
    if not active:
        return get

    def values(row: dict[str, Any]) -> tuple[Any, ...]:
        found = list(get(row))
        for index, process in active:
            value = found[index]
            if value is not None:
                found[index] = process(value)
        return tuple(found)  # the driver takes tuples

    return values


def _copy(
    connection: Any,
    table: Table,
    names: tuple[str, ...],
    rows: list[dict[str, Any]],
    values: Values,
) -> None:
    """PostgreSQL: the rows through ``COPY ... FROM STDIN`` (psycopg adapts each value); with it
    a full mapper run at 100,000 workers took 184 s instead of 283 s with a pipelined
    executemany (bench/README.md)."""
    quote = connection.dialect.identifier_preparer
    columns = ", ".join(quote.quote(name) for name in names)
    statement = f"COPY {quote.format_table(table)} ({columns}) FROM STDIN"
    cursor = connection.connection.driver_connection.cursor()
    try:
        with cursor, cursor.copy(statement) as copy:
            for row in rows:
                copy.write_row(values(row))
    except connection.dialect.loaded_dbapi.Error as err:
        # As SQLAlchemy raises it for any other statement (an IntegrityError for a clash).
        raise DBAPIError.instance(
            statement, None, err, connection.dialect.loaded_dbapi.Error, hide_parameters=True
        ) from err


def _processed(
    row: dict[str, Any], active: list[tuple[str, Callable[[Any], Any]]]
) -> dict[str, Any]:
    """``row`` with each non-null value of a column that has a bind processor processed."""
    row = dict(row)
    for name, process in active:
        value = row[name]
        if value is not None:
            row[name] = process(value)
    return row


def bind_processor(column_type: Any, dialect: Any) -> Callable[[Any], Any] | None:
    """What turns a Python value of ``column_type`` into the driver's (``None``: nothing)."""
    if isinstance(column_type, UTCDateTime):
        return _sqlite_timestamp if dialect.name == "sqlite" else _utc_timestamp
    return column_type._cached_bind_processor(dialect)


def _utc_timestamp(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError("naive datetimes are not stored; pass a timezone-aware one")
    return value.astimezone(UTC)


@lru_cache(maxsize=65_536)  # a run writes the same few instants on many rows
def _sqlite_timestamp(value: datetime) -> str:
    """The text SQLAlchemy's SQLite ``DATETIME`` stores, for a UTC instant."""
    value = _utc_timestamp(value)
    return (
        f"{value.year:04d}-{value.month:02d}-{value.day:02d} "
        f"{value.hour:02d}:{value.minute:02d}:{value.second:02d}.{value.microsecond:06d}"
    )
