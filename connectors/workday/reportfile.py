"""Rows of a custom report body (JSON or CSV), read as a stream, never whole.

JSON is ``{"Report_Entry": [row, …]}``; a report with no rows is an object without
``Report_Entry``. CSV has one header line of aliases; nested arrays are JSON text in a cell.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from typing import IO, Any

import ijson

from mentorbridge.plugin.errors import SourceUnavailableError

__all__ = ["ReportBody", "iter_report_rows"]


class ReportBody:
    """A report body whose rows can be read more than once: a first pass finds the columns
    the run carries, the second reads the records. Each iteration starts at the first row."""

    def __init__(self, body: IO[bytes], fmt: str, *, what: str) -> None:
        self.body, self.fmt, self.what = body, fmt, what

    def __iter__(self) -> Iterator[dict[str, Any]]:
        self.body.seek(0)
        return iter_report_rows(self.body, self.fmt, what=self.what)


def iter_report_rows(body: IO[bytes], fmt: str, *, what: str) -> Iterator[dict[str, Any]]:
    """Each row of a report body.

    Raises:
        SourceUnavailableError: the body is not the report format it claims to be.
    """
    if fmt == "csv":
        yield from _csv_rows(body)
        return
    try:
        events = ijson.parse(body)
        _, event, _ = next(events, ("", None, None))
        if event != "start_map":
            raise SourceUnavailableError(f"{what}: expected a JSON object with Report_Entry")
        for row in ijson.items(_restart(body), "Report_Entry.item", use_float=True):
            if not isinstance(row, dict):
                raise SourceUnavailableError(f"{what}: a Report_Entry item is not an object")
            yield row
    except ijson.JSONError as err:
        raise SourceUnavailableError(f"{what}: malformed JSON ({err})") from err


def _restart(body: IO[bytes]) -> IO[bytes]:
    body.seek(0)
    return body


def _csv_rows(body: IO[bytes]) -> Iterator[dict[str, Any]]:
    text = io.TextIOWrapper(body, encoding="utf-8-sig", newline="")
    try:
        for row in csv.DictReader(text):
            yield {k: v for k, v in row.items() if k is not None and v not in ("", None)}
    finally:
        text.detach()  # leave the underlying file to its owner
