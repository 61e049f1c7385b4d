"""The LTI 1.3 claims a launch carries, read and checked once, and what the roles mean.

Claim names are IMS URIs; this module is the one place that spells them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from mentorbridge.plugin.lti.errors import LaunchRefused

__all__ = [
    "AGS_ENDPOINT",
    "DEEP_LINKING",
    "DEEP_LINKING_SETTINGS",
    "LTI",
    "NRPS",
    "RESOURCE_LINK",
    "SCOPES",
    "Launch",
    "read_launch",
]

LTI = "https://purl.imsglobal.org/spec/lti/claim/"
MESSAGE_TYPE = LTI + "message_type"
VERSION = LTI + "version"
DEPLOYMENT_ID = LTI + "deployment_id"
TARGET_LINK_URI = LTI + "target_link_uri"
RESOURCE_LINK_CLAIM = LTI + "resource_link"
ROLES = LTI + "roles"
CONTEXT = LTI + "context"
CUSTOM = LTI + "custom"
LIS = LTI + "lis"
DEEP_LINKING_SETTINGS = "https://purl.imsglobal.org/spec/lti-dl/claim/deep_linking_settings"
CONTENT_ITEMS = "https://purl.imsglobal.org/spec/lti-dl/claim/content_items"
DL_DATA = "https://purl.imsglobal.org/spec/lti-dl/claim/data"
NRPS = "https://purl.imsglobal.org/spec/lti-nrps/claim/namesroleservice"
AGS_ENDPOINT = "https://purl.imsglobal.org/spec/lti-ags/claim/endpoint"

RESOURCE_LINK = "LtiResourceLinkRequest"
DEEP_LINKING = "LtiDeepLinkingRequest"
DEEP_LINKING_RESPONSE = "LtiDeepLinkingResponse"

#: The LTI Advantage scopes the tool asks for.
SCOPES = (
    "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem",
    "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem.readonly",
    "https://purl.imsglobal.org/spec/lti-ags/scope/result.readonly",
    "https://purl.imsglobal.org/spec/lti-ags/scope/score",
    "https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly",
)

#: Roles (context or institution) that see the programme dashboard rather than a transcript.
_STAFF = ("Instructor", "Administrator", "ContentDeveloper", "Mentor", "TeachingAssistant")


@dataclass(frozen=True)
class Launch:
    """A verified launch: who, where, and what they asked for."""

    issuer: str
    client_id: str
    deployment_id: str
    message_type: str
    subject: str
    target_link_uri: str
    roles: tuple[str, ...]
    resource_link_id: str | None = None
    context_id: str | None = None
    context_title: str | None = None
    email: str | None = None
    name: str | None = None
    custom: dict[str, Any] = field(default_factory=dict)
    person_sourcedid: str | None = None
    deep_linking: dict[str, Any] | None = None
    nrps: dict[str, Any] | None = None
    ags: dict[str, Any] | None = None

    @property
    def is_staff(self) -> bool:
        """An instructor or administrator (in the course or the institution)."""
        return any(role.rsplit("#", 1)[-1] in _STAFF for role in self.roles) or any(
            "/system/" in role and role.endswith("#Administrator") for role in self.roles
        )


def read_launch(claims: dict[str, Any], *, client_id: str) -> Launch:
    """The launch in verified id_token ``claims``.

    Raises:
        LaunchRefused: a required claim is missing or malformed, or the message type is not
            one the tool handles (naming the claim).
    """
    message_type = _text(claims, MESSAGE_TYPE)
    if message_type not in (RESOURCE_LINK, DEEP_LINKING):
        raise LaunchRefused(
            "wrong_message_type",
            f"the message type {message_type!r} is not one this tool handles "
            f"({RESOURCE_LINK} or {DEEP_LINKING})",
        )
    if claims.get(VERSION) != "1.3.0":
        raise LaunchRefused(
            "missing_claim", f"the claim {VERSION} must be '1.3.0', not {claims.get(VERSION)!r}"
        )
    subject = claims.get("sub")
    if not isinstance(subject, str) or not subject:
        raise LaunchRefused(
            "missing_claim",
            "the launch has no user (claim sub): anonymous launches are not supported; "
            "the LMS must share the user's identity with the tool",
        )
    roles = claims.get(ROLES)
    if not isinstance(roles, list) or not all(isinstance(r, str) for r in roles):
        raise LaunchRefused("missing_claim", f"the claim {ROLES} must be a list of roles")
    resource_link = claims.get(RESOURCE_LINK_CLAIM)
    settings = claims.get(DEEP_LINKING_SETTINGS)
    if message_type == RESOURCE_LINK and not (
        isinstance(resource_link, dict) and isinstance(resource_link.get("id"), str)
    ):
        raise LaunchRefused(
            "missing_claim", f"the claim {RESOURCE_LINK_CLAIM} with its id is required"
        )
    if message_type == DEEP_LINKING and not (
        isinstance(settings, dict) and isinstance(settings.get("deep_link_return_url"), str)
    ):
        raise LaunchRefused(
            "missing_claim",
            f"the claim {DEEP_LINKING_SETTINGS} with its deep_link_return_url is required",
        )
    context = claims.get(CONTEXT) if isinstance(claims.get(CONTEXT), dict) else {}
    lis = claims.get(LIS) if isinstance(claims.get(LIS), dict) else {}
    custom = claims.get(CUSTOM) if isinstance(claims.get(CUSTOM), dict) else {}
    return Launch(
        issuer=claims["iss"],
        client_id=client_id,
        deployment_id=_text(claims, DEPLOYMENT_ID),
        message_type=message_type,
        subject=subject,
        target_link_uri=_text(claims, TARGET_LINK_URI),
        roles=tuple(roles),
        resource_link_id=resource_link.get("id") if isinstance(resource_link, dict) else None,
        context_id=context.get("id"),
        context_title=context.get("title"),
        email=claims.get("email") if isinstance(claims.get("email"), str) else None,
        name=claims.get("name") if isinstance(claims.get("name"), str) else None,
        custom=dict(custom),
        person_sourcedid=lis.get("person_sourcedid") or None,
        deep_linking=settings if message_type == DEEP_LINKING else None,
        nrps=claims.get(NRPS) if isinstance(claims.get(NRPS), dict) else None,
        ags=claims.get(AGS_ENDPOINT) if isinstance(claims.get(AGS_ENDPOINT), dict) else None,
    )


def _text(claims: dict[str, Any], name: str) -> str:
    value = claims.get(name)
    if not isinstance(value, str) or not value:
        raise LaunchRefused("missing_claim", f"the claim {name} is missing")
    return value
