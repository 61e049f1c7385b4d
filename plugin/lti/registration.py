"""LTI Dynamic Registration 1.0: the admin pastes one URL into the LMS, the LMS opens it with
its OpenID configuration, and the tool registers itself there.

The URL carries a one-time token from `mentorbridge lti registration-url` (only its hash is
kept), so nobody else can register the tool with a platform of their choosing. The tool:

1. reads the platform's ``openid_configuration`` (its issuer must be on the same host as the
   configuration URL, as the spec requires);
2. POSTs its own configuration to the platform's ``registration_endpoint`` (with the LMS's
   ``registration_token`` as bearer): its login, launch and key-set URLs, deep linking, the
   LTI Advantage scopes, and a custom parameter asking for the user's ID number
   (``$Person.sourcedId``), which is the Workday Employee ID when the Moodle push set it;
3. stores the platform from the answer (client id, deployment id) and spends its token.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from urllib.parse import urlencode, urlsplit

import requests
from sqlalchemy import update

from mentorbridge.plugin.errors import ConfigError
from mentorbridge.plugin.lti.claims import DEEP_LINKING, SCOPES
from mentorbridge.plugin.lti.errors import RegistrationRefused
from mentorbridge.plugin.lti.platforms import Platforms, RegisteredPlatform
from mentorbridge.plugin.lti.tool import ToolUrls
from mentorbridge.plugin.store.base import utc_now
from mentorbridge.plugin.store.db import Store
from mentorbridge.plugin.store.lti_models import LtiRegistrationToken

__all__ = [
    "RegistrationUrl",
    "issue_registration_url",
    "register_with_platform",
    "tool_configuration",
]

PLATFORM_CONFIGURATION = "https://purl.imsglobal.org/spec/lti-platform-configuration"
TOOL_CONFIGURATION = "https://purl.imsglobal.org/spec/lti-tool-configuration"


@dataclass(frozen=True)
class RegistrationUrl:
    url: str
    expires_in: int


def issue_registration_url(store: Store, urls: ToolUrls, ttl: int) -> RegistrationUrl:
    """A registration URL with a fresh one-time token."""
    token = secrets.token_urlsafe(32)
    now = utc_now()
    with store.transaction() as session:
        session.add(
            LtiRegistrationToken(
                token_hash=_hash(token), created_at=now, expires_at=now + timedelta(seconds=ttl)
            )
        )
    return RegistrationUrl(f"{urls.register}?{urlencode({'t': token})}", ttl)


def tool_configuration(urls: ToolUrls, *, name: str, custom_parameter: str) -> dict[str, Any]:
    """The registration request's body (the tool's client metadata)."""
    domain = urlsplit(urls.base).netloc
    return {
        "application_type": "web",
        "response_types": ["id_token"],
        "grant_types": ["implicit", "client_credentials"],
        "initiate_login_uri": urls.login,
        "redirect_uris": [urls.launch],
        "client_name": name,
        "jwks_uri": urls.jwks,
        "token_endpoint_auth_method": "private_key_jwt",
        "scope": " ".join(SCOPES),
        TOOL_CONFIGURATION: {
            "domain": domain,
            "target_link_uri": urls.launch,
            "custom_parameters": {custom_parameter: "$Person.sourcedId"},
            "claims": ["iss", "sub", "name", "given_name", "family_name", "email"],
            "messages": [
                {
                    "type": DEEP_LINKING,
                    "target_link_uri": urls.launch,
                    "label": name,
                }
            ],
            "description": "Reverse-mentoring records and programme progress",
        },
    }


def register_with_platform(
    store: Store,
    urls: ToolUrls,
    *,
    one_time_token: str,
    openid_configuration: str,
    registration_token: str | None,
    name: str,
    custom_parameter: str,
    timeout: tuple[float, float],
    session: requests.Session | None = None,
) -> RegisteredPlatform:
    """Register the tool with the platform whose configuration is at ``openid_configuration``.

    Raises:
        RegistrationRefused: the one-time token is unknown, used or expired; the platform's
            configuration is unusable; or the platform refused the registration.
    """
    http = session or requests.Session()
    token_hash = _hash(one_time_token or "")
    now = utc_now()
    with store.reading() as read:
        row = read.get(LtiRegistrationToken, token_hash)
        if row is None or row.used_at is not None or row.expires_at < now:
            raise RegistrationRefused(
                "invalid_registration_token",
                "this registration URL is unknown, used already or expired: make a new one "
                "with `mentorbridge lti registration-url`",
                status=401,
            )
    platform_config = _get_json(http, openid_configuration, timeout, "the platform's configuration")
    issuer = platform_config.get("issuer")
    endpoint = platform_config.get("registration_endpoint")
    for field in ("issuer", "authorization_endpoint", "jwks_uri", "registration_endpoint"):
        if not isinstance(platform_config.get(field), str):
            raise RegistrationRefused(
                "invalid_platform_configuration",
                f"the platform's OpenID configuration lacks {field}",
            )
    if urlsplit(issuer).hostname != urlsplit(openid_configuration).hostname:
        raise RegistrationRefused(
            "invalid_platform_configuration",
            f"the platform's issuer {issuer} is not on the host of its configuration URL "
            f"{openid_configuration}: refused, as the registration spec requires",
        )
    body = tool_configuration(urls, name=name, custom_parameter=custom_parameter)
    headers = {"Accept": "application/json", "Content-Type": "application/json"}
    if registration_token:
        headers["Authorization"] = f"Bearer {registration_token}"
    try:
        answer = http.post(endpoint, json=body, headers=headers, timeout=timeout)
    except requests.RequestException as err:
        raise RegistrationRefused(
            "platform_unreachable",
            f"the platform's registration endpoint could not be reached ({type(err).__name__})",
            status=502,
        ) from None
    if answer.status_code >= 400:
        raise RegistrationRefused(
            "registration_refused",
            f"the platform refused the registration (HTTP {answer.status_code}: "
            f"{answer.text[:300]})",
            status=502,
        )
    try:
        registered = answer.json()
    except ValueError:
        raise RegistrationRefused(
            "registration_refused", "the platform's registration answer is not JSON", status=502
        ) from None
    client_id = registered.get("client_id")
    if not isinstance(client_id, str) or not client_id:
        raise RegistrationRefused(
            "registration_refused", "the platform's answer has no client_id", status=502
        )
    tool_config = registered.get(TOOL_CONFIGURATION) or {}
    deployment = tool_config.get("deployment_id")
    product = platform_config.get(PLATFORM_CONFIGURATION) or {}
    with store.transaction() as session_:
        spent = session_.execute(
            update(LtiRegistrationToken)
            .where(
                LtiRegistrationToken.token_hash == token_hash,
                LtiRegistrationToken.used_at.is_(None),
            )
            .values(used_at=now)
        )
        if spent.rowcount != 1:
            raise RegistrationRefused(
                "invalid_registration_token", "this registration URL was used meanwhile", status=401
            )
    try:
        return Platforms(store).add(
            issuer=issuer,
            client_id=client_id,
            auth_login_url=platform_config["authorization_endpoint"],
            auth_token_url=platform_config.get("token_endpoint") or "",
            audience=platform_config.get("authorization_server"),
            jwks_url=platform_config["jwks_uri"],
            deployments=[deployment] if isinstance(deployment, str) and deployment else [],
            name=product.get("product_family_code") or urlsplit(issuer).netloc,
            registered_by="dynamic",
            details={
                "product_family_code": product.get("product_family_code"),
                "version": product.get("version"),
                "scope": registered.get("scope", body["scope"]),
            },
        )
    except ConfigError as err:
        raise RegistrationRefused("already_registered", str(err), status=409) from None


def _get_json(
    http: requests.Session, url: str, timeout: tuple[float, float], what: str
) -> dict[str, Any]:
    parts = urlsplit(url or "")
    if parts.scheme not in ("https", "http") or not parts.netloc:
        raise RegistrationRefused(
            "invalid_platform_configuration", f"{what} URL {url!r} is not an absolute URL"
        )
    try:
        answer = http.get(url, headers={"Accept": "application/json"}, timeout=timeout)
        answer.raise_for_status()
        body = answer.json()
    except (requests.RequestException, ValueError) as err:
        raise RegistrationRefused(
            "platform_unreachable", f"{what} could not be read ({type(err).__name__})", status=502
        ) from None
    if not isinstance(body, dict):
        raise RegistrationRefused("invalid_platform_configuration", f"{what} is not an object")
    return body


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
