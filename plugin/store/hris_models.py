"""The HRIS mirror: workers, organisations, competencies, assessments, job-profile requirements
and succession plans, as the HRIS last reported them.

Every mirrored row keeps ``record_hash``, the hash of the normalised record it was written
from, so a sync that sees the same record again leaves the row untouched. Workers are never
deleted: a termination marks them inactive.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from mentorbridge.plugin.store.base import Base, UTCDateTime, utc_now
from mentorbridge.plugin.store.models import Person

__all__ = [
    "Competency",
    "CompetencyAssessment",
    "HrisOrganization",
    "HrisWorker",
    "JobProfile",
    "JobProfileCompetency",
    "StaleField",
    "SuccessionCandidate",
    "SuccessionPlan",
    "WorkerChange",
    "WorkerEvent",
]

_ID = 128


class _Mirrored:
    """Columns every mirrored row has."""

    record_hash: Mapped[str] = mapped_column(String(64))
    first_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)


class HrisWorker(_Mirrored, Base):
    """A worker as the HRIS reports them; linked to the :class:`~plugin.store.models.Person`
    whose opaque id statements carry."""

    __tablename__ = "hris_worker"
    __table_args__ = (
        CheckConstraint("worker_type in ('employee', 'contingent')", name="worker_type"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    workday_id: Mapped[str] = mapped_column(String(_ID), unique=True)
    employee_id: Mapped[str] = mapped_column(String(_ID), index=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"), index=True)
    person: Mapped[Person] = relationship()
    worker_type: Mapped[str] = mapped_column(String(16))
    legal_name: Mapped[str] = mapped_column(String(500))
    preferred_name: Mapped[str | None] = mapped_column(String(500))
    work_email: Mapped[str | None] = mapped_column(String(320))
    business_title: Mapped[str | None] = mapped_column(String(500))
    job_profile_id: Mapped[str | None] = mapped_column(String(_ID), index=True)
    job_profile: Mapped[str | None] = mapped_column(String(500))
    management_level: Mapped[str | None] = mapped_column(String(200))
    supervisory_organization_id: Mapped[str | None] = mapped_column(String(_ID), index=True)
    supervisory_organization: Mapped[str | None] = mapped_column(String(500))
    manager_employee_id: Mapped[str | None] = mapped_column(String(_ID), index=True)
    location: Mapped[str | None] = mapped_column(String(500))
    country: Mapped[str | None] = mapped_column(String(2))
    time_zone: Mapped[str | None] = mapped_column(String(64))
    hire_date: Mapped[date | None] = mapped_column(Date)  # REST may not give it
    original_hire_date: Mapped[date | None] = mapped_column(Date)
    active: Mapped[bool] = mapped_column(Boolean)
    termination_date: Mapped[date | None] = mapped_column(Date)
    additional_jobs: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    source_updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: Only the sensitive fields an admin enabled, for aggregate-only reporting.
    sensitive: Mapped[dict[str, str] | None] = mapped_column(JSON(none_as_null=True))


class WorkerEvent(Base):
    """A termination or rehire a sync noticed, waiting for the steps that act on it (ending
    pairs, suspending LMS users): they set ``handled_at``."""

    __tablename__ = "hris_worker_event"
    __table_args__ = (CheckConstraint("kind in ('terminated', 'rehired')", name="kind"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    worker_id: Mapped[int] = mapped_column(ForeignKey("hris_worker.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    effective_on: Mapped[date | None] = mapped_column(Date)
    sync_run_id: Mapped[int | None] = mapped_column(ForeignKey("sync_run.id"))
    noticed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)
    handled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class WorkerChange(Base):
    """A change of a worker's management level or job profile that a sync noticed.

    The mirror keeps only current values; this log keeps what they were, so reports can count
    promotions after a date. ``changed_at`` is when the HRIS last updated the worker (the
    source's last-updated time), else when the sync noticed the change.
    """

    __tablename__ = "hris_worker_change"
    __table_args__ = (
        CheckConstraint("field in ('management_level', 'job_profile_id')", name="field"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    worker_id: Mapped[int] = mapped_column(ForeignKey("hris_worker.id"), index=True)
    field: Mapped[str] = mapped_column(String(32))
    old_value: Mapped[str] = mapped_column(String(500))
    new_value: Mapped[str | None] = mapped_column(String(500))
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    sync_run_id: Mapped[int | None] = mapped_column(ForeignKey("sync_run.id"))


class HrisOrganization(_Mirrored, Base):
    """A supervisory organisation, found by either of its ids (``workday_id`` or
    ``reference_id``): sources differ in which one they carry."""

    __tablename__ = "hris_organization"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    #: The key the organisation was first stored under (its reference id, else its WID).
    organization_id: Mapped[str] = mapped_column(String(_ID), unique=True)
    #: Its Workday ID (WID), as REST answers name it.
    workday_id: Mapped[str | None] = mapped_column(String(_ID), unique=True)
    #: Its reference id (``SUP_…``), as reports and SOAP name it.
    reference_id: Mapped[str | None] = mapped_column(String(_ID), unique=True)
    name: Mapped[str] = mapped_column(String(500))
    type: Mapped[str | None] = mapped_column(String(64))
    superior_organization_id: Mapped[str | None] = mapped_column(String(_ID))
    manager_employee_id: Mapped[str | None] = mapped_column(String(_ID))
    inactive: Mapped[bool] = mapped_column(Boolean)


class Competency(_Mirrored, Base):
    """A competency of the tenant's library, with the tenant's own proficiency scale
    (``levels``: ``[{level_id, name, rank}]``, rank 1 the lowest)."""

    __tablename__ = "competency"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    competency_id: Mapped[str] = mapped_column(String(_ID), unique=True)
    name: Mapped[str] = mapped_column(String(500))
    category: Mapped[str | None] = mapped_column(String(200))
    scale_id: Mapped[str | None] = mapped_column(String(_ID))
    levels: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    inactive: Mapped[bool] = mapped_column(Boolean)


class CompetencyAssessment(_Mirrored, Base):
    """Where a worker stands on a competency, by one source on one date."""

    __tablename__ = "competency_assessment"
    __table_args__ = (
        UniqueConstraint(
            "employee_id",
            "competency_id",
            "assessed_on",
            "source",
            name="uq_competency_assessment_key",
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    employee_id: Mapped[str] = mapped_column(String(_ID), index=True)
    competency_id: Mapped[str] = mapped_column(String(_ID), index=True)
    level_id: Mapped[str] = mapped_column(String(_ID))
    level: Mapped[str | None] = mapped_column(String(200))
    assessed_on: Mapped[date] = mapped_column(Date)
    source: Mapped[str] = mapped_column(String(64))
    source_updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class JobProfile(_Mirrored, Base):
    """A job profile and, in :class:`JobProfileCompetency`, the competencies it requires."""

    __tablename__ = "job_profile"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    job_profile_id: Mapped[str] = mapped_column(String(_ID), unique=True)
    name: Mapped[str | None] = mapped_column(String(500))


class JobProfileCompetency(Base):
    """One competency a job profile requires, at a level of that competency's scale."""

    __tablename__ = "job_profile_competency"
    __table_args__ = (
        UniqueConstraint("job_profile_id", "competency_id", name="uq_job_profile_competency_key"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    job_profile_id: Mapped[int] = mapped_column(
        ForeignKey("job_profile.id", ondelete="CASCADE"), index=True
    )
    competency_id: Mapped[str] = mapped_column(String(_ID), index=True)
    required_level_id: Mapped[str | None] = mapped_column(String(_ID))
    required_level: Mapped[str | None] = mapped_column(String(200))


class SuccessionPlan(_Mirrored, Base):
    """A position's succession plan; candidates in :class:`SuccessionCandidate`."""

    __tablename__ = "succession_plan"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    position_id: Mapped[str] = mapped_column(String(_ID), unique=True)
    position: Mapped[str | None] = mapped_column(String(500))
    incumbent_employee_id: Mapped[str | None] = mapped_column(String(_ID))
    source_updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class SuccessionCandidate(Base):
    """A candidate on a plan, with the tenant's own readiness value."""

    __tablename__ = "succession_candidate"
    __table_args__ = (
        UniqueConstraint("plan_id", "employee_id", name="uq_succession_candidate_key"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    plan_id: Mapped[int] = mapped_column(
        ForeignKey("succession_plan.id", ondelete="CASCADE"), index=True
    )
    employee_id: Mapped[str] = mapped_column(String(_ID), index=True)
    readiness_id: Mapped[str | None] = mapped_column(String(_ID))
    readiness: Mapped[str | None] = mapped_column(String(200))
    top_candidate: Mapped[bool] = mapped_column(Boolean)
    temporary_fill: Mapped[bool] = mapped_column(Boolean)


class StaleField(Base):
    """A mirrored field whose report column the last run of its stream lacked in every row
    (the integration user lost the field's security): the mirror keeps the values it holds,
    stale since ``since``. ``field`` is ``list.field`` inside a multi-instance field."""

    __tablename__ = "hris_stale_field"

    connector: Mapped[str] = mapped_column(String(64), primary_key=True)
    stream: Mapped[str] = mapped_column(String(64), primary_key=True)
    field: Mapped[str] = mapped_column(String(128), primary_key=True)
    since: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)
    last_run_id: Mapped[int | None] = mapped_column(Integer)
