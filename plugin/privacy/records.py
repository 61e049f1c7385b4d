"""Finding what the store holds about one person: their row, the statements that name them and
the webhook events that name them. Shared by export and erasure."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from mentorbridge.plugin.errors import UnknownReferenceError
from mentorbridge.plugin.store.models import OutboxStatement, Pair, Person
from mentorbridge.plugin.store.webhook_models import WebhookEvent

__all__ = [
    "ERASED_PREFIX",
    "NamedStatement",
    "events_naming",
    "find_person",
    "pairs_of",
    "statements_about",
]

#: An erased person row's ``worker_id`` is this prefix and the row id: no Employee ID.
ERASED_PREFIX = "erased-"


def find_person(session: Session, worker_id: str) -> Person:
    """The person with Employee ID ``worker_id``.

    Raises:
        UnknownReferenceError: nobody by that id (never known, or erased).
    """
    person = None
    if not worker_id.startswith(ERASED_PREFIX):  # what an erased person row is named
        person = session.scalar(select(Person).where(Person.worker_id == worker_id))
    if person is None:
        raise UnknownReferenceError(
            f"worker {worker_id!r} is not known: the store holds no person with that Employee "
            "ID (check the ID; an erased worker is no longer known by it)",
            kind="worker",
            key=worker_id,
        )
    return person


def pairs_of(session: Session, person: Person) -> list[Pair]:
    """The pairs ``person`` is in, on either side, oldest first."""
    return list(
        session.scalars(
            select(Pair)
            .where(or_(Pair.mentee_id == person.id, Pair.mentor_id == person.id))
            .order_by(Pair.started_on, Pair.id)
        )
    )


@dataclass(frozen=True, slots=True)
class NamedStatement:
    """An outbox statement naming a person: as its actor (their own record) or only as the
    instructor or a team member (their partner's record)."""

    row: OutboxStatement
    as_actor: bool


def statements_about(session: Session, person: Person, pairs: list[Pair]) -> list[NamedStatement]:
    """Every queued or sent statement that names ``person``, oldest first.

    Statements name people only inside a pair's registration, so only those rows are read.
    """
    registrations = [p.registration for p in pairs]
    if not registrations:
        return []
    found = []
    rows = session.scalars(
        select(OutboxStatement)
        .where(OutboxStatement.registration.in_(registrations))
        .order_by(OutboxStatement.id)
    )
    for row in rows:
        statement = json.loads(row.payload)
        names = set(_agent_names(statement))
        if person.opaque_id in names:
            as_actor = _account_name(statement.get("actor")) == person.opaque_id
            found.append(NamedStatement(row, as_actor))
    return found


def _account_name(agent: Any) -> str | None:
    if isinstance(agent, dict):
        return (agent.get("account") or {}).get("name")
    return None


def _agent_names(statement: dict[str, Any]) -> Iterator[str]:
    context = statement.get("context") or {}
    for agent in (statement.get("actor"), statement.get("object"), context.get("instructor")):
        if (name := _account_name(agent)) is not None:
            yield name
    team = context.get("team") or {}
    for member in team.get("member") or []:
        if (name := _account_name(member)) is not None:
            yield name


def events_naming(
    session: Session, worker_id: str, statement_ids: set[str]
) -> list[tuple[WebhookEvent, str]]:
    """Webhook events that name the worker, with how: ``payload`` (a held event naming them),
    ``reason`` (a refusal quoting their id) or ``statements`` (it produced statements about
    them; processed events keep no payload)."""
    found = []
    quoted = repr(worker_id)  # errors quote ids so: worker 'W-1' is not known
    events = session.scalars(
        select(WebhookEvent).order_by(WebhookEvent.id).execution_options(yield_per=1000)
    )
    for event in events:
        if event.payload is not None and _names(event.payload.get("data"), worker_id):
            found.append((event, "payload"))
        elif quoted in str((event.result or {}).get("reason", "")):
            found.append((event, "reason"))
        elif statement_ids & set((event.result or {}).get("statement_ids", [])):
            found.append((event, "statements"))
    return found


def _names(value: Any, worker_id: str) -> bool:
    if isinstance(value, dict):
        return any(_names(v, worker_id) for v in value.values())
    if isinstance(value, list):
        return any(_names(v, worker_id) for v in value)
    return value == worker_id
