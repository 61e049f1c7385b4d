"""Pairing: each side's intake, proposal runs with who they left unpaired and why, and the
proposed pairs an admin locks, rejects or approves.

Revision ID: 0014
Revises: 0013
"""

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

_WHEN = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "pairing_intake",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("programme_key", sa.String(length=64), nullable=False),
        sa.Column("employee_id", sa.String(length=128), nullable=False),
        sa.Column("role", sa.String(length=8), nullable=False),
        sa.Column("themes", sa.JSON(), nullable=False),
        sa.Column("languages", sa.JSON(), nullable=False),
        sa.Column("protected_consent", sa.Boolean(), nullable=False),
        sa.Column("source", sa.String(length=128), nullable=False),
        sa.Column("submitted_at", _WHEN, nullable=False),
        sa.CheckConstraint("role in ('mentee', 'mentor')", name=op.f("ck_pairing_intake_role")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pairing_intake")),
        sa.UniqueConstraint(
            "programme_key", "employee_id", "role", name=op.f("uq_pairing_intake_programme_key")
        ),
    )
    op.create_table(
        "pairing_run",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("programme_key", sa.String(length=64), nullable=False),
        sa.Column("objective", sa.String(length=8), nullable=False),
        sa.Column("started_at", _WHEN, nullable=False),
        sa.Column("mentees", sa.Integer(), nullable=False),
        sa.Column("mentors", sa.Integer(), nullable=False),
        sa.Column("pairs", sa.Integer(), nullable=False),
        sa.Column("total_score", sa.Float(), nullable=False),
        sa.Column("unmatched", sa.JSON(), nullable=False),
        sa.CheckConstraint("objective in ('best', 'most')", name=op.f("ck_pairing_run_objective")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pairing_run")),
    )
    op.create_index(
        op.f("ix_pairing_run_programme_key"), "pairing_run", ["programme_key"], unique=False
    )
    op.create_table(
        "pairing_proposal",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=True),
        sa.Column("programme_key", sa.String(length=64), nullable=False),
        sa.Column("mentee", sa.String(length=128), nullable=False),
        sa.Column("mentor", sa.String(length=128), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("breakdown", sa.JSON(), nullable=False),
        sa.Column("rules", sa.JSON(), nullable=False),
        sa.Column("pair_key", sa.String(length=128), nullable=True),
        sa.Column("created_at", _WHEN, nullable=False),
        sa.Column("decided_at", _WHEN, nullable=True),
        sa.CheckConstraint(
            "status in ('proposed', 'locked', 'rejected', 'approved', 'superseded')",
            name=op.f("ck_pairing_proposal_status"),
        ),
        sa.ForeignKeyConstraint(
            ["run_id"], ["pairing_run.id"], name=op.f("fk_pairing_proposal_run_id_pairing_run")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pairing_proposal")),
        sa.UniqueConstraint("pair_key", name=op.f("uq_pairing_proposal_pair_key")),
    )
    op.create_index(
        op.f("ix_pairing_proposal_programme_key"),
        "pairing_proposal",
        ["programme_key"],
        unique=False,
    )
    op.create_index(
        op.f("ix_pairing_proposal_run_id"), "pairing_proposal", ["run_id"], unique=False
    )


def downgrade() -> None:
    op.drop_table("pairing_proposal")
    op.drop_table("pairing_run")
    op.drop_table("pairing_intake")
