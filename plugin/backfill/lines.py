"""An import file's lines: each becomes a :class:`Candidate` (an event that passed the webhook's
checks) or a :class:`Reject` (its line number and why not).

JSON Lines: one event per line, as the webhook takes it, in either form:

* plain, ``{"id": …, "type": …, "occurred_at": …, "data": {…}}``: trusted, since only an admin
  with the store's configuration runs the import;
* signed, ``{"signature": "t=…,v1=…", "event": "<the body as signed, as one JSON string>"}``:
  the ``Mentorbridge-Signature`` header and the raw body a sender would post, checked against
  the active signing secrets as the webhook checks them, except for the signature's age
  (history is signed long before it is imported).

Blank lines are skipped; line numbers count every line of the file, from 1.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from mentorbridge.plugin.backfill.order import references
from mentorbridge.plugin.errors import MentorbridgeError, ValidationError
from mentorbridge.plugin.webhooks.events import IncomingEvent, parse_event
from mentorbridge.plugin.webhooks.signing import SignatureError, verify

__all__ = ["Candidate", "Reject", "read_jsonl", "reason_of"]

_SIGNED_KEYS = {"signature", "event"}


@dataclass(frozen=True, slots=True)
class Candidate:
    """A valid event from line ``line``: what ordering needs, and its body and digest (read
    again by :func:`~plugin.webhooks.events.reparse_event` when it is recorded, so a large
    file is not held in memory as parsed events).

    Attributes:
        makes: what it brings into being, as ``(kind, key)``: ``("pair", "pair-0042")``.
        needs: what it refers to, as ``(kind, key)``.
    """

    line: int
    id: str
    type: str
    occurred_at: datetime
    makes: tuple[tuple[str, str], ...]
    needs: tuple[tuple[str, str], ...]
    body: bytes
    digest: str

    @classmethod
    def of(cls, line: int, event: IncomingEvent, body: bytes) -> Candidate:
        makes, needs = references(event.type, event.data)
        return cls(
            line=line,
            id=event.id,
            type=event.type,
            occurred_at=event.occurred_at.astimezone(UTC),
            makes=makes,
            needs=needs,
            body=body,
            digest=event.digest,
        )


@dataclass(frozen=True, slots=True)
class Reject:
    """A line that was not imported: its number, its event's id if it had one, and why."""

    line: int
    event_id: str | None
    reason: str


def reason_of(err: MentorbridgeError) -> str:
    """One line saying what is wrong: every failing field of a validation error."""
    if isinstance(err, ValidationError):
        return "; ".join(f"{path}: {message}" for path, message in err.problems)
    return str(err)


def read_jsonl(
    path: Path, *, secrets: Callable[[], Sequence[str]], signed_only: bool = False
) -> Iterator[Candidate | Reject]:
    """Each non-blank line of the JSON Lines file at ``path``, checked.

    Args:
        secrets: the active signing secrets, asked for at the first signed line.
        signed_only: reject plain lines (a file that must come from a signing sender).
    """
    keys: list[Sequence[str]] = []

    def active() -> Sequence[str]:
        if not keys:
            keys.append(secrets())
        return keys[0]

    with path.open("rb") as file:
        for number, raw in enumerate(file, start=1):
            line = raw.strip()
            if line:
                yield _read_line(number, line, active, signed_only)


def _read_line(
    number: int, line: bytes, secrets: Callable[[], Sequence[str]], signed_only: bool
) -> Candidate | Reject:
    try:
        outer = json.loads(line)
    except (ValueError, RecursionError):
        outer = None  # parse_event says what is wrong, with the webhook's words
    signed = isinstance(outer, dict) and outer.keys() == _SIGNED_KEYS
    event_id = _event_id(outer)
    if signed:
        try:
            body = _verified(outer, secrets())
        except SignatureError as err:
            return Reject(number, _event_id(_loads(outer.get("event"))), f"signature: {err}")
        event_id = _event_id(_loads(body))
    elif signed_only:
        return Reject(
            number,
            event_id,
            'the line is not signed: give {"signature": "t=…,v1=…", "event": "<body>"}, or '
            "import without --signed-only",
        )
    else:
        body = line
    try:
        event = parse_event(body)
    except ValidationError as err:
        return Reject(number, event_id, reason_of(err))
    return Candidate.of(number, event, body)


def _verified(outer: dict[str, Any], secrets: Sequence[str]) -> bytes:
    header, event = outer["signature"], outer["event"]
    if not isinstance(header, str) or not isinstance(event, str):
        raise SignatureError(
            "signature and event must both be strings: the header value, and the body exactly "
            "as signed, as one JSON string"
        )
    if not secrets:
        raise SignatureError(
            "no signing secret is set up to check it: add the sender's secret with "
            "`mentorbridge webhook secret add` (or set web.signing_secret)"
        )
    try:
        body = event.encode("utf-8")
    except UnicodeEncodeError:
        raise SignatureError(
            "event holds an unpaired surrogate escape (\\ud800 …), so it is not the text of "
            "a body: give the body exactly as signed"
        ) from None
    verify(header, body, secrets, now=0, tolerance=None)
    return body


def _loads(text: Any) -> Any:
    if not isinstance(text, str | bytes):
        return None
    try:
        return json.loads(text)
    except (ValueError, RecursionError):
        return None


def _event_id(document: Any) -> str | None:
    """The id a line gives its event, if it is one a reject file can show."""
    if not isinstance(document, dict) or not isinstance(document.get("id"), str):
        return None
    event_id = document["id"][:128]
    return event_id if event_id.isprintable() else None
