"""End to end against a Workday-shaped server: every source, token expiry and rotation, the JWT
grant, throttling, faults, malformed pages, zero-row reports, edge-case workers, incremental
runs that pick up exactly what changed, and resuming after a crash."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from sqlalchemy import func, select

from mentorbridge.connectors.base import SyncReport
from mentorbridge.connectors.workday.sample.reports import REPORT_ALIASES, write_report_files
from mentorbridge.connectors.workday.sample.tenant import (
    Tenant,
    change_workers,
    generate_tenant,
    rehire,
    terminate,
)
from mentorbridge.plugin import compose
from mentorbridge.plugin.config import Config, load_config
from mentorbridge.plugin.errors import SyncFailedError
from mentorbridge.plugin.jobs.sync import sync_workday
from mentorbridge.plugin.store.db import Store
from mentorbridge.plugin.store.hris_models import (
    Competency,
    CompetencyAssessment,
    HrisOrganization,
    HrisWorker,
    SuccessionPlan,
    WorkerEvent,
)
from mentorbridge.plugin.store.keys import keyring_of
from mentorbridge.plugin.store.models import Person
from mentorbridge.plugin.store.sync_models import OAuthCredential, SyncRun
from tests.conftest import keys_env
from tests.workday_server import WorkdayServer, validation_fault

SECRETS = {
    "MENTORBRIDGE_WORKDAY_CLIENT_SECRET": "client-secret-1",
    "MENTORBRIDGE_WORKDAY_REFRESH_TOKEN": "refresh-token-1",
    "MENTORBRIDGE_WORKDAY_ISU_PASSWORD": "isu-password-1",
}


@pytest.fixture
def tenant() -> Tenant:
    return generate_tenant(120, seed=11)  # each test may change its own


@pytest.fixture
def server(tenant: Tenant) -> Iterator[WorkdayServer]:
    with WorkdayServer(tenant) as running:
        yield running


def config(server: WorkdayServer, **settings: Any) -> Config:
    overrides = {
        "workday.source": "api",
        "workday.host": server.url,
        "workday.tenant": "acme",
        "workday.client_id": "mentorbridge",
        "workday.isu_username": "ISU_Mentoring@acme",
        "workday.report_owner": "ISU_Mentoring",
        "workday.max_retries": 4,
        "workday.read_timeout": 10,
    }
    overrides |= {f"workday.{key}": value for key, value in settings.items()}
    return load_config(environ={"XDG_CONFIG_HOME": "/nonexistent", **SECRETS}, overrides=overrides)


def sync(
    cfg: Config, store: Store, sleeps: list[float] | None = None, **options: Any
) -> SyncReport:
    return sync_workday(cfg, store, sleep=(sleeps if sleeps is not None else []).append, **options)


def workers(store: Store) -> dict[str, HrisWorker]:
    with store.reading() as session:
        return {w.employee_id: w for w in session.scalars(select(HrisWorker))}


def count(store: Store, model: type) -> int:
    with store.reading() as session:
        return session.scalar(select(func.count()).select_from(model))


@pytest.mark.parametrize("source", ["rest", "raas", "soap"])
def test_a_full_sync_mirrors_the_tenant_from_each_source(
    store: Store, server: WorkdayServer, tenant: Tenant, source: str
) -> None:
    report = sync(config(server, workers_from=source), store, full=True)
    stored = workers(store)
    assert len(stored) == len(tenant.workers) == report.counts["workers"].created
    assert report.counts["workers"].skipped == 0
    for expected in tenant.workers:
        row = stored[expected["employee_id"]]
        assert row.legal_name == expected["legal_name"]  # Unicode names survive every source
        assert row.work_email == expected["work_email"]
        assert row.active is expected["active"]
        assert row.worker_type == expected["worker_type"]
        assert row.manager_employee_id == expected["manager_employee_id"]
        assert str(row.hire_date) == expected["hire_date"]
        assert len(row.additional_jobs) == len(expected["additional_jobs"])
    assert count(store, Person) == len(tenant.workers)
    assert count(store, HrisOrganization) == len(tenant.organizations)
    assert count(store, Competency) == len(tenant.competencies)
    assert count(store, CompetencyAssessment) == len(tenant.competency_assessments)
    assert count(store, SuccessionPlan) == len(tenant.succession_plans)


def test_the_edge_case_workers_arrive_as_they_are(
    store: Store, server: WorkdayServer, tenant: Tenant
) -> None:
    sync(config(server, workers_from="raas"), store, full=True)
    stored = workers(store).values()
    assert any(not w.active and w.termination_date for w in stored)  # terminated
    assert any(
        w.active and w.termination_date and w.termination_date > tenant.today for w in stored
    )  # terminating in the future, still active
    assert any(
        w.original_hire_date and w.original_hire_date < w.hire_date for w in stored
    )  # rehired
    assert any(w.additional_jobs for w in stored)  # several positions
    assert any(w.worker_type == "contingent" for w in stored)
    assert any(w.work_email is None for w in stored)
    assert any(not w.legal_name.isascii() for w in stored)


@pytest.mark.parametrize("total", ["wrong", "missing"])
def test_rest_paging_ignores_a_wrong_or_missing_total(
    store: Store, tenant: Tenant, total: str
) -> None:
    with WorkdayServer(tenant, total=total) as server:
        report = sync(config(server, workers_from="rest", rest_page_size=25), store, full=True)
    assert report.counts["workers"].created == len(tenant.workers)


def test_a_token_that_expires_mid_sync_is_renewed(
    store: Store, server: WorkdayServer, tenant: Tenant
) -> None:
    session = requests.Session()
    pages: list[int] = []

    def expire_after_second_page(response: requests.Response, *args: Any, **kwargs: Any) -> None:
        if "/workers" in response.url:
            pages.append(response.status_code)
            if len(pages) == 2:
                server.expire_tokens()

    session.hooks["response"].append(expire_after_second_page)
    cfg = config(server, workers_from="rest", rest_page_size=20)
    report = sync(cfg, store, full=True, session=session)
    session.close()
    assert report.counts["workers"].created == len(tenant.workers)
    assert pages[:3] == [200, 200, 401] and set(pages[3:]) == {200}
    grants = [r for r in server.requests if r.grant_type == "refresh_token"]
    assert len(grants) == 2


def test_a_rotated_refresh_token_is_kept_and_used_next_time(store: Store, tenant: Tenant) -> None:
    with WorkdayServer(tenant, rotate_refresh_tokens=True) as server:
        cfg = config(server, workers_from="rest")
        sync(cfg, store, full=True)
        first_rotation = server.current_refresh_token
        assert first_rotation != "refresh-token-1"  # the configured one no longer works
        sync(cfg, store)  # a new process would read the rotated token from the store
        with store.reading() as session:
            kept = session.get(OAuthCredential, ("workday", "mentorbridge"))
        assert kept.refresh_token.startswith("fernet:")  # encrypted at rest
        current = keyring_of(store).decrypt(kept.refresh_token)
        assert current == server.current_refresh_token != first_rotation
        assert all(r.status == 200 for r in server.requests if r.grant_type)


def test_the_jwt_grant_signs_in_without_a_password(
    store: Store, tenant: Tenant, tmp_path: Path
) -> None:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    key_file = tmp_path / "workday-key.pem"
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    public = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    with WorkdayServer(tenant, jwt_public_key_pem=public) as server:
        cfg = config(
            server,
            workers_from="rest",
            auth="jwt",
            jwt_key_file=str(key_file),
            jwt_subject="ISU_Mentoring",
        )
        report = sync(cfg, store, full=True)
        assert report.counts["workers"].created == len(tenant.workers)
        assert {r.grant_type for r in server.requests if r.grant_type} == {
            "urn:ietf:params:oauth:grant-type:jwt-bearer"
        }


def test_a_429_storm_without_retry_after_backs_off_and_completes(
    store: Store, server: WorkdayServer, tenant: Tenant
) -> None:
    server.fail_next(
        path_contains="/workers",
        status=429,
        body=b'{"error":"throttled"}',
        content_type="application/json",
        times=4,
    )
    sleeps: list[float] = []
    report = sync(config(server, workers_from="rest"), store, sleeps, full=True)
    assert report.counts["workers"].created == len(tenant.workers)
    assert len(sleeps) == 4


@pytest.mark.parametrize("wrapper", [True, False])
def test_soap_validation_faults_fail_the_run_with_their_message(
    store: Store, server: WorkdayServer, wrapper: bool
) -> None:
    body = validation_fault(
        "Invalid ID value. 'ZZ' is not a valid ID value for type = 'Location_ID'",
        with_error_wrapper=wrapper,
    )
    server.fail_next(
        path_contains="/Human_Resources/", status=500, body=body, content_type="text/xml"
    )
    with pytest.raises(SyncFailedError, match=r"workers: .*is not a valid ID value"):
        sync(config(server, workers_from="soap"), store, full=True, only=["workers"])
    with store.reading() as session:
        run = session.scalar(select(SyncRun).order_by(SyncRun.id.desc()))
    assert run.status == "failed" and "is not a valid ID value" in run.message


def test_malformed_pages_and_maintenance_are_retried(
    store: Store, server: WorkdayServer, tenant: Tenant
) -> None:
    server.fail_next(
        path_contains="/workers",
        status=200,
        body=b'{"total": 3, "data": [',
        content_type="application/json",
    )
    server.maintenance_next(path_contains="/workers")
    server.fail_next(path_contains="/workers", status=200, body=b"", drop_connection=True)
    sleeps: list[float] = []
    report = sync(config(server, workers_from="rest"), store, sleeps, full=True)
    assert report.counts["workers"].created == len(tenant.workers) and len(sleeps) == 3


def test_a_zero_row_report_is_an_empty_stream(store: Store, server: WorkdayServer) -> None:
    cfg = config(server, workers_from="raas")
    sync(cfg, store, full=True)
    report = sync(cfg, store, only=["workers", "succession_plans"])  # nothing changed since
    assert report.counts["workers"].seen == 0 and report.counts["succession_plans"].seen == 0
    raas = [r for r in server.requests if "RM_Workers" in r.path]
    assert "Updated_From" in raas[-1].query and "Updated_Through" in raas[-1].query


def entered(tenant: Tenant, hours: int = 1) -> datetime:
    """A moment after everything the tenant was generated with, but not in the future."""
    return datetime.now(UTC) - timedelta(hours=hours)


@pytest.mark.parametrize("source", ["raas", "soap"])
def test_an_incremental_run_picks_up_exactly_the_changed_workers(
    store: Store, server: WorkdayServer, tenant: Tenant, source: str
) -> None:
    cfg = config(server, workers_from=source)
    sync(cfg, store, full=True, now=lambda: entered(tenant, 3))
    changed = change_workers(tenant, fraction=0.05, entered_at=entered(tenant, 2))
    before = {w.workday_id: w.updated_at for w in workers(store).values()}
    report = sync(cfg, store, only=["workers"])
    counts = report.counts["workers"]
    assert counts.updated == len(changed) and counts.created == 0
    assert counts.seen == len(changed)  # only the changed ones were read
    after = {w.workday_id: w.updated_at for w in workers(store).values()}
    assert {wid for wid in after if after[wid] != before[wid]} == set(changed)


def test_terminations_and_rehires_arrive_incrementally_as_events(
    store: Store, server: WorkdayServer, tenant: Tenant
) -> None:
    cfg = config(server, workers_from="soap")
    sync(cfg, store, full=True, now=lambda: entered(tenant, 5))
    leaver = next(
        w
        for w in tenant.workers
        if w["active"] and not w["termination_date"] and w["management_level"].startswith("6")
    )
    returner = next(w for w in tenant.workers if not w["active"])
    terminate(
        tenant,
        leaver["employee_id"],
        on=tenant.today - timedelta(days=1),
        entered_at=entered(tenant, 4),
    )
    rehire(
        tenant,
        returner["employee_id"],
        on=tenant.today - timedelta(days=1),
        entered_at=entered(tenant, 4),
    )
    report = sync(cfg, store, only=["workers"])
    assert (report.counts["workers"].terminated, report.counts["workers"].rehired) == (1, 1)
    with store.reading() as session:
        events = {
            (e.kind, session.get(HrisWorker, e.worker_id).employee_id)
            for e in session.scalars(select(WorkerEvent))
        }
    assert events == {("terminated", leaver["employee_id"]), ("rehired", returner["employee_id"])}


def test_a_crash_mid_sync_resumes_from_the_last_bookmark_without_loss(
    store: Store, server: WorkdayServer, tenant: Tenant
) -> None:
    cfg = config(server, workers_from="soap", soap_page_size=20, max_retries=1)
    sync(cfg, store, full=True, now=lambda: entered(tenant, 6))
    changed = change_workers(tenant, fraction=0.5, entered_at=entered(tenant, 5))
    # The incremental run dies after its second page: the connection keeps dropping.
    session = requests.Session()
    pages: list[int] = []

    def fail_after_second_page(response: requests.Response, *args: Any, **kwargs: Any) -> None:
        if "/Human_Resources/" in response.url:
            pages.append(response.status_code)
            if len(pages) == 2:
                server.fail_next(
                    path_contains="/Human_Resources/", status=200, drop_connection=True, times=2
                )

    session.hooks["response"].append(fail_after_second_page)
    with pytest.raises(SyncFailedError, match=r"workers: .*still failing after 2 attempts"):
        sync(cfg, store, only=["workers"], session=session)
    session.close()
    with store.reading() as session_:
        failed = session_.scalar(select(SyncRun).order_by(SyncRun.id.desc()))
    assert failed.status == "failed" and failed.counts["workers"]["updated"] < len(changed)
    resumed = sync(cfg, store, only=["workers"])  # from the last good bookmark
    assert resumed.counts["workers"].seen == len(changed)
    current = {w["workday_id"]: w for w in tenant.workers}
    stored = {w.workday_id: w for w in workers(store).values()}
    for wid in changed:
        assert stored[wid].business_title == current[wid]["business_title"]
        assert stored[wid].management_level == current[wid]["management_level"]


def test_workday_check_explains_missing_fields_and_bad_credentials(
    store: Store, tenant: Tenant
) -> None:
    hidden = {REPORT_ALIASES["workers"]["work_email"]}
    with WorkdayServer(tenant, hidden_report_fields=hidden) as server:
        connector = compose.workday_connector(config(server, workers_from="raas"), store)
        results = {r.source.split(" ")[0]: r for r in connector.check()}
        connector.close()
        assert results["workers"].ok
        assert any(
            "work_email (column Email_-_Primary_Work) is absent" in w
            for w in results["workers"].warnings
        )
        wrong = load_config(
            environ={
                "XDG_CONFIG_HOME": "/nonexistent",
                **SECRETS,
                "MENTORBRIDGE_WORKDAY_ISU_PASSWORD": "wrong",
            },
            overrides={
                "workday.source": "api",
                "workday.host": server.url,
                "workday.tenant": "acme",
                "workday.isu_username": "ISU_Mentoring@acme",
                "workday.report_owner": "ISU_Mentoring",
                "workday.workers_from": "raas",
            },
        )
        connector = compose.workday_connector(wrong, store)
        failed = [r for r in connector.check() if not r.ok]
        connector.close()
        assert failed and "refused the credentials" in failed[0].detail


@pytest.mark.parametrize("fmt", ["json", "csv"])
def test_report_files_in_either_format_give_the_same_mirror(
    store: Store, tenant: Tenant, tmp_path: Path, fmt: str
) -> None:
    write_report_files(tenant, tmp_path, fmt=fmt)
    cfg = load_config(
        environ={"XDG_CONFIG_HOME": "/nonexistent"},
        overrides={
            "workday.source": "files",
            "workday.files_dir": str(tmp_path),
            "workday.files_format": fmt,
        },
    )
    report = sync(cfg, store, full=True)
    assert all(c.skipped == 0 for c in report.counts.values())
    stored = workers(store)
    for expected in tenant.workers:
        row = stored[expected["employee_id"]]
        assert (row.legal_name, row.active, row.work_email) == (
            expected["legal_name"],
            expected["active"],
            expected["work_email"],
        )
        assert [j["position_id"] for j in row.additional_jobs] == [
            j["position_id"] for j in expected["additional_jobs"]
        ]
    with store.reading() as session:
        levels = {c.competency_id: c.levels for c in session.scalars(select(Competency))}
    for competency in tenant.competencies:
        assert [level["level_id"] for level in levels[competency["competency_id"]]] == [
            level["level_id"] for level in sorted(competency["levels"], key=lambda x: x["rank"])
        ]


def test_a_sync_process_killed_mid_run_is_resumed_by_the_next_one(
    store_url: str, store: Store, tenant: Tenant
) -> None:
    """SIGKILL, not an exception: the run stays 'running', the lease stays held by a dead
    process; the next sync takes over, records the crash and stores everything."""
    with WorkdayServer(tenant) as server:
        server.delay_next("/workers", 0.1, times=100)  # slow pages: time to kill mid-run
        env = {
            **os.environ,
            **SECRETS,
            "XDG_CONFIG_HOME": "/nonexistent",
            "MENTORBRIDGE_STORE_URL": store_url,
            **keys_env(store_url),
            "MENTORBRIDGE_WORKDAY_SOURCE": "api",
            "MENTORBRIDGE_WORKDAY_HOST": server.url,
            "MENTORBRIDGE_WORKDAY_TENANT": "acme",
            "MENTORBRIDGE_WORKDAY_WORKERS_FROM": "rest",
            "MENTORBRIDGE_WORKDAY_CLIENT_ID": "mentorbridge",
            "MENTORBRIDGE_WORKDAY_ISU_USERNAME": "ISU_Mentoring@acme",
            "MENTORBRIDGE_WORKDAY_REPORT_OWNER": "ISU_Mentoring",
            "MENTORBRIDGE_WORKDAY_REST_PAGE_SIZE": "10",
        }
        command = [
            sys.executable,
            "-m",
            "mentorbridge.plugin.cli",
            "sync",
            "workday",
            "--stream",
            "workers",
        ]
        process = subprocess.Popen(
            command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        deadline = time.monotonic() + 30
        while sum("/workers" in r.path for r in server.requests) < 4:
            assert time.monotonic() < deadline, "the sync never got going"
            time.sleep(0.02)
        process.send_signal(signal.SIGKILL)
        process.wait()
        with store.reading() as session:
            assert session.scalar(select(SyncRun.status)) == "running"
        finished = subprocess.run(command, env=env, capture_output=True, text=True, timeout=60)
    assert finished.returncode == 0, finished.stdout + finished.stderr
    with store.reading() as session:
        runs = session.scalars(select(SyncRun).order_by(SyncRun.id)).all()
    assert [r.status for r in runs] == ["failed", "succeeded"]
    assert "interrupted" in runs[0].message
    assert len(workers(store)) == len(tenant.workers)
