"""Calls to a platform's LTI Advantage services: an OAuth 2 access token got with a signed
client assertion (``private_key_jwt``), then JSON requests with it, following ``Link:
rel="next"`` pages.

The token is kept per (platform, scopes) until a minute before it expires.
"""

from __future__ import annotations

import re
import secrets
import threading
import time
from collections import Counter
from collections.abc import Iterator
from typing import Any

import requests

from mentorbridge.plugin.errors import SourceAuthError, SourceError, SourcePermissionError
from mentorbridge.plugin.lti.keys import ToolKeys
from mentorbridge.plugin.lti.platforms import RegisteredPlatform

__all__ = ["AdvantageClient"]

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
_NEXT = re.compile(r'<([^>]+)>\s*;\s*rel="?next"?', re.IGNORECASE)


class AdvantageClient:
    """Service calls to one platform, as the tool."""

    def __init__(
        self,
        platform: RegisteredPlatform,
        keys: ToolKeys,
        *,
        timeout: tuple[float, float] = (10.0, 30.0),
        session: requests.Session | None = None,
    ) -> None:
        if not platform.auth_token_url:
            raise SourceError(
                f"platform {platform.id} ({platform.name}) has no token URL, so its roster and "
                "gradebook cannot be used: register it again with its token URL"
            )
        self.platform, self.keys, self.timeout = platform, keys, timeout
        self.http = session or requests.Session()
        self.calls: Counter[str] = Counter()
        self._tokens: dict[tuple[str, ...], tuple[str, float]] = {}
        self._lock = threading.Lock()

    def token(self, scopes: tuple[str, ...]) -> str:
        with self._lock:
            held = self._tokens.get(scopes)
            if held and held[1] > time.monotonic() + 60:
                return held[0]
            now = int(time.time())
            assertion = self.keys.sign(
                {
                    "iss": self.platform.client_id,
                    "sub": self.platform.client_id,
                    "aud": self.platform.audience or self.platform.auth_token_url,
                    "iat": now,
                    "exp": now + 300,
                    "jti": secrets.token_urlsafe(16),
                }
            )
            answer = self._send(
                "POST",
                self.platform.auth_token_url,
                "token",
                data={
                    "grant_type": "client_credentials",
                    "client_assertion_type": ASSERTION_TYPE,
                    "client_assertion": assertion,
                    "scope": " ".join(scopes),
                },
                headers={"Accept": "application/json"},
            )
            body = answer.json()
            token = body.get("access_token")
            if not isinstance(token, str):
                raise SourceAuthError(f"{self.platform.name}'s token answer has no access_token")
            lifetime = float(body.get("expires_in") or 3600)
            self._tokens[scopes] = (token, time.monotonic() + lifetime)
            return token

    def get_pages(
        self, url: str, *, scopes: tuple[str, ...], accept: str, what: str
    ) -> Iterator[tuple[Any, int]]:
        """Each page's JSON body (and its number, from 1), following ``rel="next"``."""
        page, seen = 0, set()
        next_url: str | None = url
        while next_url and next_url not in seen:
            seen.add(next_url)
            page += 1
            answer = self._send(
                "GET", next_url, what, headers=self._auth(scopes, accept), token_scopes=scopes
            )
            yield answer.json(), page
            found = _NEXT.search(answer.headers.get("Link", ""))
            next_url = found.group(1) if found else None

    def post_json(
        self, url: str, body: dict[str, Any], *, scopes: tuple[str, ...], media_type: str, what: str
    ) -> Any:
        headers = {**self._auth(scopes, "application/json"), "Content-Type": media_type}
        answer = self._send("POST", url, what, json=body, headers=headers, token_scopes=scopes)
        return answer.json() if answer.content else None

    def _auth(self, scopes: tuple[str, ...], accept: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token(scopes)}", "Accept": accept}

    def _send(
        self,
        method: str,
        url: str,
        what: str,
        *,
        token_scopes: tuple[str, ...] | None = None,
        **kwargs: Any,
    ) -> requests.Response:
        self.calls[what] += 1
        try:
            answer = self.http.request(method, url, timeout=self.timeout, **kwargs)
        except requests.RequestException as err:
            raise SourceError(
                f"{self.platform.name} ({what}) could not be reached at {url} "
                f"({type(err).__name__})"
            ) from None
        if answer.status_code == 401 and token_scopes is not None:
            with self._lock:  # the token was revoked or expired early: get a new one, once
                self._tokens.pop(token_scopes, None)
            fresh = f"Bearer {self.token(token_scopes)}"
            kwargs["headers"] = {**kwargs["headers"], "Authorization": fresh}
            self.calls[what] += 1
            answer = self.http.request(method, url, timeout=self.timeout, **kwargs)
        if answer.status_code in (401, 403):
            error = SourceAuthError if answer.status_code == 401 else SourcePermissionError
            raise error(
                f"{self.platform.name} refused the {what} request (HTTP {answer.status_code}: "
                f"{answer.text[:200]}): check the tool's services are enabled for it in the LMS"
            )
        if answer.status_code >= 400:
            raise SourceError(
                f"{self.platform.name} answered the {what} request with HTTP "
                f"{answer.status_code}: {answer.text[:200]}"
            )
        return answer
