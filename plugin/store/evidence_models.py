"""Competency evidence: what the mapper concluded per person x competency x side, and why.

A row of :class:`CompetencyEvidence` is the current evidence level of one person for one
succession competency of the mapping (by the mapping's key), on one side of their pairs. It
holds only what may leave Mentorbridge: it rests on completed sessions, achieved goals and
*released* ratings. :class:`EvidenceSource` rows are its provenance. Evidence that disappears
(a release retracted, a session cancelled) is kept as ``withdrawn`` so the systems it reached
(the LRS, Moodle) can follow; ``changed_at`` tells them what changed since their last push.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    CheckConstraint,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from mentorbridge.plugin.store.base import Base, UTCDateTime, utc_now
from mentorbridge.plugin.store.models import Goal, Outcome

__all__ = [
    "CompetencyEvidence",
    "EvidenceChange",
    "EvidenceDirty",
    "EvidenceSource",
    "MapperState",
]


class CompetencyEvidence(Base):
    """One person's evidence for one competency on one side (mentee or mentor)."""

    __tablename__ = "competency_evidence"
    __table_args__ = (
        UniqueConstraint("person_id", "competency_key", "side"),
        CheckConstraint("side in ('mentee', 'mentor')", name="side"),
        CheckConstraint("status in ('current', 'withdrawn')", name="status"),
        CheckConstraint("level >= 0 and level <= 1", name="level"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"), index=True)
    #: The mapping's key for the competency (``digital-fluency``).
    competency_key: Mapped[str] = mapped_column(String(128), index=True)
    side: Mapped[str] = mapped_column(String(8))
    #: The normalised level (0-1) and the rule's name for it; a withdrawn row keeps its last.
    level: Mapped[float] = mapped_column(Float)
    level_name: Mapped[str] = mapped_column(String(100))
    #: The level on the Workday competency's synced proficiency scale, and the Moodle scale value
    #: (1-based), where the mapping names the competency there.
    workday_level_id: Mapped[str | None] = mapped_column(String(128))
    moodle_value: Mapped[int | None] = mapped_column(Integer)
    #: What the level rests on: weighted (decayed) session and goal counts, and the weighted
    #: mean of released ratings (normalised 0-1; ``None`` without any).
    sessions: Mapped[float] = mapped_column(Float)
    goals: Mapped[float] = mapped_column(Float)
    rating: Mapped[float | None] = mapped_column(Float)
    status: Mapped[str] = mapped_column(String(16), default="current")
    #: Bumped on every change; a run that changes nothing leaves it (and ``changed_at``) alone.
    revision: Mapped[int] = mapped_column(Integer, default=1)
    #: SHA-256 of the level and its sources: equal means unchanged.
    digest: Mapped[str] = mapped_column(String(64))
    #: The last evidence statement queued for this row (or its voiding, once withdrawn).
    statement_id: Mapped[str | None] = mapped_column(String(36))
    first_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now, index=True)


class EvidenceSource(Base):
    """One session, goal or released outcome a piece of evidence rests on."""

    __tablename__ = "evidence_source"
    __table_args__ = (
        CheckConstraint("kind in ('session', 'goal', 'outcome')", name="kind"),
        UniqueConstraint("evidence_id", "kind", "ref_key"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    evidence_id: Mapped[int] = mapped_column(
        ForeignKey("competency_evidence.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(16))
    #: The session, goal or outcome key (as the events named it).
    ref_key: Mapped[str] = mapped_column(String(128))
    #: The xAPI statement that recorded it (attended/mentored, achieved, competency evidence).
    statement_id: Mapped[str | None] = mapped_column(String(36))
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime)
    #: Its weight in the level: the mapping's weight times the decay at the run's time.
    weight: Mapped[float] = mapped_column(Float)
    #: A released rating, normalised 0-1 (outcomes only).
    rating: Mapped[float | None] = mapped_column(Float)


class EvidenceChange(Base):
    """One revision of a piece of evidence, as it was when it changed: reports draw trends
    (levels over time) from these."""

    __tablename__ = "evidence_change"
    __table_args__ = (
        UniqueConstraint("evidence_id", "revision"),
        CheckConstraint("status in ('current', 'withdrawn')", name="status"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    evidence_id: Mapped[int] = mapped_column(
        ForeignKey("competency_evidence.id", ondelete="CASCADE")
    )
    revision: Mapped[int] = mapped_column(Integer)
    level: Mapped[float] = mapped_column(Float)
    level_name: Mapped[str] = mapped_column(String(100))
    status: Mapped[str] = mapped_column(String(16))
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class EvidenceDirty(Base):
    """A person whose evidence the next mapper run recomputes (marked with the change that
    touched them, in its transaction)."""

    __tablename__ = "evidence_dirty"

    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"), primary_key=True)
    marked_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)


class MapperState(Base):
    """What the last mapper run was computed against: another mapping, or other synced
    proficiency scales, mean everyone is recomputed."""

    __tablename__ = "mapper_state"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    mapping_digest: Mapped[str] = mapped_column(String(64))
    scales_digest: Mapped[str] = mapped_column(String(64))
    last_run_at: Mapped[datetime] = mapped_column(UTCDateTime)
    #: The last run that recomputed everyone.
    last_full_run_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


# The mapper reads ratings and goals by the person they are about, a batch of people at a time.
Index("ix_outcome_subject_id", Outcome.subject_id)
Index("ix_goal_owner_id", Goal.owner_id)
