"""Workers may lack a hire date: a tenant's REST staffing answers can leave it out (and the
per-worker detail may too), so the mirror stores such a worker instead of skipping it.

A downgrade fills a missing hire date from the original hire date, else the day the worker
was first mirrored.

Revision ID: 0008
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("hris_worker") as batch:
        batch.alter_column("hire_date", existing_type=sa.Date(), nullable=True)


def downgrade() -> None:
    worker = sa.table(
        "hris_worker",
        sa.column("hire_date", sa.Date()),
        sa.column("original_hire_date", sa.Date()),
        sa.column("first_seen_at", sa.DateTime(timezone=True)),
    )
    op.execute(
        worker.update()
        .where(worker.c.hire_date.is_(None))
        .values(
            hire_date=sa.func.coalesce(
                worker.c.original_hire_date, sa.func.date(worker.c.first_seen_at)
            )
        )
    )
    with op.batch_alter_table("hris_worker") as batch:
        batch.alter_column("hire_date", existing_type=sa.Date(), nullable=False)
