"""Secrets at rest: stored secrets are Fernet tokens (about twice as long as the secret), so
the webhook signing secret column becomes Text. Rows stored in plaintext before this revision
are encrypted by ``mentorbridge db upgrade`` (it needs the key, which migrations do not see).

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("webhook_secret") as batch:
        batch.alter_column(
            "secret",
            existing_type=sa.String(length=128),
            type_=sa.Text(),
            existing_nullable=False,
        )


def downgrade() -> None:
    with op.batch_alter_table("webhook_secret") as batch:
        batch.alter_column(
            "secret",
            existing_type=sa.Text(),
            type_=sa.String(length=128),
            existing_nullable=False,
        )
