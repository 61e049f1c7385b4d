"""An xAPI 1.0.3 client for one Learning Record Store, on one pooled ``httpx.Client``.

Writing sends pre-serialized bytes (the outbox's exact payloads); :func:`raise_for_lrs_status`
is the only place an LRS answer becomes an error. Reading follows ``more`` as an opaque IRL
relative to the endpoint's origin (xAPI Data 2.5).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urljoin, urlsplit

import httpx

from mentorbridge.plugin.errors import (
    LRSAuthError,
    LRSEndpointError,
    LRSPayloadTooLargeError,
    LRSRejectedError,
    LRSUnavailableError,
)
from mentorbridge.plugin.retry import parse_retry_after
from mentorbridge.xapi.statements import format_timestamp

__all__ = ["XAPI_VERSION", "LRSClient", "LRSCredentials", "raise_for_lrs_status"]

XAPI_VERSION = "1.0.3"
_EXCERPT = 2000  # characters of an LRS answer kept with a dead letter


@dataclass(frozen=True, slots=True)
class LRSCredentials:
    """How we authenticate: ``basic`` (username, secret), ``bearer`` (token) or ``none``."""

    kind: str = "none"
    username: str | None = None
    secret: str | None = None

    def auth(self) -> httpx.Auth | None:
        match self.kind:
            case "basic":
                return httpx.BasicAuth(self.username or "", self.secret or "")
            case "bearer":
                return _BearerAuth(self.secret or "")
            case "none":
                return None
        raise ValueError(f"unknown LRS auth kind {self.kind!r}")


class _BearerAuth(httpx.Auth):
    def __init__(self, token: str) -> None:
        self._header = f"Bearer {token}"

    def auth_flow(self, request: httpx.Request) -> Iterator[httpx.Request]:
        request.headers["Authorization"] = self._header
        yield request


def raise_for_lrs_status(response: httpx.Response) -> None:
    """Turn an LRS answer into the error that says what to do next, or return on success.

    200/204 → success; 400/409/422 → :class:`LRSRejectedError` (the content is at fault);
    401/403 → :class:`LRSAuthError`; 413 → :class:`LRSPayloadTooLargeError`; 429 and 5xx →
    :class:`LRSUnavailableError` (with ``Retry-After``); anything else →
    :class:`LRSEndpointError`.
    """
    status = response.status_code
    if status in (200, 204):
        return
    detail = f"LRS answered {status} {response.reason_phrase}: {_excerpt(response)}"
    if status in (400, 409, 422):
        raise LRSRejectedError(detail, response=response)
    if status in (401, 403):
        raise LRSAuthError(
            f"{detail} — check lrs.username and the password (MENTORBRIDGE_LRS_PASSWORD or "
            "lrs.password_file), or the token (MENTORBRIDGE_LRS_TOKEN) with lrs.auth = "
            '"bearer", and that the credentials may write statements',
            response=response,
        )
    if status == 413:
        raise LRSPayloadTooLargeError(detail, response=response)
    if status == 429 or status >= 500:
        retry_after = parse_retry_after(response.headers.get("Retry-After"))
        raise LRSUnavailableError(detail, response=response, retry_after=retry_after)
    raise LRSEndpointError(
        f"{detail} — is lrs.endpoint the LRS's xAPI endpoint (ending in /)?", response=response
    )


def _excerpt(response: httpx.Response) -> str:
    try:
        text = response.text
    except (httpx.ResponseNotRead, UnicodeDecodeError):
        return "(no readable body)"
    return (text[:_EXCERPT] + "…") if len(text) > _EXCERPT else (text or "(empty body)")


class LRSClient:
    """Talks to one LRS.

    Args:
        endpoint: the xAPI endpoint, ending in ``/`` (``https://lrs.example.com/xAPI/``).
        credentials: how to authenticate.
        connect_timeout: seconds to open a connection.
        read_timeout: seconds to wait for an answer.
        client: an ``httpx.Client`` to use instead of a new pooled one (tests pass Ralph's
            in-process ``TestClient``); its base URL and auth are left as they are.
        transport: an ``httpx`` transport for the new client (``httpx.MockTransport`` fakes).
    """

    def __init__(
        self,
        endpoint: str,
        *,
        credentials: LRSCredentials | None = None,
        connect_timeout: float = 5.0,
        read_timeout: float = 60.0,
        client: httpx.Client | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        if not endpoint.endswith("/"):
            endpoint += "/"
        self.endpoint = endpoint
        self.request_budget = connect_timeout + read_timeout
        self._headers = {
            "X-Experience-API-Version": XAPI_VERSION,
            "Accept": "application/json",
        }
        self._owns_client = client is None
        self._client = client or httpx.Client(
            auth=(credentials or LRSCredentials()).auth(),
            timeout=httpx.Timeout(read_timeout, connect=connect_timeout),
            limits=httpx.Limits(max_connections=4, max_keepalive_connections=4),
            transport=transport,
        )

    def close(self) -> None:
        """Close the connection pool (not a client that was handed in)."""
        if self._owns_client:
            self._client.close()

    def __enter__(self) -> LRSClient:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    # -- writing ----------------------------------------------------------------------------

    def post_statements(self, body: bytes) -> None:
        """POST a JSON array of statements, sent exactly as given.

        Raises:
            LRSRejectedError, LRSAuthError, LRSPayloadTooLargeError, LRSUnavailableError,
            LRSEndpointError: see :func:`raise_for_lrs_status`.
        """
        response = self._request(
            "POST",
            self.endpoint + "statements",
            content=body,
            headers={"Content-Type": "application/json"},
        )
        raise_for_lrs_status(response)

    # -- reading ----------------------------------------------------------------------------

    def statements(
        self,
        *,
        agent: dict[str, Any] | None = None,
        verb: str | None = None,
        activity: str | None = None,
        registration: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int | None = None,
        ascending: bool | None = None,
        related_activities: bool | None = None,
        related_agents: bool | None = None,
    ) -> Iterator[dict[str, Any]]:
        """Every statement matching the filters, page by page, following ``more``."""
        params: dict[str, str] = {}
        if agent is not None:
            params["agent"] = json.dumps(agent, separators=(",", ":"), sort_keys=True)
        for name, value in (("verb", verb), ("activity", activity), ("registration", registration)):
            if value is not None:
                params[name] = value
        for name, moment in (("since", since), ("until", until)):
            if moment is not None:
                params[name] = format_timestamp(moment)
        if limit is not None:
            params["limit"] = str(limit)
        for name, flag in (
            ("ascending", ascending),
            ("related_activities", related_activities),
            ("related_agents", related_agents),
        ):
            if flag is not None:
                params[name] = "true" if flag else "false"
        url: str | None = self.endpoint + "statements"
        seen: set[str] = set()
        while url:
            result = self._get_json(url, params=params)
            yield from result.get("statements", [])
            more = result.get("more") or ""
            if not more:
                return
            if more in seen:
                raise LRSEndpointError(f"the LRS sent the same `more` link twice: {more}")
            seen.add(more)
            url, params = self._resolve_more(more), {}

    def get_statement(self, statement_id: str) -> dict[str, Any] | None:
        """One statement by id; ``None`` if the LRS does not have it (or it is voided)."""
        return self._get_single(statementId=statement_id)

    def get_voided_statement(self, statement_id: str) -> dict[str, Any] | None:
        """A voided statement by id (xAPI Communication 2.1.4); ``None`` if absent."""
        return self._get_single(voidedStatementId=statement_id)

    def about(self) -> dict[str, Any] | None:
        """The About resource (versions the LRS speaks); ``None`` if it has none (404)."""
        response = self._request("GET", self.endpoint + "about")
        if response.status_code == 404:
            return None
        raise_for_lrs_status(response)
        return response.json()

    # -- plumbing ---------------------------------------------------------------------------

    def _get_single(self, **params: str) -> dict[str, Any] | None:
        response = self._request("GET", self.endpoint + "statements", params=params)
        if response.status_code == 404:
            return None
        raise_for_lrs_status(response)
        body = response.json()
        # Some LRSs (Ralph) answer an unknown id with an empty StatementResult, not 404.
        if isinstance(body, dict) and "statements" in body:
            return body["statements"][0] if body["statements"] else None
        return body

    def _get_json(self, url: str, *, params: dict[str, str]) -> dict[str, Any]:
        response = self._request("GET", url, params=params or None)
        raise_for_lrs_status(response)
        try:
            return response.json()
        except ValueError as err:
            raise LRSEndpointError(
                f"the LRS answered {url} with something that is not JSON", response=response
            ) from err

    def _resolve_more(self, more: str) -> str:
        """``more`` is relative to the endpoint's origin (scheme, host, port), not its path."""
        parts = urlsplit(self.endpoint)
        return urljoin(f"{parts.scheme}://{parts.netloc}/", more)

    def _request(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        headers = {**self._headers, **kwargs.pop("headers", {})}
        try:
            return self._client.request(method, url, headers=headers, **kwargs)
        except httpx.TimeoutException as err:
            raise LRSUnavailableError(
                f"the LRS did not answer in time ({type(err).__name__})"
            ) from err
        except httpx.TransportError as err:
            raise LRSUnavailableError(f"cannot reach the LRS at {self.endpoint}: {err}") from err
