"""Hidden fields from REST and SOAP: Workday leaves a field the integration user may not see out
of every worker it gives. Workers from those sources are judged as report columns are: a field
no worker of a run has fails the stream (or, with ``absent_columns = "warn"``, keeps its stored
values, marked stale) instead of blanking the mirror; a small incremental run keeps the stored
values without failing; ``workday check`` names the fields its sample lacks."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from mentorbridge.connectors.workday import columns
from mentorbridge.connectors.workday.columns import held_until_seen
from mentorbridge.connectors.workday.sample.reports import REPORT_ALIASES
from mentorbridge.connectors.workday.sample.tenant import Tenant, change_workers, generate_tenant
from mentorbridge.plugin import compose
from mentorbridge.plugin.errors import MentorbridgeError, SyncFailedError
from mentorbridge.plugin.store.db import Store
from mentorbridge.plugin.store.hris_models import HrisWorker
from mentorbridge.plugin.store.hris_stale import stale_fields
from tests.connectors.workday.test_sync import config, sync
from tests.workday_server import WorkdayServer

HIDDEN = {"work_email", "time_zone", "manager_employee_id"}


@pytest.fixture
def tenant() -> Tenant:
    return generate_tenant(60, seed=29)


@pytest.fixture
def server(tenant: Tenant) -> Iterator[WorkdayServer]:
    with WorkdayServer(tenant) as running:
        yield running


def mirrored(store: Store) -> dict[str, tuple[Any, ...]]:
    """Each worker's (email, time zone, manager, business title)."""
    with store.reading() as session:
        return {
            w.employee_id: (w.work_email, w.time_zone, w.manager_employee_id, w.business_title)
            for w in session.scalars(select(HrisWorker))
        }


@pytest.mark.parametrize("source", ["rest", "soap"])
def test_a_field_hidden_from_every_worker_fails_the_stream_and_blanks_nothing(
    store: Store, server: WorkdayServer, source: str
) -> None:
    cfg = config(server, workers_from=source)
    sync(cfg, store, full=True)
    before = mirrored(store)
    assert sum(1 for email, zone, manager, _ in before.values() if email and zone and manager) > 30

    server.hidden_worker_fields = frozenset(HIDDEN)
    with pytest.raises(SyncFailedError) as failed:
        sync(cfg, store, full=True)

    assert set(failed.value.failed) == {"workers"}  # the other streams ran
    message = failed.value.failed["workers"]
    for field in HIDDEN:
        assert f"{field} (" in message
    assert "business_title" not in message
    assert 'workday.absent_columns = "warn"' in message
    assert mirrored(store) == before


@pytest.mark.parametrize("source", ["rest", "soap"])
def test_with_warn_the_rest_syncs_and_hidden_fields_keep_their_stored_values(
    store: Store, server: WorkdayServer, tenant: Tenant, source: str
) -> None:
    cfg = config(server, workers_from=source, absent_columns="warn")
    sync(cfg, store, full=True)
    before = mirrored(store)
    server.hidden_worker_fields = frozenset(HIDDEN)
    worker = tenant.workers[5]
    worker["business_title"] = "Head of Reverse Mentoring"
    worker["work_email"] = "changed.while.hidden@example.com"
    tenant.revision += 1

    sync(cfg, store, full=True)

    after = mirrored(store)
    assert after[worker["employee_id"]] == (
        *before[worker["employee_id"]][:3],
        "Head of Reverse Mentoring",
    )
    assert {k: v[:3] for k, v in after.items()} == {k: v[:3] for k, v in before.items()}
    with store.reading() as session:
        stale = stale_fields(session, "workday")
    assert {f"workers.{field}" for field in HIDDEN} <= set(stale)

    server.hidden_worker_fields = frozenset()
    sync(cfg, store, full=True)
    assert mirrored(store)[worker["employee_id"]][0] == "changed.while.hidden@example.com"
    with store.reading() as session:
        assert not [name for name in stale_fields(session, "workday") if name.startswith("work")]


@pytest.mark.parametrize("source", ["soap", "raas"])
def test_a_small_incremental_run_keeps_stored_values_instead_of_failing(
    store: Store, server: WorkdayServer, tenant: Tenant, source: str
) -> None:
    cfg = config(server, workers_from=source)
    sync(cfg, store, full=True, now=lambda: datetime.now(UTC) - timedelta(hours=3))
    before = mirrored(store)
    changed = change_workers(
        tenant, fraction=0.05, entered_at=datetime.now(UTC) - timedelta(hours=2)
    )
    assert 0 < len(changed) < columns.JUDGED_FROM
    # as when only the chief executive changed: no worker of the run has a manager
    server.hidden_worker_fields = frozenset({"manager_employee_id"})
    server.reports.hidden |= {REPORT_ALIASES["workers"]["manager_employee_id"]}

    report = sync(cfg, store, only=["workers"])

    assert report.counts["workers"].seen == len(changed)
    assert report.counts["workers"].updated == len(changed)
    after = mirrored(store)
    assert {k: v[2] for k, v in after.items()} == {k: v[2] for k, v in before.items()}

    with pytest.raises(SyncFailedError, match="manager_employee_id"):  # a full run is judged
        sync(cfg, store, full=True, only=["workers"])


def test_a_field_empty_for_some_workers_is_a_real_empty_value(
    store: Store, server: WorkdayServer, tenant: Tenant
) -> None:
    cfg = config(server, workers_from="rest")
    sync(cfg, store, full=True)
    tenant.workers[0]["work_email"] = None
    tenant.workers[1]["time_zone"] = None
    tenant.revision += 1

    sync(cfg, store, full=True)

    stored = mirrored(store)
    assert stored[tenant.workers[0]["employee_id"]][0] is None
    assert stored[tenant.workers[1]["employee_id"]][1] is None
    with store.reading() as session:
        assert stale_fields(session, "workday") == {}


@pytest.mark.parametrize("source", ["rest", "soap"])
def test_workday_check_names_the_fields_its_sample_lacks(
    store: Store, tenant: Tenant, source: str
) -> None:
    with WorkdayServer(tenant, hidden_worker_fields={"time_zone"}) as server:
        connector = compose.workday_connector(config(server, workers_from=source), store)
        try:
            results = {r.source.split(" ")[0]: r for r in connector.check()}
        finally:
            connector.close()
    workers = results["workers"]
    assert workers.ok
    warning = next(w for w in workers.warnings if "time_zone (" in w)
    assert "absent from every one of the" in warning and "records read" in warning
    assert "work_email" not in warning


def test_held_records_keep_their_order_and_spill_to_a_file(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(columns, "HELD_IN_MEMORY", 3)
    records = [{"n": n, "email": None, "zone": "UTC" if n else None} for n in range(10)]
    judged: list[tuple[dict[str, str], int]] = []

    def judge(absent: dict[str, str], count: int) -> frozenset[str]:
        judged.append((absent, count))
        return frozenset(absent)

    out = list(held_until_seen(iter(records), {"email": "E", "zone": "Z"}, judge))

    assert judged == [({"email": "E"}, 10)]
    assert [r["n"] for r in out] == list(range(10))
    assert all("email" not in r and "zone" in r for r in out)


def test_records_pass_on_once_every_watched_field_has_been_seen() -> None:
    def never(absent: dict[str, str], count: int) -> frozenset[str]:
        raise AssertionError("nothing is absent")

    pulled: list[int] = []

    def source() -> Iterator[dict[str, Any]]:
        for n in range(6):
            pulled.append(n)
            yield {"n": n, "email": "a@b.c" if n >= 2 else None}

    out = held_until_seen(source(), {"email": "E"}, never)
    assert next(out)["n"] == 0
    assert pulled == [0, 1, 2]  # held until the first email, then passed on unchanged
    rest = list(out)
    assert [r["n"] for r in rest] == [1, 2, 3, 4, 5]
    assert rest[0]["email"] is None


def test_a_hidden_required_field_fails_even_a_small_run(
    store: Store, server: WorkdayServer
) -> None:
    cfg = config(server, workers_from="soap", absent_columns="warn")
    server.hidden_worker_fields = frozenset({"hire_date"})
    with pytest.raises(MentorbridgeError, match=r"hire_date cannot be left out"):
        sync(cfg, store, full=True, only=["workers"])
