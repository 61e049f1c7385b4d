"""Deep Linking 2.0: a course designer picks what a link shows, and the tool answers the
platform with a signed ``LtiDeepLinkingResponse`` carrying that content item.

Between the picker page and the answer, the launch's context travels in a *ticket*: a short
JWT the tool signs for itself (audience: the tool), so the choice cannot be posted for another
platform, deployment or return URL, and nothing needs to be kept in the store.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass
from typing import Any

import jwt

from mentorbridge.plugin.lti.claims import (
    CONTENT_ITEMS,
    DEEP_LINKING_RESPONSE,
    DEPLOYMENT_ID,
    DL_DATA,
    MESSAGE_TYPE,
    VERSION,
    Launch,
)
from mentorbridge.plugin.lti.errors import LaunchRefused
from mentorbridge.plugin.lti.keys import ALGORITHM, ToolKeys
from mentorbridge.plugin.lti.platforms import RegisteredPlatform

__all__ = ["ITEMS", "Choice", "make_ticket", "read_ticket", "response_jwt"]

TICKET_SECONDS = 600
RESPONSE_SECONDS = 300


@dataclass(frozen=True)
class Choice:
    key: str
    title: str
    text: str
    #: The custom parameter the link carries, which tells the launch what to show.
    custom: dict[str, str]


ITEMS = (
    Choice(
        "record",
        "My mentoring record",
        "Each learner sees their own reverse-mentoring transcript: sessions, goals and the "
        "competencies evidenced.",
        {"mentorbridge_view": "record"},
    ),
    Choice(
        "dashboard",
        "Programme dashboard",
        "Instructors see the programme in aggregate: pairs, sessions, goals and evidence, "
        "with no group smaller than the reports allow.",
        {"mentorbridge_view": "dashboard"},
    ),
)


def make_ticket(keys: ToolKeys, audience: str, platform: RegisteredPlatform, launch: Launch) -> str:
    settings = launch.deep_linking or {}
    now = int(time.time())
    return keys.sign(
        {
            "iss": audience,
            "aud": audience,
            "iat": now,
            "exp": now + TICKET_SECONDS,
            "platform_id": platform.id,
            "deployment_id": launch.deployment_id,
            "return_url": settings["deep_link_return_url"],
            "data": settings.get("data"),
            "accept_multiple": bool(settings.get("accept_multiple", False)),
        }
    )


def read_ticket(keys: ToolKeys, audience: str, ticket: str) -> dict[str, Any]:
    """The ticket's claims, if the tool signed it and it has not expired."""
    try:
        kid = jwt.get_unverified_header(ticket).get("kid")
        jwk = next((k for k in keys.jwks()["keys"] if k["kid"] == kid), None)
        if jwk is None:
            raise jwt.InvalidTokenError("unknown key")
        return jwt.decode(
            ticket,
            jwt.PyJWK(jwk).key,
            algorithms=[ALGORITHM],
            audience=audience,
            issuer=audience,
        )
    except jwt.ExpiredSignatureError:
        raise LaunchRefused(
            "expired", "the choice took too long: open the selection again from the LMS"
        ) from None
    except jwt.PyJWTError:
        raise LaunchRefused("bad_ticket", "this selection was not made by this tool") from None


def response_jwt(
    keys: ToolKeys, platform: RegisteredPlatform, ticket: dict[str, Any], choice: Choice, url: str
) -> str:
    """The signed ``LtiDeepLinkingResponse`` for ``choice``."""
    now = int(time.time())
    claims: dict[str, Any] = {
        "iss": platform.client_id,
        "aud": platform.issuer,
        "iat": now,
        "exp": now + RESPONSE_SECONDS,
        "nonce": secrets.token_urlsafe(16),
        MESSAGE_TYPE: DEEP_LINKING_RESPONSE,
        VERSION: "1.3.0",
        DEPLOYMENT_ID: ticket["deployment_id"],
        CONTENT_ITEMS: [
            {
                "type": "ltiResourceLink",
                "title": choice.title,
                "text": choice.text,
                "url": url,
                "custom": choice.custom,
            }
        ],
    }
    if ticket.get("data") is not None:
        claims[DL_DATA] = ticket["data"]
    return keys.sign(claims)
