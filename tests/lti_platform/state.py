"""The platform's state and configuration, shared by the endpoint modules (one lock for all)."""

from __future__ import annotations

import itertools
import json
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from werkzeug.wrappers import Response

from tests.lti_platform.keys import SigningKey, find_key
from tests.lti_platform.model import (
    AccessToken,
    Call,
    Course,
    DeepLinkRequest,
    IssuedToken,
    LineItem,
    PendingLaunch,
    Refusal,
    RegisteredTool,
    ResourceLink,
    Score,
    Tamper,
    User,
)

__all__ = ["PRODUCTS", "Settings", "State", "json_response", "oauth_error"]

#: ``product`` values: ``moodle`` behaves like Moodle 4.3 where the specs leave room
#: (custom parameter keys, scores refused unless strictly newer by the second); ``generic``
#: follows the IMS texts only.
PRODUCTS = {
    "moodle": ("moodle", "4.3 (Build: 20231009)"),
    "generic": ("ims-test-platform", "1.0"),
}

#: How far apart the clocks of the platform and a tool may be when it checks a tool's JWT.
LEEWAY = 5


@dataclass(frozen=True)
class Settings:
    """Fixed at construction."""

    product: str
    page_size: int
    strict_media_types: bool
    access_token_ttl: int
    login_ttl: int
    id_token_ttl: int


class State:
    """Everything the platform holds. Endpoints run with :attr:`lock` held."""

    def __init__(self, settings: Settings, fetch_json: Callable[[str], Any]) -> None:
        self.settings = settings
        self.fetch_json = fetch_json
        self.lock = threading.RLock()
        self.base_url = ""
        #: Published signing keys; the last one signs.
        self.keys: list[SigningKey] = [SigningKey.generate()]
        self._stray_key: SigningKey | None = None
        #: Seconds added to the clock the platform stamps id_tokens with (iat, exp).
        self.clock_skew = 0.0
        self.tools: dict[str, RegisteredTool] = {}
        self.users: dict[str, User] = {}
        self.courses: dict[str, Course] = {}
        self.resource_links: dict[tuple[str, str], ResourceLink] = {}
        self.registration_tokens: dict[str, bool] = {}  # token -> used
        self.launches: dict[str, PendingLaunch] = {}
        self.dl_requests: dict[str, DeepLinkRequest] = {}
        self.access_tokens: dict[str, AccessToken] = {}
        self.used_jtis: dict[str, float] = {}
        self.used_response_nonces: set[str] = set()
        self.tool_jwks: dict[str, Any] = {}  # client_id -> the JWKS last fetched
        self.jwks_fetches: list[str] = []
        self.tampers: list[Tamper] = []
        self.line_items: dict[str, LineItem] = {}  # key -> line item, in creation order
        self.scores: list[Score] = []
        self.latest_scores: dict[tuple[str, str], Score] = {}  # (line item url, user)
        self.deep_link_responses: list[dict[str, Any]] = []
        self.issued_tokens: list[IssuedToken] = []
        self.returns: list[dict[str, str]] = []
        self.calls: list[Call] = []
        self.refusals: list[Refusal] = []
        self.errors: list[str] = []
        self._ids = itertools.count(1)

    # -- identities and clocks -----------------------------------------------------------------

    def next_id(self) -> str:
        """A new small number as text: deployment ids and line item ids, like Moodle's."""
        return str(next(self._ids))

    @property
    def signing_key(self) -> SigningKey:
        return self.keys[-1]

    @property
    def stray_key(self) -> SigningKey:
        """A key the JWKS never lists (for ``sign_with="unknown-key"``)."""
        if self._stray_key is None:
            self._stray_key = SigningKey.generate("not-in-jwks-" + SigningKey.generate().kid)
        return self._stray_key

    def issue_time(self) -> int:
        """The platform's clock for what it signs (moved by :attr:`clock_skew`)."""
        return int(time.time() + self.clock_skew)

    @property
    def product_family_code(self) -> str:
        return PRODUCTS[self.settings.product][0]

    @property
    def product_version(self) -> str:
        return PRODUCTS[self.settings.product][1]

    # -- URLs ----------------------------------------------------------------------------------

    @property
    def issuer(self) -> str:
        return self.base_url

    @property
    def authorization_endpoint(self) -> str:
        return f"{self.base_url}/auth"

    @property
    def token_endpoint(self) -> str:
        return f"{self.base_url}/token"

    @property
    def jwks_url(self) -> str:
        return f"{self.base_url}/jwks"

    @property
    def registration_endpoint(self) -> str:
        return f"{self.base_url}/register"

    @property
    def deep_link_return_url(self) -> str:
        return f"{self.base_url}/deep_link_return"

    def course_url(self, course_id: str) -> str:
        return f"{self.base_url}/api/lti/courses/{quote(course_id, safe='')}"

    def memberships_url(self, course_id: str) -> str:
        return f"{self.course_url(course_id)}/memberships"

    def line_items_url(self, course_id: str) -> str:
        return f"{self.course_url(course_id)}/line_items"

    def return_url(self, course_id: str, resource_link_id: str | None) -> str:
        query = f"course={quote(course_id, safe='')}"
        if resource_link_id:
            query += f"&resource_link={quote(resource_link_id, safe='')}"
        return f"{self.base_url}/return?{query}"

    # -- records -------------------------------------------------------------------------------

    def refuse(self, endpoint: str, status: int, error: str, description: str) -> None:
        """Remember a refusal (every endpoint records why it said no)."""
        self.refusals.append(Refusal(endpoint, status, error, description))

    def tool_key(self, tool: RegisteredTool, kid: str) -> Any | None:
        """The tool's public key ``kid``: from its JWKS, fetched again once if ``kid`` is new.

        Raises whatever fetching raises (the caller turns it into a refusal).
        """
        if tool.jwks is not None:
            return find_key(tool.jwks, kid)
        cached = self.tool_jwks.get(tool.client_id)
        key = find_key(cached, kid) if cached is not None else None
        if key is None and tool.jwks_uri:
            self.jwks_fetches.append(tool.jwks_uri)
            self.tool_jwks[tool.client_id] = self.fetch_json(tool.jwks_uri)
            key = find_key(self.tool_jwks[tool.client_id], kid)
        return key


def json_response(
    body: Any,
    status: int = 200,
    *,
    content_type: str = "application/json",
    headers: Mapping[str, str] | None = None,
) -> Response:
    """A JSON answer."""
    response = Response(json.dumps(body), status=status, content_type=content_type)
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def oauth_error(
    state: State,
    endpoint: str,
    status: int,
    error: str,
    description: str,
    *,
    headers: Mapping[str, str] | None = None,
) -> Response:
    """An OAuth 2 style error (``{"error", "error_description"}``), recorded as a refusal."""
    state.refuse(endpoint, status, error, description)
    return json_response(
        {"error": error, "error_description": description},
        status,
        headers={"Cache-Control": "no-store", **(headers or {})},
    )
