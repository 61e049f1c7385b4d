"""LTI Dynamic Registration 1.0: the platform's openid-configuration and ``/register``.

The tool POSTs an OpenID Connect client registration (RFC 7591 + the LTI tool configuration)
with the one-time registration token as bearer; the platform checks it, grants scopes and
answers with ``client_id`` and a ``deployment_id``.
"""

from __future__ import annotations

import json
import secrets
import string
from typing import Any
from urllib.parse import urlsplit

from werkzeug.wrappers import Request, Response

from tests.lti_platform import vocab
from tests.lti_platform.model import RegisteredTool
from tests.lti_platform.state import State, json_response, oauth_error

__all__ = ["new_client_id", "openid_configuration", "register_endpoint", "url_in_domain"]

#: Claims a tool may ask for (``claims`` of the tool configuration).
CLAIMS_SUPPORTED = ["sub", "iss", "name", "given_name", "family_name", "email"]


class _Invalid(Exception):
    def __init__(self, description: str, error: str = "invalid_client_metadata") -> None:
        super().__init__(description)
        self.error = error
        self.description = description


def new_client_id() -> str:
    """Fifteen random letters and digits, like Moodle's ``random_string(15)``."""
    alphabet = string.ascii_letters + string.digits
    return "".join(secrets.choice(alphabet) for _ in range(15))


def openid_configuration(state: State) -> dict[str, Any]:
    """The platform's OpenID configuration (LTI Dynamic Registration 3.4, Moodle's fields)."""
    return {
        "issuer": state.issuer,
        "authorization_endpoint": state.authorization_endpoint,
        "token_endpoint": state.token_endpoint,
        "token_endpoint_auth_methods_supported": ["private_key_jwt"],
        "token_endpoint_auth_signing_alg_values_supported": ["RS256"],
        "jwks_uri": state.jwks_url,
        "registration_endpoint": state.registration_endpoint,
        "scopes_supported": ["openid", *vocab.SERVICE_SCOPES],
        "response_types_supported": ["id_token"],
        "subject_types_supported": ["public", "pairwise"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "claims_supported": list(CLAIMS_SUPPORTED),
        vocab.PLATFORM_CONFIGURATION: {
            "product_family_code": state.product_family_code,
            "version": state.product_version,
            "messages_supported": [
                {"type": vocab.RESOURCE_LINK_REQUEST},
                {"type": vocab.DEEP_LINKING_REQUEST, "placements": ["ContentArea"]},
            ],
            "variables": list(vocab.SUBSTITUTION_VARIABLES),
        },
    }


def _domain(value: str) -> str:
    """Moodle's ``lti_get_domain_from_url``: host and port, lower-cased, without ``www.``."""
    value = value.lower()
    return value[4:] if value.startswith("www.") else value


def url_in_domain(url: str, domains: list[str]) -> bool:
    """Whether ``url``'s host (with its port, as Moodle compares) is one of ``domains``."""
    netloc = urlsplit(url).netloc
    return bool(netloc) and _domain(netloc) in {_domain(d) for d in domains}


def _url(body: dict[str, Any], name: str) -> str:
    value = body.get(name)
    if not isinstance(value, str) or not value:
        raise _Invalid(f"{name} is required (a URL)")
    split = urlsplit(value)
    if split.scheme not in ("http", "https") or not split.netloc or split.fragment:
        raise _Invalid(f"{name} must be an absolute http(s) URL without fragment: {value!r}")
    return value


def _string_list(value: Any, name: str) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise _Invalid(f"{name} must be a JSON array of strings")
    return value


def _validate(body: Any) -> dict[str, Any]:
    """The fields the platform keeps; raises :class:`_Invalid` naming the first problem."""
    if not isinstance(body, dict):
        raise _Invalid("the body must be a JSON object")
    if body.get("application_type") != "web":
        raise _Invalid("application_type must be web")
    response_types = _string_list(body.get("response_types"), "response_types")
    if "id_token" not in response_types:
        raise _Invalid('response_types must include "id_token"')
    grant_types = _string_list(body.get("grant_types"), "grant_types")
    if not {"implicit", "client_credentials"} <= set(grant_types):
        raise _Invalid('grant_types must include "implicit" and "client_credentials"')
    initiate_login_uri = _url(body, "initiate_login_uri")
    redirect_uris = body.get("redirect_uris")
    if not isinstance(redirect_uris, list) or not redirect_uris:
        raise _Invalid("redirect_uris must be a non-empty JSON array", "invalid_redirect_uri")
    for uri in redirect_uris:
        split = urlsplit(uri) if isinstance(uri, str) else None
        if split is None or split.scheme not in ("http", "https") or not split.netloc:
            raise _Invalid(f"redirect_uri {uri!r} is not an absolute URL", "invalid_redirect_uri")
    jwks_uri = _url(body, "jwks_uri")
    if body.get("token_endpoint_auth_method") != "private_key_jwt":
        raise _Invalid("token_endpoint_auth_method must be private_key_jwt")
    client_name = body.get("client_name")
    if not isinstance(client_name, str) or not client_name.strip():
        raise _Invalid("client_name is required")
    scope = body.get("scope", "")
    if not isinstance(scope, str):
        raise _Invalid("scope must be a string of space-separated scopes, not a list")
    config = body.get(vocab.TOOL_CONFIGURATION)
    if not isinstance(config, dict):
        raise _Invalid(f"{vocab.TOOL_CONFIGURATION} (an object) is required")
    domain = config.get("domain")
    if not isinstance(domain, str) or not domain:
        raise _Invalid("the tool configuration needs a domain")
    if "://" in domain or "/" in domain:
        raise _Invalid(f"domain is a host name (and port), without scheme or path: {domain!r}")
    secondary = _string_list(config.get("secondary_domains", []), "secondary_domains")
    domains = [domain, *secondary]
    target_link_uri = _url(config, "target_link_uri")
    claims = _string_list(config.get("claims", []), "claims")
    custom = config.get("custom_parameters", {})
    if not isinstance(custom, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in custom.items()
    ):
        raise _Invalid("custom_parameters must be an object of strings")
    messages = config.get("messages", [])
    if not isinstance(messages, list):
        raise _Invalid("messages must be a JSON array")
    deep_link_uri = None
    for message in messages:
        if not isinstance(message, dict) or not isinstance(message.get("type"), str):
            raise _Invalid("each message needs a type")
        if message["type"] not in vocab.MESSAGE_TYPES:
            raise _Invalid(f"message type {message['type']!r} is not supported")
        if "target_link_uri" in message:
            _url(message, "target_link_uri")
        if message["type"] == vocab.DEEP_LINKING_REQUEST:
            deep_link_uri = message.get("target_link_uri") or target_link_uri
    checked = {
        "initiate_login_uri": [initiate_login_uri],
        "redirect_uris": redirect_uris,
        "target_link_uri": [target_link_uri],
        "messages target_link_uri": [
            m["target_link_uri"] for m in messages if "target_link_uri" in m
        ],
    }
    for name, urls in checked.items():
        for url in urls:
            if not url_in_domain(url, domains):
                error = "invalid_redirect_uri" if name == "redirect_uris" else None
                raise _Invalid(
                    f"{name} {url!r} is not in the tool's domain {domains}",
                    error or "invalid_client_metadata",
                )
    return {
        "client_name": client_name,
        "initiate_login_uri": initiate_login_uri,
        "redirect_uris": list(redirect_uris),
        "jwks_uri": jwks_uri,
        "scopes": scope.split(),
        "domain": domain,
        "target_link_uri": target_link_uri,
        "claims": claims,
        "custom": dict(custom),
        "deep_link_uri": deep_link_uri,
    }


def register_endpoint(state: State, request: Request) -> Response:
    """``POST /register``."""
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token:
        return oauth_error(
            state,
            "register",
            401,
            "invalid_token",
            "a registration token is required as Authorization: Bearer",
            headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
        )
    used = state.registration_tokens.get(token)
    if used is None or used:
        description = "registration token already used" if used else "unknown registration token"
        return oauth_error(
            state,
            "register",
            401,
            "invalid_token",
            description,
            headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
        )
    if request.mimetype != "application/json":
        return oauth_error(
            state, "register", 400, "invalid_client_metadata", "Content-Type must be JSON"
        )
    try:
        body = json.loads(request.get_data(as_text=True))
    except ValueError:
        return oauth_error(state, "register", 400, "invalid_client_metadata", "body is not JSON")
    try:
        fields = _validate(body)
    except _Invalid as invalid:
        return oauth_error(state, "register", 400, invalid.error, invalid.description)
    state.registration_tokens[token] = True
    granted = [s for s in fields["scopes"] if s in vocab.SERVICE_SCOPES]
    tool = RegisteredTool(
        client_id=new_client_id(),
        deployment_id=state.next_id(),
        name=fields["client_name"],
        initiate_login_uri=fields["initiate_login_uri"],
        redirect_uris=fields["redirect_uris"],
        jwks_uri=fields["jwks_uri"],
        target_link_uri=fields["target_link_uri"],
        deep_link_uri=fields["deep_link_uri"],
        custom_parameters=fields["custom"],
        scopes=granted,
        claims=fields["claims"],
        domain=fields["domain"],
        registration=body,
    )
    answer = json.loads(json.dumps(body))
    answer["client_id"] = tool.client_id
    answer["scope"] = " ".join(granted)
    answer[vocab.TOOL_CONFIGURATION]["deployment_id"] = tool.deployment_id
    tool.registration_response = answer
    state.tools[tool.client_id] = tool
    return json_response(answer)
