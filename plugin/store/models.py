"""The store's tables: people, the mentoring domain, and the xAPI outbox.

Private content (reflection text, goal wording) lives here and nowhere else. Times are stored
in UTC and always come back timezone-aware, on SQLite as on PostgreSQL.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from mentorbridge.plugin.store.base import Base, UTCDateTime, utc_now

__all__ = [
    "Goal",
    "MentoringSession",
    "OutboxGate",
    "OutboxPayload",
    "OutboxStatement",
    "Outcome",
    "Pair",
    "Person",
    "Programme",
    "Reflection",
]


class Person(Base):
    """Someone the HRIS knows. Statements name them only by ``opaque_id``."""

    __tablename__ = "person"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    worker_id: Mapped[str] = mapped_column(String(64), unique=True)
    opaque_id: Mapped[str] = mapped_column(String(64), unique=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)


class Programme(Base):
    """A reverse-mentoring programme (a cohort or cycle)."""

    __tablename__ = "programme"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)


class Pair(Base):
    """An executive mentee and a junior mentor in a programme; one xAPI registration."""

    __tablename__ = "pair"
    __table_args__ = (
        CheckConstraint("status in ('active', 'ended')", name="status"),
        CheckConstraint("mentee_id <> mentor_id", name="two_people"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(128), unique=True)
    programme_id: Mapped[int] = mapped_column(ForeignKey("programme.id"))
    mentee_id: Mapped[int] = mapped_column(ForeignKey("person.id"), index=True)
    mentor_id: Mapped[int] = mapped_column(ForeignKey("person.id"), index=True)
    registration: Mapped[str] = mapped_column(String(36), unique=True)
    status: Mapped[str] = mapped_column(String(16), default="active")
    started_on: Mapped[date] = mapped_column(Date)
    ended_on: Mapped[date | None] = mapped_column(Date)
    cadence: Mapped[str | None] = mapped_column(String(64))
    themes: Mapped[list[str]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)


class MentoringSession(Base):
    """One meeting of a pair: scheduled, then completed or cancelled."""

    __tablename__ = "mentoring_session"
    __table_args__ = (
        CheckConstraint("status in ('scheduled', 'completed', 'cancelled')", name="status"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(128), unique=True)
    pair_id: Mapped[int] = mapped_column(ForeignKey("pair.id"), index=True)
    sequence: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16))
    planned_start: Mapped[datetime | None] = mapped_column(UTCDateTime)
    planned_minutes: Mapped[int | None] = mapped_column(Integer)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    duration_seconds: Mapped[int | None] = mapped_column(Integer)
    themes: Mapped[list[str]] = mapped_column(JSON, default=list)
    cancel_reason: Mapped[str | None] = mapped_column(String(32))
    attended_statement_id: Mapped[str | None] = mapped_column(String(36))
    mentored_statement_id: Mapped[str | None] = mapped_column(String(36))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)


class Goal(Base):
    """A goal a participant set. ``title`` is private to the pair."""

    __tablename__ = "goal"
    __table_args__ = (CheckConstraint("status in ('planned', 'achieved')", name="status"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(128), unique=True)
    pair_id: Mapped[int] = mapped_column(ForeignKey("pair.id"), index=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("person.id"))
    session_id: Mapped[int | None] = mapped_column(ForeignKey("mentoring_session.id"))
    title: Mapped[str] = mapped_column(Text)
    target_date: Mapped[date | None] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(16), default="planned")
    planned_at: Mapped[datetime] = mapped_column(UTCDateTime)
    achieved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    planned_statement_id: Mapped[str] = mapped_column(String(36))
    achieved_statement_id: Mapped[str | None] = mapped_column(String(36))


class Reflection(Base):
    """A participant's reflection on a session. ``body`` never leaves the store."""

    __tablename__ = "reflection"
    __table_args__ = (
        CheckConstraint("visibility in ('private', 'pair', 'released')", name="visibility"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(128), unique=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("mentoring_session.id"), index=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("person.id"))
    body: Mapped[str] = mapped_column(Text)
    visibility: Mapped[str] = mapped_column(String(16), default="private")
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Outcome(Base):
    """A participant's rating of progress on a competency or programme theme."""

    __tablename__ = "outcome"
    __table_args__ = (
        CheckConstraint("scale_min < scale_max", name="scale"),
        CheckConstraint("rating >= scale_min and rating <= scale_max", name="rating_in_scale"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(128), unique=True)
    pair_id: Mapped[int] = mapped_column(ForeignKey("pair.id"), index=True)
    session_id: Mapped[int | None] = mapped_column(ForeignKey("mentoring_session.id"))
    subject_id: Mapped[int] = mapped_column(ForeignKey("person.id"))
    rater_id: Mapped[int] = mapped_column(ForeignKey("person.id"))
    competency: Mapped[str] = mapped_column(String(500))
    competency_name: Mapped[str] = mapped_column(String(200))
    rating: Mapped[float] = mapped_column(Float)
    scale_min: Mapped[float] = mapped_column(Float)
    scale_max: Mapped[float] = mapped_column(Float)
    released: Mapped[bool] = mapped_column(Boolean, default=False)
    rated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    #: The competency-evidence statement, for a released rating.
    evidence_statement_id: Mapped[str | None] = mapped_column(String(36))


class OutboxStatement(Base):
    """A statement waiting for (or done with) delivery: the exact bytes we send, every time.

    ``state`` is ``pending`` → ``delivered``, or ``dead`` (parked with the LRS's answer until
    an operator retries it). A flusher owns a pending row while ``claimed_until`` is ahead.
    """

    __tablename__ = "outbox"
    __table_args__ = (
        CheckConstraint("state in ('pending', 'delivered', 'dead')", name="state"),
        Index(
            "ix_outbox_pending",
            "id",
            sqlite_where=text("state = 'pending'"),
            postgresql_where=text("state = 'pending'"),
        ),
        # Room on each page, so claiming and renewing a lease (unindexed columns) are HOT
        # updates on PostgreSQL: no index entries written for them.
        {"postgresql_with": {"fillfactor": 50}},
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    statement_id: Mapped[str] = mapped_column(String(36), unique=True)
    template: Mapped[str] = mapped_column(String(64))
    verb: Mapped[str] = mapped_column(String(255))
    registration: Mapped[str | None] = mapped_column(String(36))
    session_id: Mapped[int | None] = mapped_column(ForeignKey("mentoring_session.id"), index=True)
    voids_statement_id: Mapped[str | None] = mapped_column(String(36))
    body: Mapped[OutboxPayload] = relationship(
        lazy="joined", cascade="all, delete-orphan", single_parent=True
    )
    state: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    lrs_status: Mapped[int | None] = mapped_column(Integer)
    lrs_response: Mapped[str | None] = mapped_column(Text)

    @property
    def payload(self) -> bytes:
        """The exact bytes sent to the LRS."""
        return bytes(self.body.payload)


class OutboxPayload(Base):
    """A statement's bytes, apart from its delivery state: claiming and settling rows then
    rewrites a few small columns, not the statement (on SQLite and PostgreSQL alike)."""

    __tablename__ = "outbox_payload"

    outbox_id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"),
        ForeignKey("outbox.id", ondelete="CASCADE"),
        primary_key=True,
    )
    payload: Mapped[bytes] = mapped_column(LargeBinary)


class OutboxGate(Base):
    """The queue's one backoff: while the LRS is unavailable, nothing is claimed before
    ``retry_at``. One row; an LRS outage affects every statement alike, and a shared gate keeps
    the queue in order (a voiding statement never overtakes the statement it voids)."""

    __tablename__ = "outbox_gate"
    __table_args__ = (CheckConstraint("id = 1", name="single_row"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    retry_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
