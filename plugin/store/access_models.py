"""Who may pull talent reports, and a record of every time someone did (or was refused).

An :class:`ApiToken` is kept as its public prefix and the SHA-256 of its secret: the token
itself (``mb_<prefix>_<secret>``) is shown once, when it is made, and is nowhere in the store.
Tokens are revoked, never deleted, so the audit trail keeps pointing at them.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from mentorbridge.plugin.store.base import Base, UTCDateTime, utc_now

__all__ = ["ApiToken", "ReportAudit"]


class ApiToken(Base):
    """A bearer token for the report endpoints, with its role."""

    __tablename__ = "api_token"
    __table_args__ = (CheckConstraint("role in ('admin', 'talent')", name="role"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    #: The public part of the token, used to find its row (random, not secret).
    prefix: Mapped[str] = mapped_column(String(16), unique=True)
    #: SHA-256 (hex) of the secret part; the secret has 256 random bits, so no slow hash.
    secret_sha256: Mapped[str] = mapped_column(String(64))
    role: Mapped[str] = mapped_column(String(16))
    label: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class ReportAudit(Base):
    """One report generation, explanation or audit listing, or one refusal of it."""

    __tablename__ = "report_audit"
    __table_args__ = (CheckConstraint("outcome in ('ok', 'refused', 'error')", name="outcome"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now, index=True)
    #: Who asked: ``token 3 (people analytics)``, ``cli:alice``, ``anonymous``, ``learner link``.
    who: Mapped[str] = mapped_column(String(200))
    token_id: Mapped[int | None] = mapped_column(ForeignKey("api_token.id"), index=True)
    #: ``succession``, ``impact``, ``evidence`` or ``audit``.
    report: Mapped[str] = mapped_column(String(32))
    #: The filters as given (names and values), for an evidence explanation its worker and
    #: competency.
    filters: Mapped[dict[str, Any]] = mapped_column(JSON)
    format: Mapped[str | None] = mapped_column(String(16))
    row_count: Mapped[int | None] = mapped_column(Integer)
    outcome: Mapped[str] = mapped_column(String(16))
    #: Why it was refused or failed (an error code and message; never a token).
    detail: Mapped[str | None] = mapped_column(String(500))
