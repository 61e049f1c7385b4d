"""What every writer does to a cell the same way: formula defusing, ISO dates, UTC times."""

from __future__ import annotations

import math
from datetime import UTC, date, datetime
from typing import Any

from ..table import SUPPRESSED, Column

__all__ = ["NUMERIC_TYPES", "defuse", "is_suppressed", "iso", "text", "utc"]

#: Column types whose cells are numbers (a suppressed one is the marker string instead).
NUMERIC_TYPES = frozenset({"int", "float", "level"})

# A spreadsheet treats a cell starting with one of these as a formula (OWASP "CSV injection").
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def defuse(value: str) -> str:
    """``value`` with a leading ``'`` if a spreadsheet would read it as a formula."""
    return "'" + value if value.startswith(_FORMULA_STARTS) else value


def is_suppressed(value: Any) -> bool:
    """Whether a cell is the k-anonymity marker rather than a value."""
    return isinstance(value, str) and value == SUPPRESSED


def utc(value: datetime) -> datetime:
    """``value`` in UTC; a naive value is taken to be UTC already (the contract says UTC)."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def iso(value: date | datetime) -> str:
    """ISO 8601: ``2026-03-01`` for a date, ``2026-03-01T14:05:00Z`` for a time (UTC)."""
    if isinstance(value, datetime):
        return utc(value).isoformat().replace("+00:00", "Z")
    return value.isoformat()


def text(column: Column, value: Any) -> str:
    """A cell as plain text (CSV): empty for ``None``, ISO dates, levels as decimals (0.75),
    ``true``/``false``, strings defused."""
    match value:
        case None:
            return ""
        case bool():
            return "true" if value else "false"
        case datetime() | date():
            return iso(value)
        case float() if not math.isfinite(value):
            return ""
        case int() | float():
            return repr(float(value)) if column.type in ("float", "level") else str(value)
        case str():
            return defuse(value)
    return defuse(str(value))
