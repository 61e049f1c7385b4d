"""Competency evidence: the mapper's evidence per person x competency x side, its sources and
its history of changes, the people whose evidence the next run recomputes, and what the last
run was computed against; ratings and goals indexed by the person they are about (the
mapper reads them a batch of people at a time).

Revision ID: 0009
Revises: 0008
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(op.f("ix_outcome_subject_id"), "outcome", ["subject_id"])
    op.create_index(op.f("ix_goal_owner_id"), "goal", ["owner_id"])
    op.create_table(
        "competency_evidence",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("competency_key", sa.String(length=128), nullable=False),
        sa.Column("side", sa.String(length=8), nullable=False),
        sa.Column("level", sa.Float(), nullable=False),
        sa.Column("level_name", sa.String(length=100), nullable=False),
        sa.Column("workday_level_id", sa.String(length=128), nullable=True),
        sa.Column("moodle_value", sa.Integer(), nullable=True),
        sa.Column("sessions", sa.Float(), nullable=False),
        sa.Column("goals", sa.Float(), nullable=False),
        sa.Column("rating", sa.Float(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("statement_id", sa.String(length=36), nullable=True),
        sa.Column("first_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "side in ('mentee', 'mentor')", name=op.f("ck_competency_evidence_side")
        ),
        sa.CheckConstraint(
            "status in ('current', 'withdrawn')", name=op.f("ck_competency_evidence_status")
        ),
        sa.CheckConstraint("level >= 0 and level <= 1", name=op.f("ck_competency_evidence_level")),
        sa.ForeignKeyConstraint(
            ["person_id"], ["person.id"], name=op.f("fk_competency_evidence_person_id_person")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_competency_evidence")),
        sa.UniqueConstraint(
            "person_id",
            "competency_key",
            "side",
            name=op.f("uq_competency_evidence_person_id"),
        ),
    )
    op.create_index(op.f("ix_competency_evidence_person_id"), "competency_evidence", ["person_id"])
    op.create_index(
        op.f("ix_competency_evidence_competency_key"), "competency_evidence", ["competency_key"]
    )
    op.create_index(
        op.f("ix_competency_evidence_changed_at"), "competency_evidence", ["changed_at"]
    )
    op.create_table(
        "evidence_source",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("evidence_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("ref_key", sa.String(length=128), nullable=False),
        sa.Column("statement_id", sa.String(length=36), nullable=True),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("weight", sa.Float(), nullable=False),
        sa.Column("rating", sa.Float(), nullable=True),
        sa.CheckConstraint(
            "kind in ('session', 'goal', 'outcome')", name=op.f("ck_evidence_source_kind")
        ),
        sa.ForeignKeyConstraint(
            ["evidence_id"],
            ["competency_evidence.id"],
            name=op.f("fk_evidence_source_evidence_id_competency_evidence"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_evidence_source")),
        sa.UniqueConstraint(
            "evidence_id",
            "kind",
            "ref_key",
            name=op.f("uq_evidence_source_evidence_id"),
        ),
    )
    op.create_index(op.f("ix_evidence_source_evidence_id"), "evidence_source", ["evidence_id"])
    op.create_table(
        "evidence_change",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("evidence_id", sa.Integer(), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("level", sa.Float(), nullable=False),
        sa.Column("level_name", sa.String(length=100), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "status in ('current', 'withdrawn')", name=op.f("ck_evidence_change_status")
        ),
        sa.ForeignKeyConstraint(
            ["evidence_id"],
            ["competency_evidence.id"],
            name=op.f("fk_evidence_change_evidence_id_competency_evidence"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_evidence_change")),
        sa.UniqueConstraint("evidence_id", "revision", name=op.f("uq_evidence_change_evidence_id")),
    )
    op.create_index(op.f("ix_evidence_change_changed_at"), "evidence_change", ["changed_at"])
    op.create_table(
        "evidence_dirty",
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("marked_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["person_id"], ["person.id"], name=op.f("fk_evidence_dirty_person_id_person")
        ),
        sa.PrimaryKeyConstraint("person_id", name=op.f("pk_evidence_dirty")),
    )
    op.create_table(
        "mapper_state",
        sa.Column("name", sa.String(length=32), nullable=False),
        sa.Column("mapping_digest", sa.String(length=64), nullable=False),
        sa.Column("scales_digest", sa.String(length=64), nullable=False),
        sa.Column("last_run_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_full_run_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_mapper_state")),
    )


def downgrade() -> None:
    op.drop_table("mapper_state")
    op.drop_table("evidence_dirty")
    op.drop_index(op.f("ix_evidence_change_changed_at"), table_name="evidence_change")
    op.drop_table("evidence_change")
    op.drop_index(op.f("ix_evidence_source_evidence_id"), table_name="evidence_source")
    op.drop_table("evidence_source")
    op.drop_index(op.f("ix_competency_evidence_changed_at"), table_name="competency_evidence")
    op.drop_index(op.f("ix_competency_evidence_competency_key"), table_name="competency_evidence")
    op.drop_index(op.f("ix_competency_evidence_person_id"), table_name="competency_evidence")
    op.drop_table("competency_evidence")
    op.drop_index(op.f("ix_goal_owner_id"), table_name="goal")
    op.drop_index(op.f("ix_outcome_subject_id"), table_name="outcome")
