"""Calling Moodle's REST web services: form encoding, the one place answers become results or
typed errors, warnings, and retries that are safe for writes.

Every call is a POST of form fields to ``{site}/webservice/rest/server.php``; the token travels
only in the body, never in the URL, so no URL in a log line or an exception holds it. Redirects
are not followed: a redirect would turn the POST into a GET without the body (or send the token
to another host), so it is reported as a wrong site URL instead.
"""

from __future__ import annotations

import logging
import re
import threading
from collections import Counter
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote_plus, urlsplit

import requests
from defusedxml import ElementTree as SafeET
from defusedxml.common import DefusedXmlException
from urllib3.exceptions import NewConnectionError

from mentorbridge.connectors.http import HttpClient
from mentorbridge.connectors.moodle.errors import (
    MoodleEndpointError,
    MoodleError,
    MoodleRequestError,
    MoodleResponseFormatError,
    MoodleUnavailableError,
    MoodleWebServicesDisabledError,
    MoodleWriteUncertainError,
    moodle_error,
)
from mentorbridge.plugin.errors import ConfigError, SourceUnavailableError
from mentorbridge.plugin.retry import parse_retry_after

__all__ = ["MoodleClient", "MoodleWarning", "encode_params", "is_read_function", "read_answer"]

log = logging.getLogger(__name__)

ENDPOINT = "/webservice/rest/server.php"
_CONTROL_KEYS = frozenset({"wstoken", "wsfunction", "moodlewsrestformat"})
_READ_MARKERS = ("_get_", "_list_", "_read_", "_search_", "tool_lp_data_for_", "get_site_info")
_FUNCTION_NAME = re.compile(r"[a-z][a-z0-9_]*")
#: Statuses that mean the request never reached Moodle's PHP: a write is safe to send again.
_NOT_PROCESSED = frozenset({429, 502, 503, 504})
_FORMAT_LOST = (
    "Moodle answered XML, so moodlewsrestformat=json (and perhaps the token) did not reach it: "
    "a proxy or load balancer dropped the POST body or turned the POST into a GET"
)
_FORMAT_FIX = (
    "set moodle.url to the exact address Moodle answers on ($CFG->wwwroot, https if it "
    "redirects to https) and let any proxy pass POST bodies through"
)
_ENABLE_WS = (
    "Site administration > Server > Web services > Overview: enable web services and the REST "
    "protocol"
)


@dataclass(frozen=True, slots=True)
class MoodleWarning:
    """One entry of a ``warnings`` array: Moodle's way of reporting a per-item failure without
    an error (``core_user_update_users`` reports each user it could not update here)."""

    function: str
    item: str | None
    itemid: int | None
    warningcode: str
    message: str


def is_read_function(function: str) -> bool:
    """Whether ``function`` only reads (safe to send twice) by Moodle's naming."""
    return any(marker in function for marker in _READ_MARKERS)


def encode_params(params: Mapping[str, Any]) -> list[tuple[str, str]]:
    """Parameters as PHP bracket-notation form fields (``users[0][idnumber]``).

    Booleans become ``"1"``/``"0"``, None values are left out, numbers become ``str()``;
    a value that Moodle expects as a JSON string (``scaleconfiguration``) is passed as a str.

    Raises:
        TypeError: a value of another type (encode dates and the like first).
    """
    fields: list[tuple[str, str]] = []
    for key, value in params.items():
        _flatten(str(key), value, fields)
    return fields


def _flatten(name: str, value: Any, fields: list[tuple[str, str]]) -> None:
    if value is None:
        return
    if isinstance(value, bool):
        fields.append((name, "1" if value else "0"))
    elif isinstance(value, str | int | float):
        fields.append((name, str(value)))
    elif isinstance(value, Mapping):
        for key, item in value.items():
            _flatten(f"{name}[{key}]", item, fields)
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            _flatten(f"{name}[{index}]", item, fields)
    else:
        raise TypeError(f"{name}: cannot send a {type(value).__name__} to Moodle")


# -- the one place answers become results or errors -----------------------------------------


def read_answer(response: requests.Response, function: str) -> Any:
    """The decoded JSON of a Moodle answer, or the typed error it means.

    Results come back exactly as Moodle sends them: a dict, a bare list, ``null`` or ``true``.

    Raises:
        MoodleError: a subclass chosen by the answer (see :mod:`.errors`);
            :class:`MoodleUnavailableError` (5xx, 429, a malformed answer) is retried.
    """
    status = response.status_code
    body = response.content or b""
    if 300 <= status < 400:
        where = response.headers.get("Location", "elsewhere").split("?", 1)[0]
        raise _http_error(
            MoodleEndpointError,
            function,
            response,
            f"the site URL redirects ({status}) to {where}",
            "set moodle.url to the exact address Moodle answers on ($CFG->wwwroot, "
            "with https if the site uses it); Mentorbridge does not follow redirects, which "
            "would lose the POST body",
        )
    if status == 403 and not body.strip():
        raise _http_error(
            MoodleWebServicesDisabledError,
            function,
            response,
            "web services or the REST protocol are disabled (HTTP 403, empty answer)",
            _ENABLE_WS,
        )
    if status == 404:
        raise _http_error(
            MoodleEndpointError,
            function,
            response,
            f"{ENDPOINT} does not exist at the site URL (HTTP 404)",
            "set moodle.url to the Moodle site's address ($CFG->wwwroot, e.g. "
            "https://lms.example.com or https://example.com/moodle)",
        )
    if status == 429 or status >= 500:
        page = " (an HTML page: maintenance or a proxy error?)" if _is_html(response) else ""
        raise _http_error(
            MoodleUnavailableError,
            function,
            response,
            f"Moodle answered HTTP {status}{page}",
            "wait; it is retried, and if it keeps failing check the Moodle server and its logs",
            retry_after=parse_retry_after(response.headers.get("Retry-After")),
        )
    if status != 200:
        raise _http_error(
            MoodleRequestError,
            function,
            response,
            f"Moodle (or a proxy in front of it) answered HTTP {status}: {_excerpt(body)}",
            "check moodle.url and any proxy or firewall between Mentorbridge and Moodle",
        )
    if body.lstrip().startswith(b"<"):
        _raise_markup(response, function, body)
    try:
        answer = response.json()
    except ValueError:
        raise _http_error(
            MoodleUnavailableError,
            function,
            response,
            f"Moodle's answer is not JSON: {_excerpt(body) or 'empty'}",
            "it is retried (reads); if it keeps happening, check the Moodle server's PHP error "
            "log: PHP notices printed before the JSON break it",
        ) from None
    if isinstance(answer, dict) and "exception" in answer and "message" in answer:
        raise moodle_error(function, answer, response=response)
    return answer


def _raise_markup(response: requests.Response, function: str, body: bytes) -> None:
    """An XML or HTML answer: never a result."""
    try:
        root = SafeET.fromstring(body)
    except (SafeET.ParseError, DefusedXmlException):
        root = None
    if root is not None and root.tag == "EXCEPTION":
        answer = {
            "exception": root.get("class"),
            "errorcode": root.findtext("ERRORCODE"),
            "message": root.findtext("MESSAGE"),
            "debuginfo": root.findtext("DEBUGINFO"),
        }
        note = f"Also: {_FORMAT_LOST}; {_FORMAT_FIX}."
        raise moodle_error(function, answer, response=response, note=note)
    if root is not None and root.tag == "RESPONSE":
        raise _http_error(
            MoodleResponseFormatError,
            function,
            response,
            _FORMAT_LOST,
            _FORMAT_FIX,
        )
    raise _http_error(
        MoodleEndpointError,
        function,
        response,
        "the answer is an HTML page, not a Moodle web service answer",
        "set moodle.url to the Moodle site's address ($CFG->wwwroot) so that "
        f"{ENDPOINT} is Moodle's REST endpoint; if it is right, the site is showing a "
        "maintenance or error page: run again later",
    )


def _http_error(
    cls: type[MoodleError],
    function: str,
    response: requests.Response,
    problem: str,
    fix: str,
    **kwargs: Any,
) -> MoodleError:
    message = f"{function}: {problem}. Fix: {fix}."
    return cls(message, function=function, fix=fix, response=response, **kwargs)


def _is_html(response: requests.Response) -> bool:
    kind = response.headers.get("Content-Type", "")
    start = (response.content or b"")[:100].lstrip().lower()
    return "html" in kind or start.startswith((b"<!doctype", b"<html"))


def _excerpt(body: bytes) -> str:
    text = " ".join(body.decode("utf-8", "replace").split())
    return text[:200] + ("..." if len(text) > 200 else "")


# -- the client -----------------------------------------------------------------------------


class MoodleClient:
    """Calls web service functions of one Moodle site with one token.

    Args:
        site_url: the site's address, ``$CFG->wwwroot`` (``https://lms.example.com``).
        token: the integration user's web service token.
        http: the HTTP client (timeouts, retries); a new one when None.
        read_functions: more function names to treat as reads (retried freely), beyond those
            :func:`is_read_function` recognises.

    Attributes:
        calls: function name -> HTTP requests sent for it (retries included).
    """

    def __init__(
        self,
        site_url: str,
        token: str,
        *,
        http: HttpClient | None = None,
        read_functions: Collection[str] = (),
    ) -> None:
        self.site_url = _site_url(site_url)
        if not isinstance(token, str) or not token.strip() or token.strip() != token:
            raise ConfigError(
                "moodle.token is empty or has spaces around it: paste the token from Site "
                "administration > Server > Web services > Manage tokens",
                key="moodle.token",
            )
        self._token = token
        self._secrets = tuple({token, quote_plus(token)})
        self.endpoint = self.site_url + ENDPOINT
        self.http = http or HttpClient()
        self.read_functions = frozenset(read_functions)
        self.calls: Counter[str] = Counter()
        self._lock = threading.Lock()  # calls may come from several threads at once
        self._warnings: list[MoodleWarning] = []

    def __repr__(self) -> str:
        return f"MoodleClient(site_url={self.site_url!r})"

    def __enter__(self) -> MoodleClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the connection pool."""
        self.http.close()

    def is_read(self, function: str) -> bool:
        """Whether ``function`` only reads, so that sending it twice is harmless."""
        return function in self.read_functions or is_read_function(function)

    def take_warnings(self) -> list[MoodleWarning]:
        """The warnings gathered since the last take (and forget them)."""
        with self._lock:
            taken, self._warnings = self._warnings, []
        return taken

    def call(self, function: str, /, **params: Any) -> Any:
        """Call ``function`` with ``params`` (nested dicts and lists allowed).

        Returns:
            The decoded JSON exactly as Moodle returns it: a dict, a list, None or a bool.

        Raises:
            MoodleError: Moodle refused the call (the subclass says why and what to fix);
                never retried.
            MoodleUnavailableError: 5xx, 429 or a malformed answer, after the retries.
            MoodleWriteUncertainError: a write failed after it may have reached Moodle.
            SourceUnavailableError, SourceUnreachableError: still failing after the retries.
        """
        if not _FUNCTION_NAME.fullmatch(function):
            raise ValueError(f"{function!r} is not a Moodle web service function name")
        clash = _CONTROL_KEYS.intersection(params)
        if clash:
            raise ValueError(f"{function}: {', '.join(sorted(clash))} is set by the client")
        data = [
            ("wstoken", self._token),
            ("wsfunction", function),
            ("moodlewsrestformat", "json"),
            *encode_params(params),
        ]
        write = not self.is_read(function)

        def read(response: requests.Response) -> Any:
            self._count(function)
            return read_answer(response, function)

        def give_up(err: Exception) -> Exception | None:
            if isinstance(err, requests.RequestException):
                self._count(function)  # a request that got no answer
            return self._give_up(function, write, err)

        try:
            result = self.http.call(
                "POST",
                self.endpoint,
                data=data,
                read=read,
                give_up=give_up,
                what=f"Moodle {function}",
                allow_redirects=False,
            )
        except Exception as err:
            self._redact(err)
            raise
        self._gather_warnings(function, result)
        return result

    def _count(self, function: str) -> None:
        with self._lock:
            self.calls[function] += 1

    def _give_up(self, function: str, write: bool, err: Exception) -> Exception | None:
        """The error to raise instead of retrying ``err``, or None to retry it."""
        if isinstance(err, MoodleError) and not isinstance(err, MoodleUnavailableError):
            return err  # Moodle's own answer: the same request gets the same answer
        if isinstance(err, MoodleUnavailableError) and err.errorcode:
            return err  # a Moodle error answer such as sitemaintenance
        if not write:
            return None
        if isinstance(err, SourceUnavailableError):
            status = getattr(err.response, "status_code", None)
            if status in _NOT_PROCESSED:
                return None
            if status == 200:
                what = "Moodle's answer was not JSON (cut off?)"
            else:
                what = f"Moodle answered HTTP {status}" if status else str(err)
        elif _not_sent(err):
            return None
        else:
            what = _transport_failure(err)
        return MoodleWriteUncertainError(
            f"{function}: {what}; the write may or may not have happened, so it is not sent "
            "again now. Fix: nothing to do if it is rare; the next run reads back what Moodle "
            "has before writing. If it keeps happening, check the Moodle server: slow or "
            "failing PHP (its error log), or a proxy timeout.",
            function=function,
            fix="run again; the next run reads back before writing",
            response=getattr(err, "response", None),
        )

    def _gather_warnings(self, function: str, result: Any) -> None:
        if not isinstance(result, dict) or not isinstance(result.get("warnings"), list):
            return
        for entry in result["warnings"]:
            if not isinstance(entry, dict):
                continue
            warning = MoodleWarning(
                function=function,
                item=entry.get("item"),
                itemid=entry.get("itemid"),
                warningcode=str(entry.get("warningcode") or ""),
                message=str(entry.get("message") or ""),
            )
            with self._lock:
                self._warnings.append(warning)
            log.warning(
                "Moodle %s warned about %s %s: %s (%s)",
                function,
                warning.item or "an item",
                warning.itemid if warning.itemid is not None else "",
                self._scrub(warning.message),
                warning.warningcode,
            )

    def _scrub(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, "<token>")
        return text

    def _redact(self, err: BaseException) -> None:
        """Take the token out of an error on its way out: its text and the request bodies
        that ``requests`` keeps on exceptions and responses, along the whole chain."""
        seen: set[int] = set()
        todo: list[BaseException | None] = [err]
        while todo:
            current = todo.pop()
            if current is None or id(current) in seen:
                continue
            seen.add(id(current))
            current.args = tuple(
                self._scrub(arg) if isinstance(arg, str) else arg for arg in current.args
            )
            for name, value in vars(current).items():
                if isinstance(value, str):
                    setattr(current, name, self._scrub(value))
            response = getattr(current, "response", None)
            for request in (getattr(current, "request", None), getattr(response, "request", None)):
                if isinstance(request, requests.PreparedRequest) and request.body:
                    body = request.body
                    if isinstance(body, bytes):
                        body = body.decode("utf-8", "replace")
                    if isinstance(body, str):
                        request.body = self._scrub(body)
            todo.extend((current.__cause__, current.__context__))


def _not_sent(err: Exception) -> bool:
    """Whether a transport failure surely happened before the request was sent."""
    if isinstance(err, requests.ConnectTimeout | requests.exceptions.SSLError):
        return True
    if isinstance(err, requests.exceptions.ProxyError) or not isinstance(
        err, requests.ConnectionError
    ):
        return False
    # requests wraps urllib3's MaxRetryError, whose reason says where it failed.
    reason = getattr(err.args[0], "reason", None) if err.args else None
    return isinstance(reason, NewConnectionError)


def _transport_failure(err: Exception) -> str:
    if isinstance(err, requests.ReadTimeout):
        return "Moodle did not answer in time"
    if isinstance(err, requests.exceptions.ChunkedEncodingError):
        return "the answer was cut off"
    return "the connection broke after the request was sent"


def _site_url(value: str) -> str:
    """The validated site URL, without a trailing slash."""
    problem = None
    parts = urlsplit(value.strip()) if isinstance(value, str) else None
    if parts is None or parts.scheme not in ("http", "https") or not parts.hostname:
        problem = "must be an http:// or https:// address"
    elif parts.query or parts.fragment:
        problem = "must not have a query (?...) or fragment (#...)"
    elif parts.username or parts.password:
        problem = "must not hold a user name or password"
    elif parts.path.rstrip("/").endswith(ENDPOINT):
        problem = f"is the site's address, without {ENDPOINT}"
    if problem:
        raise ConfigError(
            f"moodle.url {problem}: give Moodle's $CFG->wwwroot, e.g. "
            "https://lms.example.com or https://example.com/moodle",
            key="moodle.url",
        )
    return value.strip().rstrip("/")
