"""What `workday check` sees in a report's first rows: its layout and the columns it lacks.

A report carries one row per item, or one row per parent with the items nested in a
multi-instance column (``rows_under``). The check says which layout it sees and, when that is
not the configured one, what to set; and it names every mapped column, nested ones included
(inside ``Candidates``, ``Proficiency_Levels``, ``Competencies``, ``Additional_Jobs``), that
no row read carries.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from itertools import islice
from typing import Any

from mentorbridge.connectors.base import Skipped, Window
from mentorbridge.connectors.workday.columns import (
    ROWS_UNDER,
    Columns,
    absent_fields,
    expand_row,
    nested_under,
)
from mentorbridge.connectors.workday.fields import (
    RowError,
    normalize,
)
from mentorbridge.connectors.workday.streams import ReportStream

__all__ = ["CHECK_SAMPLE", "ReportSample", "sample_report"]

CHECK_SAMPLE = 200  # rows `workday check` reads per report


@dataclass(slots=True)
class ReportSample:
    """A report's first rows as the check saw them."""

    rows: int = 0
    layout: str = ""
    warnings: tuple[str, ...] = ()
    #: What a sync would make of the sampled items: records, or the reason one is skipped.
    records: list[dict[str, Any] | Skipped] = field(default_factory=list)


def sample_report(stream: ReportStream, limit: int = CHECK_SAMPLE) -> ReportSample:
    """Read up to ``limit`` rows of ``stream``'s report and describe them."""
    with stream.source.rows(stream.name, Window(since=None, until=datetime.now(UTC))) as rows:
        sample = list(islice(iter(rows), limit))
    found = ReportSample(rows=len(sample))
    if not sample:
        return found
    configured = stream.aliases[stream.name].get(ROWS_UNDER) or ""
    top = Columns()
    for row in sample:
        top.add(row)
    seen = nested_under(stream.name, top, stream.aliases, sensitive=stream.sensitive)
    key = f"workday.fields.{stream.name}.{ROWS_UNDER}"
    warnings: list[str] = []
    under = configured
    if configured and _has_column(sample, configured):
        found.layout = f"items nested under column {configured} ({key})"
    elif configured:
        hint = f'set {key} = "{seen}"' if seen else f'set {key} = "" (one row per item)'
        found.layout = f"items nested under column {seen}" if seen else "one row per item"
        warnings.append(f"{key} = {configured!r} but no row read has a column {configured}: {hint}")
        under = seen
    elif seen:
        found.layout = f"items nested under column {seen}, one row per parent"
        warnings.append(
            f"the rows carry their items nested under column {seen}: set {key} = "
            f'"{seen}" so each item is read with its parent row\'s columns'
        )
        under = seen
    else:
        found.layout = "one row per item"
    columns = Columns()
    items: list[Mapping[str, Any]] = []
    for row in sample:
        try:
            expanded = expand_row(row, under) if under else [row]
        except RowError as err:
            found.records.append(Skipped("?", str(err)))
            continue
        items.extend(expanded)
        for item in expanded:
            columns.add(item)
    absent = absent_fields(
        stream.name,
        columns,
        stream.aliases,
        sensitive=stream.sensitive,
        sparse=len(sample) < CHECK_SAMPLE,
    )
    warnings += [
        f"{name} (column {column}) is absent from every row read: add it to the report, or "
        "grant the integration user the domain that secures it"
        for name, column in absent.items()
    ]
    for item in items:
        try:
            found.records.append(
                normalize(
                    stream.name,
                    item,
                    stream.aliases,
                    sensitive=stream.sensitive,
                    absent=frozenset(absent),
                )
            )
        except RowError as err:
            found.records.append(Skipped("?", str(err)))
    found.warnings = tuple(warnings)
    return found


def _has_column(rows: list[dict[str, Any]], column: str) -> bool:
    return any(row.get(column) not in (None, "", []) for row in rows)
