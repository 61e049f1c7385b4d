"""CSV: the report's main (first) view as RFC 4180 text.

The header is the column keys; UTF-8 without a byte order mark; CRLF line ends; fields quoted
only where they must be. Dates are ISO 8601, levels decimals between 0 and 1, a suppressed cell
the marker ``<5``. A text cell that a spreadsheet would run as a formula (starting with ``=``,
``+``, ``-``, ``@``, tab or carriage return) is prefixed with ``'``: names come from the HRIS.
"""

from __future__ import annotations

import csv
import io
from typing import BinaryIO

from ..table import Report
from .cells import text

__all__ = ["write_csv"]


def write_csv(report: Report, stream: BinaryIO) -> int:
    """Write the main view of ``report`` to ``stream``; return how many data rows it wrote."""
    view = report.views[0]
    out = io.TextIOWrapper(stream, encoding="utf-8", newline="", write_through=False)
    try:
        writer = csv.writer(out, lineterminator="\r\n")
        writer.writerow([column.key for column in view.columns])
        count = 0
        columns = view.columns
        for row in view.rows:
            writer.writerow(
                [text(column, value) for column, value in zip(columns, row, strict=True)]
            )
            count += 1
        out.flush()
    finally:
        out.detach()  # the caller's stream stays open
    return count
