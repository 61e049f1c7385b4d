"""A log of workers' management-level and job-profile changes, so reports can count
promotions after pairing (the mirror keeps only current values).

Revision ID: 0010
Revises: 0009
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "hris_worker_change",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("worker_id", sa.Integer(), nullable=False),
        sa.Column("field", sa.String(length=32), nullable=False),
        sa.Column("old_value", sa.String(length=500), nullable=False),
        sa.Column("new_value", sa.String(length=500), nullable=True),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sync_run_id", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "field in ('management_level', 'job_profile_id')",
            name=op.f("ck_hris_worker_change_field"),
        ),
        sa.ForeignKeyConstraint(
            ["sync_run_id"],
            ["sync_run.id"],
            name=op.f("fk_hris_worker_change_sync_run_id_sync_run"),
        ),
        sa.ForeignKeyConstraint(
            ["worker_id"],
            ["hris_worker.id"],
            name=op.f("fk_hris_worker_change_worker_id_hris_worker"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_hris_worker_change")),
    )
    op.create_index(
        op.f("ix_hris_worker_change_worker_id"), "hris_worker_change", ["worker_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_hris_worker_change_worker_id"), table_name="hris_worker_change")
    op.drop_table("hris_worker_change")
