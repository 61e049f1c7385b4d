"""Core domain (people, programmes, pairs, sessions, goals, reflections, outcomes) and the outbox.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "person",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("worker_id", sa.String(length=64), nullable=False),
        sa.Column("opaque_id", sa.String(length=64), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_person")),
        sa.UniqueConstraint("opaque_id", name=op.f("uq_person_opaque_id")),
        sa.UniqueConstraint("worker_id", name=op.f("uq_person_worker_id")),
    )
    op.create_table(
        "programme",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_programme")),
        sa.UniqueConstraint("key", name=op.f("uq_programme_key")),
    )
    op.create_table(
        "pair",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=128), nullable=False),
        sa.Column("programme_id", sa.Integer(), nullable=False),
        sa.Column("mentee_id", sa.Integer(), nullable=False),
        sa.Column("mentor_id", sa.Integer(), nullable=False),
        sa.Column("registration", sa.String(length=36), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("started_on", sa.Date(), nullable=False),
        sa.Column("ended_on", sa.Date(), nullable=True),
        sa.Column("cadence", sa.String(length=64), nullable=True),
        sa.Column("themes", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("status in ('active', 'ended')", name=op.f("ck_pair_status")),
        sa.CheckConstraint("mentee_id <> mentor_id", name=op.f("ck_pair_two_people")),
        sa.ForeignKeyConstraint(
            ["mentee_id"], ["person.id"], name=op.f("fk_pair_mentee_id_person")
        ),
        sa.ForeignKeyConstraint(
            ["mentor_id"], ["person.id"], name=op.f("fk_pair_mentor_id_person")
        ),
        sa.ForeignKeyConstraint(
            ["programme_id"], ["programme.id"], name=op.f("fk_pair_programme_id_programme")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pair")),
        sa.UniqueConstraint("key", name=op.f("uq_pair_key")),
        sa.UniqueConstraint("registration", name=op.f("uq_pair_registration")),
    )
    op.create_index(op.f("ix_pair_mentee_id"), "pair", ["mentee_id"], unique=False)
    op.create_index(op.f("ix_pair_mentor_id"), "pair", ["mentor_id"], unique=False)
    op.create_table(
        "mentoring_session",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=128), nullable=False),
        sa.Column("pair_id", sa.Integer(), nullable=False),
        sa.Column("sequence", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("planned_start", sa.DateTime(timezone=True), nullable=True),
        sa.Column("planned_minutes", sa.Integer(), nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("duration_seconds", sa.Integer(), nullable=True),
        sa.Column("themes", sa.JSON(), nullable=False),
        sa.Column("attended_statement_id", sa.String(length=36), nullable=True),
        sa.Column("mentored_statement_id", sa.String(length=36), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "status in ('scheduled', 'completed', 'cancelled')",
            name=op.f("ck_mentoring_session_status"),
        ),
        sa.ForeignKeyConstraint(
            ["pair_id"], ["pair.id"], name=op.f("fk_mentoring_session_pair_id_pair")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mentoring_session")),
        sa.UniqueConstraint("key", name=op.f("uq_mentoring_session_key")),
    )
    op.create_index(
        op.f("ix_mentoring_session_pair_id"), "mentoring_session", ["pair_id"], unique=False
    )
    op.create_table(
        "goal",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=128), nullable=False),
        sa.Column("pair_id", sa.Integer(), nullable=False),
        sa.Column("owner_id", sa.Integer(), nullable=False),
        sa.Column("session_id", sa.Integer(), nullable=True),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("target_date", sa.Date(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("planned_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("achieved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("planned_statement_id", sa.String(length=36), nullable=False),
        sa.CheckConstraint("status in ('planned', 'achieved')", name=op.f("ck_goal_status")),
        sa.ForeignKeyConstraint(["owner_id"], ["person.id"], name=op.f("fk_goal_owner_id_person")),
        sa.ForeignKeyConstraint(["pair_id"], ["pair.id"], name=op.f("fk_goal_pair_id_pair")),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["mentoring_session.id"],
            name=op.f("fk_goal_session_id_mentoring_session"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_goal")),
        sa.UniqueConstraint("key", name=op.f("uq_goal_key")),
    )
    op.create_index(op.f("ix_goal_pair_id"), "goal", ["pair_id"], unique=False)
    op.create_table(
        "outbox",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("statement_id", sa.String(length=36), nullable=False),
        sa.Column("template", sa.String(length=64), nullable=False),
        sa.Column("verb", sa.String(length=255), nullable=False),
        sa.Column("registration", sa.String(length=36), nullable=True),
        sa.Column("session_id", sa.Integer(), nullable=True),
        sa.Column("voids_statement_id", sa.String(length=36), nullable=True),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("claimed_by", sa.String(length=64), nullable=True),
        sa.Column("claimed_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("lrs_status", sa.Integer(), nullable=True),
        sa.Column("lrs_response", sa.Text(), nullable=True),
        sa.CheckConstraint(
            "state in ('pending', 'delivered', 'dead')", name=op.f("ck_outbox_state")
        ),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["mentoring_session.id"],
            name=op.f("fk_outbox_session_id_mentoring_session"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox")),
        sa.UniqueConstraint("statement_id", name=op.f("uq_outbox_statement_id")),
        postgresql_with={"fillfactor": 50},
    )
    op.create_index(
        "ix_outbox_pending",
        "outbox",
        ["id"],
        unique=False,
        sqlite_where=sa.text("state = 'pending'"),
        postgresql_where=sa.text("state = 'pending'"),
    )
    op.create_index(op.f("ix_outbox_session_id"), "outbox", ["session_id"], unique=False)
    op.create_table(
        "outbox_payload",
        sa.Column(
            "outbox_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("payload", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(
            ["outbox_id"],
            ["outbox.id"],
            name=op.f("fk_outbox_payload_outbox_id_outbox"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("outbox_id", name=op.f("pk_outbox_payload")),
    )
    gate = op.create_table(
        "outbox_gate",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("retry_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.CheckConstraint("id = 1", name=op.f("ck_outbox_gate_single_row")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox_gate")),
    )
    op.bulk_insert(gate, [{"id": 1, "failures": 0}])
    op.create_table(
        "outcome",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=128), nullable=False),
        sa.Column("pair_id", sa.Integer(), nullable=False),
        sa.Column("session_id", sa.Integer(), nullable=True),
        sa.Column("subject_id", sa.Integer(), nullable=False),
        sa.Column("rater_id", sa.Integer(), nullable=False),
        sa.Column("competency", sa.String(length=500), nullable=False),
        sa.Column("competency_name", sa.String(length=200), nullable=False),
        sa.Column("rating", sa.Float(), nullable=False),
        sa.Column("scale_min", sa.Float(), nullable=False),
        sa.Column("scale_max", sa.Float(), nullable=False),
        sa.Column("released", sa.Boolean(), nullable=False),
        sa.Column("rated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "rating >= scale_min and rating <= scale_max", name=op.f("ck_outcome_rating_in_scale")
        ),
        sa.CheckConstraint("scale_min < scale_max", name=op.f("ck_outcome_scale")),
        sa.ForeignKeyConstraint(["pair_id"], ["pair.id"], name=op.f("fk_outcome_pair_id_pair")),
        sa.ForeignKeyConstraint(
            ["rater_id"], ["person.id"], name=op.f("fk_outcome_rater_id_person")
        ),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["mentoring_session.id"],
            name=op.f("fk_outcome_session_id_mentoring_session"),
        ),
        sa.ForeignKeyConstraint(
            ["subject_id"], ["person.id"], name=op.f("fk_outcome_subject_id_person")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outcome")),
        sa.UniqueConstraint("key", name=op.f("uq_outcome_key")),
    )
    op.create_index(op.f("ix_outcome_pair_id"), "outcome", ["pair_id"], unique=False)
    op.create_table(
        "reflection",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=128), nullable=False),
        sa.Column("session_id", sa.Integer(), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("visibility", sa.String(length=16), nullable=False),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "visibility in ('private', 'pair', 'released')", name=op.f("ck_reflection_visibility")
        ),
        sa.ForeignKeyConstraint(
            ["author_id"], ["person.id"], name=op.f("fk_reflection_author_id_person")
        ),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["mentoring_session.id"],
            name=op.f("fk_reflection_session_id_mentoring_session"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reflection")),
        sa.UniqueConstraint("key", name=op.f("uq_reflection_key")),
    )
    op.create_index(op.f("ix_reflection_session_id"), "reflection", ["session_id"], unique=False)


def downgrade() -> None:
    for table in (
        "reflection",
        "outcome",
        "outbox_gate",
        "outbox_payload",
        "outbox",
        "goal",
        "mentoring_session",
        "pair",
        "programme",
        "person",
    ):
        op.drop_table(table)
