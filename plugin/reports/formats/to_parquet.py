"""Parquet, for people-analytics warehouses: one view (the main one unless ``view=`` names
another) as typed columns, written in row groups so memory stays flat.

Types: ``str`` string, ``int`` int64, ``float`` and ``level`` float64 (levels between 0 and 1),
``date`` date32, ``datetime`` timestamp[us, UTC], ``bool`` bool; every column is nullable.

Suppression: a numeric column (int, float, level) has a companion boolean column
``<key>_suppressed``, true where the cell was hidden for k-anonymity; the cell itself is then
null. The companion is there whether or not this run hid anything, so a warehouse table's
schema does not change from one run to the next. A text column keeps the marker ``<5``.

The report's kind, title, generation time, filters and notes, and each column's title and
description, are in the file's key-value metadata.

Needs pyarrow: ``pip install 'mentorbridge[reports]'``.
"""

from __future__ import annotations

import json
import math
from typing import TYPE_CHECKING, Any, BinaryIO

from ..table import Report, View
from .cells import NUMERIC_TYPES, is_suppressed, iso, utc

if TYPE_CHECKING:
    import pyarrow

__all__ = ["BATCH_ROWS", "write_parquet"]

#: Rows per row group: ~10,000 rows of a few dozen columns is a few MB in memory at most.
BATCH_ROWS = 10_000

SUPPRESSED_SUFFIX = "_suppressed"


def write_parquet(
    report: Report, stream: BinaryIO, *, view: str | None = None, batch_rows: int = BATCH_ROWS
) -> int:
    """Write one view of ``report`` (the main one, or the one named ``view``) to ``stream``,
    ``batch_rows`` rows to a row group.

    Returns:
        How many data rows it wrote.

    Raises:
        FormatUnavailableError: pyarrow is not installed (the ``reports`` extra).
        UnknownReferenceError: ``view`` names no view of the report.
        TypeError: a suppressed cell in a date, time or boolean column (reports never do).
    """
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError as err:
        from . import FormatUnavailableError

        raise FormatUnavailableError(
            "the parquet format needs pyarrow: pip install 'mentorbridge[reports]'",
            extra="reports",
        ) from err
    chosen = _view(report, view)
    schema = _schema(pa, report, chosen)
    count = 0
    with pq.ParquetWriter(stream, schema, compression="zstd") as writer:
        batch: list[tuple[Any, ...]] = []
        for row in chosen.rows:
            batch.append(row)
            if len(batch) == batch_rows:
                writer.write_batch(_batch(pa, schema, chosen, batch))
                count += len(batch)
                batch = []
        if batch or count == 0:
            writer.write_batch(_batch(pa, schema, chosen, batch))
            count += len(batch)
    return count


def _view(report: Report, name: str | None) -> View:
    if name is None:
        return report.views[0]
    for view in report.views:
        if view.name == name:
            return view
    from ...errors import UnknownReferenceError

    names = ", ".join(view.name for view in report.views)
    raise UnknownReferenceError(
        f"the {report.kind} report has no view {name!r}: use one of {names}", kind="view", key=name
    )


def _arrow_type(pa: Any, kind: str) -> pyarrow.DataType:
    return {
        "str": pa.string(),
        "int": pa.int64(),
        "float": pa.float64(),
        "level": pa.float64(),
        "date": pa.date32(),
        "datetime": pa.timestamp("us", tz="UTC"),
        "bool": pa.bool_(),
    }[kind]


def _schema(pa: Any, report: Report, view: View) -> pyarrow.Schema:
    fields = []
    for column in view.columns:
        meta = {"title": column.title, "description": column.description, "type": column.type}
        fields.append(pa.field(column.key, _arrow_type(pa, column.type), metadata=meta))
        if column.type in NUMERIC_TYPES:
            meta = {"description": f"true where {column.key} was hidden for k-anonymity"}
            fields.append(pa.field(column.key + SUPPRESSED_SUFFIX, pa.bool_(), metadata=meta))
    metadata = {
        "mentorbridge.report": report.kind,
        "mentorbridge.title": report.title,
        "mentorbridge.view": view.name,
        "mentorbridge.generated_at": iso(report.generated_at),
        "mentorbridge.filters": json.dumps(dict(report.filters), ensure_ascii=False),
        "mentorbridge.notes": json.dumps(list(report.notes), ensure_ascii=False),
    }
    return pa.schema(fields, metadata=metadata)


def _batch(pa: Any, schema: Any, view: View, rows: list[tuple[Any, ...]]) -> Any:
    arrays = []
    for index, column in enumerate(view.columns):
        cells = [row[index] for row in rows]
        if column.type in NUMERIC_TYPES:
            hidden = [is_suppressed(cell) for cell in cells]
            values = [
                None
                if flag or cell is None or (isinstance(cell, float) and not math.isfinite(cell))
                else cell
                for cell, flag in zip(cells, hidden, strict=True)
            ]
            arrays.append(pa.array(values, type=_arrow_type(pa, column.type)))
            arrays.append(pa.array(hidden, type=pa.bool_()))
            continue
        if column.type != "str" and any(is_suppressed(cell) for cell in cells):
            raise TypeError(f"column {column.key!r} ({column.type}) cannot hold a suppressed cell")
        if column.type == "datetime":
            cells = [None if cell is None else utc(cell) for cell in cells]
        arrays.append(pa.array(cells, type=_arrow_type(pa, column.type)))
    return pa.RecordBatch.from_arrays(arrays, schema=schema)
