"""JSON: the whole report, written view by view and row by row (never built in memory).

::

    {"report": "succession", "title": "...", "generated_at": "2026-03-01T14:05:00Z",
     "filters": {...}, "notes": [...],
     "views": {"<name>": {"title": "...", "description": "...",
                          "columns": [{"key", "title", "type", "description"}],
                          "rows": [{"<key>": value, ...}, ...]}}}

Dates and times are ISO 8601 strings (times in UTC with ``Z``), levels numbers between 0 and
1, a suppressed cell the marker string ``"<5"``, an empty cell ``null``. Strings are not
defused: JSON is read by programs, not spreadsheets.
"""

from __future__ import annotations

import io
import json
import math
from datetime import date, datetime
from typing import Any, BinaryIO

from ..table import Report
from .cells import iso

__all__ = ["write_json"]


def write_json(report: Report, stream: BinaryIO) -> int:
    """Write ``report`` to ``stream`` as UTF-8 JSON; return how many data rows it wrote."""
    out = io.TextIOWrapper(stream, encoding="utf-8", newline="\n")
    dumps = json.JSONEncoder(ensure_ascii=False, allow_nan=False).encode
    count = 0
    try:
        out.write(
            "{"
            f'"report": {dumps(report.kind)}, "title": {dumps(report.title)}, '
            f'"generated_at": {dumps(iso(report.generated_at))}, '
            f'"filters": {dumps({str(k): str(v) for k, v in report.filters.items()})}, '
            f'"notes": {dumps(list(report.notes))}, "views": {{'
        )
        for number, view in enumerate(report.views):
            columns = [
                {"key": c.key, "title": c.title, "type": c.type, "description": c.description}
                for c in view.columns
            ]
            out.write(
                f"{', ' if number else ''}\n{dumps(view.name)}: {{"
                f'"title": {dumps(view.title)}, "description": {dumps(view.description)}, '
                f'"columns": {dumps(columns)}, "rows": ['
            )
            keys = [column.key for column in view.columns]
            for index, row in enumerate(view.rows):
                record = dict(zip(keys, map(_value, row), strict=True))
                out.write(f"{',' if index else ''}\n{dumps(record)}")
                count += 1
            out.write("]}")
        out.write("}}\n")
        out.flush()
    finally:
        out.detach()
    return count


def _value(value: Any) -> Any:
    match value:
        case datetime() | date():
            return iso(value)
        case float() if not math.isfinite(value):
            return None
    return value
