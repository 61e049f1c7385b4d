"""The id_token of a launch: its claims (as Moodle fills them), tampering, and signing."""

from __future__ import annotations

import copy
from typing import Any

from tests.lti_platform import vocab
from tests.lti_platform.keys import hs256_token, unsigned_token
from tests.lti_platform.model import IssuedToken, PendingLaunch, RegisteredTool, Tamper
from tests.lti_platform.state import State

__all__ = ["SIGN_WITH", "custom_claim", "launch_claims", "sign_id_token"]

#: ``sign_with`` values for :meth:`LocalPlatform.tamper`.
SIGN_WITH = ("unknown-key", "expired", "no-kid", "none", "hs256")

#: A second audience for ``multi_aud`` tokens (then ``azp`` names the tool).
OTHER_AUDIENCE = "https://other-tool.example.org"


def _moodle_keys(key: str) -> list[str]:
    """Moodle 4.3 sends a custom parameter under its own key and, when different, under the key
    lower-cased with every other character than a-z and 0-9 made ``_``
    (``lti_split_custom_parameters``)."""
    lowered = "".join(ch if ("a" <= ch <= "z" or "0" <= ch <= "9") else "_" for ch in key.lower())
    return [key] if lowered == key else [key, lowered]


def _substitute(value: str, variables: dict[str, str]) -> str:
    """A ``$Variable`` becomes its value when the platform has one; else it stays as it is
    (Moodle sends ``$Person.sourcedId`` literally to a user without an idnumber).
    ``\\$`` escapes a literal dollar."""
    if value.startswith("\\"):
        return value[1:]
    if value.startswith("$") and value[1:] in variables:
        return variables[value[1:]]
    return value


def custom_claim(state: State, launch: PendingLaunch, tool: RegisteredTool) -> dict[str, str]:
    """The ``custom`` claim: tool, resource link, user and launch parameters (later wins),
    substituted."""
    user = state.users[launch.sub]
    course = state.courses[launch.course_id]
    link = (
        state.resource_links.get((launch.course_id, launch.resource_link_id))
        if launch.resource_link_id
        else None
    )
    variables = {
        "User.id": user.sub,
        "User.username": user.username,
        "Context.id": course.context_id,
        "Context.title": course.title,
        "Context.label": course.label,
        "CourseSection.title": course.title,
        "CourseSection.label": course.label,
        "Membership.role": ",".join(launch.roles),
    }
    if user.person_sourcedid:
        variables["Person.sourcedId"] = user.person_sourcedid
    if course.sourcedid:
        variables["CourseSection.sourcedId"] = course.sourcedid
    if tool.sends_name:
        variables["Person.name.full"] = user.name
        variables["Person.name.given"] = user.given_name
        variables["Person.name.family"] = user.family_name
    if tool.sends_email:
        variables["Person.email.primary"] = user.email
    if link is not None:
        variables["ResourceLink.id"] = link.id
        variables["ResourceLink.title"] = link.title
    merged = {
        **tool.custom_parameters,
        **(link.custom if link else {}),
        **user.custom,
        **launch.custom,
    }
    claim: dict[str, str] = {}
    for key, raw in merged.items():
        value = _substitute(str(raw), variables)
        keys = _moodle_keys(key) if state.settings.product == "moodle" else [key]
        for name in keys:
            claim[name] = value
    return claim


def launch_claims(
    state: State, launch: PendingLaunch, tool: RegisteredTool, nonce: str
) -> dict[str, Any]:
    """The claims of the id_token answering ``launch`` (before any tampering)."""
    user = state.users[launch.sub]
    course = state.courses[launch.course_id]
    now = state.issue_time()
    claims: dict[str, Any] = {
        "iss": state.issuer,
        "aud": tool.client_id,
        "sub": user.sub,
        "exp": now + state.settings.id_token_ttl,
        "iat": now,
        "nonce": nonce,
    }
    if tool.sends_name:
        claims.update(name=user.name, given_name=user.given_name, family_name=user.family_name)
    if tool.sends_email:
        claims["email"] = user.email
    claims[vocab.MESSAGE_TYPE] = launch.message_type
    claims[vocab.VERSION] = vocab.LTI_VERSION
    claims[vocab.DEPLOYMENT_ID] = tool.deployment_id
    claims[vocab.TARGET_LINK_URI] = launch.target_link_uri
    link = None
    if launch.message_type == vocab.RESOURCE_LINK_REQUEST and launch.resource_link_id:
        link = state.resource_links[(launch.course_id, launch.resource_link_id)]
        claims[vocab.RESOURCE_LINK] = {
            "id": link.id,
            "title": link.title,
            "description": link.description,
        }
    claims[vocab.ROLES] = list(launch.roles)
    claims[vocab.CONTEXT] = {
        "id": course.context_id,
        "label": course.label,
        "title": course.title,
        "type": [vocab.CONTEXT_TYPE_COURSE_SECTION],
    }
    custom = custom_claim(state, launch, tool)
    if custom:
        claims[vocab.CUSTOM] = custom
    lis = {}
    if user.person_sourcedid:
        lis["person_sourcedid"] = user.person_sourcedid
    if course.sourcedid:
        lis["course_section_sourcedid"] = course.sourcedid
    if lis:
        claims[vocab.LIS] = lis
    claims[vocab.LAUNCH_PRESENTATION] = {
        "locale": "en",
        "document_target": "iframe",
        "return_url": state.return_url(course.context_id, launch.resource_link_id),
    }
    claims[vocab.TOOL_PLATFORM] = {
        "product_family_code": state.product_family_code,
        "version": state.product_version,
        "guid": state.base_url.removeprefix("http://"),
        "name": "Local LTI platform",
        "url": state.base_url,
    }
    if vocab.SCOPE_NRPS in tool.scopes:
        claims[vocab.NRPS_CLAIM] = {
            "context_memberships_url": state.memberships_url(course.context_id),
            "service_versions": ["2.0"],
        }
    if tool.ags_scopes:
        endpoint: dict[str, Any] = {
            "scope": tool.ags_scopes,
            "lineitems": state.line_items_url(course.context_id),
        }
        if link is not None:
            for item in state.line_items.values():
                if item.course_id == course.context_id and item.resource_link_id == link.id:
                    endpoint["lineitem"] = item.url
                    break
        claims[vocab.AGS_CLAIM] = endpoint
    if launch.message_type == vocab.DEEP_LINKING_REQUEST and launch.dl_data:
        request = state.dl_requests[launch.dl_data]
        claims[vocab.DL_SETTINGS] = {
            "deep_link_return_url": state.deep_link_return_url,
            "accept_types": list(request.accept_types),
            "accept_presentation_document_targets": ["iframe", "window"],
            "accept_multiple": request.accept_multiple,
            "auto_create": False,
            "title": course.title,
            "data": request.data,
        }
    return claims


def _apply(tamper: Tamper, claims: dict[str, Any], now: int) -> None:
    if tamper.sign_with == "expired":
        claims["iat"], claims["exp"] = now - 600, now - 300
    if tamper.multi_aud:
        claims["aud"] = [claims["aud"], OTHER_AUDIENCE]
        claims["azp"] = claims["aud"][0]
    for name in tamper.remove:
        claims.pop(name, None)
    claims.update(copy.deepcopy(tamper.claims))


def sign_id_token(state: State, claims: dict[str, Any], launch_id: str) -> IssuedToken:
    """Apply the pending tampering, sign, and remember the token."""
    claims = copy.deepcopy(claims)
    active, state.tampers = state.tampers, [t for t in state.tampers if not t.once]
    sign_with = None
    for tamper in active:
        _apply(tamper, claims, state.issue_time())
        sign_with = tamper.sign_with or sign_with
    key = state.signing_key
    header: dict[str, Any] = {"alg": "RS256", "typ": "JWT", "kid": key.kid}
    if sign_with == "unknown-key":
        token = state.stray_key.sign(claims)
        header["kid"] = state.stray_key.kid
    elif sign_with == "no-kid":
        token = key.sign(claims, kid=False)
        del header["kid"]
    elif sign_with == "none":
        token = unsigned_token(claims)
        header = {"alg": "none", "typ": "JWT"}
    elif sign_with == "hs256":
        token = hs256_token(claims, key)
        header["alg"] = "HS256"
    else:
        token = key.sign(claims)
    issued = IssuedToken(token, header, claims, launch_id)
    state.issued_tokens.append(issued)
    return issued
