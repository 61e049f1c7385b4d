"""Talking to one Workday tenant: URLs, the one place answers become errors, and the three
request kinds (REST pages, custom-report runs, SOAP calls).

Workday quirks handled here: REST errors are 401/403/404 with a JSON body; throttling is 429
without ``Retry-After`` (honoured if it ever comes); maintenance shows up as an HTML page with
a 503 (or 500, or even 200); SOAP faults arrive as HTTP 500 and must be read before deciding
(a validation fault will not go away, a processing fault or an empty 500 may).
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import IO, Any, TypeVar

import requests
from defusedxml import ElementTree as SafeET
from requests.auth import AuthBase

from mentorbridge.connectors.http import HttpClient
from mentorbridge.plugin.errors import (
    SourceAuthError,
    SourcePermissionError,
    SourceRequestError,
    SourceUnavailableError,
)
from mentorbridge.plugin.retry import parse_retry_after

__all__ = ["SoapFault", "WorkdayClient", "read_json_page", "read_soap"]

SPOOL_IN_MEMORY = 8 * 1024 * 1024  # report bodies larger than this go to a temporary file
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class SoapFault:
    """A SOAP fault's code and every message in it (both Validation_Fault layouts)."""

    code: str
    text: str
    messages: tuple[str, ...]
    kind: str  # validation | processing | authentication | other

    def describe(self) -> str:
        details = "; ".join(self.messages) or self.text
        return f"{self.code}: {details}"


def _is_html(response: requests.Response, start: bytes | None = None) -> bool:
    """Whether the answer is an HTML page; ``start``: the first bytes of a body streamed
    elsewhere (reading ``response.content`` would hold all of it in memory)."""
    kind = response.headers.get("Content-Type", "")
    start = response.content[:100] if start is None else start
    return "html" in kind or start.lstrip().lower().startswith((b"<!doctype", b"<html"))


def _html_page(response: requests.Response, what: str) -> SourceUnavailableError:
    return SourceUnavailableError(
        f"{what}: Workday answered with an HTML page (maintenance?)", response=response
    )


def _excerpt(response: requests.Response) -> str:
    text = response.text.strip().replace("\n", " ")
    return text[:300] + ("…" if len(text) > 300 else "")


def _raise_for_status(response: requests.Response, what: str) -> None:
    """The statuses every Workday surface shares."""
    status = response.status_code
    if status == 200:
        if _is_html(response):
            raise _html_page(response, what)
        return
    if status == 401:
        raise SourceAuthError(
            f"{what}: Workday refused the credentials (401: {_excerpt(response)})",
            response=response,
        )
    if status == 403:
        raise SourcePermissionError(
            f"{what}: the integration user lacks a permission (403: {_excerpt(response)}) — "
            "grant its security group the domain (e.g. Worker Data: Public Worker Reports) "
            "or the API client the scope, then activate pending security policy changes",
            response=response,
        )
    if status == 404:
        raise SourceRequestError(
            f"{what}: not found (404: {_excerpt(response)}) — check "
            "workday.host, workday.tenant and the report or path",
            response=response,
        )
    if status == 429 or status >= 500:
        page = " (an HTML page: maintenance?)" if _is_html(response) else ""
        raise SourceUnavailableError(
            f"{what}: Workday answered {status}{page}",
            response=response,
            retry_after=parse_retry_after(response.headers.get("Retry-After")),
        )
    raise SourceRequestError(
        f"{what}: Workday answered {status}: {_excerpt(response)}", response=response
    )


def _json_object(response: requests.Response, what: str) -> dict[str, Any]:
    """A successful answer's body as a JSON object; anything else is malformed (and retried)."""
    _raise_for_status(response, what)
    try:
        body = response.json()
    except ValueError:
        raise SourceUnavailableError(
            f"{what}: malformed JSON from Workday", response=response
        ) from None
    if not isinstance(body, dict):
        raise SourceUnavailableError(f"{what}: expected a JSON object", response=response)
    return body


def read_json_page(response: requests.Response, what: str = "REST page") -> dict[str, Any]:
    """A REST page as JSON: ``{"total": …, "data": […]}``; anything else is malformed (and
    retried)."""
    body = _json_object(response, what)
    if not isinstance(body.get("data"), list):
        raise SourceUnavailableError(
            f"{what}: expected a JSON object with a data list", response=response
        )
    return body


def soap_fault(body: bytes) -> SoapFault | None:
    """The fault in a SOAP answer, if there is one."""
    try:
        root = SafeET.fromstring(body)
    except SafeET.ParseError:
        return None
    fault = next((e for e in root.iter() if _local(e.tag) == "Fault"), None)
    if fault is None:
        return None
    code = _child_text(fault, "faultcode")
    text = _child_text(fault, "faultstring")
    messages = []
    kind = "other"
    for element in fault.iter():
        name = _local(element.tag)
        if name == "Validation_Fault":
            kind = "validation"
        elif name == "Processing_Fault":
            kind = "processing"
        elif name in ("Message", "Detail_Message") and (element.text or "").strip():
            messages.append(element.text.strip())
        elif name == "Xpath" and (element.text or "").strip():
            messages.append(f"at {element.text.strip()}")
    if "authentication" in code.lower():
        kind = "authentication"
    elif kind == "other" and "validation" in code.lower():
        kind = "validation"
    elif kind == "other" and "processing" in code.lower():
        kind = "processing"
    return SoapFault(code, text, tuple(dict.fromkeys(messages)), kind)


def read_soap(response: requests.Response, what: str = "SOAP call") -> bytes:
    """A SOAP answer's bytes, or the error its fault (or status) means."""
    body = response.content
    # Parsing a page of workers just to find no fault would read it twice: only an answer
    # that names a Fault element is parsed here.
    fault = soap_fault(body) if b"Fault" in body else None
    if fault is not None:
        match fault.kind:
            case "authentication":
                raise SourceAuthError(
                    f"{what}: {fault.describe()} — check workday.isu_username"
                    " (user@tenant) and workday.isu_password",
                    response=response,
                )
            case "validation":
                raise SourceRequestError(
                    f"{what}: Workday refused the request: {fault.describe()}", response=response
                )
            case "processing":
                raise SourceUnavailableError(f"{what}: {fault.describe()}", response=response)
        if "permission" in fault.describe().lower() or "not authorized" in fault.text.lower():
            raise SourcePermissionError(f"{what}: {fault.describe()}", response=response)
        raise SourceRequestError(f"{what}: {fault.describe()}", response=response)
    if response.status_code == 500:  # a 500 without a fault: throttling or an outage
        raise SourceUnavailableError(
            f"{what}: Workday answered 500 without a fault (throttling?)", response=response
        )
    _raise_for_status(response, what)
    if not response.content.lstrip().startswith(b"<"):
        raise SourceUnavailableError(f"{what}: malformed SOAP answer", response=response)
    return response.content


def _as_is(body: bytes) -> Any:
    return body


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _child_text(element: Any, name: str) -> str:
    child = next((c for c in element if _local(c.tag) == name), None)
    return (child.text or "").strip() if child is not None else ""


class WorkdayClient:
    """Requests against one tenant.

    Args:
        http: the HTTP client (timeouts, retries).
        host: the services host URL (``https://wd2-impl-services1.workday.com``).
        tenant: the tenant name.
        bearer: OAuth bearer auth (REST, and RaaS/SOAP when set to bearer), if configured.
    """

    def __init__(self, http: HttpClient, *, host: str, tenant: str, bearer: Any = None) -> None:
        self.http, self.host, self.tenant, self.bearer = http, host.rstrip("/"), tenant, bearer

    # -- URLs -------------------------------------------------------------------------------

    def rest_url(self, service_path: str, resource: str) -> str:
        return f"{self.host}/ccx/api/{service_path}/{self.tenant}/{resource}"

    def report_url(self, owner: str, report: str) -> str:
        return f"{self.host}/ccx/service/customreport2/{self.tenant}/{owner}/{report}"

    def soap_url(self, service: str, version: str) -> str:
        return f"{self.host}/ccx/service/{self.tenant}/{service}/{version}"

    # -- calls ------------------------------------------------------------------------------

    def rest_page(self, url: str, *, limit: int, offset: int, what: str) -> dict[str, Any]:
        """One REST page (bearer auth, renewed once on a 401)."""
        return self.http.call(
            "GET",
            url,
            params={"limit": limit, "offset": offset},
            auth=self.bearer,
            renew_auth=self.bearer.renew,
            read=lambda r: read_json_page(r, what),
            what=what,
            headers={"Accept": "application/json"},
        )

    def rest_item(self, url: str, *, what: str) -> dict[str, Any] | None:
        """One REST resource by its id (bearer auth, renewed once on a 401); ``None`` when
        Workday answers 404 (the integration user may not see it, or it is gone)."""

        def read(response: requests.Response) -> dict[str, Any] | None:
            if response.status_code == 404:
                return None
            return _json_object(response, what)

        return self.http.call(
            "GET",
            url,
            auth=self.bearer,
            renew_auth=self.bearer.renew,
            read=read,
            what=what,
            headers={"Accept": "application/json"},
        )

    @contextmanager
    def report(
        self, url: str, *, params: dict[str, str], auth: AuthBase, what: str
    ) -> Iterator[IO[bytes]]:
        """Run a custom report; yields its body (spooled to a temporary file beyond 8 MB)."""
        with tempfile.SpooledTemporaryFile(max_size=SPOOL_IN_MEMORY) as body:

            def spool(response: requests.Response) -> None:
                if response.status_code != 200:
                    _raise_for_status(response, what)  # an error's body is small
                body.seek(0)
                body.truncate()
                for chunk in response.iter_content(chunk_size=1 << 16):
                    body.write(chunk)
                body.seek(0)
                start = body.read(100).lstrip()
                if _is_html(response, start):
                    raise _html_page(response, what)
                if params.get("format") == "json" and not start.startswith((b"{", b"[")):
                    raise SourceUnavailableError(
                        f"{what}: the report body is not JSON", response=response
                    )

            renew = self.bearer.renew if auth is self.bearer else None
            self.http.call(
                "GET",
                url,
                params=params,
                auth=auth,
                renew_auth=renew,
                read=spool,
                what=what,
                stream=True,
            )
            body.seek(0)
            yield body

    def soap(
        self,
        url: str,
        envelope: bytes,
        *,
        auth: AuthBase | None,
        what: str,
        parse: Callable[[bytes], T] = _as_is,
    ) -> T:
        """POST a SOAP envelope (a read operation, so retrying is safe).

        ``parse`` reads the answer's bytes; its :class:`SourceUnavailableError` (a page that
        is not well-formed XML, say) is retried like an outage.
        """
        renew = self.bearer.renew if auth is not None and auth is self.bearer else None
        return self.http.call(
            "POST",
            url,
            data=envelope,
            auth=auth,
            renew_auth=renew,
            read=lambda r: parse(read_soap(r, what)),
            what=what,
            headers={"Content-Type": "text/xml;charset=UTF-8", "SOAPAction": '""'},
        )
