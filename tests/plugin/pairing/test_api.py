"""Pairing review over HTTP: admin tokens only, JSON answers and refusals, the same review
as the command line (propose, lock, reject, lock by hand, approve exactly once)."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from mentorbridge.plugin.reports.access import create_token
from mentorbridge.plugin.store.db import Store
from mentorbridge.plugin.store.models import Pair
from mentorbridge.plugin.web import create_app
from tests.plugin.web.conftest import web_config

PROGRAMME = "rm-api"


@pytest.fixture
def client(tenant: Store, store_url: str, tmp_path: Path) -> FlaskClient:
    pairing_file = tmp_path / "pairing.toml"
    pairing_file.write_text(
        f'[programmes.{PROGRAMME}]\nname = "API"\nthemes = ["AI"]\n'
        f'[programmes.{PROGRAMME}.mentees]\nmanagement_levels = ["2"]\n'
        f'[programmes.{PROGRAMME}.mentors]\nmanagement_levels = ["6"]\n',
        encoding="utf-8",
    )
    app: Flask = create_app(
        web_config(store_url, **{"pairing.file": str(pairing_file)}), store=tenant
    )
    return app.test_client()


def _auth(store: Store, role: str) -> dict[str, str]:
    _, token = create_token(store, role, f"{role} for tests")
    return {"Authorization": f"Bearer {token}"}


def test_only_an_admin_token_opens_pairing(client: FlaskClient, tenant: Store) -> None:
    assert client.get(f"/api/pairing/{PROGRAMME}").status_code == 401
    talent = client.get(f"/api/pairing/{PROGRAMME}", headers=_auth(tenant, "talent"))
    assert talent.status_code == 403 and "admin" in talent.get_json()["message"]
    admin = client.get(f"/api/pairing/{PROGRAMME}", headers=_auth(tenant, "admin"))
    assert admin.status_code == 200 and admin.get_json() == {"run": None, "pairs": []}
    unknown = client.get("/api/pairing/rm-nope", headers=_auth(tenant, "admin"))
    assert unknown.status_code == 422 and PROGRAMME in unknown.get_json()["message"]


def test_propose_review_and_approve_over_http(client: FlaskClient, tenant: Store) -> None:
    admin = _auth(tenant, "admin")
    proposed = client.post(f"/api/pairing/{PROGRAMME}/propose", json={}, headers=admin)
    assert proposed.status_code == 200, proposed.get_json()
    assert proposed.get_json()["proposed"] == 3
    pairs = client.get(f"/api/pairing/{PROGRAMME}", headers=admin).get_json()["pairs"]
    first, second = pairs[0], pairs[1]
    total = sum(part["points"] for part in first["breakdown"].values())
    assert total == first["score"]
    chain = client.post(
        f"/api/pairing/{PROGRAMME}/lock", json={"mentee": "E1", "mentor": "J1"}, headers=admin
    )
    assert chain.status_code == 409 and "reporting chain" in chain.get_json()["message"]
    locked = client.post(f"/api/pairing/{PROGRAMME}/proposals/{first['id']}/lock", headers=admin)
    assert locked.get_json() == {"id": first["id"], "status": "locked"}
    rejected = client.post(
        f"/api/pairing/{PROGRAMME}/proposals/{second['id']}/reject", headers=admin
    )
    assert rejected.get_json()["status"] == "rejected"
    again = client.post(f"/api/pairing/{PROGRAMME}/proposals/{second['id']}/lock", headers=admin)
    assert again.status_code == 409
    bad = client.post(f"/api/pairing/{PROGRAMME}/approve", json={"all": "yes"}, headers=admin)
    assert bad.status_code == 400
    approved = client.post(f"/api/pairing/{PROGRAMME}/approve", json={"all": True}, headers=admin)
    assert approved.status_code == 200, approved.get_json()
    created = approved.get_json()["created"]
    twice = client.post(f"/api/pairing/{PROGRAMME}/approve", json={"all": True}, headers=admin)
    assert twice.get_json()["created"] == []
    with tenant.reading() as session:
        assert session.scalar(select(func.count()).select_from(Pair)) == len(created) >= 1
