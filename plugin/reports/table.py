"""What a report is, apart from its format: named views of typed columns whose rows stream, and
the charts the HTML format draws.

A report module (:mod:`.succession`, :mod:`.impact`) builds a :class:`Report` whose view rows
are generators over set-based queries; a format writer (:mod:`.formats`) consumes each view's
rows once, in order. Writers never see ORM objects, and only the HTML writer materialises
anything (the charts, which the report computes from small aggregate queries of its own).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

__all__ = [
    "SUPPRESSED",
    "Chart",
    "Column",
    "ColumnType",
    "Heatmap",
    "LineChart",
    "Report",
    "ScatterChart",
    "View",
]

#: How a writer types a cell: ``str``, ``int``, ``float`` (a plain number), ``level`` (a
#: normalised 0-1 level, shown as a percentage where a format can), ``date``, ``datetime``
#: (timezone-aware, UTC), ``bool``. ``None`` is an empty cell in every type.
ColumnType = Literal["str", "int", "float", "level", "date", "datetime", "bool"]


@dataclass(frozen=True, slots=True)
class Column:
    """One column of a view.

    Attributes:
        key: the machine name (CSV header, JSON key, Parquet field): ``snake_case``, stable.
        title: the header people read (XLSX, HTML).
        type: how its cells are typed.
        description: what the column means, for the README and the HTML report's legend.
    """

    key: str
    title: str
    type: ColumnType
    description: str = ""


@dataclass(slots=True)
class View:
    """A table of the report: one sheet in XLSX, one table in HTML, one key in JSON.

    ``rows`` yields tuples in ``columns`` order; it may be a generator and is read once.
    A cell suppressed for k-anonymity is :data:`SUPPRESSED` (see :mod:`.suppress`), never a
    number.
    """

    name: str
    title: str
    columns: Sequence[Column]
    rows: Iterable[tuple[Any, ...]]
    description: str = ""


@dataclass(frozen=True, slots=True)
class Heatmap:
    """A grid of normalised levels (0-1, ``None`` for no evidence): competency x person."""

    title: str
    row_labels: Sequence[str]
    column_labels: Sequence[str]
    values: Sequence[Sequence[float | None]]
    caption: str = ""


@dataclass(frozen=True, slots=True)
class LineChart:
    """Series over ordered periods (such as ``2026-Q3``); ``None`` is a gap (suppressed or
    no data)."""

    title: str
    x_label: str
    y_label: str
    periods: Sequence[str]
    series: Mapping[str, Sequence[float | None]]
    caption: str = ""


@dataclass(frozen=True, slots=True)
class ScatterChart:
    """Labelled points in groups, such as candidates by readiness (group) with their evidence
    (x) against the level their target position requires (y)."""

    title: str
    x_label: str
    y_label: str
    points: Sequence[tuple[str, float, float, str]]  # label, x, y, group
    caption: str = ""


Chart = Heatmap | LineChart | ScatterChart

#: The marker of a cell hidden because its group has fewer than k people (or because it would
#: let a hidden one be derived from the totals).
SUPPRESSED = "<5"


@dataclass(slots=True)
class Report:
    """A generated report.

    Attributes:
        kind: ``succession`` or ``impact``.
        title: what people read.
        generated_at: when (UTC).
        filters: the filters it was generated with, as given (for the audit row and the
            report's header).
        views: the main view first (the one a single-table format such as CSV writes).
        charts: what the HTML format draws above the tables.
        notes: lines the HTML header and the JSON ``notes`` carry (consent, k-anonymity).
    """

    kind: str
    title: str
    generated_at: datetime
    filters: Mapping[str, str]
    views: list[View]
    charts: list[Chart] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
