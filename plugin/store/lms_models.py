"""What Mentorbridge has put into the LMS (Moodle), so a push writes only what changed and a
re-run after a crash never writes the same thing twice.

Moodle has no external-id field on users' ratings or completions, so these tables are the
push's memory: which Moodle user a person is, which framework and competencies stand for the
mapping, which plan holds a person's competencies, and a journal of the ratings and
completions written. A journal row is committed as ``pending`` *before* its write and marked
``done`` after it; a ``pending`` row found by the next run means "this may have reached Moodle":
that run reads Moodle back before deciding to write.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, CheckConstraint, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from mentorbridge.plugin.store.base import Base, UTCDateTime, utc_now

__all__ = ["MoodleEvidencePush", "MoodleMilestone", "MoodleObject", "MoodlePlan", "MoodleUser"]


class MoodleUser(Base):
    """The Moodle user a person is, how they were found, and what was last written to them."""

    __tablename__ = "moodle_user"
    __table_args__ = (
        CheckConstraint(
            "matched_by in ('idnumber', 'email', 'username', 'created')", name="matched_by"
        ),
    )

    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"), primary_key=True)
    moodle_id: Mapped[int] = mapped_column(Integer, unique=True)
    username: Mapped[str] = mapped_column(String(100))
    matched_by: Mapped[str] = mapped_column(String(16))
    #: SHA-256 of the names, email, idnumber and suspension last written (or found equal).
    digest: Mapped[str] = mapped_column(String(64))
    suspended: Mapped[bool] = mapped_column(Boolean, default=False)
    enrolled: Mapped[bool] = mapped_column(Boolean, default=False)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)


class MoodleObject(Base):
    """A framework, competency or course link Mentorbridge manages, by its own key.

    ``kind`` is ``framework`` (key: the framework idnumber), ``competency`` (key: the mapping's
    competency key) or ``course_link`` (key: ``<course id>:<competency key>``).
    """

    __tablename__ = "moodle_object"
    __table_args__ = (
        CheckConstraint("kind in ('framework', 'competency', 'course_link')", name="kind"),
    )

    kind: Mapped[str] = mapped_column(String(16), primary_key=True)
    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    moodle_id: Mapped[int] = mapped_column(Integer)
    #: SHA-256 of the fields last written: another digest means "update it".
    digest: Mapped[str] = mapped_column(String(64))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)


class MoodlePlan(Base):
    """A person's learning plan for the programme and the competencies already in it."""

    __tablename__ = "moodle_plan"

    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"), primary_key=True)
    plan_id: Mapped[int] = mapped_column(Integer)
    #: Moodle competency ids added to the plan.
    competencies: Mapped[list[Any]] = mapped_column(JSON, default=list)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)


class MoodleEvidencePush(Base):
    """One revision of a piece of evidence written as a rating on a learning plan."""

    __tablename__ = "moodle_evidence_push"
    __table_args__ = (CheckConstraint("state in ('pending', 'done')", name="state"),)

    evidence_id: Mapped[int] = mapped_column(
        ForeignKey("competency_evidence.id", ondelete="CASCADE"), primary_key=True
    )
    revision: Mapped[int] = mapped_column(Integer, primary_key=True)
    state: Mapped[str] = mapped_column(String(8))
    #: The Moodle scale value written, and the id of the evidence record Moodle made.
    grade: Mapped[int] = mapped_column(Integer)
    moodle_evidence_id: Mapped[int | None] = mapped_column(Integer)
    pushed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)


class MoodleMilestone(Base):
    """A programme milestone completed for a person as an activity of the programme course."""

    __tablename__ = "moodle_milestone"
    __table_args__ = (CheckConstraint("state in ('pending', 'done')", name="state"),)

    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"), primary_key=True)
    milestone: Mapped[str] = mapped_column(String(32), primary_key=True)
    cmid: Mapped[int] = mapped_column(Integer)
    state: Mapped[str] = mapped_column(String(8))
    completed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)
