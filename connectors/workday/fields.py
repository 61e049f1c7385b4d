"""From custom-report rows (and report files) to normalised records, through the admin's aliases.

Workday sends every value as a string, booleans as ``"0"``/``"1"``, dates sometimes with a zone
offset (``2019-03-04-08:00``), leaves empty fields out and nests multi-instance fields as arrays
of objects (report files in CSV carry those arrays as JSON text). A value that cannot be read
raises :class:`RowError` naming our field, the report column and what was expected; the stream
turns it into a skipped record.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Collection, Mapping, Sequence
from datetime import UTC, date, datetime
from functools import lru_cache
from typing import Any

__all__ = [
    "NESTED",
    "SENSITIVE_FIELDS",
    "STREAM_FIELDS",
    "RowError",
    "alias_columns",
    "lookup",
    "normalize",
    "normalizer",
    "read_value",
]


class RowError(ValueError):
    """A report value that cannot be read."""

    def __init__(self, field: str, alias: str, value: Any, expected: str) -> None:
        super().__init__(f"{field} (report column {alias}) = {value!r}: expected {expected}")


_DATE = re.compile(r"^(\d{4}-\d{2}-\d{2})(?:[T ].*|[+-]\d{2}:\d{2}|Z)?$")


def _text(value: Any) -> str | None:
    if isinstance(value, int | float) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str):
        raise ValueError("text")
    return value.strip() or None


def _date(value: Any) -> str | None:
    text = _text(value)
    if text is None:
        return None
    match = _DATE.match(text)
    try:
        if match is None:
            raise ValueError(text)
        date.fromisoformat(match.group(1))  # a real calendar date
    except ValueError:
        raise ValueError("a date such as 2024-03-01") from None
    return match.group(1)


def _moment(value: Any) -> str | None:
    text = _text(value)
    if text is None:
        return None
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError("a date and time such as 2026-10-02T09:15:00+00:00") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.isoformat()


def _boolean(value: Any) -> bool | None:
    if isinstance(value, bool):
        return value
    text = _text(value)
    if text is None:
        return None
    lowered = text.lower()
    if lowered in ("1", "true", "y", "yes"):
        return True
    if lowered in ("0", "false", "n", "no"):
        return False
    raise ValueError('"1" or "0"')


def _integer(value: Any) -> int | None:
    text = _text(value)
    if text is None:
        return None
    try:
        return int(text)
    except ValueError:
        raise ValueError("a whole number") from None


def _worker_type(value: Any) -> str | None:
    text = _text(value)
    if text is None:
        return None
    lowered = text.lower()
    if lowered.startswith("contingent"):
        return "contingent"
    if lowered in ("employee", "regular", "ee"):
        return "employee"
    raise ValueError('"Employee" or "Contingent Worker"')


def _country(value: Any) -> str | None:
    text = _text(value)
    if text is None:
        return None
    if not re.fullmatch(r"[A-Za-z]{2}", text):
        raise ValueError("an ISO 3166-1 alpha-2 code such as GB")
    return text.upper()


Reader = Callable[[Any], Any]
_READERS: dict[str, Reader] = {
    "text": _text,
    "date": _date,
    "moment": _moment,
    "boolean": _boolean,
    "integer": _integer,
    "worker_type": _worker_type,
    "country": _country,
}


def read_value(kind: str, value: Any) -> Any:
    """Read one Workday value as ``kind`` (text, date, moment, boolean, integer, …).

    Raises:
        ValueError: with what was expected.
    """
    return _READERS[kind](value) if value is not None else None


#: Per stream (and per nested list): our field → how its value is read; ``list:<name>`` is a
#: multi-instance field whose items follow the ``<name>`` entry.
STREAM_FIELDS: dict[str, dict[str, str]] = {
    "workers": {
        "workday_id": "text",
        "employee_id": "text",
        "worker_type": "worker_type",
        "legal_name": "text",
        "preferred_name": "text",
        "work_email": "text",
        "business_title": "text",
        "job_profile_id": "text",
        "job_profile": "text",
        "management_level": "text",
        "supervisory_organization_id": "text",
        "supervisory_organization": "text",
        "manager_employee_id": "text",
        "location": "text",
        "country": "country",
        "time_zone": "text",
        "hire_date": "date",
        "original_hire_date": "date",
        "active": "boolean",
        "termination_date": "date",
        "additional_jobs": "list:additional_jobs",
        "last_updated": "moment",
        "birth_generation": "text",
        "gender": "text",
        "ethnicity": "text",
    },
    "additional_jobs": {
        "position_id": "text",
        "business_title": "text",
        "job_profile_id": "text",
        "supervisory_organization_id": "text",
    },
    "organizations": {
        "organization_id": "text",
        "name": "text",
        "type": "text",
        "superior_organization_id": "text",
        "manager_employee_id": "text",
        "inactive": "boolean",
    },
    "competencies": {
        "competency_id": "text",
        "name": "text",
        "category": "text",
        "scale_id": "text",
        "levels": "list:competency_levels",
        "inactive": "boolean",
    },
    "competency_levels": {"level_id": "text", "name": "text", "rank": "integer"},
    "competency_assessments": {
        "employee_id": "text",
        "competency_id": "text",
        "level_id": "text",
        "level": "text",
        "assessed_on": "date",
        "source": "text",
        "last_updated": "moment",
    },
    "job_profile_competencies": {
        "job_profile_id": "text",
        "job_profile": "text",
        "competencies": "list:required_competencies",
    },
    "required_competencies": {
        "competency_id": "text",
        "required_level_id": "text",
        "required_level": "text",
    },
    "succession_plans": {
        "position_id": "text",
        "position": "text",
        "incumbent_employee_id": "text",
        "last_updated": "moment",
        "candidates": "list:succession_candidates",
    },
    "succession_candidates": {
        "employee_id": "text",
        "readiness_id": "text",
        "readiness": "text",
        "top_candidate": "boolean",
        "temporary_fill": "boolean",
    },
}
NESTED = {
    kind.split(":", 1)[1]
    for fields in STREAM_FIELDS.values()
    for kind in fields.values()
    if kind.startswith("list:")
}
#: Fields that default when a report leaves them out (Workday omits empty values).
_DEFAULTS = {"inactive": False, "top_candidate": False, "temporary_fill": False}
#: Worker fields never read, stored or hashed unless an admin enables them (aggregate-only use).
SENSITIVE_FIELDS = ("birth_generation", "gender", "ethnicity")


def alias_columns(alias: Any) -> tuple[str, ...]:
    """The report columns one alias reads: ``"A"``, ``["A", "B"]`` or ``"A,B"`` (composed)."""
    return _alias_columns(tuple(alias) if isinstance(alias, list) else alias)


@lru_cache(maxsize=4096)  # asked for every field of every row
def _alias_columns(alias: Any) -> tuple[str, ...]:
    parts = [str(a) for a in alias] if isinstance(alias, tuple) else str(alias or "").split(",")
    return tuple(p.strip() for p in parts if p.strip())


def lookup(row: Mapping[str, Any], alias: Any) -> Any:
    """A row's value for an alias; a composed alias joins its parts with single spaces and
    drops the empty ones (``Legal_First_Name`` + ``Legal_Last_Name`` → ``Ada Lovelace``)."""
    columns = alias_columns(alias)
    if len(columns) <= 1:
        return row.get(columns[0]) if columns else None
    return _composed(row, columns)


def _composed(row: Mapping[str, Any], columns: tuple[str, ...]) -> str | None:
    parts = []
    for column in columns:
        value = row.get(column)
        if isinstance(value, int | float) and not isinstance(value, bool):
            value = str(value)
        if isinstance(value, str) and value.strip():
            parts.append(" ".join(value.split()))
    return " ".join(parts) or None


def normalize(
    stream: str,
    row: Mapping[str, Any],
    aliases: Mapping[str, Mapping[str, Any]],
    *,
    sensitive: Sequence[str] = (),
    absent: Collection[str] = (),
) -> dict[str, Any]:
    """One report row as a normalised record of ``stream`` (see :func:`normalizer`).

    Raises:
        RowError: a value cannot be read.
    """
    return normalizer(stream, aliases, sensitive=sensitive, absent=absent)(row)


Normalizer = Callable[[Mapping[str, Any]], dict[str, Any]]


def normalizer(
    stream: str,
    aliases: Mapping[str, Mapping[str, Any]],
    *,
    sensitive: Sequence[str] = (),
    absent: Collection[str] = (),
) -> Normalizer:
    """How report rows become normalised records of ``stream``, worked out once for a run:
    which columns each field reads and how, so each row costs one pass over its fields.

    Args:
        aliases: per stream and nested list, our field → report column ("" = not read; a list
            of columns, or columns joined by commas, compose one text value).
        sensitive: the sensitive fields an admin enabled; the others are never read.
        absent: fields (``list.field`` inside lists) whose columns the run lacks: left out of
            the record, so the mirror keeps what it holds.

    The normaliser raises :class:`RowError` when a value cannot be read.
    """
    plan: list[tuple[str, tuple[str, ...], Reader | None, str, Any, Normalizer | None]] = []
    for field, kind in STREAM_FIELDS[stream].items():
        if (field in SENSITIVE_FIELDS and field not in sensitive) or field in absent:
            continue
        alias = aliases[stream].get(field, "")
        columns = alias_columns(alias)
        if kind.startswith("list:"):
            inner = {p.split(".", 1)[1] for p in absent if p.startswith(field + ".")}
            items = normalizer(kind[5:], aliases, absent=inner)
            plan.append((field, columns, None, alias, None, items))
        else:
            reader = None if kind == "text" else _READERS[kind]
            plan.append((field, columns, reader, " + ".join(columns), _DEFAULTS.get(field), None))

    def normalise(row: Mapping[str, Any]) -> dict[str, Any]:
        record: dict[str, Any] = {}
        for field, columns, reader, where, default, items in plan:
            if len(columns) == 1:
                value = row.get(columns[0])
            else:
                value = _composed(row, columns) if columns else None
            if items is not None:  # a multi-instance field
                record[field] = _items(field, where, value, items)
            elif value is None:
                record[field] = default
            elif reader is None and type(value) is str:  # text, the usual case
                record[field] = value.strip() or default
            else:
                try:
                    read = (reader or _text)(value)
                except ValueError as err:
                    raise RowError(field, where, value, str(err)) from None
                record[field] = default if read is None else read
        return record

    return normalise


def _items(field: str, alias: str, value: Any, normalise: Normalizer) -> list[dict[str, Any]]:
    if value is None or value == "":
        return []
    if isinstance(value, str):  # a report file in CSV carries the array as JSON text
        try:
            value = json.loads(value)
        except ValueError:
            raise RowError(field, alias, value, "a JSON array of objects") from None
    if isinstance(value, dict):  # one instance may arrive unwrapped
        value = [value]
    if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
        raise RowError(field, alias, value, "an array of objects")
    return [normalise(item) for item in value]
