"""Read one event from a request body: strict JSON, its schema, real dates.

Each type's data is described by ``schemas/webhooks/<type>.schema.json``; the envelope by
``schemas/webhooks/event.schema.json``. Every problem is reported at once, each with its JSON
path and what is expected, so a sender can fix a payload in one go.

Hostile bodies are refused as invalid (400), never left to fail later: objects and arrays
nested deeper than :data:`MAX_DEPTH` (the parser would recurse until the interpreter gives
up), and dates or moments outside the years :data:`EARLIEST_YEAR` to :data:`LATEST_YEAR`
(a moment such as ``9999-12-31T23:30:00-01:00`` overflows when converted to UTC).
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from datetime import date, datetime
from functools import cache
from itertools import accumulate
from typing import Any

from mentorbridge import schemas
from mentorbridge.plugin.errors import ValidationError

__all__ = [
    "EARLIEST_YEAR",
    "EVENT_TYPES",
    "LATEST_YEAR",
    "MAX_DEPTH",
    "IncomingEvent",
    "parse_event",
    "reparse_event",
]

EVENT_TYPES = tuple(schemas.load("webhooks/event")["properties"]["type"]["enum"])
#: The two patterns our schemas give dates and moments; their values must also be real.
_DATE = r"^\d{4}-\d{2}-\d{2}$"
_MOMENT = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$"
_SUBJECT = "the event"
#: The deepest nesting of objects and arrays accepted; events need four or five levels.
MAX_DEPTH = 64
#: The years a date or moment may fall in: mentoring happens now, not in year 1 or 9999.
EARLIEST_YEAR, LATEST_YEAR = 2000, 2100
#: A JSON string, escapes included (the unrolled form, linear on long strings).
_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_NOT_BRACKETS = re.compile(r"[^\[\]{}]+")
_STEP = {"[": 1, "{": 1, "]": -1, "}": -1}


@dataclass(frozen=True, slots=True)
class IncomingEvent:
    """A valid event. ``data`` has real :class:`date` and :class:`datetime` values where its
    schema has dates; ``document`` is the JSON as sent; ``digest`` identifies the content (a
    redelivery has the same one, however its JSON is spaced or ordered)."""

    id: str
    type: str
    occurred_at: datetime
    source: str
    data: dict[str, Any]
    document: dict[str, Any]
    digest: str


def parse_event(body: bytes) -> IncomingEvent:
    """The event in ``body``, or :class:`~plugin.errors.ValidationError` listing every problem."""
    document = _json(body)
    problems = schemas.check("webhooks/event", document)
    if problems:
        raise ValidationError(_SUBJECT, problems)
    data_schema = f"webhooks/{document['type']}"
    problems = schemas.check(data_schema, document["data"], root="$.data")
    if problems:
        raise ValidationError(_SUBJECT, problems)
    envelope, envelope_problems = _typed("webhooks/event", document, "$")
    data, data_problems = _typed(data_schema, document["data"], "$.data")
    problems = envelope_problems + data_problems
    if problems:
        raise ValidationError(_SUBJECT, problems)
    canonical = json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return _event(document, envelope, data, hashlib.sha256(canonical.encode("utf-8")).hexdigest())


def reparse_event(body: bytes, digest: str) -> IncomingEvent:
    """The event in ``body``, which :func:`parse_event` accepted before with this ``digest``:
    read again without the checks it passed (an import keeps its checked lines as bytes, not
    as parsed events, and reads each again when it records it)."""
    document = json.loads(body)
    envelope, _ = _typed("webhooks/event", document, "$")
    data, _ = _typed(f"webhooks/{document['type']}", document["data"], "$.data")
    return _event(document, envelope, data, digest)


def _event(
    document: dict[str, Any], envelope: dict[str, Any], data: dict[str, Any], digest: str
) -> IncomingEvent:
    return IncomingEvent(
        id=document["id"],
        type=document["type"],
        occurred_at=envelope["occurred_at"],
        source=document.get("source", "webhook"),
        data=data,
        document=document,
        digest=digest,
    )


def _json(body: bytes) -> Any:
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as err:
        raise ValidationError(
            _SUBJECT, [("$", f"the body is not UTF-8 (byte {err.start}): send UTF-8 JSON")]
        ) from None
    depth = _depth(text)
    if depth > MAX_DEPTH:
        raise ValidationError(
            _SUBJECT,
            [
                (
                    "$",
                    f"the body nests objects and arrays {depth} levels deep, more than the "
                    f"{MAX_DEPTH} allowed: send the event as its schema describes it",
                )
            ],
        )
    try:
        return json.loads(text, object_pairs_hook=_no_duplicates, parse_constant=_no_constant)
    except json.JSONDecodeError as err:
        raise ValidationError(
            _SUBJECT,
            [("$", f"the body is not JSON: {err.msg} at line {err.lineno} column {err.colno}")],
        ) from None
    except ValueError as err:
        raise ValidationError(_SUBJECT, [("$", str(err))]) from None


def _depth(text: str) -> int:
    """How deeply ``text`` nests objects and arrays, brackets inside strings aside.

    Only counted when there are more brackets than :data:`MAX_DEPTH`: an ordinary event has a
    handful, so the usual path costs two ``str.count`` calls.
    """
    if text.count("[") + text.count("{") <= MAX_DEPTH:
        return 0
    brackets = _NOT_BRACKETS.sub("", _STRING.sub("", text))
    return max(accumulate(_STEP[c] for c in brackets), default=0)


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise ValueError(f"the body repeats the key {key!r}: send each key once per object")
        result[key] = value
    return result


def _no_constant(name: str) -> Any:
    raise ValueError(f"the body contains {name}, which is not JSON: send numbers only")


def _typed(
    schema: str, value: dict[str, Any], root: str
) -> tuple[dict[str, Any], list[tuple[str, str]]]:
    """``value`` with its date and moment strings parsed, and the ones that are not real."""
    typed, problems = dict(value), []
    for name, pattern in _date_fields(schema):
        if name not in value:
            continue
        try:
            if pattern == _DATE:
                typed[name] = date.fromisoformat(value[name])
            else:
                typed[name] = datetime.fromisoformat(value[name])
        except ValueError as err:
            problems.append((f"{root}.{name}", f"{json.dumps(value[name])} is not real: {err}"))
            continue
        # The year as written: checked before anything converts it to UTC, which could
        # overflow; a moment's zone moves it at most a day, well inside the range.
        if not EARLIEST_YEAR <= typed[name].year <= LATEST_YEAR:
            problems.append(
                (
                    f"{root}.{name}",
                    f"{json.dumps(value[name])} is out of range: expected a "
                    f"{'date' if pattern == _DATE else 'moment'} in the years {EARLIEST_YEAR} "
                    f"to {LATEST_YEAR}",
                )
            )
    return typed, problems


@cache
def _date_fields(schema: str) -> tuple[tuple[str, str], ...]:
    properties = schemas.load(schema).get("properties", {})
    return tuple(
        (name, spec["pattern"])
        for name, spec in properties.items()
        if spec.get("pattern") in (_DATE, _MOMENT)
    )
