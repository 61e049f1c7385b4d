"""One organisation identity across sources: an organisation keeps both its Workday ID (WID,
what REST answers carry) and its reference id (``SUP_…``, what reports and SOAP carry), so a
worker, a superior organisation or an additional job pointing at either one resolves.

Sync runs keep ``consistency``: the workers whose organisation or manager, and the
organisations whose superior, the mirror does not know after the run.

Existing rows keep ``organization_id`` as their key; it is copied into ``workday_id`` when it
looks like a WID (32 hex digits) and into ``reference_id`` otherwise.

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

_WID_LENGTH = 32
_HEX = "0123456789abcdef"


def _is_wid(value: str) -> bool:
    return len(value) == _WID_LENGTH and all(c in _HEX for c in value.lower())


def upgrade() -> None:
    with op.batch_alter_table("hris_organization") as batch:
        batch.add_column(sa.Column("workday_id", sa.String(length=128), nullable=True))
        batch.add_column(sa.Column("reference_id", sa.String(length=128), nullable=True))
        batch.create_unique_constraint(op.f("uq_hris_organization_workday_id"), ["workday_id"])
        batch.create_unique_constraint(op.f("uq_hris_organization_reference_id"), ["reference_id"])
    table = sa.table(
        "hris_organization",
        sa.column("id", sa.Integer()),
        sa.column("organization_id", sa.String()),
        sa.column("workday_id", sa.String()),
        sa.column("reference_id", sa.String()),
    )
    with op.batch_alter_table("sync_run") as batch:
        batch.add_column(sa.Column("consistency", sa.JSON(), nullable=True))
    connection = op.get_bind()
    rows = connection.execute(sa.select(table.c.id, table.c.organization_id)).all()
    for row_id, organization_id in rows:
        column = "workday_id" if _is_wid(organization_id) else "reference_id"
        connection.execute(
            table.update().where(table.c.id == row_id).values({column: organization_id})
        )


def downgrade() -> None:
    with op.batch_alter_table("sync_run") as batch:
        batch.drop_column("consistency")
    with op.batch_alter_table("hris_organization") as batch:
        batch.drop_constraint(op.f("uq_hris_organization_reference_id"), type_="unique")
        batch.drop_constraint(op.f("uq_hris_organization_workday_id"), type_="unique")
        batch.drop_column("reference_id")
        batch.drop_column("workday_id")
