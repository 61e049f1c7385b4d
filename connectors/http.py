"""HTTP for connectors: one ``requests.Session``, explicit timeouts, and one retry loop.

:meth:`HttpClient.call` sends a request and hands the response to a ``read`` function that
turns it into a result or raises the error that says what to do next. Throttling, 5xx,
maintenance pages, malformed answers, timeouts and dropped connections
(:class:`~plugin.errors.SourceUnavailableError`) are retried with capped exponential backoff
and jitter, honouring ``Retry-After`` when a source sends it (a check turns the retries of
failed connections off: it must answer in seconds); a 401
(:class:`~plugin.errors.SourceAuthError`) renews the credentials once; anything else is final.
Retrying reads and token requests is safe. A write passes ``give_up``, which stops the retries
of the failures after which the request may already have reached the source.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any, TypeVar

import requests

from mentorbridge.plugin.errors import (
    SourceAuthError,
    SourceUnavailableError,
    SourceUnreachableError,
)
from mentorbridge.plugin.retry import backoff_delay

__all__ = ["HttpClient"]

log = logging.getLogger(__name__)

T = TypeVar("T")
USER_AGENT = "mentorbridge"
#: Failures of the connection itself: worth another try (a bad URL or TLS setup is not).
_TRANSPORT_FAILURES = (
    requests.Timeout,
    requests.ConnectionError,
    requests.exceptions.ChunkedEncodingError,
)


class HttpClient:
    """Sends requests for one source.

    Args:
        connect_timeout: seconds to open a connection.
        read_timeout: seconds to wait for data.
        max_retries: retries of one request before it fails for good.
        backoff_base: first delay in seconds; backoff_cap: the longest.
        sleep: how to wait (tests pass a fake).
        session: a ``requests.Session`` to use (tests pass one wired to ``responses``).
    """

    def __init__(
        self,
        *,
        connect_timeout: float = 10.0,
        read_timeout: float = 180.0,
        max_retries: int = 6,
        backoff_base: float = 2.0,
        backoff_cap: float = 120.0,
        sleep: Callable[[float], None] = time.sleep,
        session: requests.Session | None = None,
    ) -> None:
        self.timeout = (connect_timeout, read_timeout)
        self.max_retries = max_retries
        self.backoff_base, self.backoff_cap = backoff_base, backoff_cap
        self.sleep = sleep
        self.session = session or requests.Session()
        self.session.headers.setdefault("User-Agent", USER_AGENT)
        self.retries = 0  # retried requests so far, for reports and benchmarks
        #: Retry when no connection could be made at all (a sync, yes; a check, no).
        self.retry_connection_failures = True

    def close(self) -> None:
        """Close the connection pool."""
        self.session.close()

    def call(
        self,
        method: str,
        url: str,
        *,
        read: Callable[[requests.Response], T],
        renew_auth: Callable[[], None] | None = None,
        what: str = "request",
        give_up: Callable[[Exception], Exception | None] | None = None,
        **kwargs: Any,
    ) -> T:
        """Send a request until ``read`` accepts its response, or fail.

        Args:
            read: turns the response into a result, or raises.
            renew_auth: called once when the source answers 401, before one more try.
            what: a few words for log lines and errors ("workers page 3").
            give_up: asked about each failure that would be retried (a transport failure or a
                :class:`SourceUnavailableError`); when it returns an error, that error is
                raised at once instead of retrying (a write that may have reached the source).
            **kwargs: passed to ``requests.Session.request`` (a timeout is always set).

        Raises:
            SourceUnavailableError: still failing after ``max_retries`` retries.
            SourceUnreachableError: no connection could be made (after the retries, or at
                once when ``retry_connection_failures`` is off); names the URL.
            SourceAuthError, SourcePermissionError, SourceRequestError: from ``read``.
        """
        failures = 0
        renewed = False
        while True:
            try:
                response = self.session.request(method, url, timeout=self.timeout, **kwargs)
                try:
                    return read(response)
                finally:
                    response.close()
            except SourceAuthError:
                if renew_auth is None or renewed:
                    raise
                renewed = True
                renew_auth()
            except (SourceUnavailableError, *_TRANSPORT_FAILURES) as err:
                final = give_up(err) if give_up is not None else None
                if final is err:
                    raise
                if final is not None:
                    raise final from err
                failures += 1
                reason = _reason(err)
                unreachable = isinstance(err, requests.ConnectionError)
                if unreachable and not self.retry_connection_failures:
                    raise SourceUnreachableError(
                        f"{what}: cannot connect to {url} ({reason})", url=url
                    ) from err
                if failures > self.max_retries:
                    message = f"{what} still failing after {failures} attempts: {reason}"
                    if unreachable:
                        raise SourceUnreachableError(f"{message} ({url})", url=url) from err
                    raise SourceUnavailableError(
                        message, response=getattr(err, "response", None)
                    ) from err
                retry_after = getattr(err, "retry_after", None)
                delay = backoff_delay(
                    failures, base=self.backoff_base, cap=self.backoff_cap, retry_after=retry_after
                )
                log.warning(
                    "%s failed (%s); retry %d of %d in %.1fs",
                    what,
                    reason,
                    failures,
                    self.max_retries,
                    delay,
                )
                self.retries += 1
                self.sleep(delay)


def _reason(err: Exception) -> str:
    if isinstance(err, requests.ConnectTimeout):
        return "the connection timed out"
    if isinstance(err, requests.Timeout):
        return "timed out"
    if isinstance(err, requests.exceptions.SSLError):
        return "TLS failed: check the host name and its certificate"
    if isinstance(err, requests.ConnectionError):
        text = str(err)
        for marker, reason in (
            ("refused", "connection refused"),
            ("Name or service not known", "host name not found"),
            ("nodename nor servname", "host name not found"),
            ("Temporary failure in name resolution", "host name not found"),
            ("getaddrinfo failed", "host name not found"),
        ):
            if marker in text:
                return reason
        return "connection failed or was reset"
    return str(err)
