"""SOAP ``Get_Workers`` details: a page that is not well-formed XML is retried like any other
bad page and then fails naming the page and the fix (never a traceback); management level and
organisation are kept as their descriptors next to the ids; the time zone is read whichever
element the tenant sends it in."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from click.testing import CliRunner
from sqlalchemy import select

from mentorbridge.connectors.workday.sample.tenant import Tenant, generate_tenant
from mentorbridge.plugin.cli import cli
from mentorbridge.plugin.errors import MentorbridgeError
from mentorbridge.plugin.store.db import Store
from mentorbridge.plugin.store.sync_models import SyncRun
from tests.conftest import keys_env
from tests.connectors.workday.test_sync import SECRETS, config, sync, workers
from tests.workday_server import WorkdayServer
from tests.workday_server.soap_xml import MALFORMED, TIME_ZONES, malformed_page


@pytest.fixture
def tenant() -> Tenant:
    return generate_tenant(60, seed=5)


@pytest.fixture
def server(tenant: Tenant) -> Iterator[WorkdayServer]:
    with WorkdayServer(tenant) as running:
        yield running


def _malformed_next(server: WorkdayServer, kind: str, times: int = 1) -> None:
    server.fail_next(
        path_contains="/Human_Resources/",
        status=200,
        body=malformed_page(kind),
        content_type="text/xml; charset=utf-8",
        times=times,
    )


@pytest.mark.parametrize("kind", MALFORMED)
def test_soap_a_malformed_page_is_retried_and_the_sync_completes(
    store: Store, server: WorkdayServer, tenant: Tenant, kind: str
) -> None:
    _malformed_next(server, kind)
    sleeps: list[float] = []
    report = sync(config(server, workers_from="soap"), store, sleeps, full=True, only=["workers"])
    assert report.counts["workers"].created == len(tenant.workers)
    assert len(sleeps) == 1  # one backoff, then the good page
    soap = [r for r in server.requests if "/Human_Resources/" in r.path]
    assert [r.status for r in soap] == [200, 200]


def test_soap_a_page_malformed_on_every_try_fails_naming_the_page_and_the_fix(
    store: Store, server: WorkdayServer
) -> None:
    _malformed_next(server, "truncated", times=5)  # workday.max_retries is 4 in these tests
    sleeps: list[float] = []
    with pytest.raises(MentorbridgeError) as raised:
        sync(config(server, workers_from="soap"), store, sleeps, full=True, only=["workers"])
    message = str(raised.value)
    assert "Get_Workers page 1" in message
    assert "not well-formed XML" in message and "workday.soap_page_size" in message
    assert len(sleeps) == 4
    with store.reading() as session:
        run = session.scalar(select(SyncRun).order_by(SyncRun.id.desc()))
    assert run.status == "failed"
    assert "Get_Workers page 1" in run.message and "not well-formed XML" in run.message


def test_soap_a_malformed_page_is_one_line_from_the_cli_not_a_traceback(
    tmp_path: Path, store_url: str, server: WorkdayServer
) -> None:
    _malformed_next(server, "unescaped", times=2)
    env = {
        "XDG_CONFIG_HOME": str(tmp_path / "cfg"),
        "MENTORBRIDGE_STORE_URL": store_url,
        **keys_env(store_url),
        **SECRETS,
        "MENTORBRIDGE_WORKDAY_SOURCE": "api",
        "MENTORBRIDGE_WORKDAY_HOST": server.url,
        "MENTORBRIDGE_WORKDAY_TENANT": "acme",
        "MENTORBRIDGE_WORKDAY_WORKERS_FROM": "soap",
        "MENTORBRIDGE_WORKDAY_CLIENT_ID": "mentorbridge",
        "MENTORBRIDGE_WORKDAY_ISU_USERNAME": "ISU_Mentoring@acme",
        "MENTORBRIDGE_WORKDAY_REPORT_OWNER": "ISU_Mentoring",
        "MENTORBRIDGE_WORKDAY_MAX_RETRIES": "1",
        "MENTORBRIDGE_WORKDAY_BACKOFF_BASE_SECONDS": "0.01",
        "MENTORBRIDGE_WORKDAY_BACKOFF_MAX_SECONDS": "0.01",
    }
    runner = CliRunner()
    assert runner.invoke(cli, ["db", "upgrade"], env=env).exit_code == 0
    result = runner.invoke(cli, ["sync", "workday", "--full", "--stream", "workers"], env=env)
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output and "ParseError" not in result.output
    last = result.output.strip().splitlines()[-1]  # the error, after the run's table
    assert last.startswith("mentorbridge: ") and "Get_Workers page 1" in last
    assert "not well-formed XML" in last and "workday.soap_page_size" in last


def _soap_page(server: WorkdayServer) -> str:
    envelope = (
        '<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" '
        'xmlns:bsvc="urn:com.workday/bsvc"><soapenv:Header><wsse:Security '
        'xmlns:wsse="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-'
        'secext-1.0.xsd"><wsse:UsernameToken><wsse:Username>ISU_Mentoring@acme</wsse:Username>'
        "<wsse:Password>isu-password-1</wsse:Password></wsse:UsernameToken></wsse:Security>"
        "</soapenv:Header><soapenv:Body><bsvc:Get_Workers_Request/></soapenv:Body>"
        "</soapenv:Envelope>"
    )
    answer = requests.post(
        f"{server.url}/ccx/service/acme/Human_Resources/v44.2", data=envelope, timeout=10
    )
    assert answer.status_code == 200
    return answer.text


def test_soap_management_level_and_organisation_keep_their_descriptors(
    store: Store, tenant: Tenant
) -> None:
    with WorkdayServer(tenant, soap_reference_ids=True) as server:
        page = _soap_page(server)
        report = sync(config(server, workers_from="soap"), store, full=True, only=["workers"])
    # The tenant sends reference ids next to the descriptors, and the bare organisation name.
    assert 'wd:type="Management_Level_ID">ML_' in page
    assert 'wd:type="Organization_Reference_ID">SUP-' in page
    assert report.counts["workers"].created == len(tenant.workers)
    stored = workers(store)
    with_org = 0
    for expected in tenant.workers:
        row = stored[expected["employee_id"]]
        assert row.management_level == expected["management_level"]  # "4 Director", not ML_4
        assert row.supervisory_organization_id == expected["supervisory_organization_id"]
        # "Engineering (José Nuñez)", as REST and reports give it, not "Engineering"
        assert row.supervisory_organization == expected["supervisory_organization"]
        with_org += row.supervisory_organization is not None
    assert with_org > len(tenant.workers) // 2
    assert any("(" in (w.supervisory_organization or "") for w in stored.values())


@pytest.mark.parametrize("element", TIME_ZONES)
def test_soap_time_zone_is_read_from_either_element_tenants_use(
    store: Store, tenant: Tenant, element: str
) -> None:
    with WorkdayServer(tenant, soap_time_zone=element) as server:
        page = _soap_page(server)
        sync(config(server, workers_from="soap"), store, full=True, only=["workers"])
    assert f"<wd:{element}" in page
    stored = workers(store)
    for expected in tenant.workers:
        assert stored[expected["employee_id"]].time_zone == expected["time_zone"]
    assert sum(w.time_zone is not None for w in stored.values()) == len(tenant.workers)
