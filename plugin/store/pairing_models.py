"""What pairing keeps: each side's intake (themes, languages, consent), each proposal run with
the people it could not pair and why, and the proposed pairs an admin reviews.

A proposal is ``proposed`` (a draft), ``locked`` (kept by every re-run), ``rejected`` (never
proposed again), ``approved`` (its ``pair.created`` event recorded, exactly once: ``pair_key``
is unique) or ``superseded`` (a draft a later run replaced).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, CheckConstraint, Float, ForeignKey, Integer, String
from sqlalchemy import UniqueConstraint as Unique
from sqlalchemy.orm import Mapped, mapped_column

from mentorbridge.plugin.store.base import Base, UTCDateTime, utc_now

__all__ = ["PairingIntake", "PairingProposal", "PairingRun"]

_ID = 128


class PairingIntake(Base):
    """What one person told the programme: an executive's development priorities (most
    important first) or a junior's strengths, the languages they work in, and whether they
    consent to protected attributes being used for diversity (in aggregate only)."""

    __tablename__ = "pairing_intake"
    __table_args__ = (
        Unique("programme_key", "employee_id", "role"),
        CheckConstraint("role in ('mentee', 'mentor')", name="role"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    programme_key: Mapped[str] = mapped_column(String(64))
    employee_id: Mapped[str] = mapped_column(String(_ID))
    role: Mapped[str] = mapped_column(String(8))
    themes: Mapped[list[str]] = mapped_column(JSON, default=list)
    languages: Mapped[list[str]] = mapped_column(JSON, default=list)
    protected_consent: Mapped[bool] = mapped_column(Boolean, default=False)
    source: Mapped[str] = mapped_column(String(128))
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)


class PairingRun(Base):
    """One ``pairing propose``: what it considered, what it proposed, who it left unpaired."""

    __tablename__ = "pairing_run"
    __table_args__ = (CheckConstraint("objective in ('best', 'most')", name="objective"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    programme_key: Mapped[str] = mapped_column(String(64), index=True)
    objective: Mapped[str] = mapped_column(String(8))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)
    mentees: Mapped[int] = mapped_column(Integer)
    mentors: Mapped[int] = mapped_column(Integer)
    pairs: Mapped[int] = mapped_column(Integer)
    total_score: Mapped[float] = mapped_column(Float)
    #: ``[{employee_id, role, reason}]``: eligible people left unpaired, each with why.
    unmatched: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)


class PairingProposal(Base):
    """A pair a run proposed (or an admin locked by hand), with its score explained."""

    __tablename__ = "pairing_proposal"
    __table_args__ = (
        CheckConstraint(
            "status in ('proposed', 'locked', 'rejected', 'approved', 'superseded')",
            name="status",
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    run_id: Mapped[int | None] = mapped_column(ForeignKey("pairing_run.id"), index=True)
    programme_key: Mapped[str] = mapped_column(String(64), index=True)
    mentee: Mapped[str] = mapped_column(String(_ID))
    mentor: Mapped[str] = mapped_column(String(_ID))
    status: Mapped[str] = mapped_column(String(16))
    score: Mapped[float] = mapped_column(Float)
    #: ``{component: {"value": 0-1, "weight": w, "points": w*value}}``; points sum to score.
    breakdown: Mapped[dict[str, Any]] = mapped_column(JSON)
    #: The hard rules it passed, each with what was checked (such as the hours of overlap).
    rules: Mapped[dict[str, str]] = mapped_column(JSON)
    pair_key: Mapped[str | None] = mapped_column(String(128), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
