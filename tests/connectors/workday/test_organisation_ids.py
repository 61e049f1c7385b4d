"""One organisation identity across Workday's sources, end to end: REST names organisations by
WID, reports and SOAP by reference id (``SUP_…``); workers, superiors and additional jobs
resolve whichever one they carry, and a run says which workers it could not join."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from mentorbridge.connectors.workday.sample.tenant import Tenant, generate_tenant
from mentorbridge.plugin.cli import cli
from mentorbridge.plugin.config import Config, load_config
from mentorbridge.plugin.jobs.sync import sync_workday
from mentorbridge.plugin.store.db import Store
from mentorbridge.plugin.store.hris_models import HrisOrganization, HrisWorker
from mentorbridge.plugin.store.hris_orgs import resolve_organization
from tests.conftest import keys_env
from tests.workday_server import WorkdayServer
from tests.workday_server.rest import organization_wid

SECRETS = {
    "MENTORBRIDGE_WORKDAY_CLIENT_SECRET": "client-secret-1",
    "MENTORBRIDGE_WORKDAY_REFRESH_TOKEN": "refresh-token-1",
    "MENTORBRIDGE_WORKDAY_ISU_PASSWORD": "isu-password-1",
}


@pytest.fixture
def tenant() -> Tenant:
    return generate_tenant(60, seed=23)


def config(server: WorkdayServer, workers_from: str, **settings: Any) -> Config:
    overrides = {
        "workday.source": "api",
        "workday.host": server.url,
        "workday.tenant": "acme",
        "workday.client_id": "mentorbridge",
        "workday.isu_username": "ISU_Mentoring@acme",
        "workday.report_owner": "ISU_Mentoring",
        "workday.workers_from": workers_from,
        "workday.reports.organizations": "",  # organisations from REST: by WID
    }
    overrides |= {f"workday.{key}": value for key, value in settings.items()}
    return load_config(environ={"XDG_CONFIG_HOME": "/nonexistent", **SECRETS}, overrides=overrides)


@pytest.fixture
def by_wid(tenant: Tenant) -> Iterator[WorkdayServer]:
    with WorkdayServer(tenant, rest_organization_ids="wid") as running:
        yield running


@pytest.mark.parametrize("workers_from", ["raas", "soap", "rest"])
def test_workers_resolve_organisations_stored_by_wid_whatever_id_they_carry(
    store: Store, by_wid: WorkdayServer, tenant: Tenant, workers_from: str
) -> None:
    report = sync_workday(config(by_wid, workers_from), store, full=True, sleep=lambda _: None)
    expected = {o["organization_id"]: o for o in tenant.organizations}
    with store.reading() as session:
        stored = session.scalars(select(HrisOrganization)).all()
        assert len(stored) == len(expected)
        for org in stored:  # both ids kept, whichever the source keyed it by
            assert org.workday_id == organization_wid(org.reference_id)
            superior = expected[org.reference_id]["superior_organization_id"]
            if superior:
                assert resolve_organization(session, org.superior_organization_id).reference_id == (
                    superior
                )
        for worker in session.scalars(select(HrisWorker)):
            wanted = next(w for w in tenant.workers if w["employee_id"] == worker.employee_id)
            if wanted["supervisory_organization_id"]:
                found = resolve_organization(session, worker.supervisory_organization_id)
                assert (
                    found is not None
                    and found.reference_id == (wanted["supervisory_organization_id"])
                )
            for job in worker.additional_jobs:
                assert resolve_organization(session, job["supervisory_organization_id"])
    assert report.consistency["unknown_organization"] == {"count": 0, "first": []}
    assert report.consistency["unknown_superior"]["count"] == 0


def test_a_run_whose_workers_point_at_organisations_it_cannot_join_says_so(
    store: Store, tenant: Tenant
) -> None:
    with WorkdayServer(tenant, rest_organization_ids="wid-only") as server:
        report = sync_workday(config(server, "raas"), store, full=True, sleep=lambda _: None)
    pointing = sorted(
        w["employee_id"]
        for w in tenant.workers
        if w["active"]
        and (
            w["supervisory_organization_id"]
            or any(j["supervisory_organization_id"] for j in w["additional_jobs"])
        )
    )
    unknown = report.consistency["unknown_organization"]
    assert unknown["count"] == len(pointing) > 0
    assert unknown["first"] == pointing[:20]


def test_sync_output_warns_about_workers_whose_organisation_is_unknown(
    tmp_path: Path, store_url: str, tenant: Tenant
) -> None:
    with WorkdayServer(tenant, rest_organization_ids="wid-only") as server:
        env = {
            "XDG_CONFIG_HOME": str(tmp_path / "cfg"),
            "MENTORBRIDGE_STORE_URL": store_url,
            **keys_env(store_url),
            **SECRETS,
            "MENTORBRIDGE_WORKDAY_SOURCE": "api",
            "MENTORBRIDGE_WORKDAY_HOST": server.url,
            "MENTORBRIDGE_WORKDAY_TENANT": "acme",
            "MENTORBRIDGE_WORKDAY_WORKERS_FROM": "raas",
            "MENTORBRIDGE_WORKDAY_CLIENT_ID": "mentorbridge",
            "MENTORBRIDGE_WORKDAY_ISU_USERNAME": "ISU_Mentoring@acme",
            "MENTORBRIDGE_WORKDAY_REPORT_OWNER": "ISU_Mentoring",
            "MENTORBRIDGE_WORKDAY_REPORTS_ORGANIZATIONS": "",
        }
        assert CliRunner().invoke(cli, ["db", "upgrade"], env=env).exit_code == 0
        result = CliRunner().invoke(cli, ["sync", "workday", "--full"], env=env)
    assert result.exit_code == 0, result.output
    line = next(r for r in result.output.splitlines() if "organisation the mirror" in r)
    assert line.strip().startswith("warning: ")
    assert "reference ids such as SUP_" in line and "REST uses Workday IDs" in line
    status = CliRunner().invoke(cli, ["sync", "status"], env=env)
    assert line in status.output
