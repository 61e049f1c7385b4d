"""Query pieces the report modules share, written once for SQLite and PostgreSQL: an
organisation subtree, quarters of a date, small literal tables, streamed rows, and resolving a
filter's value to what the store knows (or an error naming the closest)."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any

from sqlalchemy import (
    CTE,
    ColumnElement,
    Date,
    DateTime,
    Integer,
    Select,
    String,
    cast,
    false,
    func,
    literal,
    null,
    or_,
    select,
    union_all,
)
from sqlalchemy.orm import Session, aliased
from sqlalchemy.types import TypeEngine

from mentorbridge.plugin.reports.filters import unknown
from mentorbridge.plugin.store.base import UTCDateTime
from mentorbridge.plugin.store.db import Store
from mentorbridge.plugin.store.hris_models import HrisOrganization

__all__ = [
    "day",
    "literal_table",
    "organisation_subtree",
    "quarter",
    "resolve",
    "resolve_organisation",
    "stream",
]

#: Rows fetched per round trip while streaming a view.
BATCH = 1000


def stream(
    store: Store, statement: Select[Any], convert: Callable[[Any], tuple[Any, ...]] = tuple
) -> Iterator[tuple[Any, ...]]:
    """A view's rows, read in batches while the writer consumes them (a server-side cursor
    on PostgreSQL); the transaction lasts as long as the generator."""
    with store.reading() as session:
        result = session.execute(statement.execution_options(stream_results=True, yield_per=BATCH))
        for row in result:
            yield convert(row)


def literal_table(
    name: str, columns: Sequence[tuple[str, TypeEngine[Any]]], rows: Sequence[Sequence[Any]]
) -> CTE:
    """A small table of Python values (the mapping's competencies, scales) as a CTE that
    joins like any table; no rows gives an empty one."""
    if not rows:
        empty = select(*(cast(null(), t).label(c) for c, t in columns)).where(false())
        return empty.cte(name)
    selects = [
        select(*(literal(v, t).label(c) for v, (c, t) in zip(row, columns, strict=True)))
        for row in rows
    ]
    return (selects[0] if len(selects) == 1 else union_all(*selects)).cte(name)


def organisation_subtree(root: int, name: str = "subtree") -> CTE:
    """The organisation (by row id) and every organisation below it, following superior ids
    by any of an organisation's ids (``UNION`` ends a cycle in the tenant's data)."""
    org = HrisOrganization
    top = select(org.organization_id, org.workday_id, org.reference_id).where(org.id == root)
    tree = top.cte(name, recursive=True)
    child = aliased(org)
    below = select(child.organization_id, child.workday_id, child.reference_id).join(
        tree,
        or_(
            child.superior_organization_id == tree.c.organization_id,
            child.superior_organization_id == tree.c.workday_id,
            child.superior_organization_id == tree.c.reference_id,
        ),
    )
    return tree.union(below)


def in_subtree(column: ColumnElement[Any], tree: CTE) -> ColumnElement[bool]:
    """Whether an organisation id (of any kind) is in ``tree``."""
    return or_(
        column.in_(select(tree.c.organization_id)),
        column.in_(select(tree.c.workday_id).where(tree.c.workday_id.is_not(None))),
        column.in_(select(tree.c.reference_id).where(tree.c.reference_id.is_not(None))),
    )


def quarter(column: ColumnElement[Any], dialect: str) -> ColumnElement[str]:
    """``2026-Q3`` for a date or a UTC datetime (stored naive in UTC on SQLite)."""
    if dialect == "postgresql":
        if isinstance(column.type, (DateTime, UTCDateTime)):
            column = func.timezone("UTC", column)
        return func.to_char(column, literal('YYYY"-Q"Q', String))
    month = cast(func.strftime("%m", column), Integer)
    return func.strftime("%Y", column) + literal("-Q", String) + cast((month + 2) // 3, String)


def day(column: ColumnElement[Any], dialect: str) -> ColumnElement[Any]:
    """The UTC date of a datetime, comparable with a date column."""
    if dialect == "postgresql":
        return cast(func.timezone("UTC", column), Date)
    return func.date(column)


def resolve(
    session: Session, filter: str, what: str, column: Any, value: str, key: Any = None
) -> Any:
    """The row key (``key``, else ``column``) whose ``column`` equals ``value``.

    Raises:
        ReportFilterError: none does; names the closest value.
    """
    found = session.execute(select(key if key is not None else column).where(column == value))
    row = found.first()
    if row is None:
        raise unknown(filter, what, value, session.scalars(select(column).distinct()))
    return row[0]


def resolve_organisation(session: Session, value: str) -> int:
    """The row id of the organisation any of whose ids is ``value``."""
    org = HrisOrganization
    found = session.scalar(
        select(org.id).where(
            or_(org.organization_id == value, org.workday_id == value, org.reference_id == value)
        )
    )
    if found is None:
        raise unknown(
            "organisation", "organisation", value, session.scalars(select(org.organization_id))
        )
    return found


def add_months(column: ColumnElement[Any], months: int, dialect: str) -> ColumnElement[Any]:
    """A date column ``months`` later (the last day of a shorter month as each database does)."""
    if dialect == "postgresql":
        return cast(column + func.make_interval(0, months), Date)
    return func.date(column, f"+{int(months)} months")
