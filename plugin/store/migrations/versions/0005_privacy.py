"""Privacy operations: the erasure audit trail and the markers (keyed hashes) that keep an
erased worker's data from coming back with the next HRIS sync.

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "privacy_erasure",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("erased_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("erased_by", sa.String(length=200), nullable=False),
        sa.Column("void_statements", sa.Boolean(), nullable=False),
        sa.Column("counts", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["person_id"], ["person.id"], name=op.f("fk_privacy_erasure_person_id_person")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_privacy_erasure")),
    )
    op.create_index(
        op.f("ix_privacy_erasure_person_id"), "privacy_erasure", ["person_id"], unique=False
    )
    op.create_table(
        "privacy_erasure_marker",
        sa.Column("employee_hash", sa.String(length=64), nullable=False),
        sa.Column("workday_hash", sa.String(length=64), nullable=True),
        sa.Column("erased_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("employee_hash", name=op.f("pk_privacy_erasure_marker")),
    )
    op.create_index(
        op.f("ix_privacy_erasure_marker_workday_hash"),
        "privacy_erasure_marker",
        ["workday_hash"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_privacy_erasure_marker_workday_hash"), "privacy_erasure_marker")
    op.drop_table("privacy_erasure_marker")
    op.drop_index(op.f("ix_privacy_erasure_person_id"), "privacy_erasure")
    op.drop_table("privacy_erasure")
