"""The Moodle push's memory: users, managed framework objects, learning plans, and the journal
of ratings and completions written.

Revision ID: 0012
Revises: 0011
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

_WHEN = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "moodle_user",
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("moodle_id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(length=100), nullable=False),
        sa.Column("matched_by", sa.String(length=16), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("suspended", sa.Boolean(), nullable=False),
        sa.Column("enrolled", sa.Boolean(), nullable=False),
        sa.Column("updated_at", _WHEN, nullable=False),
        sa.CheckConstraint(
            "matched_by in ('idnumber', 'email', 'username', 'created')",
            name=op.f("ck_moodle_user_matched_by"),
        ),
        sa.ForeignKeyConstraint(
            ["person_id"], ["person.id"], name=op.f("fk_moodle_user_person_id_person")
        ),
        sa.PrimaryKeyConstraint("person_id", name=op.f("pk_moodle_user")),
        sa.UniqueConstraint("moodle_id", name=op.f("uq_moodle_user_moodle_id")),
    )
    op.create_table(
        "moodle_object",
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("moodle_id", sa.Integer(), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("updated_at", _WHEN, nullable=False),
        sa.CheckConstraint(
            "kind in ('framework', 'competency', 'course_link')",
            name=op.f("ck_moodle_object_kind"),
        ),
        sa.PrimaryKeyConstraint("kind", "key", name=op.f("pk_moodle_object")),
    )
    op.create_table(
        "moodle_plan",
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("plan_id", sa.Integer(), nullable=False),
        sa.Column("competencies", sa.JSON(), nullable=False),
        sa.Column("updated_at", _WHEN, nullable=False),
        sa.ForeignKeyConstraint(
            ["person_id"], ["person.id"], name=op.f("fk_moodle_plan_person_id_person")
        ),
        sa.PrimaryKeyConstraint("person_id", name=op.f("pk_moodle_plan")),
    )
    op.create_table(
        "moodle_evidence_push",
        sa.Column("evidence_id", sa.Integer(), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=8), nullable=False),
        sa.Column("grade", sa.Integer(), nullable=False),
        sa.Column("moodle_evidence_id", sa.Integer(), nullable=True),
        sa.Column("pushed_at", _WHEN, nullable=False),
        sa.CheckConstraint(
            "state in ('pending', 'done')", name=op.f("ck_moodle_evidence_push_state")
        ),
        sa.ForeignKeyConstraint(
            ["evidence_id"],
            ["competency_evidence.id"],
            name=op.f("fk_moodle_evidence_push_evidence_id_competency_evidence"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("evidence_id", "revision", name=op.f("pk_moodle_evidence_push")),
    )
    op.create_table(
        "moodle_milestone",
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("milestone", sa.String(length=32), nullable=False),
        sa.Column("cmid", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=8), nullable=False),
        sa.Column("completed_at", _WHEN, nullable=False),
        sa.CheckConstraint("state in ('pending', 'done')", name=op.f("ck_moodle_milestone_state")),
        sa.ForeignKeyConstraint(
            ["person_id"], ["person.id"], name=op.f("fk_moodle_milestone_person_id_person")
        ),
        sa.PrimaryKeyConstraint("person_id", "milestone", name=op.f("pk_moodle_milestone")),
    )


def downgrade() -> None:
    for table in (
        "moodle_milestone",
        "moodle_evidence_push",
        "moodle_plan",
        "moodle_object",
        "moodle_user",
    ):
        op.drop_table(table)
