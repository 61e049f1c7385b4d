"""Stale fields: the mirrored fields whose report column a run lacked in every row (hidden by
field security), kept with their stored values and the moment they went stale.

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "hris_stale_field",
        sa.Column("connector", sa.String(length=64), nullable=False),
        sa.Column("stream", sa.String(length=64), nullable=False),
        sa.Column("field", sa.String(length=128), nullable=False),
        sa.Column("since", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_run_id", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("connector", "stream", "field", name=op.f("pk_hris_stale_field")),
    )


def downgrade() -> None:
    op.drop_table("hris_stale_field")
