"""Producing a report for someone: its filters read from strings (command line options, query
parameters), the file written whole or not at all, and an audit row either way.

The command line (``mentorbridge report``) and the web endpoints (``GET /reports/...``) both
come through here, so a filter means the same thing, and fails with the same message, in both.
The succession and impact reports read the competency mapping file; the pairing report reads
the pairing file (``pairing.file``) for its programme.
"""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import IO, Any, TypeVar

from mentorbridge.plugin.errors import MentorbridgeError, RejectedError
from mentorbridge.plugin.mapping.file import load_mapping
from mentorbridge.plugin.pairing.file import load_programmes
from mentorbridge.plugin.reports.access import Caller, record
from mentorbridge.plugin.reports.filters import ImpactFilters, ReportFilterError, SuccessionFilters
from mentorbridge.plugin.reports.impact import impact_report
from mentorbridge.plugin.reports.pairing import PairingFilters, pairing_report
from mentorbridge.plugin.reports.succession import succession_report
from mentorbridge.plugin.reports.table import Report
from mentorbridge.plugin.store.db import Store

__all__ = [
    "FILTERS",
    "REPORT_KINDS",
    "FilterError",
    "FilterSpec",
    "as_text",
    "audited",
    "build_report",
    "parse_filters",
    "write_atomically",
]

T = TypeVar("T")

#: Each report: the filters type it takes, the function that builds it, and the file that
#: function reads (``mapping``: the competency mapping; ``pairing``: the pairing programmes).
_BUILDERS: dict[str, tuple[type, Callable[..., Report], str]] = {
    "succession": (SuccessionFilters, succession_report, "mapping"),
    "impact": (ImpactFilters, impact_report, "mapping"),
    "pairing": (PairingFilters, pairing_report, "pairing"),
}
#: The reports there are, by name.
REPORT_KINDS = tuple(_BUILDERS)


@dataclass(frozen=True, slots=True)
class FilterSpec:
    """One filter: its parameter name (``--from`` on the command line, ``from=`` in a query),
    what it takes, the reports it applies to, and the report filter field it sets."""

    name: str
    help: str
    field: str
    kinds: tuple[str, ...] = ("succession", "impact")
    is_date: bool = False


#: Every filter, in the order help lists them.
FILTERS = (
    FilterSpec(
        "organization", "an organisation's Workday id: it and everything under it", "organisation"
    ),
    FilterSpec(
        "programme",
        "a programme key: only its pairs and sessions (required by the pairing report)",
        "programme",
        kinds=("succession", "impact", "pairing"),
    ),
    FilterSpec("from", "a date (YYYY-MM-DD): activity on or after it", "date_from", is_date=True),
    FilterSpec("to", "a date (YYYY-MM-DD): activity on or before it", "date_to", is_date=True),
    FilterSpec(
        "competency",
        "a competency key of the mapping file (or its Workday id)",
        "competency",
        kinds=("succession",),
    ),
    FilterSpec("plan", "a succession plan (its position's Workday id)", "plan", ("succession",)),
    FilterSpec("worker", "a worker's Workday id", "worker", kinds=("succession",)),
)
#: Why a report does not take a filter.
_NOT_FOR = {
    ("impact", "competency"): "it shows every competency's gains per cohort",
    ("impact", "plan"): "it shows aggregates only, never one plan or person",
    ("impact", "worker"): "it shows aggregates only, never one plan or person",
    ("pairing", "organization"): "it covers the whole programme, in aggregate",
    ("pairing", "from"): "it shows the current pairs and the latest run",
    ("pairing", "to"): "it shows the current pairs and the latest run",
    ("pairing", "competency"): "pairing is by themes, not competencies",
    ("pairing", "plan"): "it shows aggregates only, never one plan or person",
    ("pairing", "worker"): "it shows aggregates only, never one plan or person",
}
_BY_NAME = {spec.name: spec for spec in FILTERS}
_BY_FIELD = {spec.field: spec.name for spec in FILTERS}
_MAX_LENGTH = 128
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


class FilterError(RejectedError):
    """A filter that cannot be used, naming it and the fix.

    Attributes:
        parameter: the filter's name (``from``), or ``format``.
    """

    def __init__(self, parameter: str, message: str) -> None:
        super().__init__(message)
        self.parameter = parameter


def parse_filters(kind: str, given: Mapping[str, str | None]) -> dict[str, Any]:
    """The filters of a ``kind`` report from their text; empty and missing ones left out.

    Returns:
        name -> value: a :class:`~datetime.date` for ``from`` and ``to``, else the stripped text.

    Raises:
        FilterError: an unknown filter, one the report does not take, a malformed date, ``from``
            after ``to`` or a value too long. (A required one missing is the builder's
            error: it names the values there are.)
    """
    parsed: dict[str, Any] = {}
    for name, raw in given.items():
        if raw is None or not raw.strip():
            continue
        spec = _BY_NAME.get(name)
        if spec is None:
            known = ", ".join(s.name for s in FILTERS if kind in s.kinds)
            raise FilterError(name, f"{name} is not a filter of the {kind} report: use {known}")
        if kind not in spec.kinds:
            raise FilterError(
                name,
                f"the {kind} report takes no {name} filter ({_NOT_FOR[kind, name]}): leave it out",
            )
        value = raw.strip()
        if len(value) > _MAX_LENGTH:
            raise FilterError(name, f"{name} is longer than {_MAX_LENGTH} characters")
        parsed[name] = _date(name, value) if spec.is_date else value
    if "from" in parsed and "to" in parsed and parsed["from"] > parsed["to"]:
        raise FilterError(
            "from", f"from ({parsed['from']}) is after to ({parsed['to']}): swap them"
        )
    return parsed


def build_report(
    store: Store,
    mapping_file: Path | None,
    kind: str,
    filters: Mapping[str, Any],
    *,
    pairing_file: Path | None = None,
) -> Report:
    """The ``kind`` report for filters from :func:`parse_filters`, under the mapping in
    ``mapping_file`` or (the pairing report) the programmes in ``pairing_file`` (``None``: the
    shipped default); its rows are read as it is written.

    Raises:
        FilterError: a filter names something the store (or the pairing file) does not know
            (with the closest, or those it has).
        MappingError: the mapping file is invalid (a configuration error).
        PairingFileError: the pairing file is invalid (a configuration error).
    """
    filters_type, build, source = _BUILDERS[kind]
    reads = load_programmes(pairing_file) if source == "pairing" else load_mapping(mapping_file)
    values = {_BY_NAME[name].field: value for name, value in filters.items()}
    try:
        return build(store, reads, filters_type(**values))
    except ReportFilterError as err:
        parameter = _BY_FIELD.get(err.filter, err.filter)
        raise FilterError(parameter, f"{parameter}: {err.problems[0][1]}") from err


def as_text(filters: Mapping[str, Any]) -> dict[str, str]:
    """The filters as the audit and a report's header show them (dates in ISO 8601)."""
    return {
        name: value.isoformat() if isinstance(value, date) else str(value)
        for name, value in filters.items()
    }


def audited(
    store: Store,
    caller: Caller,
    kind: str,
    filters: Mapping[str, Any],
    format_name: str,
    work: Callable[[], int],
) -> int:
    """Run ``work`` (which builds and writes a report, returning its row count) and write the
    audit row: ``ok`` with the count, or ``error`` with what went wrong, re-raised."""
    given = as_text(filters)
    try:
        rows = work()
    except BaseException as err:
        record(
            store,
            caller,
            kind,
            filters=given,
            outcome="error",
            format=format_name,
            detail=_failure(err),
        )
        raise
    record(store, caller, kind, filters=given, outcome="ok", format=format_name, row_count=rows)
    return rows


def write_atomically(path: Path, write: Callable[[IO[bytes]], T]) -> T:
    """Call ``write`` on a temporary file next to ``path``, then rename it to ``path``: a
    reader sees the old file or the whole new one, never a part. On any failure the temporary
    file is removed and ``path`` is left as it was. The file is readable by its owner only
    (reports name people by worker id).

    Raises:
        OSError: the folder is missing or not writable (before anything is written).
    """
    directory = path.parent
    handle = tempfile.NamedTemporaryFile(  # noqa: SIM115 - closed or removed below
        dir=directory, prefix=f".{path.name}.", suffix=".part", delete=False
    )
    try:
        with handle:
            result = write(handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(handle.name, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(handle.name)
        raise
    return result


def _date(name: str, value: str) -> date:
    try:
        if not _ISO_DATE.fullmatch(value):
            raise ValueError(value)
        return date.fromisoformat(value)
    except ValueError:
        raise FilterError(
            name, f"{name} = {value!r} is not a date: give it as YYYY-MM-DD, such as 2026-01-31"
        ) from None


def _failure(err: BaseException) -> str:
    """What the audit says went wrong: our own errors' messages (they name the field and the
    fix, and never hold secrets); only the type of anything else, whose text may quote data."""
    if isinstance(err, MentorbridgeError):
        return f"{type(err).__name__}: {err}"
    if isinstance(err, KeyboardInterrupt | GeneratorExit):
        return "interrupted"
    return type(err).__name__
