"""The format writers: a :class:`~mentorbridge.plugin.reports.table.Report` as CSV, XLSX, JSON,
Parquet or one self-contained HTML page with charts.

Each writer consumes every view's rows once, in order, and writes to a binary stream as it goes
(the HTML writer keeps only the charts and the first rows of each view). A caller picks a
format by name (:func:`format_for`, the CLI's ``--format``) or by an HTTP ``Accept`` header
(:func:`format_for_media_type`), then calls ``fmt.write(report, stream)``, which returns the
number of data rows written: the main view's for CSV and Parquet (single-table formats), every
view's otherwise. The stream may be any writable binary stream, seekable or not (a temporary
file, a pipe, a response body); writers leave it open. Memory stays flat whatever the number of
rows.

Parquet needs pyarrow, which is the optional extra ``mentorbridge[reports]``; without it the
Parquet writer raises :class:`FormatUnavailableError` before writing anything.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import BinaryIO

from ...errors import FatalError, ValidationError
from ..table import Report
from .to_csv import write_csv
from .to_html import write_html
from .to_json import write_json
from .to_parquet import write_parquet
from .to_xlsx import write_xlsx

__all__ = [
    "FORMATS",
    "Format",
    "FormatUnavailableError",
    "UnknownFormatError",
    "format_for",
    "format_for_media_type",
]


@dataclass(frozen=True, slots=True)
class Format:
    """One output format.

    Attributes:
        name: what ``--format`` and ``?format=`` take (``csv``).
        media_type: the bare media type (``text/csv``); see :attr:`content_type`.
        extension: the file name extension, without its dot.
        write: writes a report to a binary stream and returns the number of data rows written.
    """

    name: str
    media_type: str
    extension: str
    write: Callable[[Report, BinaryIO], int]

    @property
    def content_type(self) -> str:
        """The ``Content-Type`` header value: text types say they are UTF-8."""
        if self.media_type.startswith("text/"):
            return f"{self.media_type}; charset=utf-8"
        return self.media_type


class UnknownFormatError(ValidationError):
    """A report format was asked for by a name we do not have (bad usage: CLI exit 2, API 400).

    Attributes:
        name: the name as given.
        choices: the names we have, sorted.
    """

    def __init__(self, name: str, choices: list[str]) -> None:
        message = f"unknown report format {name!r}: use one of {', '.join(choices)}"
        super().__init__("report format", [("format", message)])
        self.args = (message,)
        self.name, self.choices = name, choices


class FormatUnavailableError(FatalError):
    """A format needs an optional dependency that is not installed (``extra`` names it)."""

    def __init__(self, message: str, *, extra: str) -> None:
        super().__init__(message)
        self.extra = extra


FORMATS: Mapping[str, Format] = MappingProxyType(
    {
        fmt.name: fmt
        for fmt in (
            Format("csv", "text/csv", "csv", write_csv),
            Format("html", "text/html", "html", write_html),
            Format("json", "application/json", "json", write_json),
            Format("parquet", "application/vnd.apache.parquet", "parquet", write_parquet),
            Format(
                "xlsx",
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                "xlsx",
                write_xlsx,
            ),
        )
    }
)

# Media types a client may ask for, beyond each format's own; the first is the older name.
_MEDIA_ALIASES = {"application/x-parquet": "parquet"}
# Which format a wildcard range (*/*, text/*, application/*) gets: the first that matches.
_PREFERENCE = ("json", "csv", "html", "xlsx", "parquet")


def format_for(name: str) -> Format:
    """The format called ``name`` (case and surrounding blanks ignored).

    Raises:
        UnknownFormatError: no format has that name; the message lists those that do.
    """
    fmt = FORMATS.get(name.strip().lower())
    if fmt is None:
        raise UnknownFormatError(name, sorted(FORMATS))
    return fmt


def format_for_media_type(accept_header: str) -> Format | None:
    """The format that best fits an HTTP ``Accept`` header, or ``None`` if none is acceptable.

    Quality values are honoured (``q=0`` refuses a type); each format takes the quality of the
    most specific range that matches it (``text/csv`` over ``text/*`` over ``*/*``). Among
    equal qualities the range listed first wins, then JSON, CSV, HTML, XLSX, Parquet in that
    order. An empty header accepts anything, as ``*/*`` does: JSON; one with no well-formed
    media range accepts nothing.
    """
    ranges = _parse_accept(accept_header) if accept_header.strip() else [("*/*", 1.0)]
    best: tuple[float, int, int] | None = None
    chosen: Format | None = None
    for preference, name in enumerate(_PREFERENCE):
        types = [FORMATS[name].media_type]
        types += [alias for alias, target in _MEDIA_ALIASES.items() if target == name]
        match = _best_range(types, ranges)
        if match is None:
            continue
        quality, position = match
        if quality <= 0:
            continue
        key = (-quality, position, preference)
        if best is None or key < best:
            best, chosen = key, FORMATS[name]
    return chosen


def _parse_accept(header: str) -> list[tuple[str, float]]:
    """``(range, q)`` for each well-formed media range of an ``Accept`` header, in order."""
    ranges = []
    for part in header.split(","):
        media, *params = (piece.strip() for piece in part.split(";"))
        media = media.lower()
        if media.count("/") != 1 or media.startswith("/") or media.endswith("/"):
            continue
        quality = 1.0
        for param in params:
            key, _, value = param.partition("=")
            if key.strip().lower() == "q":
                try:
                    quality = min(max(float(value.strip()), 0.0), 1.0)
                except ValueError:
                    quality = 0.0
        ranges.append((media, quality))
    return ranges


def _best_range(types: list[str], ranges: list[tuple[str, float]]) -> tuple[float, int] | None:
    """The quality and position of the most specific range matching any of ``types``."""
    found: tuple[int, float, int] | None = None  # (specificity, q, position)
    for position, (media, quality) in enumerate(ranges):
        for media_type in types:
            kind = media_type.split("/")[0]
            if media == media_type:
                specificity = 2
            elif media == f"{kind}/*":
                specificity = 1
            elif media == "*/*":
                specificity = 0
            else:
                continue
            if found is None or specificity > found[0]:
                found = (specificity, quality, position)
    return None if found is None else (found[1], found[2])
