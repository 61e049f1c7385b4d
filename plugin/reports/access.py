"""Who may pull talent reports: API tokens with a role, and the audit of every generation.

A token reads ``mb_<prefix>_<secret>``: the prefix (8 hex digits, random) finds its row, the
secret (32 random bytes, base64url) is checked against its SHA-256 with a constant-time
comparison. The token is returned once by :func:`create_token` and kept nowhere; the store
holds the prefix and the hash only.

Roles: ``talent`` pulls reports and evidence explanations; ``admin`` may also read the audit.
Every generation, explanation and refusal is a :class:`~plugin.store.access_models.ReportAudit`
row, written by :func:`record`.
"""

from __future__ import annotations

import getpass
import hashlib
import hmac
import os
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import select, update

from mentorbridge.plugin.errors import RejectedError, UnknownReferenceError
from mentorbridge.plugin.store.access_models import ApiToken, ReportAudit
from mentorbridge.plugin.store.base import utc_now
from mentorbridge.plugin.store.db import Store

__all__ = [
    "ROLES",
    "AuditRecord",
    "Caller",
    "Outcome",
    "Role",
    "TokenInfo",
    "TokenRefused",
    "audit_log",
    "authenticate",
    "cli_caller",
    "create_token",
    "list_tokens",
    "looks_like_token",
    "record",
    "revoke_token",
]

Role = Literal["admin", "talent"]
Outcome = Literal["ok", "refused", "error"]
ROLES: tuple[Role, ...] = ("admin", "talent")

_TOKEN = re.compile(r"mb_([0-9a-f]{8})_([A-Za-z0-9_-]{43})")
_DETAIL_LIMIT = 500


class TokenRefused(RejectedError):
    """A bearer token that does not open the reports: unknown, malformed or revoked.

    Attributes:
        caller: who presented it, for the audit row (the token's row when it is revoked).
    """

    def __init__(self, message: str, *, caller: Caller) -> None:
        super().__init__(message)
        self.caller = caller


@dataclass(frozen=True, slots=True)
class Caller:
    """Who is asking.

    Attributes:
        who: how the audit names them (``token 3 (people analytics)``, ``cli:alice``).
        role: ``admin`` or ``talent``; ``None`` for anyone not let in (anonymous, a learner,
            a revoked token).
        token_id: the token's row, when a token of ours was presented (even a revoked one).
    """

    who: str
    role: Role | None = None
    token_id: int | None = None


@dataclass(frozen=True, slots=True)
class TokenInfo:
    """A token as an admin may see it: never the secret."""

    id: int
    prefix: str
    role: Role
    label: str
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


@dataclass(frozen=True, slots=True)
class AuditRecord:
    """One row of the audit, as listed."""

    id: int
    at: datetime
    who: str
    report: str
    filters: dict[str, Any]
    format: str | None
    row_count: int | None
    outcome: Outcome
    detail: str | None

    def as_json(self) -> dict[str, Any]:
        """The row as JSON values (``at`` in ISO 8601, UTC)."""
        return {
            "id": self.id,
            "at": self.at.isoformat().replace("+00:00", "Z"),
            "who": self.who,
            "report": self.report,
            "filters": self.filters,
            "format": self.format,
            "row_count": self.row_count,
            "outcome": self.outcome,
            "detail": self.detail,
        }


def looks_like_token(value: str) -> bool:
    """Whether ``value`` has the shape of one of our tokens (``mb_<prefix>_<secret>``)."""
    return _TOKEN.fullmatch(value) is not None


def create_token(store: Store, role: str, label: str) -> tuple[TokenInfo, str]:
    """Make a token; the clear token is returned here once and never stored.

    Raises:
        ValueError: ``role`` is not one of :data:`ROLES`, or ``label`` is empty or too long.
    """
    if role not in ROLES:
        raise ValueError(f"role {role!r} is not one of {', '.join(ROLES)}")
    label = label.strip()
    if not 1 <= len(label) <= 100:
        raise ValueError("the label must have 1 to 100 characters")
    with store.transaction() as session:
        taken = set(session.scalars(select(ApiToken.prefix)))
        prefix = secrets.token_hex(4)
        while prefix in taken:
            prefix = secrets.token_hex(4)
        secret = secrets.token_urlsafe(32)
        row = ApiToken(prefix=prefix, secret_sha256=_digest(secret), role=role, label=label)
        session.add(row)
        session.flush()
        info = _info(row)
    return info, f"mb_{prefix}_{secret}"


def list_tokens(store: Store) -> list[TokenInfo]:
    """Every token, oldest first, revoked ones included."""
    with store.reading() as session:
        return [_info(row) for row in session.scalars(select(ApiToken).order_by(ApiToken.id))]


def revoke_token(store: Store, token: int | str) -> TokenInfo:
    """Revoke a token by id or prefix, at once; revoking twice keeps the first time.

    Raises:
        UnknownReferenceError: no such token.
    """
    with store.transaction() as session:
        column = ApiToken.id if isinstance(token, int) else ApiToken.prefix
        row = session.scalars(select(ApiToken).where(column == token)).one_or_none()
        if row is None:
            raise UnknownReferenceError(
                f"there is no token {token}: `mentorbridge token list` shows them",
                kind="token",
                key=str(token),
            )
        if row.revoked_at is None:
            row.revoked_at = utc_now()
        return _info(row)


def authenticate(store: Store, token: str) -> Caller:
    """The caller a bearer token stands for.

    Raises:
        TokenRefused: the token is not one of ours, or has been revoked.
    """
    match = _TOKEN.fullmatch(token.strip())
    if match is None:
        raise TokenRefused(
            "the bearer token is not a report token: an admin makes one with "
            "`mentorbridge token add --role talent --label TEXT`",
            caller=Caller("unknown token"),
        )
    prefix, secret = match.groups()
    with store.reading() as session:
        row = session.scalars(select(ApiToken).where(ApiToken.prefix == prefix)).one_or_none()
    expected = row.secret_sha256 if row is not None else _digest("")
    if not hmac.compare_digest(_digest(secret), expected) or row is None:
        raise TokenRefused("the bearer token is not valid", caller=Caller("unknown token"))
    caller = Caller(_who(row), row.role if row.revoked_at is None else None, row.id)
    if row.revoked_at is not None:
        raise TokenRefused(
            f"this token was revoked on {row.revoked_at:%Y-%m-%d}: ask an admin for a new one",
            caller=caller,
        )
    return caller


def cli_caller() -> Caller:
    """The operator running a command on this machine: ``cli:<login>``, trusted as admin (they
    can read the store's configuration anyway)."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):  # no login name for this uid (a container)
        user = f"uid {os.getuid()}"
    return Caller(f"cli:{user}", "admin")


def record(
    store: Store,
    caller: Caller,
    report: str,
    *,
    filters: Mapping[str, Any],
    outcome: Outcome,
    format: str | None = None,
    row_count: int | None = None,
    detail: str | None = None,
) -> None:
    """Write one audit row, in a transaction of its own; a token let in is marked used."""
    now = utc_now()
    with store.transaction() as session:
        session.add(
            ReportAudit(
                at=now,
                who=caller.who[:200],
                token_id=caller.token_id,
                report=report,
                filters=dict(filters),
                format=format,
                row_count=row_count,
                outcome=outcome,
                detail=detail[:_DETAIL_LIMIT] if detail else None,
            )
        )
        if caller.token_id is not None and caller.role is not None:
            session.execute(
                update(ApiToken).where(ApiToken.id == caller.token_id).values(last_used_at=now)
            )


def audit_log(store: Store, *, limit: int = 50) -> list[AuditRecord]:
    """The newest ``limit`` audit rows, newest first."""
    query = select(ReportAudit).order_by(ReportAudit.id.desc()).limit(limit)
    with store.reading() as session:
        return [
            AuditRecord(
                row.id,
                row.at,
                row.who,
                row.report,
                row.filters,
                row.format,
                row.row_count,
                row.outcome,  # type: ignore[arg-type]
                row.detail,
            )
            for row in session.scalars(query)
        ]


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("ascii")).hexdigest()


def _who(row: ApiToken) -> str:
    return f"token {row.id} ({row.label})"


def _info(row: ApiToken) -> TokenInfo:
    return TokenInfo(
        row.id,
        row.prefix,
        row.role,  # type: ignore[arg-type]
        row.label,
        row.created_at,
        row.last_used_at,
        row.revoked_at,
    )
