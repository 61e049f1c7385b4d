"""The LTI 1.3 tool: its signing keys, the platforms and deployments it is installed in, the
one-time launch states and registration tokens, LMS users linked to HRIS workers, and the
gradebook line items and scores it posted.

Revision ID: 0013
Revises: 0012
"""

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

_WHEN = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "lti_key",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kid", sa.String(length=64), nullable=False),
        sa.Column("private_pem", sa.Text(), nullable=False),
        sa.Column("public_jwk", sa.JSON(), nullable=False),
        sa.Column("created_at", _WHEN, nullable=False),
        sa.Column("retired_at", _WHEN, nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lti_key")),
        sa.UniqueConstraint("kid", name=op.f("uq_lti_key_kid")),
    )
    op.create_table(
        "lti_platform",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("issuer", sa.String(length=500), nullable=False),
        sa.Column("client_id", sa.String(length=255), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("auth_login_url", sa.String(length=1000), nullable=False),
        sa.Column("auth_token_url", sa.String(length=1000), nullable=False),
        sa.Column("audience", sa.String(length=1000), nullable=True),
        sa.Column("jwks_url", sa.String(length=1000), nullable=False),
        sa.Column("registered_by", sa.String(length=16), nullable=False),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.Column("created_at", _WHEN, nullable=False),
        sa.CheckConstraint(
            "registered_by in ('dynamic', 'manual')", name=op.f("ck_lti_platform_registered_by")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lti_platform")),
        sa.UniqueConstraint("issuer", "client_id", name=op.f("uq_lti_platform_issuer")),
    )
    op.create_table(
        "lti_deployment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("platform_id", sa.Integer(), nullable=False),
        sa.Column("deployment_id", sa.String(length=255), nullable=False),
        sa.Column("created_at", _WHEN, nullable=False),
        sa.ForeignKeyConstraint(
            ["platform_id"],
            ["lti_platform.id"],
            name=op.f("fk_lti_deployment_platform_id_lti_platform"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lti_deployment")),
        sa.UniqueConstraint(
            "platform_id", "deployment_id", name=op.f("uq_lti_deployment_platform_id")
        ),
    )
    op.create_table(
        "lti_launch_state",
        sa.Column("state", sa.String(length=64), nullable=False),
        sa.Column("nonce", sa.String(length=64), nullable=False),
        sa.Column("binding_hash", sa.String(length=64), nullable=False),
        sa.Column("platform_id", sa.Integer(), nullable=False),
        sa.Column("target_link_uri", sa.String(length=1000), nullable=False),
        sa.Column("storage_target", sa.String(length=200), nullable=True),
        sa.Column("created_at", _WHEN, nullable=False),
        sa.Column("expires_at", _WHEN, nullable=False),
        sa.Column("used_at", _WHEN, nullable=True),
        sa.ForeignKeyConstraint(
            ["platform_id"],
            ["lti_platform.id"],
            name=op.f("fk_lti_launch_state_platform_id_lti_platform"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("state", name=op.f("pk_lti_launch_state")),
        sa.UniqueConstraint("nonce", name=op.f("uq_lti_launch_state_nonce")),
    )
    op.create_table(
        "lti_line_item",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("platform_id", sa.Integer(), nullable=False),
        sa.Column("context_id", sa.String(length=255), nullable=False),
        sa.Column("lineitems_url", sa.String(length=1000), nullable=False),
        sa.Column("lineitem_url", sa.String(length=1000), nullable=True),
        sa.Column("memberships_url", sa.String(length=1000), nullable=True),
        sa.Column("deployment_id", sa.String(length=255), nullable=False),
        sa.Column("created_at", _WHEN, nullable=False),
        sa.ForeignKeyConstraint(
            ["platform_id"],
            ["lti_platform.id"],
            name=op.f("fk_lti_line_item_platform_id_lti_platform"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lti_line_item")),
        sa.UniqueConstraint("platform_id", "context_id", name=op.f("uq_lti_line_item_platform_id")),
    )
    op.create_table(
        "lti_registration_token",
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", _WHEN, nullable=False),
        sa.Column("expires_at", _WHEN, nullable=False),
        sa.Column("used_at", _WHEN, nullable=True),
        sa.Column("platform_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["platform_id"],
            ["lti_platform.id"],
            name=op.f("fk_lti_registration_token_platform_id_lti_platform"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("token_hash", name=op.f("pk_lti_registration_token")),
    )
    op.create_table(
        "lti_user_link",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("platform_id", sa.Integer(), nullable=False),
        sa.Column("subject", sa.String(length=255), nullable=False),
        sa.Column("worker_id", sa.String(length=64), nullable=False),
        sa.Column("linked_by", sa.String(length=32), nullable=False),
        sa.Column("updated_at", _WHEN, nullable=False),
        sa.CheckConstraint(
            "linked_by in ('custom', 'lis_person_sourcedid', 'email', 'roster')",
            name=op.f("ck_lti_user_link_linked_by"),
        ),
        sa.ForeignKeyConstraint(
            ["platform_id"],
            ["lti_platform.id"],
            name=op.f("fk_lti_user_link_platform_id_lti_platform"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lti_user_link")),
        sa.UniqueConstraint("platform_id", "subject", name=op.f("uq_lti_user_link_platform_id")),
    )
    op.create_table(
        "lti_score",
        sa.Column("line_item_id", sa.Integer(), nullable=False),
        sa.Column("subject", sa.String(length=255), nullable=False),
        sa.Column("score_given", sa.Float(), nullable=False),
        sa.Column("score_maximum", sa.Float(), nullable=False),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.Column("posted_at", _WHEN, nullable=False),
        sa.ForeignKeyConstraint(
            ["line_item_id"],
            ["lti_line_item.id"],
            name=op.f("fk_lti_score_line_item_id_lti_line_item"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("line_item_id", "subject", name=op.f("pk_lti_score")),
    )


def downgrade() -> None:
    op.drop_table("lti_score")
    op.drop_table("lti_user_link")
    op.drop_table("lti_registration_token")
    op.drop_table("lti_line_item")
    op.drop_table("lti_launch_state")
    op.drop_table("lti_deployment")
    op.drop_table("lti_platform")
    op.drop_table("lti_key")
