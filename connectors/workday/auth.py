"""Workday authentication: OAuth 2.0 bearer tokens (refresh-token or JWT grant), Basic for
custom reports, and the WS-Security header for SOAP.

Access tokens are renewed shortly before they expire (a minute early, or a tenth of their
lifetime when that is shorter, so a short-lived token is still used for most of its life) and
once more on a 401. An
``expires_in`` of -1, or none at all, means "until Workday says otherwise" (a 401). When the
token endpoint sends back a new refresh token, it is stored (through :class:`RefreshTokens`)
before the new access token is used: losing a rotated token would lock the integration out.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Protocol
from xml.sax.saxutils import escape

import jwt
import requests
from requests.auth import AuthBase, HTTPBasicAuth

from mentorbridge.connectors.http import HttpClient
from mentorbridge.plugin.errors import SourceAuthError, SourceRequestError, SourceUnavailableError

__all__ = [
    "BearerAuth",
    "JWTGrant",
    "RefreshTokenGrant",
    "RefreshTokens",
    "TokenGrant",
    "basic_auth",
    "renewal_margin",
    "ws_security_header",
]

JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"
RENEW_EARLY = 60.0  # seconds before expiry a token counts as expired (long-lived tokens)
RENEW_EARLY_SHARE = 0.1  # for short-lived tokens: this share of the lifetime instead
ASSERTION_LIFETIME = 300  # seconds a JWT assertion is valid


class RefreshTokens(Protocol):
    """Where the live refresh token is kept (the store; see ``plugin.store.credentials``)."""

    def current(self) -> str:
        """The refresh token to use now."""
        ...

    def replace(self, new: str) -> None:
        """Keep a rotated refresh token; must be durable when it returns."""
        ...


@dataclass(slots=True)
class Token:
    value: str
    expires_at: float | None  # time.monotonic() deadline; None: until a 401


class TokenGrant(Protocol):
    """One way to obtain an access token."""

    def fetch(self) -> Token: ...


class _TokenEndpoint:
    """POSTs grants to ``/ccx/oauth2/{tenant}/token`` and reads the answer."""

    def __init__(self, http: HttpClient, url: str) -> None:
        self.http, self.url = http, url

    def post(self, form: dict[str, str], *, auth: AuthBase | None = None) -> dict[str, object]:
        return self.http.call(
            "POST", self.url, data=form, auth=auth, read=_read_token, what="token request"
        )


def _read_token(response: requests.Response) -> dict[str, object]:
    if response.status_code == 200:
        try:
            body = response.json()
        except ValueError:
            body = None
        if isinstance(body, dict) and isinstance(body.get("access_token"), str):
            return body
        raise SourceUnavailableError(
            "the token endpoint answered 200 without an access token", response=response
        )
    if response.status_code in (400, 401, 403):
        try:
            body = response.json()
        except ValueError:
            body = {}
        if not isinstance(body, dict):
            body = {}
        error = body.get("error_description") or body.get("error") or response.text[:200]
        raise SourceAuthError(
            f"Workday refused the credentials at the token endpoint ({response.status_code}: "
            f"{error}) — check workday.client_id, the client secret and the refresh token or "
            "JWT key, and that the API client is registered for this tenant",
            response=response,
        )
    if response.status_code == 404:
        raise SourceRequestError(
            f"no token endpoint at {response.url}: check workday.host and workday.tenant",
            response=response,
        )
    raise SourceUnavailableError(
        f"token endpoint answered {response.status_code}", response=response
    )


def _expiry(body: dict[str, object], now: float) -> float | None:
    expires_in = body.get("expires_in")
    if not isinstance(expires_in, int | float | str):
        return None
    try:
        seconds = float(expires_in)
    except ValueError:
        return None
    return now + seconds - renewal_margin(seconds) if seconds > 0 else None


def renewal_margin(lifetime: float) -> float:
    """How many seconds before its expiry a token of ``lifetime`` seconds is renewed: a minute,
    or a tenth of the lifetime when that is shorter (never the whole lifetime, else every
    request would fetch a new token)."""
    return min(RENEW_EARLY, RENEW_EARLY_SHARE * lifetime)


class RefreshTokenGrant:
    """``grant_type=refresh_token`` with the client id and secret in the body or as Basic."""

    def __init__(
        self,
        endpoint: _TokenEndpoint,
        *,
        client_id: str,
        client_secret: str,
        refresh_tokens: RefreshTokens,
        client_auth: str = "body",
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.endpoint, self.client_id, self.client_secret = endpoint, client_id, client_secret
        self.refresh_tokens, self.client_auth, self.clock = refresh_tokens, client_auth, clock

    def fetch(self) -> Token:
        form = {"grant_type": "refresh_token", "refresh_token": self.refresh_tokens.current()}
        auth = None
        if self.client_auth == "basic":
            auth = HTTPBasicAuth(self.client_id, self.client_secret)
        else:
            form |= {"client_id": self.client_id, "client_secret": self.client_secret}
        body = self.endpoint.post(form, auth=auth)
        rotated = body.get("refresh_token")
        if isinstance(rotated, str) and rotated and rotated != form["refresh_token"]:
            self.refresh_tokens.replace(rotated)  # durable before the access token is used
        return Token(str(body["access_token"]), _expiry(body, self.clock()))


class JWTGrant:
    """The JWT bearer grant: an RS256 assertion signed with the client's x509 private key."""

    def __init__(
        self,
        endpoint: _TokenEndpoint,
        *,
        client_id: str,
        subject: str,
        private_key_pem: bytes,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        self.endpoint, self.client_id, self.subject = endpoint, client_id, subject
        self.private_key_pem, self.clock, self.wall_clock = private_key_pem, clock, wall_clock

    def assertion(self) -> str:
        now = int(self.wall_clock())
        claims = {
            "iss": self.client_id,
            "sub": self.subject,
            "aud": "wd",
            "iat": now,
            "exp": now + ASSERTION_LIFETIME,
        }
        return jwt.encode(claims, self.private_key_pem, algorithm="RS256")

    def fetch(self) -> Token:
        body = self.endpoint.post({"grant_type": JWT_BEARER, "assertion": self.assertion()})
        return Token(str(body["access_token"]), _expiry(body, self.clock()))


class BearerAuth(AuthBase):
    """Adds ``Authorization: Bearer …``, fetching and renewing the token as needed.

    Thread-safe: concurrent requests share one token and one renewal.
    """

    def __init__(self, grant: TokenGrant, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.grant, self.clock = grant, clock
        self._token: Token | None = None
        self._lock = threading.Lock()

    def token(self) -> str:
        with self._lock:
            if self._token is None or (
                self._token.expires_at is not None and self.clock() >= self._token.expires_at
            ):
                self._token = self.grant.fetch()
            return self._token.value

    def renew(self) -> None:
        """Forget the current token (the source said 401); the next request fetches one."""
        with self._lock:
            self._token = None

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        request.headers["Authorization"] = f"Bearer {self.token()}"
        return request


def token_endpoint(http: HttpClient, host: str, tenant: str) -> _TokenEndpoint:
    """The tenant's token endpoint."""
    return _TokenEndpoint(http, f"{host}/ccx/oauth2/{tenant}/token")


def basic_auth(username: str, password: str) -> HTTPBasicAuth:
    """HTTP Basic for custom reports: the integration system user as ``user@tenant``."""
    return HTTPBasicAuth(username, password)


def ws_security_header(username: str, password: str) -> Iterator[str]:
    """The SOAP ``wsse:Security`` header with a UsernameToken (password as text)."""
    yield (
        '<wsse:Security soapenv:mustUnderstand="1" xmlns:wsse="http://docs.oasis-open.org/'
        'wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"><wsse:UsernameToken>'
    )
    yield f"<wsse:Username>{escape(username)}</wsse:Username>"
    yield (
        '<wsse:Password Type="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-'
        f'username-token-profile-1.0#PasswordText">{escape(password)}</wsse:Password>'
    )
    yield "</wsse:UsernameToken></wsse:Security>"
