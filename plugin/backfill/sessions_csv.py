"""CSV of sessions exported from another mentoring platform, as ``session.completed`` (or
``session.scheduled``) events.

The first row names the columns. Each column of :data:`COLUMNS` is found by its own name or one
of its aliases (any case; spaces, ``_`` and ``-`` alike), or named with
``--column NAME=HEADER`` when the export calls it something else. A row's pair is its
``pair_id``, or the pair of its ``mentee`` and ``mentor`` (HRIS worker ids) in the store.

Each row becomes the event the webhook would take, checked by the same code; a row that cannot
be one is rejected with its line, its column (as the file names it) and the fix. Event ids are
``<source>.<session_id>.<completed|scheduled>`` unless the file has an ``event_id`` column, so
importing the file again finds every row already recorded.
"""

from __future__ import annotations

import csv
import re
from collections import defaultdict
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from pathlib import Path
from typing import Any, NamedTuple

from sqlalchemy import select
from sqlalchemy.orm import Session, aliased

from mentorbridge.plugin.backfill.lines import Candidate, Reject
from mentorbridge.plugin.errors import ValidationError
from mentorbridge.plugin.store.models import Pair, Person
from mentorbridge.plugin.webhooks.events import parse_event
from mentorbridge.plugin.webhooks.sender import encode_event

__all__ = ["COLUMNS", "PairMembers", "SessionColumns", "pairs_in_store", "read_sessions_csv"]

#: Each column, with the other names exports give it.
COLUMNS: dict[str, tuple[str, ...]] = {
    "session_id": ("session", "session id", "meeting id"),
    "pair_id": ("pair", "pair id", "match id", "mentorship id"),
    "mentee": ("mentee id", "mentee employee id", "executive id"),
    "mentor": ("mentor id", "mentor employee id"),
    "started_at": ("start", "start time", "started", "session start", "date"),
    "duration_minutes": ("duration", "duration min", "duration (min)", "minutes", "length"),
    "themes": ("topics", "themes discussed", "tags"),
    "status": ("state", "session status"),
    "occurred_at": ("recorded at", "logged at", "updated at"),
    "event_id": ("event id",),
}
_STATUS = {
    "": "session.completed",
    "completed": "session.completed",
    "held": "session.completed",
    "done": "session.completed",
    "scheduled": "session.scheduled",
    "planned": "session.scheduled",
    "booked": "session.scheduled",
}
#: Where parse_event's paths point in a row.
_FIELD_COLUMN = {
    "$.id": "event_id",
    "$.occurred_at": "occurred_at",
    "$.data.pair_id": "pair_id",
    "$.data.session_id": "session_id",
    "$.data.started_at": "started_at",
    "$.data.planned_start": "started_at",
    "$.data.duration_minutes": "duration_minutes",
    "$.data.planned_minutes": "duration_minutes",
    "$.data.themes_discussed": "themes",
    "$.data.attendees": "mentee",
}
_SPACES = re.compile(r"[\s_\-]+")


class PairMembers(NamedTuple):
    """A pair's executive mentee and junior mentor (worker ids), and whether it is active."""

    mentee: str
    mentor: str
    active: bool


def pairs_in_store(session: Session) -> dict[str, PairMembers]:
    """Every pair in the store, by its key."""
    mentee, mentor = aliased(Person), aliased(Person)
    rows = session.execute(
        select(Pair.key, mentee.worker_id, mentor.worker_id, Pair.status)
        .join(mentee, Pair.mentee_id == mentee.id)
        .join(mentor, Pair.mentor_id == mentor.id)
    )
    return {key: PairMembers(a, b, status == "active") for key, a, b, status in rows}


def _normal(header: str) -> str:
    return _SPACES.sub(" ", header.strip().casefold())


@dataclass(frozen=True, slots=True)
class SessionColumns:
    """Which of the file's headers holds each column: ``{"started_at": "Start time"}``."""

    headers: dict[str, str]

    @classmethod
    def resolve(cls, header: list[str], named: Mapping[str, str]) -> SessionColumns:
        """The columns of a file whose first row is ``header``; ``named`` maps a column to
        the file's header for it (``--column``).

        Raises:
            ValidationError: a column named twice or not at all, or one the file lacks.
        """
        problems: list[tuple[str, str]] = []
        found: dict[str, str] = {}
        given = {_normal(h): h for h in header}
        for column, name in named.items():
            if column not in COLUMNS:
                problems.append(
                    (f"--column {column}", f"no such column: use one of {', '.join(COLUMNS)}")
                )
            elif _normal(name) not in given:
                problems.append(
                    (
                        f"--column {column}={name}",
                        f"the file has no column {name!r}: its columns are {', '.join(header)}",
                    )
                )
            else:
                found[column] = given[_normal(name)]
        taken = set(found.values())
        for column, aliases in COLUMNS.items():
            if column in found:
                continue
            names = dict.fromkeys(_normal(n) for n in (column, *aliases))
            matches = [given[n] for n in names if n in given and given[n] not in taken]
            if len(matches) > 1:
                problems.append(
                    (
                        column,
                        f"the columns {' and '.join(repr(m) for m in matches)} could both be "
                        f"{column}: name one with --column {column}=HEADER",
                    )
                )
            elif matches:
                found[column] = matches[0]
        missing = [c for c in ("session_id", "started_at", "duration_minutes") if c not in found]
        if "pair_id" not in found and not {"mentee", "mentor"} <= found.keys():
            missing.append("pair_id (or mentee and mentor)")
        for column in missing:
            problems.append(
                (
                    column,
                    f"the file has no {column} column: add it, or name the export's column "
                    f"with --column {column.split()[0]}=HEADER",
                )
            )
        if problems:
            raise ValidationError("the sessions file's columns", problems)
        return cls(found)


def read_sessions_csv(
    path: Path,
    *,
    pairs: Mapping[str, PairMembers],
    named: Mapping[str, str] | None = None,
    source: str = "import",
    timezone: tzinfo | None = None,
) -> Iterator[Candidate | Reject]:
    """Each data row of the sessions file at ``path``, as its event, checked.

    Args:
        pairs: the store's pairs (:func:`pairs_in_store`).
        named: ``--column`` choices, column to header.
        source: the events' ``source``, part of their ids.
        timezone: the zone of moments written without one; without it they are rejected.

    Raises:
        ValidationError: the header row does not give the columns needed (nothing is read).
    """
    by_members: dict[tuple[str, str], list[str]] = defaultdict(list)
    for key, members in pairs.items():
        by_members[members.mentee, members.mentor].append(key)
    with path.open(encoding="utf-8-sig", newline="") as file:
        reader = csv.reader(file)
        try:
            header = next(reader, None)
            if header is None:
                raise ValidationError(
                    f"the sessions file {path}",
                    [("(file)", "is empty: give a header row, then one row per session")],
                )
            columns = SessionColumns.resolve(header, named or {})
            index = {column: header.index(name) for column, name in columns.headers.items()}
            start = reader.line_num + 1
            for row in reader:
                line, start = start, reader.line_num + 1
                if not any(cell.strip() for cell in row):
                    continue
                values = {c: row[i].strip() if i < len(row) else "" for c, i in index.items()}
                yield _row(line, values, columns, pairs, by_members, source, timezone)
        except csv.Error as err:
            raise ValidationError(
                f"the sessions file {path}",
                [(f"line {reader.line_num}", f"is not CSV ({err}): export the sessions as CSV")],
            ) from None


class _RowError(Exception):
    def __init__(self, column: str, message: str) -> None:
        super().__init__(message)
        self.column = column


def _row(
    line: int,
    values: dict[str, str],
    columns: SessionColumns,
    pairs: Mapping[str, PairMembers],
    by_members: Mapping[tuple[str, str], list[str]],
    source: str,
    timezone: tzinfo | None,
) -> Candidate | Reject:
    try:
        document = _event(values, pairs, by_members, source, timezone)
    except _RowError as err:
        return Reject(line, values.get("event_id") or None, _at(columns, err.column, str(err)))
    body = encode_event(document)
    try:
        event = parse_event(body)
    except ValidationError as err:
        reasons = [_at(columns, _FIELD_COLUMN.get(path, path), m) for path, m in err.problems]
        return Reject(line, document["id"], "; ".join(reasons))
    return Candidate.of(line, event, body)


def _at(columns: SessionColumns, column: str, message: str) -> str:
    header = columns.headers.get(column)
    where = f"column {column}" + (f" ({header!r})" if header and header != column else "")
    return f"{where}: {message}"


def _event(
    values: dict[str, str],
    pairs: Mapping[str, PairMembers],
    by_members: Mapping[tuple[str, str], list[str]],
    source: str,
    timezone: tzinfo | None,
) -> dict[str, Any]:
    status = values.get("status", "").casefold()
    if status not in _STATUS:
        raise _RowError(
            "status",
            f"{values['status']!r} is not a status this import takes: completed (or held, done, "
            "empty) or scheduled (planned, booked); send a cancelled session as session.scheduled "
            "and session.cancelled events in a JSON Lines file",
        )
    event_type = _STATUS[status]
    pair, attendees = _pair(values, pairs, by_members)
    started = _moment(values, "started_at", timezone)
    minutes = _minutes(values["duration_minutes"])
    session_id = values["session_id"]
    if event_type == "session.completed":
        data: dict[str, Any] = {
            "pair_id": pair,
            "session_id": session_id,
            "started_at": _iso(started),
            "duration_minutes": minutes,
            "attendees": list(attendees),
        }
        themes = [t.strip() for t in values.get("themes", "").split(";") if t.strip()]
        if themes:
            data["themes_discussed"] = themes
        occurred = started + timedelta(minutes=minutes)
    else:
        data = {"pair_id": pair, "session_id": session_id, "planned_start": _iso(started)}
        data["planned_minutes"] = minutes
        occurred = started
    if values.get("occurred_at"):
        occurred = _moment(values, "occurred_at", timezone)
    return {
        "id": values.get("event_id") or f"{source}.{session_id}.{event_type.split('.')[1]}",
        "type": event_type,
        "occurred_at": _iso(occurred),
        "source": source,
        "data": data,
    }


def _pair(
    values: dict[str, str],
    pairs: Mapping[str, PairMembers],
    by_members: Mapping[tuple[str, str], list[str]],
) -> tuple[str, tuple[str, str]]:
    """The row's pair and its two members."""
    mentee, mentor = values.get("mentee", ""), values.get("mentor", "")
    key = values.get("pair_id", "")
    if key:
        known = pairs.get(key)
        if known is not None:
            return key, (known.mentee, known.mentor)
        if mentee and mentor:
            return key, (mentee, mentor)
        raise _RowError(
            "pair_id",
            f"pair {key!r} is not in the store: import its pair.created event first, or give "
            "the mentee and mentor columns",
        )
    if not (mentee and mentor):
        raise _RowError(
            "pair_id" if "pair_id" in values else "mentee",
            "no pair: give the pair_id, or both the mentee and the mentor (HRIS worker ids)",
        )
    keys = by_members.get((mentee, mentor), [])
    if len(keys) > 1:
        keys = [k for k in keys if pairs[k].active]
    if len(keys) != 1:
        found = "no pair" if not keys else f"{len(keys)} active pairs"
        raise _RowError(
            "mentee",
            f"the store has {found} with mentee {mentee} and mentor {mentor}: give the "
            "pair_id column" + ("" if keys else ", or import the pair's pair.created event first"),
        )
    return keys[0], (mentee, mentor)


def _moment(values: dict[str, str], column: str, timezone: tzinfo | None) -> datetime:
    text = values[column]
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise _RowError(
            column,
            f"{text!r} is not a date and time: write it as 2026-03-04T10:00:00Z (ISO 8601, "
            "with its zone)",
        ) from None
    if moment.tzinfo is None:
        if timezone is None:
            raise _RowError(
                column,
                f"{text!r} has no zone: write it with one (2026-03-04T10:00:00+01:00), or give "
                "--timezone with the zone the export uses (Europe/Berlin)",
            )
        moment = moment.replace(tzinfo=timezone)
    return moment


def _minutes(text: str) -> float | int:
    try:
        minutes = float(text)
    except ValueError:
        raise _RowError(
            "duration_minutes", f"{text!r} is not a number of minutes: write 45 or 47.5"
        ) from None
    return int(minutes) if minutes.is_integer() else minutes


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
