"""Workers from REST where the staffing pages leave out hire dates, manager, management level
and time zone: the worker's own resource fills them in, only for the workers that need it."""

from __future__ import annotations

from sqlalchemy import select

from mentorbridge.connectors.workday.sample.tenant import generate_tenant
from mentorbridge.plugin.store.db import Store
from mentorbridge.plugin.store.hris_models import HrisWorker
from tests.connectors.workday.test_sync import config, sync, workers
from tests.workday_server import WorkdayServer


def detail_requests(server: WorkdayServer) -> list[str]:
    return [r.path for r in server.requests if "/workers/" in r.path]


def test_rest_workers_without_hire_dates_are_completed_from_each_workers_resource(
    store: Store,
) -> None:
    tenant = generate_tenant(120, seed=11)
    with WorkdayServer(tenant, rest_workers="staffing") as server:
        report = sync(config(server, workers_from="rest"), store, full=True, only=["workers"])
        details = detail_requests(server)
    active = [w for w in tenant.workers if w["active"]]
    assert report.ok and report.counts["workers"].skipped == 0
    assert report.counts["workers"].created == len(active)  # REST lists no terminated workers
    assert len(details) == len(active) == len(set(details))  # one detail read per worker
    stored = workers(store)
    for expected in active:
        row = stored[expected["employee_id"]]
        assert str(row.hire_date) == expected["hire_date"]
        assert row.manager_employee_id == expected["manager_employee_id"]
        assert row.management_level == expected["management_level"]
        assert row.time_zone == expected["time_zone"]


def test_complete_rest_pages_need_no_detail_reads(store: Store) -> None:
    tenant = generate_tenant(40, seed=2)
    with WorkdayServer(tenant) as server:
        report = sync(config(server, workers_from="rest"), store, full=True, only=["workers"])
        assert detail_requests(server) == []
    assert report.counts["workers"].created == len(tenant.workers)


def test_a_worker_rest_cannot_give_a_hire_date_is_stored_without_one(store: Store) -> None:
    tenant = generate_tenant(30, seed=4)
    hidden = next(w for w in tenant.workers if w["active"])
    with WorkdayServer(tenant, rest_workers="staffing") as server:
        server.fail_next(path_contains=f"/workers/{hidden['workday_id']}", status=404, times=9)
        report = sync(config(server, workers_from="rest"), store, full=True, only=["workers"])
    assert report.ok and report.counts["workers"].skipped == 0
    with store.reading() as session:
        row = session.scalar(
            select(HrisWorker).where(HrisWorker.workday_id == hidden["workday_id"])
        )
    assert row is not None and row.hire_date is None
    assert row.legal_name == hidden["legal_name"]
