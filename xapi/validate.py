"""The checks every statement passes before it may be queued.

1. the strict statement schema (``schemas/xapi/statement.schema.json``);
2. privacy: every agent is an opaque ``account`` with no display name;
3. the statement's own template in the reverse-mentoring profile;
4. no timestamp in the future (xAPI Data 2.4.7).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from mentorbridge import schemas
from mentorbridge.plugin.errors import StatementValidationError
from mentorbridge.xapi.profile import check_template

__all__ = ["CLOCK_SKEW", "validate_statement", "validate_timestamp"]

#: How far ahead of our clock a timestamp may be before it counts as "in the future".
CLOCK_SKEW = timedelta(minutes=5)

_PERSONAL_KEYS = ("mbox", "mbox_sha1sum", "openid", "name")


def validate_statement(
    statement: dict[str, Any],
    *,
    profile: dict[str, Any],
    template: str,
    now: datetime | None = None,
) -> None:
    """Raise :class:`StatementValidationError` naming every failing field, or return None."""
    found = schemas.check("xapi/statement", statement, root="statement")
    found += [(path, message) for path, message in _privacy_problems(statement)]
    found += [
        ("statement", f"does not follow template {template}: {message}")
        for message in check_template(statement, profile, template)
    ]
    found += _future_problems(statement, now or datetime.now(UTC))
    if found:
        raise StatementValidationError(f"statement {statement.get('id', '?')}", found)


def validate_timestamp(statement: dict[str, Any], *, now: datetime | None = None) -> None:
    """The clock check alone (4.), for a statement whose shape passed the others."""
    found = _future_problems(statement, now or datetime.now(UTC))
    if found:
        raise StatementValidationError(f"statement {statement.get('id', '?')}", found)


def _agents(statement: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    context = statement.get("context") or {}
    found = [("statement.actor", statement.get("actor"))]
    if isinstance(statement.get("object"), dict) and statement["object"].get("objectType") in (
        "Agent",
        "Group",
    ):
        found.append(("statement.object", statement["object"]))
    found += [(f"statement.context.{k}", context.get(k)) for k in ("instructor", "team")]
    members = []
    for path, agent in found:
        if isinstance(agent, dict):
            members += [(f"{path}.member[{i}]", m) for i, m in enumerate(agent.get("member", []))]
    return [(path, agent) for path, agent in found + members if isinstance(agent, dict)]


def _privacy_problems(statement: dict[str, Any]) -> list[tuple[str, str]]:
    """People appear only as opaque accounts: no email, no OpenID, no name."""
    return [
        (f"{path}.{key}", "must not be sent: people are identified only by an opaque account")
        for path, agent in _agents(statement)
        for key in _PERSONAL_KEYS
        if key in agent
    ]


def _future_problems(statement: dict[str, Any], now: datetime) -> list[tuple[str, str]]:
    stamp = statement.get("timestamp")
    if not isinstance(stamp, str):
        return []
    try:
        when = datetime.fromisoformat(stamp)
    except ValueError:
        return []  # the schema has already named this field
    if when.tzinfo is not None and when > now + CLOCK_SKEW:
        return [("statement.timestamp", f"{stamp} is in the future; use when it happened")]
    return []
