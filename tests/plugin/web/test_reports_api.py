"""The report endpoints: who may ask (talent and admin tokens; never anonymous callers,
learners with their transcript link, revoked or unknown tokens), the audit row each answer and
each refusal leaves, and bad parameters answered 400 naming the parameter."""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path
from urllib.parse import urlsplit

import openpyxl
import pytest
from flask import Flask
from flask.testing import FlaskClient

from mentorbridge.plugin.mapping.explain import explain
from mentorbridge.plugin.mapping.file import parse_mapping
from mentorbridge.plugin.reports.access import audit_log, create_token, revoke_token
from mentorbridge.plugin.reports.transcript_links import LinkSigner
from mentorbridge.plugin.store.db import Store
from mentorbridge.plugin.web import create_app
from tests.plugin.reports.talent_fixture import build
from tests.plugin.web.conftest import ADMIN_TOKEN, CLOCK, LINK_SECRET, MENTEE, web_config

JSON = {"Accept": "application/json"}
#: A mapping with the fixture's competencies (keys and Workday ids).
MAPPING_TEXT = (Path(__file__).parents[1] / "reports" / "talent_mapping.toml").read_text()
#: The candidates of the fixture's two plans, one row per plan x candidate x competency.
CANDIDATE_ROWS = 6


@pytest.fixture
def app(store: Store, store_url: str, tmp_path: Path) -> Flask:
    """The app on the talent fixture, with a mapping file of its competencies."""
    build(store)
    mapping = tmp_path / "mapping.toml"
    mapping.write_text(MAPPING_TEXT)
    config = web_config(store_url, **{"mapping.file": str(mapping)})
    return create_app(config, store=store, now=lambda: CLOCK)


@pytest.fixture
def people(store: Store) -> Store:
    return store


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", **JSON}


def learner_link_query(worker: str = MENTEE) -> str:
    url, _ = LinkSigner(LINK_SECRET, 3600).link("", worker, now=CLOCK)
    return urlsplit(url).query


@pytest.fixture
def tokens(people: Store) -> dict[str, str]:
    """A talent token, an admin token and a revoked admin token."""
    _, talent = create_token(people, "talent", "people analytics")
    _, admin = create_token(people, "admin", "hr ops")
    revoked_info, revoked = create_token(people, "admin", "old laptop")
    revoke_token(people, revoked_info.id)
    return {"talent": talent, "admin": admin, "revoked": revoked}


REFUSALS = [
    ("anonymous", lambda t: {}, "", 401, "anonymous"),
    ("learner link", lambda t: {}, "learner", 403, "learner link"),
    ("revoked token", lambda t: bearer(t["revoked"]), "", 401, "token 3 (old laptop)"),
    ("unknown token", lambda t: bearer(t["talent"][:-2] + "xx"), "", 401, "unknown token"),
    ("transcript admin token", lambda t: bearer(ADMIN_TOKEN), "", 401, "web.admin_token"),
    ("basic auth", lambda t: {"Authorization": "Basic YWRtaW46YWRtaW4="}, "", 401, "anonymous"),
]


ENDPOINTS = [
    ("/reports/succession", "succession"),
    ("/reports/impact", "impact"),
    ("/api/evidence/EXEC-1/digital-fluency", "evidence"),
    ("/reports/audit", "audit"),
]


@pytest.mark.parametrize(("path", "report"), ENDPOINTS, ids=[e[1] for e in ENDPOINTS])
@pytest.mark.parametrize(
    ("headers", "query", "status", "who"),
    [r[1:] for r in REFUSALS],
    ids=[r[0] for r in REFUSALS],
)
def test_reports_api_refuses_all_but_our_tokens_and_audits_the_refusal(
    client: FlaskClient,
    people: Store,
    tokens: dict[str, str],
    path: str,
    report: str,
    headers,
    query,
    status,
    who,
) -> None:
    query = learner_link_query() if query == "learner" else query
    response = client.get(f"{path}?{query}", headers=headers(tokens))
    assert response.status_code == status, response.json
    assert response.json["error"] == ("unauthorized" if status == 401 else "forbidden")
    assert response.headers["Cache-Control"] == "no-store"
    if status == 401:
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
    (entry,) = audit_log(people)
    assert (entry.who, entry.report, entry.outcome) == (who, report, "refused")
    assert entry.detail.startswith(f"{status} ")
    assert tokens["revoked"].split("_", 2)[2] not in entry.detail


def test_reports_api_audit_is_for_admins_only(
    client: FlaskClient, people: Store, tokens: dict[str, str]
) -> None:
    talent = client.get("/reports/audit", headers=bearer(tokens["talent"]))
    assert talent.status_code == 403
    assert "needs an admin token, and this one is talent" in talent.json["message"]
    admin = client.get("/reports/audit?limit=5", headers=bearer(tokens["admin"]))
    assert admin.status_code == 200
    (refusal,) = admin.json["entries"]  # the listing itself is audited after it is read
    assert refusal["who"] == "token 1 (people analytics)" and refusal["outcome"] == "refused"
    newest = audit_log(people)[0]
    assert (newest.who, newest.report, newest.outcome, newest.row_count) == (
        "token 2 (hr ops)",
        "audit",
        "ok",
        1,
    )
    assert newest.filters == {"limit": 5}


@pytest.mark.parametrize("limit", ["0", "1001", "ten", "-1"])
def test_reports_api_audit_a_bad_limit_is_400_naming_it(
    client: FlaskClient, tokens: dict[str, str], limit: str
) -> None:
    response = client.get(f"/reports/audit?limit={limit}", headers=bearer(tokens["admin"]))
    assert response.status_code == 400
    assert response.json["parameter"] == "limit"
    assert "limit must be 1 to 1000" in response.json["message"]


# -- the succession report ---------------------------------------------------------------------


@pytest.mark.parametrize("role", ["talent", "admin"])
def test_reports_api_succession_as_csv_for_talent_and_admin_tokens_audited(
    client: FlaskClient, people: Store, tokens: dict[str, str], role: str
) -> None:
    response = client.get("/reports/succession?format=csv", headers=bearer(tokens[role]))
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert re.fullmatch(
        r'attachment; filename="succession-\d{8}-\d{6}\.csv"',
        response.headers["Content-Disposition"],
    )
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["X-Report-Rows"] == str(CANDIDATE_ROWS)
    table = list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    assert len(table) == 1 + CANDIDATE_ROWS and "worker_id" in table[0]
    (entry,) = audit_log(people)
    label = "people analytics" if role == "talent" else "hr ops"
    assert entry.who.endswith(f"({label})")
    assert (entry.report, entry.outcome, entry.format, entry.row_count) == (
        "succession",
        "ok",
        "csv",
        CANDIDATE_ROWS,
    )
    assert entry.filters == {}


def test_reports_api_filters_narrow_the_report_and_are_audited(
    client: FlaskClient, people: Store, tokens: dict[str, str]
) -> None:
    response = client.get(
        "/reports/succession?format=json&organization=ORG-A&from=2026-01-01",
        headers=bearer(tokens["talent"]),
    )
    assert response.status_code == 200
    body = json.loads(response.get_data())
    assert {row["position_id"] for row in body["views"]["candidates"]["rows"]} == {"POS-1"}
    entry = audit_log(people)[0]
    assert entry.filters == {"organization": "ORG-A", "from": "2026-01-01"}
    assert entry.row_count == int(response.headers["X-Report-Rows"])


NEGOTIATED = [
    ("text/csv", "", "text/csv; charset=utf-8"),
    ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "", "xlsx"),
    ("text/html", "", "text/html; charset=utf-8"),
    ("*/*", "", "application/json"),
    ("", "", "application/json"),
    ("text/csv", "format=xlsx", "xlsx"),
    ("application/json;q=0.5, text/csv;q=0.9", "", "text/csv; charset=utf-8"),
]


@pytest.mark.parametrize(("accept", "query", "expected"), NEGOTIATED)
def test_reports_api_format_by_accept_header_or_format_parameter(
    client: FlaskClient, tokens: dict[str, str], accept: str, query: str, expected: str
) -> None:
    headers = {"Authorization": f"Bearer {tokens['talent']}", "Accept": accept}
    response = client.get(f"/reports/succession?{query}", headers=headers)
    assert response.status_code == 200
    assert "Accept" in response.headers["Vary"]
    if expected == "xlsx":
        book = openpyxl.load_workbook(io.BytesIO(response.get_data()))
        assert "Candidates x competencies" in book.sheetnames
        assert response.headers["Content-Disposition"].endswith('.xlsx"')
    else:
        assert response.headers["Content-Type"] == expected
    assert response.headers["Content-Security-Policy"] == (
        "default-src 'none'; frame-ancestors 'none'; sandbox"
    )


def test_reports_api_no_acceptable_format_is_406_with_the_list(
    client: FlaskClient, people: Store, tokens: dict[str, str]
) -> None:
    headers = {"Authorization": f"Bearer {tokens['talent']}", "Accept": "application/xml"}
    response = client.get("/reports/succession", headers=headers)
    assert response.status_code == 406
    assert response.json["error"] == "not_acceptable"
    assert {a["format"] for a in response.json["available"]} == {
        "csv",
        "html",
        "json",
        "parquet",
        "xlsx",
    }
    assert {"format": "csv", "media_type": "text/csv"} in response.json["available"]
    assert audit_log(people)[0].outcome == "error"


BAD_PARAMETERS = [
    ("format=pdf", "format", "unknown report format 'pdf': use one of csv, html"),
    ("from=2026-13-01", "from", "give it as YYYY-MM-DD"),
    ("from=2026-06-01&to=2026-01-01", "from", "swap them"),
    ("colour=red", "colour", "colour is not a filter of the succession report"),
    ("worker=EXEC-9", "worker", "no worker 'EXEC-9' is known; the closest is 'EXEC-"),
    ("organization=ORG-Z", "organization", "the closest is 'ORG-"),
    ("plan=POS-1&plan=POS-2", "plan", "plan is given more than once"),
]


@pytest.mark.parametrize(("query", "parameter", "message"), BAD_PARAMETERS)
def test_reports_api_bad_parameters_are_400_naming_the_parameter_and_audited(
    client: FlaskClient,
    people: Store,
    tokens: dict[str, str],
    query: str,
    parameter: str,
    message: str,
) -> None:
    response = client.get(f"/reports/succession?{query}", headers=bearer(tokens["talent"]))
    assert response.status_code == 400, response.json
    assert response.json["error"] == "invalid_parameter"
    assert response.json["parameter"] == parameter
    assert message in response.json["message"]
    (entry,) = audit_log(people)
    assert (entry.outcome, entry.report) == ("error", "succession")
    assert message in entry.detail


def test_reports_api_an_invalid_mapping_file_is_a_clear_500_and_audited(
    store: Store, store_url: str, tmp_path: Path, tokens: dict[str, str]
) -> None:
    broken = tmp_path / "broken.toml"
    broken.write_text("[rules]\nrecency_days = 'soon'\n")
    app = create_app(web_config(store_url, **{"mapping.file": str(broken)}), store=store)
    response = app.test_client().get("/reports/succession", headers=bearer(tokens["talent"]))
    assert response.status_code == 500
    assert response.json["error"] == "mapping_invalid"
    assert "mentorbridge mapping check" in response.json["message"]
    entry = audit_log(store)[0]
    assert entry.outcome == "error" and entry.detail.startswith("MappingError: ")


# -- the impact report -------------------------------------------------------------------------


def test_reports_api_impact_for_a_talent_token_audited(
    client: FlaskClient, people: Store, tokens: dict[str, str]
) -> None:
    response = client.get(
        "/reports/impact?programme=rm-1", headers={**bearer(tokens["talent"]), "Accept": "text/csv"}
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.headers["Content-Disposition"].startswith('attachment; filename="impact-')
    lines = response.get_data(as_text=True).lstrip("\ufeff").splitlines()
    assert len(lines) - 1 == int(response.headers["X-Report-Rows"]) > 0
    entry = audit_log(people)[0]
    assert (entry.report, entry.outcome, entry.format, entry.filters) == (
        "impact",
        "ok",
        "csv",
        {"programme": "rm-1"},
    )


@pytest.mark.parametrize("parameter", ["worker", "plan", "competency"])
def test_reports_api_impact_takes_no_filter_that_singles_people_out(
    client: FlaskClient, tokens: dict[str, str], parameter: str
) -> None:
    response = client.get(f"/reports/impact?{parameter}=EXEC-1", headers=bearer(tokens["admin"]))
    assert response.status_code == 400
    assert response.json["parameter"] == parameter
    assert f"the impact report takes no {parameter} filter" in response.json["message"]


# -- evidence explanations ---------------------------------------------------------------------


def test_reports_api_evidence_is_the_explanation_for_talent_tokens_audited(
    client: FlaskClient, people: Store, tokens: dict[str, str]
) -> None:
    response = client.get("/api/evidence/EXEC-1/digital-fluency", headers=bearer(tokens["talent"]))
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    mapping = parse_mapping(MAPPING_TEXT, "test")
    assert response.json == json.loads(
        json.dumps(explain(people, mapping, "EXEC-1", "digital-fluency"))
    )
    assert [s["kind"] for s in response.json["sides"][0]["sources"]] == [
        "session",
        "session",
        "outcome",
    ]
    entry = audit_log(people)[0]
    assert (entry.report, entry.outcome, entry.row_count, entry.filters) == (
        "evidence",
        "ok",
        3,
        {"worker": "EXEC-1", "competency": "digital-fluency"},
    )


@pytest.mark.parametrize(
    ("path", "parameter", "message"),
    [
        ("/api/evidence/EXEC-9/digital-fluency", "worker_id", "did you mean 'EXEC-"),
        ("/api/evidence/EXEC-1/digital-fluencey", "competency_key", "digital-fluency"),
    ],
)
def test_reports_api_evidence_for_someone_unknown_is_404_naming_the_closest(
    client: FlaskClient,
    people: Store,
    tokens: dict[str, str],
    path: str,
    parameter: str,
    message: str,
) -> None:
    response = client.get(path, headers=bearer(tokens["talent"]))
    assert response.status_code == 404
    assert response.json["parameter"] == parameter and message in response.json["message"]
    assert audit_log(people)[0].outcome == "error"


def test_reports_api_tokens_never_reach_the_log(
    client: FlaskClient, tokens: dict[str, str], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("DEBUG")
    for token in tokens.values():
        client.get("/reports/succession?format=json", headers=bearer(token))
        client.get("/reports/audit?limit=oops", headers=bearer(token))
    assert any(record.name == "mentorbridge.web.access" for record in caplog.records)
    for token in tokens.values():
        assert token.split("_", 2)[2] not in caplog.text
