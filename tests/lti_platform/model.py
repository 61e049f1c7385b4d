"""What the platform knows: users, courses, tools, launches, grades, and what it recorded."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, NamedTuple
from urllib.parse import parse_qsl, urlencode

from tests.lti_platform import vocab

__all__ = [
    "AccessToken",
    "AuthorizationRefused",
    "Call",
    "Course",
    "DeepLinkRequest",
    "Enrolment",
    "IssuedToken",
    "LaunchStart",
    "LineItem",
    "PendingLaunch",
    "Refusal",
    "RegisteredTool",
    "ResourceLink",
    "Score",
    "Tamper",
    "User",
]


@dataclass
class User:
    """A platform account; ``sub`` is what the tool sees as the user's id (Moodle's user id)."""

    sub: str
    name: str
    given_name: str
    family_name: str
    email: str
    person_sourcedid: str | None = None
    username: str = ""
    custom: dict[str, str] = field(default_factory=dict)


@dataclass
class Enrolment:
    """A user's membership of a course."""

    sub: str
    roles: list[str]
    status: str = "Active"


@dataclass
class Course:
    """An LTI context (a Moodle course)."""

    context_id: str
    title: str
    label: str
    sourcedid: str | None = None
    enrolments: dict[str, Enrolment] = field(default_factory=dict)


@dataclass
class ResourceLink:
    """A placement of a tool in a course (a Moodle activity)."""

    id: str
    course_id: str
    client_id: str
    title: str
    description: str = ""
    custom: dict[str, str] = field(default_factory=dict)
    target_link_uri: str | None = None


@dataclass
class RegisteredTool:
    """A tool registration: typed in by an admin or made by Dynamic Registration.

    ``scopes`` are the service scopes granted; ``claims`` the identity claims the tool may
    receive (Moodle's privacy settings: ``name``/``given_name``/``family_name`` send the
    names, ``email`` the address). ``registration`` is the JSON body the tool POSTed to
    ``/register`` (None for a manual registration).
    """

    client_id: str
    deployment_id: str
    name: str
    initiate_login_uri: str
    redirect_uris: list[str]
    jwks_uri: str | None
    target_link_uri: str
    deep_link_uri: str | None = None
    custom_parameters: dict[str, str] = field(default_factory=dict)
    scopes: list[str] = field(default_factory=list)
    claims: list[str] = field(default_factory=list)
    domain: str | None = None
    jwks: dict[str, Any] | None = None
    registration: dict[str, Any] | None = None
    registration_response: dict[str, Any] | None = None

    @property
    def sends_name(self) -> bool:
        return bool({"name", "given_name", "family_name"} & set(self.claims))

    @property
    def sends_email(self) -> bool:
        return "email" in self.claims

    @property
    def ags_scopes(self) -> list[str]:
        return [s for s in vocab.AGS_SCOPES if s in self.scopes]


@dataclass
class PendingLaunch:
    """A launch the platform started: waits for the tool's authentication request."""

    launch_id: str
    client_id: str
    sub: str
    course_id: str
    message_type: str
    resource_link_id: str | None
    target_link_uri: str
    roles: list[str]
    custom: dict[str, str]
    login_hint: str
    created: float
    accept_multiple: bool = True
    used: bool = False
    dl_data: str | None = None  # the deep-linking ``data`` sent, once the id_token is out


@dataclass
class DeepLinkRequest:
    """A deep-linking request sent: the response must come back with its ``data``."""

    data: str
    client_id: str
    deployment_id: str
    course_id: str
    sub: str
    accept_types: list[str]
    accept_multiple: bool
    used: bool = False


@dataclass(frozen=True)
class LaunchStart:
    """The third-party initiated login the platform sends to the tool (OIDC login initiation).

    A browser would GET ``url`` with ``params`` as query (``method`` GET), or POST them as a
    form (``method`` POST).
    """

    url: str
    params: dict[str, str]
    method: str
    launch_id: str

    def as_url(self) -> str:
        """The GET form: ``url`` with ``params`` as its query."""
        separator = "&" if "?" in self.url else "?"
        return f"{self.url}{separator}{urlencode(self.params)}"


@dataclass
class LineItem:
    """A gradebook column (AGS line item); ``url`` is its AGS ``id``."""

    key: str
    course_id: str
    url: str
    label: str
    score_maximum: float
    resource_id: str | None = None
    tag: str | None = None
    resource_link_id: str | None = None
    start_date_time: str | None = None
    end_date_time: str | None = None
    grades_released: bool | None = None
    client_id: str | None = None  # the tool that made it; None when the platform did

    def to_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "id": self.url,
            "label": self.label,
            "scoreMaximum": self.score_maximum,
        }
        optional = {
            "resourceId": self.resource_id,
            "tag": self.tag,
            "resourceLinkId": self.resource_link_id,
            "startDateTime": self.start_date_time,
            "endDateTime": self.end_date_time,
            "gradesReleased": self.grades_released,
        }
        body.update({k: v for k, v in optional.items() if v is not None})
        return body


@dataclass(frozen=True)
class Score:
    """A score the platform accepted (AGS score publish)."""

    line_item: str  # the line item's URL
    user_id: str
    score_given: float | None
    score_maximum: float | None
    comment: str | None
    timestamp: str
    activity_progress: str
    grading_progress: str
    body: dict[str, Any]


@dataclass(frozen=True)
class AccessToken:
    """A service access token from ``/token``."""

    token: str
    client_id: str
    scopes: frozenset[str]
    expires_at: float


@dataclass(frozen=True)
class IssuedToken:
    """An id_token the platform signed, as sent (after any tampering)."""

    jwt: str
    header: dict[str, Any]
    claims: dict[str, Any]
    launch_id: str


@dataclass
class Tamper:
    """A change to the next id_token(s): see :meth:`LocalPlatform.tamper`."""

    claims: dict[str, Any]
    remove: list[str]
    sign_with: str | None
    multi_aud: bool
    once: bool


class Call(NamedTuple):
    """A request the platform received: method, path and raw query string (hashable)."""

    method: str
    path: str
    query: str

    @property
    def args(self) -> dict[str, str]:
        """The query as a dict."""
        return dict(parse_qsl(self.query, keep_blank_values=True))


@dataclass(frozen=True)
class Refusal:
    """A request the platform refused, and why: assert on these in a tool's tests."""

    endpoint: str
    status: int
    error: str
    description: str


class AuthorizationRefused(Exception):
    """An authentication request the platform must not answer at the redirect_uri.

    OIDC Core 3.1.2.6 / RFC 6749 4.1.2.1: with an unknown client or a redirect_uri that is not
    registered, the platform shows the error itself instead of redirecting.
    """

    def __init__(self, error: str, description: str) -> None:
        super().__init__(f"{error}: {description}")
        self.error = error
        self.description = description
