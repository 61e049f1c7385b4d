"""The report endpoints: who may ask (talent and admin tokens; never anonymous callers,
learners with their transcript link, revoked or unknown tokens), the audit row each answer and
each refusal leaves, and bad parameters answered 400 naming the parameter."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient

from mentorbridge.plugin.reports.access import audit_log, create_token, revoke_token
from mentorbridge.plugin.reports.transcript_links import LinkSigner
from mentorbridge.plugin.store.db import Store
from tests.plugin.web.conftest import ADMIN_TOKEN, CLOCK, LINK_SECRET, MENTEE

JSON = {"Accept": "application/json"}


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


@pytest.mark.parametrize(
    ("headers", "query", "status", "who"),
    [r[1:] for r in REFUSALS],
    ids=[r[0] for r in REFUSALS],
)
def test_reports_api_audit_refuses_all_but_admin_tokens_and_audits_the_refusal(
    client: FlaskClient, people: Store, tokens: dict[str, str], headers, query, status, who
) -> None:
    query = learner_link_query() if query == "learner" else query
    response = client.get(f"/reports/audit?{query}", headers=headers(tokens))
    assert response.status_code == status, response.json
    assert response.json["error"] == ("unauthorized" if status == 401 else "forbidden")
    assert response.headers["Cache-Control"] == "no-store"
    if status == 401:
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
    (entry,) = audit_log(people)
    assert (entry.who, entry.report, entry.outcome) == (who, "audit", "refused")
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
