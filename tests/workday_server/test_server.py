"""The Workday test server itself: tokens, REST, custom reports, SOAP, scripted faults."""

from __future__ import annotations

import http.client
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from xml.etree.ElementTree import Element

import httpx
import jwt
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from defusedxml import ElementTree

from mentorbridge.connectors.workday.sample import (
    Tenant,
    change_workers,
    generate_tenant,
    terminate,
)
from mentorbridge.connectors.workday.sample.reports import csv_text, report_aliases, report_rows
from tests.workday_server import (
    WorkdayServer,
    maintenance_page,
    processing_fault,
    validation_fault,
)

ROOT = Path(__file__).resolve().parents[2]
ISU = ("ISU_Mentoring@acme", "isu-password-1")
CLIENT = {"client_id": "mentorbridge", "client_secret": "client-secret-1"}
REFRESH = {"grant_type": "refresh_token", "refresh_token": "refresh-token-1"}
JWT_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"
TOKEN = "/ccx/oauth2/acme/token"
WORKERS = "/ccx/api/staffing/v6/acme/workers"
ORGS = "/ccx/api/v1/acme/supervisoryOrganizations"
RAAS = "/ccx/service/customreport2/acme/ISU_Mentoring"
SOAP = "/ccx/service/acme/Human_Resources/v44.2"
WD = {"wd": "urn:com.workday/bsvc"}
ENV = "{http://schemas.xmlsoap.org/soap/envelope/}"


@pytest.fixture
def tenant() -> Tenant:
    return generate_tenant(60)


@pytest.fixture
def wd(tenant: Tenant) -> Iterator[WorkdayServer]:
    with WorkdayServer(tenant) as server:
        yield server
    assert server.errors == []


@pytest.fixture
def client(wd: WorkdayServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=wd.url, timeout=5) as http:
        yield http


@pytest.fixture(scope="module")
def rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def pem_public(key: rsa.RSAPrivateKey) -> bytes:
    return key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def bearer(client: httpx.Client) -> dict[str, str]:
    token = client.post(TOKEN, data=REFRESH | CLIENT).json()["access_token"]
    return {"Authorization": f"Bearer {token}"}


# -- token endpoint ----------------------------------------------------------------------------


def test_refresh_grant_with_the_client_in_the_body_or_as_basic(client: httpx.Client) -> None:
    in_body = client.post(TOKEN, data=REFRESH | CLIENT)
    as_basic = client.post(TOKEN, data=REFRESH, auth=("mentorbridge", "client-secret-1"))
    for answer in (in_body, as_basic):
        assert answer.status_code == 200
        body = answer.json()
        assert body["token_type"] == "Bearer" and body["expires_in"] == 3600
        assert "refresh_token" not in body
    assert in_body.json()["access_token"] != as_basic.json()["access_token"]


@pytest.mark.parametrize(
    ("form", "auth", "status", "error"),
    [
        (REFRESH | CLIENT | {"client_secret": "nope"}, None, 401, "invalid_client"),
        (REFRESH, ("mentorbridge", "nope"), 401, "invalid_client"),
        (REFRESH, None, 401, "invalid_client"),
        (REFRESH | CLIENT | {"refresh_token": "stale"}, None, 400, "invalid_grant"),
        (CLIENT | {"grant_type": "password"}, None, 400, "unsupported_grant_type"),
        ({"grant_type": JWT_GRANT, "assertion": "x"}, None, 400, "unauthorized_client"),
    ],
)
def test_refused_token_requests(
    client: httpx.Client, form: dict[str, str], auth: Any, status: int, error: str
) -> None:
    answer = client.post(TOKEN, data=form, auth=auth)
    assert answer.status_code == status
    assert answer.json()["error"] == error and answer.json()["error_description"]


def test_rotation_invalidates_the_old_refresh_token(tenant: Tenant) -> None:
    with (
        WorkdayServer(tenant, rotate_refresh_tokens=True) as wd,
        httpx.Client(base_url=wd.url) as c,
    ):
        first = c.post(TOKEN, data=REFRESH | CLIENT).json()
        rotated = first["refresh_token"]
        assert rotated != "refresh-token-1" and wd.current_refresh_token == rotated
        stale = c.post(TOKEN, data=REFRESH | CLIENT)
        assert stale.status_code == 400
        assert stale.json() == {
            "error": "invalid_grant",
            "error_description": "Invalid refresh token",
        }
        second = c.post(
            TOKEN, data=CLIENT | {"grant_type": "refresh_token", "refresh_token": rotated}
        )
        assert second.status_code == 200 and second.json()["refresh_token"] != rotated


@pytest.mark.parametrize(
    ("mode", "expected"), [("seconds", 120), ("minus-one", -1), ("missing", None)]
)
def test_expires_in_modes(tenant: Tenant, mode: str, expected: int | None) -> None:
    with (
        WorkdayServer(tenant, expires_in=mode, access_token_ttl=120) as wd,
        httpx.Client(base_url=wd.url) as c,
    ):
        body = c.post(TOKEN, data=REFRESH | CLIENT).json()
    assert body.get("expires_in") == expected and ("expires_in" in body) == (expected is not None)


def assertion(key: rsa.RSAPrivateKey, **changes: Any) -> str:
    claims = {
        "iss": "mentorbridge",
        "sub": "ISU_Mentoring",
        "aud": "wd",
        "exp": int(time.time()) + 300,
    }
    claims |= changes
    return jwt.encode({k: v for k, v in claims.items() if v is not None}, key, algorithm="RS256")


def self_signed(key: rsa.RSAPrivateKey) -> bytes:
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "mentorbridge")])
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    return certificate.public_bytes(serialization.Encoding.PEM)


@pytest.mark.parametrize("as_certificate", [False, True])
def test_jwt_grant_accepts_a_good_assertion(
    tenant: Tenant, rsa_key: rsa.RSAPrivateKey, as_certificate: bool
) -> None:
    pem = self_signed(rsa_key) if as_certificate else pem_public(rsa_key)
    with WorkdayServer(tenant, jwt_public_key_pem=pem) as wd, httpx.Client(base_url=wd.url) as c:
        answer = c.post(TOKEN, data={"grant_type": JWT_GRANT, "assertion": assertion(rsa_key)})
        assert answer.status_code == 200
        token = answer.json()["access_token"]
        page = c.get(WORKERS, headers={"Authorization": f"Bearer {token}"})
        assert page.status_code == 200
        assert wd.requests[0].grant_type == JWT_GRANT and wd.requests[0].auth_present


def test_jwt_grant_rejects_bad_assertions(tenant: Tenant, rsa_key: rsa.RSAPrivateKey) -> None:
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    cases = {
        "wrong key": (assertion(other), 400, "invalid_grant"),
        "expired": (assertion(rsa_key, exp=int(time.time()) - 10), 400, "invalid_grant"),
        "no expiry": (assertion(rsa_key, exp=None), 400, "invalid_grant"),
        "wrong audience": (assertion(rsa_key, aud="wd2"), 400, "invalid_grant"),
        "wrong subject": (assertion(rsa_key, sub="someone"), 400, "invalid_grant"),
        "wrong issuer": (assertion(rsa_key, iss="another-client"), 401, "invalid_client"),
        "HS256": (
            jwt.encode({"iss": "mentorbridge"}, "k" * 32, algorithm="HS256"),
            400,
            "invalid_grant",
        ),
        "garbage": ("not.a.jwt", 400, "invalid_grant"),
    }
    with (
        WorkdayServer(tenant, jwt_public_key_pem=pem_public(rsa_key)) as wd,
        httpx.Client(base_url=wd.url) as c,
    ):
        for case, (signed, status, error) in cases.items():
            answer = c.post(TOKEN, data={"grant_type": JWT_GRANT, "assertion": signed})
            assert (answer.status_code, answer.json()["error"]) == (status, error), case


def test_unknown_tenants_and_paths_are_404(client: httpx.Client) -> None:
    assert client.post("/ccx/oauth2/globex/token", data=REFRESH | CLIENT).status_code == 404
    assert client.get("/ccx/api/staffing/v6/globex/workers").status_code == 404
    assert client.get("/ccx/api/staffing/v6/acme/jobProfiles").status_code == 404
    assert client.get(TOKEN).status_code == 405


# -- REST --------------------------------------------------------------------------------------


def test_rest_pages_cover_every_worker_once_in_employee_id_order(
    client: httpx.Client, tenant: Tenant
) -> None:
    headers = bearer(client)
    for path in (WORKERS, "/ccx/api/v1/acme/workers"):
        seen, offset = [], 0
        while True:
            page = client.get(path, params={"limit": 7, "offset": offset}, headers=headers).json()
            assert page["total"] == 60
            seen += [w["workerId"] for w in page["data"]]
            if len(page["data"]) < 7:
                break
            offset += 7
        assert seen == sorted(w["employee_id"] for w in tenant.workers)
    assert len(client.get(WORKERS, headers=headers).json()["data"]) == 20
    assert client.get(WORKERS, params={"offset": 100}, headers=headers).json()["data"] == []


@pytest.mark.parametrize("params", [{"limit": 101}, {"limit": 0}, {"offset": -1}, {"limit": "x"}])
def test_rest_refuses_bad_paging(client: httpx.Client, params: dict[str, Any]) -> None:
    answer = client.get(WORKERS, params=params, headers=bearer(client))
    assert answer.status_code == 400 and answer.json()["error"]


@pytest.mark.parametrize(("mode", "total"), [("missing", None), ("wrong", 7)])
def test_total_modes(tenant: Tenant, mode: str, total: int | None) -> None:
    with WorkdayServer(tenant, total=mode) as wd, httpx.Client(base_url=wd.url) as c:
        page = c.get(WORKERS, params={"limit": 100}, headers=bearer(c)).json()
    assert page.get("total") == total and len(page["data"]) == 60


def test_rest_wants_a_live_token(wd: WorkdayServer, client: httpx.Client, tenant: Tenant) -> None:
    headers = bearer(client)
    assert client.get(WORKERS, headers=headers).status_code == 200
    for bad in ({}, {"Authorization": "Bearer garbage"}, {"Authorization": "Basic eDp5"}):
        assert client.get(WORKERS, headers=bad).status_code == 401
    wd.expire_tokens()
    expired = client.get(ORGS, headers=headers)
    assert expired.status_code == 401
    assert expired.json() == {
        "error": "invalid_token",
        "error_description": "The access token is invalid or has expired",
    }
    with WorkdayServer(tenant, access_token_ttl=0) as short, httpx.Client(base_url=short.url) as c:
        assert c.get(WORKERS, headers=bearer(c)).status_code == 401


def test_rest_worker_shape(client: httpx.Client, tenant: Tenant) -> None:
    page = client.get(WORKERS, params={"limit": 100}, headers=bearer(client)).json()["data"]
    by_id = {w["workerId"]: w for w in page}
    for worker in tenant.workers:
        shown = by_id[worker["employee_id"]]
        job = shown["primaryJob"]
        assert shown["id"] == worker["workday_id"]
        assert shown["person"] == {
            "legalName": worker["legal_name"],
            "preferredName": worker["preferred_name"],
            "email": worker["work_email"],
        }
        assert job["businessTitle"] == worker["business_title"]
        assert job["jobProfile"] == {
            "id": worker["job_profile_id"],
            "descriptor": worker["job_profile"],
        }
        assert job["managementLevel"]["descriptor"] == worker["management_level"]
        assert job["supervisoryOrganization"]["id"] == worker["supervisory_organization_id"]
        assert job.get("manager", {}).get("workerId") == worker["manager_employee_id"]
        assert job["location"]["country"]["ISO_3166-1_Alpha-2_Code"] == worker["country"]
        assert job["location"]["timeZone"] == worker["time_zone"]
        assert [j["id"] for j in shown["additionalJobs"]] == [
            j["position_id"] for j in worker["additional_jobs"]
        ]
        assert (shown["hireDate"], shown["originalHireDate"], shown["active"]) == (
            worker["hire_date"],
            worker["original_hire_date"],
            worker["active"],
        )
        assert shown.get("terminationDate") == worker["termination_date"]
    kinds = {w["workerType"]["descriptor"] for w in page}
    assert kinds == {"Employee", "Contingent Worker"}


def test_supervisory_organizations(client: httpx.Client, tenant: Tenant) -> None:
    orgs = client.get(ORGS, params={"limit": 100}, headers=bearer(client)).json()
    assert orgs["total"] == len(tenant.organizations) == len(orgs["data"])
    root = orgs["data"][0]
    assert "superiorOrganization" not in root and root["managers"][0]["workerId"] == "10001"
    assert all("superiorOrganization" in o for o in orgs["data"][1:])
    retired = [o for o in orgs["data"] if o["inactive"]]
    assert len(retired) == 1 and retired[0]["managers"] == []
    assert {o["id"] for o in orgs["data"]} == {o["organization_id"] for o in tenant.organizations}


def test_a_page_of_a_hundred_thousand_workers_is_fast() -> None:
    big = generate_tenant(100_000)
    with WorkdayServer(big) as wd, httpx.Client(base_url=wd.url) as c:
        headers = bearer(c)
        assert c.get(WORKERS, params={"limit": 1}, headers=headers).status_code == 200  # indexes
        started = time.perf_counter()
        page = c.get(WORKERS, params={"limit": 100, "offset": 50_000}, headers=headers)
        elapsed = time.perf_counter() - started
    assert page.status_code == 200 and len(page.json()["data"]) == 100
    assert page.json()["total"] == 100_000
    assert elapsed < 0.5, f"a page took {elapsed * 1000:.0f} ms"


# -- custom reports ----------------------------------------------------------------------------


def test_raas_json_and_csv_are_the_report_rows(client: httpx.Client, tenant: Tenant) -> None:
    for stream, report in (("workers", "RM_Workers"), ("succession_plans", "RM_Succession_Plans")):
        as_json = client.get(f"{RAAS}/{report}", params={"format": "json"}, auth=ISU)
        assert as_json.status_code == 200
        assert as_json.json() == {"Report_Entry": report_rows(tenant, stream)}
        as_csv = client.get(f"{RAAS}/{report}", params={"format": "csv"}, auth=ISU)
        assert as_csv.headers["content-type"].startswith("text/csv")
        assert as_csv.text == csv_text(report_rows(tenant, stream), report_aliases(stream))
    with_bearer = client.get(f"{RAAS}/RM_Competencies?format=json", headers=bearer(client))
    assert len(with_bearer.json()["Report_Entry"]) == len(tenant.competencies)


def test_raas_wants_the_integration_user(client: httpx.Client) -> None:
    url = f"{RAAS}/RM_Workers?format=json"
    assert client.get(url).status_code == 401
    assert client.get(url, auth=("ISU_Mentoring@acme", "wrong")).status_code == 401
    assert client.get(url, headers={"Authorization": "Bearer nope"}).status_code == 401


def test_raas_prompts_filter_on_last_updated(client: httpx.Client, tenant: Tenant) -> None:
    entered = datetime(2026, 11, 2, 10, tzinfo=UTC)
    changed = change_workers(tenant, fraction=0.2, entered_at=entered)
    window = {"format": "json", "Updated_From": "2026-11-02T00:00:00+00:00"}
    rows = client.get(f"{RAAS}/RM_Workers", params=window, auth=ISU).json()["Report_Entry"]
    assert sorted(r["Workday_ID"] for r in rows) == sorted(changed)
    before = window | {"Updated_Through": "2026-11-02T09:59:59Z"}
    assert client.get(f"{RAAS}/RM_Workers", params=before, auth=ISU).json() == {}
    assert client.get(f"{RAAS}/RM_Workers", params=before | {"format": "csv"}, auth=ISU).text == (
        ",".join(report_aliases("workers")) + "\r\n"
    )
    bad = client.get(
        f"{RAAS}/RM_Workers", params={"format": "json", "Updated_From": "soon"}, auth=ISU
    )
    assert bad.status_code == 400


def test_hidden_fields_are_silently_left_out(tenant: Tenant) -> None:
    hidden = {"Gender", "Email_-_Primary_Work", "Readiness"}
    with (
        WorkdayServer(tenant, hidden_report_fields=hidden) as wd,
        httpx.Client(base_url=wd.url) as c,
    ):
        rows = c.get(f"{RAAS}/RM_Workers?format=json", auth=ISU).json()["Report_Entry"]
        header = c.get(f"{RAAS}/RM_Workers?format=csv", auth=ISU).text.splitlines()[0]
        plans = c.get(f"{RAAS}/RM_Succession_Plans?format=json", auth=ISU).json()["Report_Entry"]
    assert len(rows) == 60 and not any(hidden & set(row) for row in rows)
    assert "Gender" not in header and "Email_-_Primary_Work" not in header and "Ethnicity" in header
    assert all("Readiness" not in c and "Readiness_ID" in c for p in plans for c in p["Candidates"])


def test_report_names_aliases_and_prompts_are_configurable(tenant: Tenant) -> None:
    with (
        WorkdayServer(
            tenant,
            report_owner="lmsadmin",
            report_names={"workers": "Mentoring_People"},
            alias_overrides={"workers": {"Email_-_Primary_Work": "Work_Email"}},
            report_prompts=("Changed_Since", "Changed_Until"),
        ) as wd,
        httpx.Client(base_url=wd.url) as c,
    ):
        base = "/ccx/service/customreport2/acme"
        rows = c.get(f"{base}/lmsadmin/Mentoring_People?format=json", auth=ISU).json()[
            "Report_Entry"
        ]
        assert any("Work_Email" in r for r in rows) and not any(
            "Email_-_Primary_Work" in r for r in rows
        )
        late = {"format": "json", "Changed_Since": "2030-01-01T00:00:00Z"}
        assert c.get(f"{base}/lmsadmin/Mentoring_People", params=late, auth=ISU).json() == {}
        assert c.get(f"{base}/lmsadmin/RM_Workers?format=json", auth=ISU).status_code == 404
        assert (
            c.get(f"{base}/ISU_Mentoring/Mentoring_People?format=json", auth=ISU).status_code == 404
        )


def test_raas_errors(client: httpx.Client) -> None:
    assert client.get(f"{RAAS}/RM_Nothing?format=json", auth=ISU).status_code == 404
    assert "Report not found" in client.get(f"{RAAS}/RM_Nothing?format=json", auth=ISU).text
    assert client.get(f"{RAAS}/RM_Workers", auth=ISU).status_code == 400


# -- SOAP --------------------------------------------------------------------------------------


def envelope(request: str = "", *, user: str | None = ISU[0], password: str = ISU[1]) -> str:
    security = ""
    if user is not None:
        security = (
            '<soapenv:Header><wsse:Security soapenv:mustUnderstand="1" xmlns:wsse="http://docs.'
            'oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd">'
            f"<wsse:UsernameToken><wsse:Username>{user}</wsse:Username>"
            '<wsse:Password Type="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-'
            f'username-token-profile-1.0#PasswordText">{password}</wsse:Password>'
            "</wsse:UsernameToken></wsse:Security></soapenv:Header>"
        )
    return (
        '<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" '
        f'xmlns:bsvc="urn:com.workday/bsvc">{security}<soapenv:Body>'
        f'<bsvc:Get_Workers_Request bsvc:version="v44.2">{request}</bsvc:Get_Workers_Request>'
        "</soapenv:Body></soapenv:Envelope>"
    )


def get_workers(
    page: int = 1,
    count: int = 100,
    *,
    include_inactive: bool | None = True,
    windows: tuple[tuple[str, str, str, str], ...] = (),
    as_of: str | None = None,
    extra: str = "",
) -> str:
    blocks = "".join(
        "<bsvc:Transaction_Log_Criteria_Data><bsvc:Transaction_Date_Range_Data>"
        f"<bsvc:Updated_From>{a}</bsvc:Updated_From><bsvc:Updated_Through>{b}</bsvc:Updated_Through>"
        f"<bsvc:Effective_From>{c}</bsvc:Effective_From>"
        f"<bsvc:Effective_Through>{d}</bsvc:Effective_Through>"
        "</bsvc:Transaction_Date_Range_Data></bsvc:Transaction_Log_Criteria_Data>"
        for a, b, c, d in windows
    )
    flag = ""
    if include_inactive is not None:
        exclude = "false" if include_inactive else "true"
        flag = f"<bsvc:Exclude_Inactive_Workers>{exclude}</bsvc:Exclude_Inactive_Workers>"
    pin = f"<bsvc:As_Of_Entry_DateTime>{as_of}</bsvc:As_Of_Entry_DateTime>" if as_of else ""
    return (
        f"<bsvc:Request_Criteria>{blocks}{flag}</bsvc:Request_Criteria>"
        f"<bsvc:Response_Filter>{pin}<bsvc:Page>{page}</bsvc:Page><bsvc:Count>{count}</bsvc:Count>"
        f"</bsvc:Response_Filter>{extra}"
    )


def soap(client: httpx.Client, body: str, **headers: str) -> tuple[int, Element]:
    answer = client.post(
        SOAP, content=body.encode(), headers={"Content-Type": "text/xml"} | headers
    )
    assert answer.headers["content-type"].startswith("text/xml")
    return answer.status_code, ElementTree.fromstring(answer.content)


def results(root: Element) -> dict[str, int]:
    found = root.find(".//wd:Response_Results", WD)
    assert found is not None
    return {child.tag.rpartition("}")[2]: int(child.text or 0) for child in found}


def employee_ids(root: Element) -> list[str]:
    return [
        e.text or ""
        for e in root.findall(".//wd:Worker/wd:Worker_Reference/wd:ID", WD)
        if e.get("{urn:com.workday/bsvc}type") in ("Employee_ID", "Contingent_Worker_ID")
    ]


def fault(root: Element) -> tuple[str, str]:
    found = root.find(f"{ENV}Body/{ENV}Fault")
    assert found is not None
    return found.findtext("faultcode") or "", found.findtext("faultstring") or ""


def test_soap_pages_through_every_worker(client: httpx.Client, tenant: Tenant) -> None:
    seen, page = [], 1
    while True:
        status, root = soap(client, envelope(get_workers(page, 25)))
        assert status == 200
        counts = results(root)
        assert (
            counts["Total_Results"] == 60 and counts["Total_Pages"] == 3 and counts["Page"] == page
        )
        seen += employee_ids(root)
        if page >= counts["Total_Pages"]:
            break
        page += 1
    assert seen == sorted(w["employee_id"] for w in tenant.workers)
    _, beyond = soap(client, envelope(get_workers(4, 25)))
    assert results(beyond)["Page_Results"] == 0 and beyond.find(".//wd:Response_Data", WD) is None


def test_soap_leaves_inactive_workers_out_by_default(client: httpx.Client, tenant: Tenant) -> None:
    _, root = soap(client, envelope(get_workers(include_inactive=None)))
    active = sorted(w["employee_id"] for w in tenant.workers if w["active"])
    assert employee_ids(root) == active and len(active) < 60
    assert {e.text for e in root.findall(".//wd:Worker_Status_Data/wd:Active", WD)} == {"1"}


@pytest.mark.parametrize(
    ("page", "count", "message"),
    [
        (0, 10, "Page Number cannot be zero."),
        (-1, 10, "Page Number must be positive."),
        (1, 1000, "Count must be between 1 and 999; 1000 was given."),
        (1, 0, "Count must be between 1 and 999; 0 was given."),
    ],
)
def test_soap_validation_faults(client: httpx.Client, page: int, count: int, message: str) -> None:
    status, root = soap(client, envelope(get_workers(page, count)))
    assert status == 500
    assert fault(root)[0] == "SOAP-ENV:Client.validationError"
    error = root.find(".//wd:Validation_Fault/wd:Validation_Error", WD)
    assert error is not None and error.findtext("wd:Message", namespaces=WD) == message
    assert (error.findtext("wd:Xpath", namespaces=WD) or "").startswith(
        "/bsvc:Get_Workers_Request[1]"
    )


def test_soap_count_999_is_allowed(client: httpx.Client) -> None:
    status, root = soap(client, envelope(get_workers(1, 999)))
    assert status == 200 and results(root)["Total_Pages"] == 1


def test_soap_authentication(client: httpx.Client, wd: WorkdayServer) -> None:
    for body in (envelope(get_workers(), password="wrong"), envelope(get_workers(), user=None)):
        status, root = soap(client, body)
        assert status == 500
        assert fault(root) == (
            "SOAP-ENV:Client.authenticationError",
            "invalid username or password",
        )
    headers = bearer(client)
    assert soap(client, envelope(get_workers(), user=None), **headers)[0] == 200
    wd.expire_tokens()
    expired = client.post(SOAP, content=envelope(get_workers(), user=None), headers=headers)
    assert expired.status_code == 401


def test_soap_malformed_requests(client: httpx.Client) -> None:
    status, root = soap(client, "<soapenv:Envelope")
    assert status == 500 and fault(root)[0] == "SOAP-ENV:Client"
    other = envelope().replace("Get_Workers_Request", "Get_Organizations_Request")
    assert "not supported" in fault(soap(client, other)[1])[1]
    wrong = client.post("/ccx/service/acme/Human_Resources/v12.0", content=envelope(get_workers()))
    assert wrong.status_code == 500 and b"Invalid version" in wrong.content
    assert client.post("/ccx/service/acme/Staffing/v44.2", content=envelope()).status_code == 404
    bad_flag = envelope(get_workers().replace(">false<", ">maybe<"))
    assert fault(soap(client, bad_flag)[1])[0] == "SOAP-ENV:Client.validationError"


def test_soap_worker_elements(client: httpx.Client, tenant: Tenant) -> None:
    _, root = soap(client, envelope(get_workers(1, 999)))
    workers = {
        w.findtext("wd:Worker_Data/wd:Worker_ID", namespaces=WD): w
        for w in root.findall(".//wd:Worker", WD)
    }
    for record in tenant.workers:
        element = workers[record["employee_id"]]
        legal = element.find(".//wd:Legal_Name_Data/wd:Name_Detail_Data", WD)
        assert (
            legal is not None
            and legal.get("{urn:com.workday/bsvc}Formatted_Name") == record["legal_name"]
        )
        work = [
            e.findtext("wd:Email_Address", namespaces=WD)
            for e in element.findall(".//wd:Email_Address_Data", WD)
            if e.findtext(".//wd:Type_Reference/wd:ID", namespaces=WD) == "WORK"
        ]
        assert work == ([record["work_email"]] if record["work_email"] else [])
        jobs = element.findall(".//wd:Worker_Job_Data", WD)
        flags = [j.get("{urn:com.workday/bsvc}Primary_Job") for j in jobs]
        assert flags == ["1"] + ["0"] * len(record["additional_jobs"])
        primary = jobs[0]
        assert primary.findtext(".//wd:Business_Title", namespaces=WD) == record["business_title"]
        level = primary.find(".//wd:Management_Level_Reference/wd:ID", WD)
        assert level is not None and level.text == record["management_level"]
        supervisory = [
            o.findtext("wd:Organization_Reference_ID", namespaces=WD)
            for o in primary.findall(".//wd:Organization_Data", WD)
            if o.findtext(".//wd:ID", namespaces=WD) == "SUPERVISORY"
        ]
        assert supervisory == [record["supervisory_organization_id"]]
        status = element.find(".//wd:Worker_Status_Data", WD)
        assert status is not None
        assert status.findtext("wd:Active", namespaces=WD) == ("1" if record["active"] else "0")
        hired = status.findtext("wd:Hire_Date", namespaces=WD) or ""
        assert hired[:10] == record["hire_date"] and re.fullmatch(
            r"\d{4}-\d\d-\d\d(-0[78]:00)?", hired
        )
    dates = [e.text or "" for e in root.findall(".//wd:Hire_Date", WD)]
    assert any(len(d) > 10 for d in dates) and any(len(d) == 10 for d in dates)
    assert root.findall(".//wd:ID[@wd:type='Contingent_Worker_ID']", WD)
    assert {
        e.get("{urn:com.workday/bsvc}Primary") for e in root.findall(".//wd:Type_Data", WD)
    } == {"1", "true"}


def test_soap_response_group_and_references(client: httpx.Client, tenant: Tenant) -> None:
    group = (
        "<bsvc:Response_Group><bsvc:Include_Personal_Information>true"
        "</bsvc:Include_Personal_Information></bsvc:Response_Group>"
    )
    _, root = soap(client, envelope(get_workers(extra=group)))
    assert root.find(".//wd:Personal_Data", WD) is not None
    assert root.find(".//wd:Employment_Data", WD) is None
    wanted = tenant.workers[5]["employee_id"]
    references = (
        "<bsvc:Request_References><bsvc:Worker_Reference>"
        f'<bsvc:ID bsvc:type="Employee_ID">{wanted}</bsvc:ID>'
        "</bsvc:Worker_Reference></bsvc:Request_References>"
    )
    _, root = soap(client, envelope(references + get_workers()))
    assert employee_ids(root) == [wanted]


def test_transaction_log_windows_and_future_dated_terminations(
    client: httpx.Client, tenant: Tenant
) -> None:
    leaver = next(w for w in tenant.workers[10:] if w["active"] and not w["termination_date"])
    terminate(
        tenant,
        leaver["employee_id"],
        on=date(2026, 11, 20),
        entered_at=datetime(2026, 10, 20, tzinfo=UTC),
    )
    changed = change_workers(tenant, fraction=0.1, entered_at=datetime(2026, 11, 3, 12, tzinfo=UTC))

    def incremental(start: str, end: str) -> list[str]:
        entered = (
            f"{start}T00:00:00Z",
            f"{end}T00:00:00Z",
            "1900-01-01T00:00:00Z",
            f"{end}T00:00:00Z",
        )
        effective = (
            "1900-01-01T00:00:00Z",
            f"{end}T00:00:00Z",
            f"{start}T00:00:00Z",
            f"{end}-08:00",
        )
        status, root = soap(
            client, envelope(get_workers(windows=(entered, effective), as_of=f"{end}T00:00:00Z"))
        )
        assert status == 200
        return employee_ids(root)

    first_week = incremental("2026-11-01", "2026-11-08")
    by_wid = {w["workday_id"]: w["employee_id"] for w in tenant.workers}
    assert sorted(first_week) == sorted(by_wid[wid] for wid in changed)
    assert leaver["employee_id"] not in first_week
    third_week = incremental("2026-11-15", "2026-11-22")
    assert leaver["employee_id"] in third_week
    future_dated = {
        by_wid[c.workday_id]
        for c in tenant.changes
        if date(2026, 11, 15) <= c.effective_on <= date(2026, 11, 22)
    }
    assert set(third_week) == future_dated


def test_as_of_entry_moment_shows_workers_as_they_were(
    client: httpx.Client, tenant: Tenant
) -> None:
    target = tenant.workers[3]
    title = target["business_title"]
    change_workers(
        tenant, workday_ids=[target["workday_id"]], entered_at=datetime(2026, 11, 5, 9, tzinfo=UTC)
    )
    references = (
        "<bsvc:Request_References><bsvc:Worker_Reference>"
        f'<bsvc:ID bsvc:type="WID">{target["workday_id"]}</bsvc:ID>'
        "</bsvc:Worker_Reference></bsvc:Request_References>"
    )

    def title_as_of(moment: str) -> str | None:
        _, root = soap(client, envelope(references + get_workers(as_of=moment)))
        primary = ".//wd:Worker_Job_Data[@wd:Primary_Job='1']/wd:Position_Data/wd:Business_Title"
        return root.findtext(primary, namespaces=WD)

    assert title_as_of("2026-11-05T08:59:59Z") == title
    assert title_as_of("2026-11-05T09:00:00Z") == target["business_title"] != title


# -- scripted trouble --------------------------------------------------------------------------


def test_fail_next_answers_with_the_scripted_reply(wd: WorkdayServer, client: httpx.Client) -> None:
    headers = bearer(client)
    wd.fail_next(path_contains="/workers", status=429, body='{"error":"slow down"}', times=2)
    wd.fail_next(
        path_contains="customreport2",
        status=503,
        body=maintenance_page(),
        content_type="text/html",
        headers={"Retry-After": "30"},
    )
    assert client.get(ORGS, headers=headers).status_code == 200
    assert [client.get(WORKERS, headers=headers).status_code for _ in range(3)] == [429, 429, 200]
    down = client.get(f"{RAAS}/RM_Workers?format=json", auth=ISU)
    assert down.status_code == 503 and down.headers["retry-after"] == "30"
    assert b"scheduled maintenance" in down.content
    wd.processing_fault_next("Server busy")
    status, root = soap(client, envelope(get_workers()))
    assert status == 500 and fault(root)[0] == "SOAP-ENV:Server.processingError"
    assert root.findtext(".//wd:Processing_Fault/wd:Detail_Message", namespaces=WD) == "Server busy"
    assert soap(client, envelope(get_workers()))[0] == 200


def test_fault_bodies_come_in_both_layouts() -> None:
    wrapped = ElementTree.fromstring(validation_fault("Bad", detail_message="Worse", xpath="/x"))
    error = wrapped.find(".//wd:Validation_Fault/wd:Validation_Error", WD)
    assert error is not None
    assert [
        error.findtext(f"wd:{n}", namespaces=WD) for n in ("Message", "Detail_Message", "Xpath")
    ] == [
        "Bad",
        "Worse",
        "/x",
    ]
    bare = ElementTree.fromstring(validation_fault("Bad & wrong", with_error_wrapper=False))
    assert bare.find(".//wd:Validation_Error", WD) is None
    assert bare.findtext(".//wd:Validation_Fault/wd:Detail_Message", namespaces=WD) == "Bad & wrong"
    assert (
        fault(ElementTree.fromstring(processing_fault("x")))[0] == "SOAP-ENV:Server.processingError"
    )


def test_a_dropped_connection_is_a_reset(wd: WorkdayServer, client: httpx.Client) -> None:
    headers = bearer(client)
    wd.fail_next(path_contains="/workers", status=0, drop_connection=True)
    with pytest.raises(httpx.TransportError):
        client.get(WORKERS, headers=headers)
    assert client.get(WORKERS, headers=headers).status_code == 200
    assert [r.status for r in wd.requests[-2:]] == [None, 200]


def test_delay_next_makes_a_request_slow(wd: WorkdayServer, client: httpx.Client) -> None:
    headers = bearer(client)
    wd.delay_next("/workers", 1.0)
    with pytest.raises(httpx.ReadTimeout):
        client.get(WORKERS, headers=headers, timeout=0.2)
    started = time.perf_counter()
    assert client.get(WORKERS, headers=headers).status_code == 200
    assert time.perf_counter() - started < 0.5


def test_requests_are_recorded_without_secrets(wd: WorkdayServer, client: httpx.Client) -> None:
    headers = bearer(client)
    client.get(WORKERS, params={"limit": 5}, headers=headers)
    client.get(f"{RAAS}/RM_Workers?format=json")
    soap(client, envelope(get_workers()))
    recorded = [(r.method, r.path, r.auth_present, r.status) for r in wd.requests]
    assert recorded == [
        ("POST", TOKEN, True, 200),
        ("GET", WORKERS, True, 200),
        ("GET", f"{RAAS}/RM_Workers", False, 401),
        ("POST", SOAP, True, 200),
    ]
    assert wd.requests[1].query == {"limit": "5"} and wd.requests[0].grant_type == "refresh_token"
    text = repr(wd.requests)
    for secret in (
        "client-secret-1",
        "refresh-token-1",
        "isu-password-1",
        headers["Authorization"][7:],
    ):
        assert secret not in text


# -- lifecycle ---------------------------------------------------------------------------------


def test_keep_alive_and_a_clean_stop(tenant: Tenant) -> None:
    server = WorkdayServer(tenant)
    with pytest.raises(RuntimeError):
        _ = server.url
    with server:
        port = int(server.url.rpartition(":")[2])
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        for _ in range(3):  # one connection, three requests
            connection.request("GET", WORKERS)
            answer = connection.getresponse()
            assert answer.status == 401 and answer.getheader("Content-Length")
            answer.read()
        # Left open on purpose: stopping must end it.
    connection.close()
    with pytest.raises(httpx.ConnectError), httpx.Client() as after:
        after.get(f"http://127.0.0.1:{port}{WORKERS}")


def test_the_command_line_server(tmp_path: Path) -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.workday_server", "--workers", "40", "--seed", "3"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        ready = process.stdout.readline().split()
        assert ready[0] == "READY" and ready[1].startswith("http://127.0.0.1:")
        with httpx.Client(base_url=ready[1]) as c:
            page = c.get(WORKERS, params={"limit": 100}, headers=bearer(c)).json()
        assert page["total"] == 40
        assert page["data"][0]["workerId"] == generate_tenant(40, seed=3).workers[0]["employee_id"]
        process.send_signal(signal.SIGTERM)
        process.communicate(timeout=10)
        assert process.returncode == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
