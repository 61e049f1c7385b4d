"""Workday answers and how each is handled: paging, throttling, maintenance, malformed pages,
dropped connections, SOAP faults of both layouts, permission and request errors."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import requests
import responses
from responses import registries

from mentorbridge.connectors.base import Window
from mentorbridge.connectors.http import HttpClient
from mentorbridge.connectors.workday.client import WorkdayClient, read_soap
from mentorbridge.connectors.workday.streams import RestWorkers
from mentorbridge.plugin.errors import (
    SourceAuthError,
    SourcePermissionError,
    SourceRequestError,
    SourceUnavailableError,
)

HOST = "https://wd2-impl-services1.workday.com"
WORKERS_URL = f"{HOST}/ccx/api/staffing/v6/acme/workers"
SOAP_URL = f"{HOST}/ccx/service/acme/Human_Resources/v44.2"
WINDOW = Window(since=None, until=datetime(2026, 11, 1, tzinfo=UTC))


class StaticBearer:
    """Bearer auth with a fixed token (the OAuth flow has its own tests)."""

    renewals = 0

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        request.headers["Authorization"] = "Bearer fixed"
        return request

    def renew(self) -> None:
        self.renewals += 1


def worker(n: int) -> dict:
    return {
        "id": f"{n:032x}",
        "workerId": str(10000 + n),
        "descriptor": f"Worker {n}",
        "workerType": {"descriptor": "Employee"},
        "hireDate": "2020-01-01",
        "active": True,
    }


def client(sleeps: list[float] | None = None, retries: int = 6) -> WorkdayClient:
    http = HttpClient(
        max_retries=retries,
        backoff_base=1,
        backoff_cap=8,
        sleep=(sleeps if sleeps is not None else []).append,
    )
    return WorkdayClient(http, host=HOST, tenant="acme", bearer=StaticBearer())


def workers_stream(workday: WorkdayClient, page_size: int = 3) -> RestWorkers:
    """REST workers; these tests page through bare workers with ``read`` (as read, before
    fields absent from every worker are judged: ``test_hidden_worker_fields``)."""
    return RestWorkers(workday, service_path="staffing/v6", page_size=page_size)


def ids(records: list) -> list[str]:
    return [r["employee_id"] for r in records]


@pytest.mark.parametrize("total", [7, None, 0])
@responses.activate
def test_rest_paging_never_trusts_total(total: int | None) -> None:
    pages = [
        [worker(n) for n in range(0, 3)],
        [worker(n) for n in range(3, 6)],
        [worker(n) for n in range(6, 8)],
    ]
    for offset, page in zip((0, 3, 6), pages, strict=True):
        body = {"data": page} if total is None else {"total": total, "data": page}
        responses.get(
            WORKERS_URL,
            json=body,
            match=[responses.matchers.query_param_matcher({"limit": "3", "offset": str(offset)})],
        )
    records = list(workers_stream(client()).read(WINDOW))
    assert ids(records) == [str(10000 + n) for n in range(8)]
    assert len(responses.calls) == 3


@responses.activate
def test_a_full_last_page_is_followed_by_an_empty_one() -> None:
    responses.get(WORKERS_URL, json={"total": 3, "data": [worker(n) for n in range(3)]})
    responses.get(WORKERS_URL, json={"total": 3, "data": []})
    assert len(list(workers_stream(client()).read(WINDOW))) == 3
    assert len(responses.calls) == 2


@responses.activate(registry=registries.OrderedRegistry)
def test_a_429_storm_without_retry_after_backs_off_and_then_succeeds() -> None:
    for _ in range(4):
        responses.get(WORKERS_URL, json={"error": "too many requests"}, status=429)
    responses.get(WORKERS_URL, json={"total": 1, "data": [worker(1)]})
    sleeps: list[float] = []
    assert len(list(workers_stream(client(sleeps)).read(WINDOW))) == 1
    assert len(sleeps) == 4
    for slept, (low, high) in zip(sleeps, [(0.5, 1), (1, 2), (2, 4), (4, 8)], strict=True):
        assert low <= slept <= high


@responses.activate(registry=registries.OrderedRegistry)
def test_retry_after_is_honoured_when_workday_sends_it() -> None:
    responses.get(WORKERS_URL, status=429, headers={"Retry-After": "3"})
    responses.get(WORKERS_URL, json={"total": 0, "data": []})
    sleeps: list[float] = []
    list(workers_stream(client(sleeps)).read(WINDOW))
    assert sleeps == [3.0]


@responses.activate
def test_throttling_that_never_ends_fails_the_sync_loudly() -> None:
    responses.get(WORKERS_URL, status=429)
    with pytest.raises(SourceUnavailableError, match="still failing after 3 attempts"):
        list(workers_stream(client(retries=2)).read(WINDOW))


@pytest.mark.parametrize(
    "failure",
    [
        {"body": "{not json", "status": 200, "content_type": "application/json"},
        {
            "body": "<html><body>Workday is down for maintenance</body></html>",
            "status": 503,
            "content_type": "text/html",
        },
        {
            "body": "<!DOCTYPE html><html>maintenance</html>",
            "status": 200,
            "content_type": "text/html",
        },
        {"body": requests.ConnectionError("Connection reset by peer")},
        {"body": requests.ReadTimeout("read timed out")},
        {"json": {"total": 1}, "status": 200},  # a page without its data list
    ],
    ids=["malformed-json", "html-503", "html-200", "connection-reset", "timeout", "no-data"],
)
@responses.activate(registry=registries.OrderedRegistry)
def test_transient_failures_are_retried(failure: dict) -> None:
    responses.get(WORKERS_URL, **failure)
    responses.get(WORKERS_URL, json={"total": 1, "data": [worker(1)]})
    sleeps: list[float] = []
    assert ids(list(workers_stream(client(sleeps)).read(WINDOW))) == ["10001"]
    assert len(sleeps) == 1


@pytest.mark.parametrize(
    ("status", "error", "message"),
    [
        (403, SourcePermissionError, "lacks a permission"),
        (404, SourceRequestError, "check workday.host, workday.tenant"),
        (400, SourceRequestError, "Workday answered 400"),
    ],
)
@responses.activate
def test_request_and_permission_errors_are_not_retried(
    status: int, error: type, message: str
) -> None:
    responses.get(WORKERS_URL, json={"error": "nope"}, status=status)
    with pytest.raises(error, match=message):
        list(workers_stream(client()).read(WINDOW))
    assert len(responses.calls) == 1


# -- SOAP faults ------------------------------------------------------------------------------

VALIDATION_WITH_ERRORS = b"""<SOAP-ENV:Envelope xmlns:SOAP-ENV="http://schemas.xmlsoap.org/soap/envelope/">
<SOAP-ENV:Body><SOAP-ENV:Fault xmlns:wd="urn:com.workday/bsvc">
<faultcode>SOAP-ENV:Client.validationError</faultcode>
<faultstring>Validation error occurred. Page Number cannot be zero.</faultstring>
<detail><wd:Validation_Fault><wd:Validation_Error>
<wd:Message>Page Number cannot be zero.</wd:Message><wd:Detail_Message></wd:Detail_Message>
<wd:Xpath>/bsvc:Get_Workers_Request[1]/bsvc:Response_Filter[1]/bsvc:Page[1]</wd:Xpath>
</wd:Validation_Error></wd:Validation_Fault></detail></SOAP-ENV:Fault></SOAP-ENV:Body>
</SOAP-ENV:Envelope>"""

VALIDATION_BARE = b"""<SOAP-ENV:Envelope xmlns:SOAP-ENV="http://schemas.xmlsoap.org/soap/envelope/">
<SOAP-ENV:Body><SOAP-ENV:Fault xmlns:wd="urn:com.workday/bsvc">
<faultcode>SOAP-ENV:Client.validationError</faultcode><faultstring>Invalid ID value</faultstring>
<detail><wd:Validation_Fault><wd:Detail_Message>'45873' is not a valid ID value for type =
'Location_ID'</wd:Detail_Message></wd:Validation_Fault></detail></SOAP-ENV:Fault>
</SOAP-ENV:Body></SOAP-ENV:Envelope>"""

PROCESSING = b"""<SOAP-ENV:Envelope xmlns:SOAP-ENV="http://schemas.xmlsoap.org/soap/envelope/">
<SOAP-ENV:Body><SOAP-ENV:Fault xmlns:wd="urn:com.workday/bsvc">
<faultcode>SOAP-ENV:Server.processingError</faultcode><faultstring>Processing error</faultstring>
<detail><wd:Processing_Fault><wd:Detail_Message>The task submitted is not authorized or the
system is busy</wd:Detail_Message></wd:Processing_Fault></detail></SOAP-ENV:Fault>
</SOAP-ENV:Body></SOAP-ENV:Envelope>"""

AUTHENTICATION = b"""<SOAP-ENV:Envelope xmlns:SOAP-ENV="http://schemas.xmlsoap.org/soap/envelope/">
<SOAP-ENV:Body><SOAP-ENV:Fault><faultcode>SOAP-ENV:Client.authenticationError</faultcode>
<faultstring>invalid username or password</faultstring></SOAP-ENV:Fault></SOAP-ENV:Body>
</SOAP-ENV:Envelope>"""

OK = b"""<env:Envelope xmlns:env="http://schemas.xmlsoap.org/soap/envelope/"><env:Body>
<wd:Get_Workers_Response xmlns:wd="urn:com.workday/bsvc"/></env:Body></env:Envelope>"""


@pytest.mark.parametrize(
    ("fault", "error", "pieces"),
    [
        (
            VALIDATION_WITH_ERRORS,
            SourceRequestError,
            [
                "Client.validationError",
                "Page Number cannot be zero.",
                "at /bsvc:Get_Workers_Request",
            ],
        ),
        (VALIDATION_BARE, SourceRequestError, ["'45873' is not a valid ID value"]),
        (
            AUTHENTICATION,
            SourceAuthError,
            ["invalid username or password", "check workday.isu_username"],
        ),
    ],
    ids=["validation-with-errors", "validation-bare", "authentication"],
)
@responses.activate
def test_final_soap_faults_become_clear_errors(
    fault: bytes, error: type, pieces: list[str]
) -> None:
    responses.post(SOAP_URL, body=fault, status=500, content_type="text/xml")
    with pytest.raises(error) as caught:
        client().soap(SOAP_URL, b"<envelope/>", auth=None, what="Get_Workers page 1")
    for piece in pieces:
        assert piece in str(caught.value)
    assert len(responses.calls) == 1


@pytest.mark.parametrize(
    "failure",
    [PROCESSING, b"", b"<html>throttled</html>"],
    ids=["processing-fault", "empty-500", "html-500"],
)
@responses.activate(registry=registries.OrderedRegistry)
def test_soap_processing_faults_and_bare_500s_are_retried(failure: bytes) -> None:
    responses.post(SOAP_URL, body=failure, status=500)
    responses.post(SOAP_URL, body=OK, status=200, content_type="text/xml")
    sleeps: list[float] = []
    body = client(sleeps).soap(SOAP_URL, b"<envelope/>", auth=None, what="Get_Workers page 1")
    assert b"Get_Workers_Response" in body and len(sleeps) == 1


def test_a_soap_answer_that_is_not_xml_is_malformed() -> None:
    response = requests.Response()
    response.status_code, response._content = 200, b"{}"
    with pytest.raises(SourceUnavailableError, match="malformed SOAP answer"):
        read_soap(response)


@responses.activate
def test_a_fault_sent_with_status_200_is_still_read() -> None:
    responses.post(SOAP_URL, body=AUTHENTICATION, status=200, content_type="text/xml")
    with pytest.raises(SourceAuthError, match="invalid username or password"):
        client().soap(SOAP_URL, b"<envelope/>", auth=None, what="Get_Workers page 1")


REPORT_URL = f"{HOST}/ccx/service/customreport2/acme/ISU_Mentoring/RM_Workers"


@pytest.fixture
def content_never_read(monkeypatch: pytest.MonkeyPatch) -> None:
    """``Response.content`` fails: a report body must go to its spool chunk by chunk, never
    be held whole in memory (a 100,000-worker report is hundreds of megabytes)."""

    def whole(_: requests.Response) -> bytes:
        raise AssertionError("the whole report body was read into memory")

    monkeypatch.setattr(requests.Response, "content", property(whole))


@responses.activate
@pytest.mark.usefixtures("content_never_read")
def test_a_report_body_is_spooled_without_being_read_whole() -> None:
    body = b'{"Report_Entry": [{"Employee_ID": "1"}, {"Employee_ID": "2"}]}'
    responses.get(REPORT_URL, body=body, status=200, content_type="application/json")
    auth = requests.auth.HTTPBasicAuth("ISU_Mentoring@acme", "secret")
    with client().report(REPORT_URL, params={"format": "json"}, auth=auth, what="RM_Workers") as f:
        assert f.read() == body


@responses.activate
@pytest.mark.usefixtures("content_never_read")
def test_a_report_answered_with_a_maintenance_page_is_unavailable() -> None:
    page = b"<!DOCTYPE html><html><body>Workday is down for maintenance</body></html>"
    responses.get(REPORT_URL, body=page, status=200, content_type="application/octet-stream")
    auth = requests.auth.HTTPBasicAuth("ISU_Mentoring@acme", "secret")
    with (
        pytest.raises(SourceUnavailableError, match="HTML page"),
        client(retries=0).report(REPORT_URL, params={"format": "json"}, auth=auth, what="r"),
    ):
        pass
