"""The HRIS mirror (workers, organisations, competencies, assessments, job profiles,
succession plans), worker events, sync runs and bookmarks, rotated credentials, job leases.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "competency",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("competency_id", sa.String(length=128), nullable=False),
        sa.Column("name", sa.String(length=500), nullable=False),
        sa.Column("category", sa.String(length=200), nullable=True),
        sa.Column("scale_id", sa.String(length=128), nullable=True),
        sa.Column("levels", sa.JSON(), nullable=False),
        sa.Column("inactive", sa.Boolean(), nullable=False),
        sa.Column("record_hash", sa.String(length=64), nullable=False),
        sa.Column("first_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_competency")),
        sa.UniqueConstraint("competency_id", name=op.f("uq_competency_competency_id")),
    )
    op.create_table(
        "competency_assessment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("employee_id", sa.String(length=128), nullable=False),
        sa.Column("competency_id", sa.String(length=128), nullable=False),
        sa.Column("level_id", sa.String(length=128), nullable=False),
        sa.Column("level", sa.String(length=200), nullable=True),
        sa.Column("assessed_on", sa.Date(), nullable=False),
        sa.Column("source", sa.String(length=64), nullable=False),
        sa.Column("source_updated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("record_hash", sa.String(length=64), nullable=False),
        sa.Column("first_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_competency_assessment")),
        sa.UniqueConstraint(
            "employee_id",
            "competency_id",
            "assessed_on",
            "source",
            name="uq_competency_assessment_key",
        ),
    )
    op.create_index(
        op.f("ix_competency_assessment_competency_id"),
        "competency_assessment",
        ["competency_id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_competency_assessment_employee_id"),
        "competency_assessment",
        ["employee_id"],
        unique=False,
    )
    op.create_table(
        "hris_organization",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organization_id", sa.String(length=128), nullable=False),
        sa.Column("name", sa.String(length=500), nullable=False),
        sa.Column("type", sa.String(length=64), nullable=True),
        sa.Column("superior_organization_id", sa.String(length=128), nullable=True),
        sa.Column("manager_employee_id", sa.String(length=128), nullable=True),
        sa.Column("inactive", sa.Boolean(), nullable=False),
        sa.Column("record_hash", sa.String(length=64), nullable=False),
        sa.Column("first_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_hris_organization")),
        sa.UniqueConstraint("organization_id", name=op.f("uq_hris_organization_organization_id")),
    )
    op.create_table(
        "job_lease",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("owner", sa.String(length=128), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_job_lease")),
    )
    op.create_table(
        "job_profile",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("job_profile_id", sa.String(length=128), nullable=False),
        sa.Column("name", sa.String(length=500), nullable=True),
        sa.Column("record_hash", sa.String(length=64), nullable=False),
        sa.Column("first_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_job_profile")),
        sa.UniqueConstraint("job_profile_id", name=op.f("uq_job_profile_job_profile_id")),
    )
    op.create_table(
        "oauth_credential",
        sa.Column("provider", sa.String(length=64), nullable=False),
        sa.Column("client_id", sa.String(length=255), nullable=False),
        sa.Column("refresh_token", sa.Text(), nullable=False),
        sa.Column("seed_fingerprint", sa.String(length=64), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("provider", "client_id", name=op.f("pk_oauth_credential")),
    )
    op.create_table(
        "succession_plan",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("position_id", sa.String(length=128), nullable=False),
        sa.Column("position", sa.String(length=500), nullable=True),
        sa.Column("incumbent_employee_id", sa.String(length=128), nullable=True),
        sa.Column("source_updated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("record_hash", sa.String(length=64), nullable=False),
        sa.Column("first_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_succession_plan")),
        sa.UniqueConstraint("position_id", name=op.f("uq_succession_plan_position_id")),
    )
    op.create_table(
        "sync_bookmark",
        sa.Column("connector", sa.String(length=64), nullable=False),
        sa.Column("stream", sa.String(length=64), nullable=False),
        sa.Column("value", sa.String(length=64), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("connector", "stream", name=op.f("pk_sync_bookmark")),
    )
    op.create_table(
        "sync_run",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("connector", sa.String(length=64), nullable=False),
        sa.Column("mode", sa.String(length=16), nullable=False),
        sa.Column("dry_run", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("counts", sa.JSON(), nullable=False),
        sa.Column("errors", sa.JSON(), nullable=False),
        sa.Column("message", sa.Text(), nullable=True),
        sa.CheckConstraint("mode in ('full', 'incremental')", name=op.f("ck_sync_run_mode")),
        sa.CheckConstraint(
            "status in ('running', 'succeeded', 'failed')", name=op.f("ck_sync_run_status")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sync_run")),
    )
    op.create_index(op.f("ix_sync_run_connector"), "sync_run", ["connector"], unique=False)
    op.create_table(
        "hris_worker",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("workday_id", sa.String(length=128), nullable=False),
        sa.Column("employee_id", sa.String(length=128), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("worker_type", sa.String(length=16), nullable=False),
        sa.Column("legal_name", sa.String(length=500), nullable=False),
        sa.Column("preferred_name", sa.String(length=500), nullable=True),
        sa.Column("work_email", sa.String(length=320), nullable=True),
        sa.Column("business_title", sa.String(length=500), nullable=True),
        sa.Column("job_profile_id", sa.String(length=128), nullable=True),
        sa.Column("job_profile", sa.String(length=500), nullable=True),
        sa.Column("management_level", sa.String(length=200), nullable=True),
        sa.Column("supervisory_organization_id", sa.String(length=128), nullable=True),
        sa.Column("supervisory_organization", sa.String(length=500), nullable=True),
        sa.Column("manager_employee_id", sa.String(length=128), nullable=True),
        sa.Column("location", sa.String(length=500), nullable=True),
        sa.Column("country", sa.String(length=2), nullable=True),
        sa.Column("time_zone", sa.String(length=64), nullable=True),
        sa.Column("hire_date", sa.Date(), nullable=False),
        sa.Column("original_hire_date", sa.Date(), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("termination_date", sa.Date(), nullable=True),
        sa.Column("additional_jobs", sa.JSON(), nullable=False),
        sa.Column("source_updated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("sensitive", sa.JSON(), nullable=True),
        sa.Column("record_hash", sa.String(length=64), nullable=False),
        sa.Column("first_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "worker_type in ('employee', 'contingent')", name=op.f("ck_hris_worker_worker_type")
        ),
        sa.ForeignKeyConstraint(
            ["person_id"], ["person.id"], name=op.f("fk_hris_worker_person_id_person")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_hris_worker")),
        sa.UniqueConstraint("workday_id", name=op.f("uq_hris_worker_workday_id")),
    )
    op.create_index(
        op.f("ix_hris_worker_employee_id"), "hris_worker", ["employee_id"], unique=False
    )
    op.create_index(
        op.f("ix_hris_worker_job_profile_id"), "hris_worker", ["job_profile_id"], unique=False
    )
    op.create_index(
        op.f("ix_hris_worker_manager_employee_id"),
        "hris_worker",
        ["manager_employee_id"],
        unique=False,
    )
    op.create_index(op.f("ix_hris_worker_person_id"), "hris_worker", ["person_id"], unique=False)
    op.create_index(
        op.f("ix_hris_worker_supervisory_organization_id"),
        "hris_worker",
        ["supervisory_organization_id"],
        unique=False,
    )
    op.create_table(
        "job_profile_competency",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("job_profile_id", sa.Integer(), nullable=False),
        sa.Column("competency_id", sa.String(length=128), nullable=False),
        sa.Column("required_level_id", sa.String(length=128), nullable=True),
        sa.Column("required_level", sa.String(length=200), nullable=True),
        sa.ForeignKeyConstraint(
            ["job_profile_id"],
            ["job_profile.id"],
            name=op.f("fk_job_profile_competency_job_profile_id_job_profile"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_job_profile_competency")),
        sa.UniqueConstraint(
            "job_profile_id", "competency_id", name="uq_job_profile_competency_key"
        ),
    )
    op.create_index(
        op.f("ix_job_profile_competency_competency_id"),
        "job_profile_competency",
        ["competency_id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_job_profile_competency_job_profile_id"),
        "job_profile_competency",
        ["job_profile_id"],
        unique=False,
    )
    op.create_table(
        "succession_candidate",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("plan_id", sa.Integer(), nullable=False),
        sa.Column("employee_id", sa.String(length=128), nullable=False),
        sa.Column("readiness_id", sa.String(length=128), nullable=True),
        sa.Column("readiness", sa.String(length=200), nullable=True),
        sa.Column("top_candidate", sa.Boolean(), nullable=False),
        sa.Column("temporary_fill", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["plan_id"],
            ["succession_plan.id"],
            name=op.f("fk_succession_candidate_plan_id_succession_plan"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_succession_candidate")),
        sa.UniqueConstraint("plan_id", "employee_id", name="uq_succession_candidate_key"),
    )
    op.create_index(
        op.f("ix_succession_candidate_employee_id"),
        "succession_candidate",
        ["employee_id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_succession_candidate_plan_id"), "succession_candidate", ["plan_id"], unique=False
    )
    op.create_table(
        "hris_worker_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("worker_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("effective_on", sa.Date(), nullable=True),
        sa.Column("sync_run_id", sa.Integer(), nullable=True),
        sa.Column("noticed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("handled_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "kind in ('terminated', 'rehired')", name=op.f("ck_hris_worker_event_kind")
        ),
        sa.ForeignKeyConstraint(
            ["sync_run_id"], ["sync_run.id"], name=op.f("fk_hris_worker_event_sync_run_id_sync_run")
        ),
        sa.ForeignKeyConstraint(
            ["worker_id"],
            ["hris_worker.id"],
            name=op.f("fk_hris_worker_event_worker_id_hris_worker"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_hris_worker_event")),
    )
    op.create_index(
        op.f("ix_hris_worker_event_worker_id"), "hris_worker_event", ["worker_id"], unique=False
    )


def downgrade() -> None:
    for table in (
        "hris_worker_event",
        "succession_candidate",
        "job_profile_competency",
        "hris_worker",
        "sync_run",
        "sync_bookmark",
        "succession_plan",
        "oauth_credential",
        "job_profile",
        "job_lease",
        "hris_organization",
        "competency_assessment",
        "competency",
    ):
        op.drop_table(table)
