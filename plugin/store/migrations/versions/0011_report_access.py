"""Report access: API tokens with roles (kept as a prefix and the SHA-256 of the secret) and
the audit of every report generation or refusal.

Revision ID: 0011
Revises: 0010
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "api_token",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("prefix", sa.String(length=16), nullable=False),
        sa.Column("secret_sha256", sa.String(length=64), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("label", sa.String(length=100), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("role in ('admin', 'talent')", name=op.f("ck_api_token_role")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_token")),
        sa.UniqueConstraint("prefix", name=op.f("uq_api_token_prefix")),
    )
    op.create_table(
        "report_audit",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("who", sa.String(length=200), nullable=False),
        sa.Column("token_id", sa.Integer(), nullable=True),
        sa.Column("report", sa.String(length=32), nullable=False),
        sa.Column("filters", sa.JSON(), nullable=False),
        sa.Column("format", sa.String(length=16), nullable=True),
        sa.Column("row_count", sa.Integer(), nullable=True),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("detail", sa.String(length=500), nullable=True),
        sa.CheckConstraint(
            "outcome in ('ok', 'refused', 'error')", name=op.f("ck_report_audit_outcome")
        ),
        sa.ForeignKeyConstraint(
            ["token_id"], ["api_token.id"], name=op.f("fk_report_audit_token_id_api_token")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_report_audit")),
    )
    op.create_index(op.f("ix_report_audit_at"), "report_audit", ["at"])
    op.create_index(op.f("ix_report_audit_token_id"), "report_audit", ["token_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_report_audit_token_id"), table_name="report_audit")
    op.drop_index(op.f("ix_report_audit_at"), table_name="report_audit")
    op.drop_table("report_audit")
    op.drop_table("api_token")
