"""XLSX: an "About" sheet, then one sheet per view, with typed cells.

Written with XlsxWriter in ``constant_memory`` mode: each row goes to a temporary file as it is
written, so memory stays flat whatever the size of the report. Numbers are numbers, dates Excel
dates (``yyyy-mm-dd``), times Excel date-times in UTC, levels numbers between 0 and 1 shown as
percentages, booleans booleans; a suppressed cell is the text ``<5``. Each sheet has its header
row frozen, an autofilter and column widths fitted to its first rows. Text cells a spreadsheet
would run as formulas are prefixed with ``'`` (names come from the HRIS).

A sheet holds at most 1,048,575 data rows (Excel's limit); the rest of a larger view is counted
on the About sheet and not written: use CSV, JSON or Parquet for such a view.
"""

from __future__ import annotations

import math
import re
from datetime import date, datetime
from typing import Any, BinaryIO

import xlsxwriter

from ..table import Column, Report, View
from .cells import defuse, is_suppressed, iso, utc

__all__ = ["write_xlsx"]

_MAX_ROWS = 1_048_575  # below the header row
_WIDTH_SAMPLE = 200  # rows whose lengths set the column widths
_MIN_WIDTH, _MAX_WIDTH = 8, 60
_BAD_SHEET_CHARS = re.compile(r"[\[\]:*?/\\]")


def write_xlsx(report: Report, stream: BinaryIO) -> int:
    """Write ``report`` to ``stream`` as an XLSX workbook; return how many data rows it wrote."""
    book = xlsxwriter.Workbook(
        stream,
        {
            "constant_memory": True,
            "strings_to_numbers": False,
            "strings_to_formulas": False,
            "strings_to_urls": False,
            "remove_timezone": True,
        },
    )
    styles = {
        "header": book.add_format({"bold": True, "bottom": 1, "text_wrap": True, "valign": "top"}),
        "title": book.add_format({"bold": True, "font_size": 14}),
        "bold": book.add_format({"bold": True}),
        "wrap": book.add_format({"text_wrap": True, "valign": "top"}),
        "date": book.add_format({"num_format": "yyyy-mm-dd"}),
        "datetime": book.add_format({"num_format": "yyyy-mm-dd hh:mm:ss"}),
        "level": book.add_format({"num_format": "0%"}),
        "float": book.add_format({"num_format": "#,##0.00"}),
        "suppressed": book.add_format({"align": "right", "font_color": "#595959"}),
    }
    names = _sheet_names(["About", *(view.title or view.name for view in report.views)])
    about = book.add_worksheet(names[0])
    count, skipped = 0, {}
    for view, name in zip(report.views, names[1:], strict=True):
        written, dropped = _write_view(book.add_worksheet(name), view, styles)
        count += written
        if dropped:
            skipped[name] = dropped
    # The About sheet was added first (so it is first in the book) but is filled last: in
    # constant_memory mode each sheet is written to its own temporary file, in any order.
    _write_about(about, report, names[1:], skipped, styles)
    book.close()
    return count


def _write_view(sheet: Any, view: View, styles: dict[str, Any]) -> tuple[int, int]:
    columns = list(view.columns)
    widths = [min(max(len(column.title) + 2, _MIN_WIDTH), _MAX_WIDTH) for column in columns]
    for index, column in enumerate(columns):
        sheet.write_string(0, index, column.title, styles["header"])
    sheet.freeze_panes(1, 0)
    written = dropped = 0
    for row in view.rows:
        if written >= _MAX_ROWS:
            dropped += 1
            continue
        written += 1
        for index, (column, value) in enumerate(zip(columns, row, strict=True)):
            shown = _write_cell(sheet, written, index, column, value, styles)
            if written <= _WIDTH_SAMPLE and shown + 2 > widths[index]:
                widths[index] = min(shown + 2, _MAX_WIDTH)
    for index, width in enumerate(widths):
        sheet.set_column(index, index, width)
    if columns:
        sheet.autofilter(0, 0, max(written, 1), len(columns) - 1)
    return written, dropped


def _write_cell(sheet: Any, row: int, col: int, column: Column, value: Any, styles: dict) -> int:
    """Write one typed cell; return roughly how many characters wide it shows."""
    match value:
        case None:
            return 0
        case _ if is_suppressed(value):
            sheet.write_string(row, col, value, styles["suppressed"])
        case bool():
            sheet.write_boolean(row, col, value)
            return 5
        case datetime():
            sheet.write_datetime(row, col, utc(value), styles["datetime"])
            return 19
        case date():
            sheet.write_datetime(row, col, value, styles["date"])
            return 10
        case int() | float() if isinstance(value, int) or math.isfinite(value):
            if column.type == "level":
                sheet.write_number(row, col, value, styles["level"])
                return 5
            style = styles["float"] if column.type == "float" else None
            sheet.write_number(row, col, value, style)
            return len(f"{value:.2f}" if column.type == "float" else str(value))
        case float():
            return 0  # NaN or infinity: an empty cell
        case _:
            value = defuse(str(value))
            sheet.write_string(row, col, value)
    return max((len(line) for line in str(value).splitlines()), default=0)


def _write_about(
    sheet: Any, report: Report, sheets: list[str], skipped: dict[str, int], styles: dict
) -> None:
    sheet.set_column(0, 0, 28)
    sheet.set_column(1, 1, 24)
    sheet.set_column(2, 4, 48)
    sheet.write_string(0, 0, defuse(report.title), styles["title"])
    row = 2
    sheet.write_string(row, 0, "Report", styles["bold"])
    sheet.write_string(row, 1, defuse(report.kind))
    row += 1
    sheet.write_string(row, 0, "Generated (UTC)", styles["bold"])
    sheet.write_datetime(row, 1, utc(report.generated_at), styles["datetime"])
    sheet.write_string(row, 2, iso(report.generated_at))
    row += 2
    sheet.write_string(row, 0, "Filters", styles["bold"])
    row += 1
    for key, value in report.filters.items() or [("(none)", "")]:
        sheet.write_string(row, 0, defuse(str(key)))
        sheet.write_string(row, 1, defuse(str(value)))
        row += 1
    row += 1
    if report.notes:
        sheet.write_string(row, 0, "Notes", styles["bold"])
        row += 1
        for note in report.notes:
            sheet.write_string(row, 0, defuse(note))
            row += 1
        row += 1
    for name, dropped in skipped.items():
        sheet.write_string(
            row,
            0,
            f"Sheet {name!r} holds the first {_MAX_ROWS:,} rows; {dropped:,} more are "
            "in the CSV, JSON and Parquet formats.",
        )
        row += 1
    sheet.write_string(row, 0, "Columns", styles["bold"])
    row += 1
    for index, heading in enumerate(("Sheet", "Column", "Key", "Type", "Description")):
        sheet.write_string(row, index, heading, styles["header"])
    for view, name in zip(report.views, sheets, strict=True):
        for column in view.columns:
            row += 1
            cells = (name, column.title, column.key, _TYPE_NAMES[column.type], column.description)
            for index, cell in enumerate(cells):
                sheet.write_string(row, index, defuse(cell), styles["wrap"])


_TYPE_NAMES = {
    "str": "text",
    "int": "whole number",
    "float": "number",
    "level": "level (0-100%)",
    "date": "date",
    "datetime": "date and time (UTC)",
    "bool": "yes/no",
}


def _sheet_names(titles: list[str]) -> list[str]:
    """Excel sheet names: no ``[]:*?/\\``, 31 characters at most, unique ignoring case."""
    names: list[str] = []
    seen: set[str] = set()
    for title in titles:
        base = " ".join(_BAD_SHEET_CHARS.sub(" ", title).split()).strip("'") or "Sheet"
        name, number = base[:31], 1
        while name.casefold() in seen:
            number += 1
            suffix = f" ({number})"
            name = base[: 31 - len(suffix)] + suffix
        seen.add(name.casefold())
        names.append(name)
    return names
