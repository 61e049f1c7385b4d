"""Deep Linking 2.0: the tool's LtiDeepLinkingResponse, form-POSTed as ``JWT`` to the return URL.

Checked as the spec asks (section 4.2 and the IMS Security Framework 5.2 for tool-signed
messages): RS256 with a ``kid`` in the tool's JWKS, ``iss`` the client_id, ``aud`` the
platform issuer, ``exp``/``iat``/``nonce``, the message type and version, the deployment, and
``data`` echoed exactly. The content items then become resource links (and line items).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import jwt
from werkzeug.wrappers import Request, Response

from tests.lti_platform import vocab
from tests.lti_platform.model import LineItem, ResourceLink
from tests.lti_platform.pages import message_page
from tests.lti_platform.state import LEEWAY, State

__all__ = ["deep_link_return"]


class _Bad(Exception):
    pass


def _html(status: int, title: str, text: str) -> Response:
    return Response(message_page(title, text), status=status, content_type="text/html")


def _check_items(items: Any, accept_types: list[str], accept_multiple: bool) -> list[dict]:
    if not isinstance(items, list):
        raise _Bad("content_items must be a JSON array")
    if len(items) > 1 and not accept_multiple:
        raise _Bad("accept_multiple was false: at most one content item")
    for item in items:
        if not isinstance(item, dict) or not isinstance(item.get("type"), str):
            raise _Bad("each content item must be an object with a type")
        if item["type"] not in accept_types:
            raise _Bad(f"content item type {item['type']!r} is not in accept_types {accept_types}")
        url = item.get("url")
        if url is not None:
            split = urlsplit(url) if isinstance(url, str) else None
            if split is None or split.scheme not in ("http", "https") or not split.netloc:
                raise _Bad(f"content item url {url!r} is not an absolute URL")
        custom = item.get("custom", {})
        if not isinstance(custom, dict) or not all(isinstance(v, str) for v in custom.values()):
            raise _Bad("content item custom must be an object of strings")
        line_item = item.get("lineItem")
        if line_item is not None:
            maximum = line_item.get("scoreMaximum") if isinstance(line_item, dict) else None
            if isinstance(maximum, bool) or not isinstance(maximum, int | float) or maximum <= 0:
                raise _Bad("lineItem.scoreMaximum must be a number above 0")
    return items


def _verify(state: State, token: str) -> dict[str, Any]:
    try:
        header = jwt.get_unverified_header(token)
        unverified = jwt.decode(token, options={"verify_signature": False})
    except jwt.PyJWTError as error:
        raise _Bad(f"JWT is not a JWT: {error}") from error
    if header.get("alg") != "RS256":
        raise _Bad(f"the JWT must be signed RS256, not {header.get('alg')!r}")
    tool = state.tools.get(unverified.get("iss", ""))
    if tool is None:
        raise _Bad(f"iss {unverified.get('iss')!r} is not the client_id of a registered tool")
    kid = header.get("kid")
    if not isinstance(kid, str):
        raise _Bad("the JWT header has no kid")
    try:
        key = state.tool_key(tool, kid)
    except Exception as error:  # a tool's JWKS that cannot be read is the tool's problem
        raise _Bad(f"cannot read the tool's JWKS at {tool.jwks_uri}: {error}") from error
    if key is None:
        raise _Bad(f"no key with kid {kid!r} in the tool's JWKS")
    try:
        claims: dict[str, Any] = jwt.decode(
            token,
            key,
            algorithms=["RS256"],
            audience=state.issuer,
            issuer=tool.client_id,
            leeway=LEEWAY,
            options={"require": ["iss", "aud", "exp", "iat", "nonce"]},
        )
    except jwt.InvalidAudienceError as error:
        raise _Bad(f"aud must be the platform issuer {state.issuer!r}: {error}") from error
    except jwt.PyJWTError as error:
        raise _Bad(f"the JWT does not verify: {error}") from error
    if claims.get(vocab.MESSAGE_TYPE) != vocab.DEEP_LINKING_RESPONSE:
        raise _Bad(f"message_type must be {vocab.DEEP_LINKING_RESPONSE}")
    if claims.get(vocab.VERSION) != vocab.LTI_VERSION:
        raise _Bad(f"version must be {vocab.LTI_VERSION}")
    if claims.get(vocab.DEPLOYMENT_ID) != tool.deployment_id:
        raise _Bad(f"deployment_id must be {tool.deployment_id!r}")
    if claims["nonce"] in state.used_response_nonces:
        raise _Bad("this nonce was already used (replayed response?)")
    return claims


def deep_link_return(state: State, request: Request) -> Response:
    """``POST /deep_link_return``."""
    token = request.form.get("JWT")
    if not token:
        state.refuse("deep_link_return", 400, "invalid_request", "the form has no JWT field")
        return _html(400, "Invalid response", "The form has no JWT field.")
    try:
        claims = _verify(state, token)
        data = claims.get(vocab.DL_DATA)
        if data is None:
            raise _Bad("data is missing: the deep_linking_settings data must be echoed")
        request_ = state.dl_requests.get(data) if isinstance(data, str) else None
        if request_ is None or request_.client_id != claims["iss"]:
            raise _Bad("data is not the one the platform sent in deep_linking_settings")
        if request_.used:
            raise _Bad("this deep-linking request was already answered")
        items = _check_items(
            claims.get(vocab.DL_CONTENT_ITEMS, []),
            request_.accept_types,
            request_.accept_multiple,
        )
    except _Bad as bad:
        state.refuse("deep_link_return", 400, "invalid_request", str(bad))
        return _html(400, "Invalid response", str(bad))
    request_.used = True
    state.used_response_nonces.add(claims["nonce"])
    state.deep_link_responses.append(claims)
    titles = []
    for item in items:
        if item["type"] != "ltiResourceLink":
            continue
        link_id = f"dl-{state.next_id()}"
        title = str(item.get("title") or "Untitled")
        titles.append(title)
        state.resource_links[(request_.course_id, link_id)] = ResourceLink(
            link_id,
            request_.course_id,
            request_.client_id,
            title,
            str(item.get("text") or ""),
            dict(item.get("custom") or {}),
            item.get("url"),
        )
        if isinstance(item.get("lineItem"), dict):
            spec = item["lineItem"]
            key = state.next_id()
            state.line_items[key] = LineItem(
                key=key,
                course_id=request_.course_id,
                url=f"{state.line_items_url(request_.course_id)}/{key}",
                label=str(spec.get("label") or title),
                score_maximum=float(spec["scoreMaximum"]),
                resource_id=spec.get("resourceId"),
                tag=spec.get("tag"),
                resource_link_id=link_id,
                client_id=request_.client_id,
            )
    message = claims.get(vocab.DL_ERRORMSG) or claims.get(vocab.DL_MSG) or ""
    added = ", ".join(titles) if titles else "nothing"
    return _html(200, "Content added", f"Added: {added}. {message}".strip())
