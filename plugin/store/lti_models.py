"""What the LTI 1.3 tool keeps: its own signing keys, the platforms (LMSs) it is installed in,
the one-time values of launches and registrations, who an LMS user is in the HRIS, and what it
has posted to each platform's gradebook.

Nothing here is kept in process memory: several web instances share the store, so a launch
begun on one may end on another.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, CheckConstraint, Float, ForeignKey, Integer, String, Text
from sqlalchemy import UniqueConstraint as Unique
from sqlalchemy.orm import Mapped, mapped_column

from mentorbridge.plugin.store.base import Base, UTCDateTime, utc_now

__all__ = [
    "LtiDeployment",
    "LtiKey",
    "LtiLaunchState",
    "LtiLineItem",
    "LtiPlatform",
    "LtiRegistrationToken",
    "LtiScore",
    "LtiUserLink",
]


class LtiKey(Base):
    """One of the tool's RSA signing keys. The newest unretired key signs; a retired key is
    still published in the JWKS until ``retired_at`` + the overlap, so what it signed stays
    verifiable until it expires."""

    __tablename__ = "lti_key"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kid: Mapped[str] = mapped_column(String(64), unique=True)
    #: PKCS#8 PEM, encrypted at rest.
    private_pem: Mapped[str] = mapped_column(Text, info={"secret": "LTI tool signing key"})
    public_jwk: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)
    retired_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class LtiPlatform(Base):
    """An LMS registration: one (issuer, client id). Canvas shares one issuer across every
    hosted instance, so the client id is part of the key."""

    __tablename__ = "lti_platform"
    __table_args__ = (
        Unique("issuer", "client_id"),
        CheckConstraint("registered_by in ('dynamic', 'manual')", name="registered_by"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    issuer: Mapped[str] = mapped_column(String(500))
    client_id: Mapped[str] = mapped_column(String(255))
    name: Mapped[str] = mapped_column(String(255))
    #: The platform's OIDC authorisation endpoint (where the login redirects).
    auth_login_url: Mapped[str] = mapped_column(String(1000))
    #: The OAuth 2 token endpoint for LTI Advantage services ("" without services).
    auth_token_url: Mapped[str] = mapped_column(String(1000), default="")
    #: The audience of client assertions when it is not the token URL (Brightspace).
    audience: Mapped[str | None] = mapped_column(String(1000))
    jwks_url: Mapped[str] = mapped_column(String(1000))
    registered_by: Mapped[str] = mapped_column(String(16))
    #: What dynamic registration learnt (product family, version, granted scopes ...).
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)


class LtiDeployment(Base):
    """A deployment of the tool within a platform (one per install, placement or course)."""

    __tablename__ = "lti_deployment"
    __table_args__ = (Unique("platform_id", "deployment_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    platform_id: Mapped[int] = mapped_column(ForeignKey("lti_platform.id", ondelete="CASCADE"))
    deployment_id: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)


class LtiLaunchState(Base):
    """The ``state`` and ``nonce`` of one OIDC login, used at most once: a launch whose state
    is unknown, used or expired, or whose id_token carries another nonce, is refused."""

    __tablename__ = "lti_launch_state"

    state: Mapped[str] = mapped_column(String(64), primary_key=True)
    nonce: Mapped[str] = mapped_column(String(64), unique=True)
    #: SHA-256 of the value the browser that logged in must present at the launch.
    binding_hash: Mapped[str] = mapped_column(String(64))
    platform_id: Mapped[int] = mapped_column(ForeignKey("lti_platform.id", ondelete="CASCADE"))
    target_link_uri: Mapped[str] = mapped_column(String(1000))
    #: The platform's storage frame the login kept the binding in (``lti_storage_target``),
    #: for a launch whose browser sends no cookie.
    storage_target: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class LtiRegistrationToken(Base):
    """A one-time token protecting the dynamic registration URL (only its hash is kept)."""

    __tablename__ = "lti_registration_token"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    platform_id: Mapped[int | None] = mapped_column(
        ForeignKey("lti_platform.id", ondelete="SET NULL")
    )


class LtiUserLink(Base):
    """Who an LMS user (a platform's ``sub``) is in the HRIS, and how that was decided."""

    __tablename__ = "lti_user_link"
    __table_args__ = (
        Unique("platform_id", "subject"),
        CheckConstraint(
            "linked_by in ('custom', 'lis_person_sourcedid', 'email', 'roster')",
            name="linked_by",
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    platform_id: Mapped[int] = mapped_column(ForeignKey("lti_platform.id", ondelete="CASCADE"))
    subject: Mapped[str] = mapped_column(String(255))
    worker_id: Mapped[str] = mapped_column(String(64))
    linked_by: Mapped[str] = mapped_column(String(32))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)


class LtiLineItem(Base):
    """The programme's line item in one course's gradebook."""

    __tablename__ = "lti_line_item"
    __table_args__ = (Unique("platform_id", "context_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    platform_id: Mapped[int] = mapped_column(ForeignKey("lti_platform.id", ondelete="CASCADE"))
    context_id: Mapped[str] = mapped_column(String(255))
    #: The course's line items container (from the AGS endpoint claim).
    lineitems_url: Mapped[str] = mapped_column(String(1000))
    #: The line item itself, once found or created.
    lineitem_url: Mapped[str | None] = mapped_column(String(1000))
    #: The course's memberships URL (from the NRPS claim), for the roster.
    memberships_url: Mapped[str | None] = mapped_column(String(1000))
    deployment_id: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)


class LtiScore(Base):
    """The score last posted for a learner on a line item: a push posts only what changed."""

    __tablename__ = "lti_score"

    line_item_id: Mapped[int] = mapped_column(
        ForeignKey("lti_line_item.id", ondelete="CASCADE"), primary_key=True
    )
    subject: Mapped[str] = mapped_column(String(255), primary_key=True)
    score_given: Mapped[float] = mapped_column(Float)
    score_maximum: Mapped[float] = mapped_column(Float)
    comment: Mapped[str] = mapped_column(Text)
    posted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)
