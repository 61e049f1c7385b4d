"""Credentials for the test server: the OAuth token endpoint, bearer tokens, Basic and
WS-Security users.

The token endpoint follows Workday's: ``grant_type=refresh_token`` with the client
authenticated in the form body or with HTTP Basic (both always accepted), and the JWT bearer
grant (RS256, ``iss`` the client id, ``sub`` the integration user, ``aud`` ``"wd"``). Errors are
``{"error", "error_description"}`` with 400 or 401.
"""

from __future__ import annotations

import base64
import binascii
import secrets
import threading
import time
from dataclasses import dataclass
from typing import Any

import jwt
from cryptography import x509
from cryptography.hazmat.primitives.serialization import load_pem_public_key

__all__ = ["JWT_BEARER", "AuthSettings", "Authority", "TokenError", "basic_credentials"]

JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"


@dataclass(frozen=True)
class AuthSettings:
    """What the tenant's API client and integration system user are configured with."""

    client_id: str
    client_secret: str
    refresh_token: str
    rotate_refresh_tokens: bool
    access_token_ttl: int
    expires_in: str
    jwt_public_key_pem: bytes | None
    jwt_subject: str
    isu_username: str
    isu_password: str


class TokenError(Exception):
    """A refused token request: the HTTP status and the OAuth error body."""

    def __init__(self, status: int, error: str, description: str) -> None:
        super().__init__(description)
        self.status = status
        self.body = {"error": error, "error_description": description}


def basic_credentials(authorization: str | None) -> tuple[str, str] | None:
    """``(user, password)`` from an ``Authorization: Basic`` header, or None."""
    if not authorization or not authorization.lower().startswith("basic "):
        return None
    try:
        decoded = base64.b64decode(authorization[6:].strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    user, colon, password = decoded.partition(":")
    return (user, password) if colon else None


def _bearer(authorization: str | None) -> str | None:
    if not authorization or not authorization.lower().startswith("bearer "):
        return None
    return authorization[7:].strip() or None


def _same(given: str, expected: str) -> bool:
    return secrets.compare_digest(given.encode(), expected.encode())


def _public_key(pem: bytes) -> Any:
    if b"BEGIN CERTIFICATE" in pem:  # Workday registers the client's x509 certificate
        return x509.load_pem_x509_certificate(pem).public_key()
    return load_pem_public_key(pem)


class Authority:
    """Issues access tokens and checks every kind of credential a request can carry."""

    def __init__(self, settings: AuthSettings) -> None:
        self.settings = settings
        self._lock = threading.Lock()
        self._access: dict[str, float] = {}  # token -> time.monotonic() deadline
        self._refresh_token = settings.refresh_token
        #: Every access token issued, oldest first (tests look for them where they must not be).
        self.issued: list[str] = []
        self._key = (
            _public_key(settings.jwt_public_key_pem) if settings.jwt_public_key_pem else None
        )

    @property
    def current_refresh_token(self) -> str:
        """The refresh token that works now (it changes on every refresh when rotating)."""
        with self._lock:
            return self._refresh_token

    def expire_tokens(self) -> None:
        """Make every access token issued so far invalid."""
        with self._lock:
            self._access.clear()

    def grant(self, form: dict[str, str], authorization: str | None) -> dict[str, Any]:
        """Answer a token request; raises :class:`TokenError` when it is refused."""
        grant_type = form.get("grant_type")
        if grant_type == "refresh_token":
            return self._refresh_grant(form, authorization)
        if grant_type == JWT_BEARER:
            return self._jwt_grant(form)
        raise TokenError(400, "unsupported_grant_type", f"Unsupported grant type: {grant_type}")

    def _refresh_grant(self, form: dict[str, str], authorization: str | None) -> dict[str, Any]:
        client = basic_credentials(authorization) or (
            form.get("client_id", ""),
            form.get("client_secret", ""),
        )
        expected = (self.settings.client_id, self.settings.client_secret)
        if not _same("\0".join(client), "\0".join(expected)):
            raise TokenError(401, "invalid_client", "Invalid client credentials")
        with self._lock:
            if not _same(form.get("refresh_token", ""), self._refresh_token):
                raise TokenError(400, "invalid_grant", "Invalid refresh token")
            answer = self._issue()
            if self.settings.rotate_refresh_tokens:
                self._refresh_token = answer["refresh_token"] = secrets.token_urlsafe(24)
        return answer

    def _jwt_grant(self, form: dict[str, str]) -> dict[str, Any]:
        if self._key is None:
            raise TokenError(400, "unauthorized_client", "JWT bearer grant is not set up")
        try:
            claims = jwt.decode(
                form.get("assertion", ""),
                self._key,
                algorithms=["RS256"],
                audience="wd",
                options={"require": ["exp", "iss", "sub", "aud"]},
            )
        except jwt.ExpiredSignatureError:
            raise TokenError(400, "invalid_grant", "The assertion has expired") from None
        except jwt.InvalidTokenError as error:
            raise TokenError(400, "invalid_grant", f"Invalid assertion: {error}") from None
        if claims["iss"] != self.settings.client_id:
            raise TokenError(401, "invalid_client", "Unknown client in the assertion issuer")
        if claims["sub"] != self.settings.jwt_subject:
            raise TokenError(400, "invalid_grant", "The assertion subject is not the client's user")
        with self._lock:
            return self._issue()

    def _issue(self) -> dict[str, Any]:
        """A new access token (the lock must be held)."""
        token = secrets.token_urlsafe(32)
        self._access[token] = time.monotonic() + self.settings.access_token_ttl
        self.issued.append(token)
        answer: dict[str, Any] = {"access_token": token, "token_type": "Bearer"}
        if self.settings.expires_in == "seconds":
            answer["expires_in"] = self.settings.access_token_ttl
        elif self.settings.expires_in == "minus-one":
            answer["expires_in"] = -1
        return answer

    def bearer_ok(self, authorization: str | None) -> bool:
        """Whether the header carries a live access token."""
        token = _bearer(authorization)
        if token is None:
            return False
        with self._lock:
            deadline = self._access.get(token)
            if deadline is not None and time.monotonic() >= deadline:
                del self._access[token]
                deadline = None
        return deadline is not None

    def isu_ok(self, username: str, password: str) -> bool:
        """Whether these are the integration system user's name and password."""
        expected = f"{self.settings.isu_username}\0{self.settings.isu_password}"
        return _same(f"{username}\0{password}", expected)

    def basic_ok(self, authorization: str | None) -> bool:
        """Whether the header is HTTP Basic with the integration system user."""
        credentials = basic_credentials(authorization)
        return credentials is not None and self.isu_ok(*credentials)
