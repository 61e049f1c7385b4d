"""A Workday-shaped HTTP server for tests and benchmarks, serving a generated tenant.

One real server on 127.0.0.1 answers the four surfaces the connector reads: the OAuth token
endpoint, REST (``/ccx/api/…``), custom reports (``/ccx/service/customreport2/…``) and SOAP
``Human_Resources`` ``Get_Workers``. Tests script failures with :meth:`WorkdayServer.fail_next`
and slowness with :meth:`WorkdayServer.delay_next`, and read :attr:`WorkdayServer.requests`.

    with WorkdayServer(generate_tenant(60)) as wd:
        httpx.get(f"{wd.url}/ccx/service/customreport2/acme/ISU_Mentoring/RM_Workers?format=json",
                  auth=("ISU_Mentoring@acme", "isu-password-1"))
"""

from __future__ import annotations

import json
import re
import threading
import traceback
from collections.abc import Callable
from typing import Any

from mentorbridge.connectors.workday.sample.tenant import Tenant
from tests.workday_server import faults, raas, rest, soap, soap_xml
from tests.workday_server.auth import Authority, AuthSettings, TokenError
from tests.workday_server.plumbing import (
    Handler,
    Incoming,
    RecordedRequest,
    Reply,
    Rule,
    Script,
    Server,
    form_fields,
)
from tests.workday_server.raas import DEFAULT_REPORTS
from tests.workday_server.view import TenantView

__all__ = ["DEFAULT_REPORTS", "WorkdayServer"]


_TOKEN = re.compile(r"/ccx/oauth2/(?P<tenant>[^/]+)/token")
_REST_WORKERS = re.compile(r"/ccx/api/(?:staffing/v6|v1)/(?P<tenant>[^/]+)/workers")
_REST_WORKER = re.compile(r"/ccx/api/(?:staffing/v6|v1)/(?P<tenant>[^/]+)/workers/(?P<wid>[^/]+)")
#: What a staffing page may leave out of a worker (``rest_workers="staffing"``).
_STAFFING_OMITS = ("hireDate", "originalHireDate")
_STAFFING_JOB_OMITS = ("managementLevel", "manager")
_REST_ORGS = re.compile(r"/ccx/api/v1/(?P<tenant>[^/]+)/supervisoryOrganizations")
_RAAS = re.compile(
    r"/ccx/service/customreport2/(?P<tenant>[^/]+)/(?P<owner>[^/]+)/(?P<report>[^/]+)"
)
_SOAP = re.compile(r"/ccx/service/(?P<tenant>[^/]+)/(?P<service>[^/]+)/(?P<version>[^/]+)")
_INVALID_TOKEN = Reply(
    401,
    b'{"error":"invalid_token","error_description":"The access token is invalid or has expired"}',
    headers=(("WWW-Authenticate", 'Bearer error="invalid_token"'),),
)
_NOT_FOUND = Reply(404, b'{"error":"Resource not found","code":"S21"}')


def _soap_reply(body: bytes, status: int = 500) -> Reply:
    return Reply(status, body, faults.SOAP_CONTENT_TYPE)


class WorkdayServer:
    """A running tenant: start it with ``with WorkdayServer(tenant) as wd:`` and use ``wd.url``.

    Credentials default to those in the connector's tests: API client ``mentorbridge`` /
    ``client-secret-1`` with refresh token ``refresh-token-1``, and the integration system user
    ``ISU_Mentoring@acme`` / ``isu-password-1``. ``total`` is ``"correct"``, ``"missing"`` or
    ``"wrong"`` (REST pages then always claim 7); ``expires_in`` is ``"seconds"``,
    ``"minus-one"`` or ``"missing"``. ``hidden_report_fields`` are report aliases the
    integration user may not see: left out of RaaS rows, silently, as Workday does.
    ``alias_overrides`` renames report columns per stream (``{stream: {default alias: alias}}``)
    and ``report_prompts`` names the two date prompts. ``rest_organization_ids`` is how REST
    names organisations: ``"reference"`` (their reference ids, as reports and SOAP do),
    ``"wid"`` (WIDs, each organisation also carrying its ``referenceID``) or ``"wid-only"``.
    ``nested_report_rows`` sends a stream's report one row per parent
    (``{stream: (parent column, list column)}``) and ``split_names`` the workers' names as
    first, middle and last name columns. ``rest_workers`` ``"staffing"`` pages workers as a
    tenant's staffing API may: active workers only, without hire dates, manager, management
    level or time zone; ``/workers/{id}`` always answers the whole worker.
    ``hidden_worker_fields`` are worker fields (``work_email``, ``time_zone`` …) the integration
    user may not see: left out of every worker REST and SOAP give, as Workday does.
    """

    def __init__(
        self,
        tenant: Tenant,
        *,
        port: int = 0,
        client_id: str = "mentorbridge",
        client_secret: str = "client-secret-1",
        refresh_token: str = "refresh-token-1",
        rotate_refresh_tokens: bool = False,
        access_token_ttl: int = 3600,
        expires_in: str = "seconds",
        jwt_public_key_pem: bytes | None = None,
        jwt_subject: str = "ISU_Mentoring",
        isu_username: str = "ISU_Mentoring@acme",
        isu_password: str = "isu-password-1",
        total: str = "correct",
        report_owner: str = "ISU_Mentoring",
        report_names: dict[str, str] | None = None,
        hidden_report_fields: set[str] | None = None,
        alias_overrides: dict[str, dict[str, str]] | None = None,
        report_prompts: tuple[str, str] = ("Updated_From", "Updated_Through"),
        nested_report_rows: dict[str, tuple[str, str]] | None = None,
        split_names: bool = False,
        soap_version: str = "v44.2",
        soap_reference_ids: bool = False,
        soap_time_zone: str = "Time_Zone",
        rest_organization_ids: str = "reference",
        rest_workers: str = "full",
        hidden_worker_fields: set[str] | None = None,
    ) -> None:
        if rest_organization_ids not in rest.ORG_IDS:
            raise ValueError(f"rest_organization_ids must be one of {rest.ORG_IDS}")
        self.rest_organization_ids = rest_organization_ids
        if rest_workers not in ("full", "staffing"):
            raise ValueError(f"rest_workers must be full or staffing, not {rest_workers!r}")
        self.rest_workers = rest_workers
        self.hidden_worker_fields = frozenset(hidden_worker_fields or ())
        if total not in ("correct", "missing", "wrong"):
            raise ValueError(f"total must be correct, missing or wrong, not {total!r}")
        if expires_in not in ("seconds", "minus-one", "missing"):
            raise ValueError(
                f"expires_in must be seconds, minus-one or missing, not {expires_in!r}"
            )
        self.tenant = tenant
        self.auth = Authority(
            AuthSettings(
                client_id=client_id,
                client_secret=client_secret,
                refresh_token=refresh_token,
                rotate_refresh_tokens=rotate_refresh_tokens,
                access_token_ttl=access_token_ttl,
                expires_in=expires_in,
                jwt_public_key_pem=jwt_public_key_pem,
                jwt_subject=jwt_subject,
                isu_username=isu_username,
                isu_password=isu_password,
            )
        )
        self.total = total
        self.reports = raas.Reports(
            owner=report_owner,
            names=dict(report_names or DEFAULT_REPORTS),
            hidden=set(hidden_report_fields or ()),
            renamed=alias_overrides or {},
            prompts=report_prompts,
            nested_rows=dict(nested_report_rows or {}),
            split_names=split_names,
        )
        self.soap_version = soap_version
        #: How Get_Workers names things (``soap_reference_ids``, ``soap_time_zone``: see
        #: :class:`~tests.workday_server.soap_xml.SoapShape`).
        self.soap_shape = soap_xml.SoapShape(soap_reference_ids, soap_time_zone)
        #: Every request answered (or dropped), oldest first.
        self.requests: list[RecordedRequest] = []
        #: Tracebacks of requests that crashed the server (answered 500): should stay empty.
        self.errors: list[str] = []
        self._port = port
        self._lock = threading.Lock()
        self._faults, self._delays = Script(), Script()
        self._view: TenantView | None = None
        self._stopping = threading.Event()
        self._httpd: Server | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle -----------------------------------------------------------------------------

    def start(self) -> WorkdayServer:
        """Listen on 127.0.0.1 and serve in a background thread."""
        if self._httpd is not None:
            raise RuntimeError("the server is already running")
        self._stopping.clear()
        self._httpd = Server(("127.0.0.1", self._port), self)
        self._thread = threading.Thread(
            target=self._httpd.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="workday-server",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving, end open connections and wait for every thread."""
        if self._httpd is None or self._thread is None:
            return
        self._stopping.set()  # wakes requests sleeping in delay_next
        self._httpd.shutdown()
        self._httpd.close_connections()
        self._httpd.server_close()
        self._thread.join()
        self._httpd, self._thread = None, None

    def __enter__(self) -> WorkdayServer:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        """``http://127.0.0.1:<port>`` (the server must be running)."""
        if self._httpd is None:
            raise RuntimeError("the server is not running")
        return f"http://127.0.0.1:{self._httpd.server_address[1]}"

    def warm(self) -> None:
        """Build the indexes and render every worker for REST now, not on first request.

        SOAP workers are still rendered on demand (about 40 ms for the first read of a page of
        999; pages are cached after).
        """
        view = self._current_view()
        for worker in view.workers:
            self._rest_worker(view, worker)

    # -- credentials and scripted trouble ------------------------------------------------------

    @property
    def current_refresh_token(self) -> str:
        """The refresh token the token endpoint accepts now."""
        return self.auth.current_refresh_token

    def expire_tokens(self) -> None:
        """Invalidate every access token issued so far (their next use gets 401)."""
        self.auth.expire_tokens()

    def fail_next(
        self,
        *,
        path_contains: str,
        status: int,
        body: bytes | str = b"",
        content_type: str = "text/plain",
        headers: dict[str, str] | None = None,
        times: int = 1,
        drop_connection: bool = False,
    ) -> None:
        """Answer the next ``times`` requests whose path (with query) contains the text with
        this reply, or with ``drop_connection`` reset the connection without answering."""
        data = body.encode() if isinstance(body, str) else body
        reply = Reply(status, data, content_type, tuple((headers or {}).items()))
        self._faults.add(Rule(path_contains, times, reply, drop_connection))

    def processing_fault_next(
        self, message: str = "Internal error occurred.", *, times: int = 1
    ) -> None:
        """Answer the next ``times`` SOAP requests with a ``Processing_Fault`` (HTTP 500)."""
        self.fail_next(
            path_contains="/Human_Resources/",
            status=500,
            body=faults.processing_fault(message),
            content_type=faults.SOAP_CONTENT_TYPE,
            times=times,
        )

    def maintenance_next(self, *, path_contains: str = "/ccx/", times: int = 1) -> None:
        """Answer the next ``times`` matching requests with the HTML maintenance page (503)."""
        self.fail_next(
            path_contains=path_contains,
            status=503,
            body=faults.maintenance_page(),
            content_type="text/html; charset=UTF-8",
            times=times,
        )

    def delay_next(self, path_contains: str, seconds: float, times: int = 1) -> None:
        """Hold the next ``times`` matching requests for ``seconds`` before answering."""
        self._delays.add(Rule(path_contains, times, delay=seconds))

    # -- requests ------------------------------------------------------------------------------

    def handle(self, handler: Handler) -> None:
        """Serve one request (called by the HTTP server's handler threads)."""
        incoming = Incoming.read(handler)
        delay = self._delays.take(incoming.target)
        if delay is not None:
            self._stopping.wait(delay.delay)
        fault = self._faults.take(incoming.target)
        if fault is not None and fault.drop_connection:
            assert self._httpd is not None
            self._httpd.reset_on_close(handler.connection)
            handler.close_connection = True
            self._record(incoming, None)
            return
        if fault is not None and fault.reply is not None:
            reply = fault.reply
        else:
            reply = self._answer(incoming)
        self._record(incoming, reply.status)
        handler.send(reply)

    def _answer(self, request: Incoming) -> Reply:
        try:
            return self._route(request)
        except Exception:  # a bug in the server: answer 500 and keep the traceback
            self.errors.append(traceback.format_exc())
            return Reply(500, b"test server error", "text/plain")

    def _record(self, request: Incoming, status: int | None) -> None:
        form = form_fields(request.body) if _TOKEN.fullmatch(request.path) else {}
        auth_present = bool(
            request.headers.get("Authorization")
            or b"UsernameToken" in request.body
            or "client_secret" in form
            or "assertion" in form
        )
        recorded = RecordedRequest(
            request.method,
            request.path,
            request.query,
            auth_present,
            status,
            form.get("grant_type"),
        )
        with self._lock:
            self.requests.append(recorded)

    def _route(self, request: Incoming) -> Reply:
        routes: list[tuple[re.Pattern[str], str, Callable[[Incoming, dict[str, str]], Reply]]] = [
            (_TOKEN, "POST", self._token),
            (_REST_WORKERS, "GET", self._rest_workers),
            (_REST_WORKER, "GET", self._rest_worker_detail),
            (_REST_ORGS, "GET", self._rest_organizations),
            (_RAAS, "GET", self._raas),
            (_SOAP, "POST", self._soap),
        ]
        for pattern, method, endpoint in routes:
            match = pattern.fullmatch(request.path)
            if match is None:
                continue
            if match["tenant"] != self.tenant.name:
                return _NOT_FOUND
            if request.method != method:
                return Reply(405, b"Method not allowed", "text/plain", (("Allow", method),))
            return endpoint(request, match.groupdict())
        return _NOT_FOUND

    def _current_view(self) -> TenantView:
        with self._lock:
            if self._view is None or self._view.revision != self.tenant.revision:
                self._view = TenantView(self.tenant)
            return self._view

    # -- endpoints -----------------------------------------------------------------------------

    def _token(self, request: Incoming, _: dict[str, str]) -> Reply:
        try:
            answer = self.auth.grant(
                form_fields(request.body), request.headers.get("Authorization")
            )
        except TokenError as refused:
            return Reply(refused.status, _json(refused.body))
        return Reply(200, _json(answer), headers=(("Cache-Control", "no-store"),))

    def _rest_page(
        self, request: Incoming, items: list[Any], render: Callable[[Any], str]
    ) -> Reply:
        if not self.auth.bearer_ok(request.headers.get("Authorization")):
            return _INVALID_TOKEN
        try:
            limit, offset = rest.paging(request.query)
        except rest.PagingError as error:
            return Reply(400, rest.error_body(str(error)))
        page = [render(item) for item in items[offset : offset + limit]]
        return Reply(200, rest.page_body(page, len(items), self.total))

    def _rest_workers(self, request: Incoming, _: dict[str, str]) -> Reply:
        view = self._current_view()
        if self.rest_workers == "staffing":
            active = view.selection(
                ("rest", "active"), lambda: [w for w in view.workers if w["active"]]
            )
            return self._rest_page(request, active, lambda w: self._staffing_worker(view, w))
        return self._rest_page(request, view.workers, lambda w: self._rest_worker(view, w))

    def _staffing_worker(self, view: TenantView, worker: dict[str, Any]) -> str:
        def render() -> str:
            body = json.loads(self._rest_worker(view, worker))
            for name in _STAFFING_OMITS:
                body.pop(name, None)
            for name in _STAFFING_JOB_OMITS:
                body["primaryJob"].pop(name, None)
            body["primaryJob"]["location"].pop("timeZone", None)
            return json.dumps(body, ensure_ascii=False)

        return view.fragment(("staffing", worker["workday_id"], self.hidden_worker_fields), render)

    def _rest_worker_detail(self, request: Incoming, parts: dict[str, str]) -> Reply:
        if not self.auth.bearer_ok(request.headers.get("Authorization")):
            return _INVALID_TOKEN
        view = self._current_view()
        worker = next((w for w in view.workers if w["workday_id"] == parts["wid"]), None)
        if worker is None:
            return _NOT_FOUND
        return Reply(200, self._rest_worker(view, worker).encode())

    def _rest_worker(self, view: TenantView, worker: dict[str, Any]) -> str:
        return view.fragment(
            ("rest", worker["workday_id"], self.hidden_worker_fields),
            lambda: rest.worker_json(view, self._visible(worker), self.rest_organization_ids),
        )

    def _visible(self, worker: dict[str, Any]) -> dict[str, Any]:
        """The worker as the integration user sees it: hidden fields left out."""
        if not self.hidden_worker_fields:
            return worker
        return worker | dict.fromkeys(self.hidden_worker_fields)

    def _rest_organizations(self, request: Incoming, _: dict[str, str]) -> Reply:
        view = self._current_view()

        def render(org: dict[str, Any]) -> str:
            key = ("org", org["organization_id"])
            return view.fragment(
                key, lambda: rest.organization_json(view, org, self.rest_organization_ids)
            )

        return self._rest_page(request, view.organizations, render)

    def _raas(self, request: Incoming, parts: dict[str, str]) -> Reply:
        authorization = request.headers.get("Authorization")
        if not (self.auth.basic_ok(authorization) or self.auth.bearer_ok(authorization)):
            return Reply(
                401, b"Unauthorized", "text/plain", (("WWW-Authenticate", 'Basic realm="Workday"'),)
            )
        return self.reports.answer(self.tenant, parts["owner"], parts["report"], request.query)

    def _soap(self, request: Incoming, parts: dict[str, str]) -> Reply:
        if parts["service"] != "Human_Resources":
            return _NOT_FOUND
        if parts["version"] != self.soap_version:
            message = f"Invalid version {parts['version']} for the Human_Resources service"
            return _soap_reply(faults.soap_fault("SOAP-ENV:Client", message))
        try:
            envelope, operation = soap.parse_envelope(request.body)
            credentials = soap.ws_security(envelope)
            if credentials is not None:
                if not self.auth.isu_ok(*credentials):
                    return _soap_reply(faults.authentication_fault())
            elif request.headers.get("Authorization"):
                if not self.auth.bearer_ok(request.headers.get("Authorization")):
                    return _INVALID_TOKEN
            else:
                return _soap_reply(faults.authentication_fault())
            query = soap.GetWorkers.parse(operation)
        except soap.SoapFault as fault:
            return _soap_reply(fault.body)
        view = self._current_view()
        chosen = soap.select_workers(view, query)
        start = (query.page - 1) * query.count
        page = [
            self._soap_worker(view, w, query.sections) for w in chosen[start : start + query.count]
        ]
        body = soap_xml.get_workers_response(query, len(chosen), page, self.soap_version)
        return _soap_reply(body, 200)

    def _soap_worker(
        self, view: TenantView, worker: dict[str, Any], sections: frozenset[str]
    ) -> str:
        # Keyed by the record object: an as-of version is a different dict from the current one.
        key = ("soap", id(worker), sections, self.hidden_worker_fields)
        return view.fragment(
            key,
            lambda: soap_xml.worker_xml(view, self._visible(worker), sections, self.soap_shape),
        )


def _json(body: dict[str, Any]) -> bytes:
    return json.dumps(body).encode()
