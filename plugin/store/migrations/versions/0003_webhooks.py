"""The webhook service: accepted events (idempotency, held events) and signing secrets; the
statement ids of achieved goals and released ratings (for learner transcripts).

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "webhook_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.String(length=128), nullable=False),
        sa.Column("type", sa.String(length=40), nullable=False),
        sa.Column("source", sa.String(length=64), nullable=False),
        sa.Column("body_sha256", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("result", sa.JSON(), nullable=False),
        sa.Column("payload", sa.JSON(none_as_null=True), nullable=True),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("processed_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "status in ('processed', 'held', 'rejected')", name=op.f("ck_webhook_event_status")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_event")),
        sa.UniqueConstraint("event_id", name=op.f("uq_webhook_event_event_id")),
    )
    op.create_index(op.f("ix_webhook_event_type"), "webhook_event", ["type"], unique=False)
    op.create_index(op.f("ix_webhook_event_status"), "webhook_event", ["status"], unique=False)
    op.create_table(
        "webhook_secret",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("secret", sa.String(length=128), nullable=False),
        sa.Column("label", sa.String(length=100), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("retired_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_secret")),
    )
    with op.batch_alter_table("goal") as batch:
        batch.add_column(sa.Column("achieved_statement_id", sa.String(length=36), nullable=True))
    with op.batch_alter_table("mentoring_session") as batch:
        batch.add_column(sa.Column("cancel_reason", sa.String(length=32), nullable=True))
    with op.batch_alter_table("outcome") as batch:
        batch.add_column(sa.Column("evidence_statement_id", sa.String(length=36), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("outcome") as batch:
        batch.drop_column("evidence_statement_id")
    with op.batch_alter_table("goal") as batch:
        batch.drop_column("achieved_statement_id")
    with op.batch_alter_table("mentoring_session") as batch:
        batch.drop_column("cancel_reason")
    op.drop_table("webhook_secret")
    op.drop_table("webhook_event")
