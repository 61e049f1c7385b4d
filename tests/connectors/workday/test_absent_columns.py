"""Hidden columns: Workday drops a column the integration user may not see from every row. A
mapped column absent from every row of a run keeps the stored values (marked stale) and fails
the stream, or with ``absent_columns = "warn"`` syncs the rest; a column present in some rows
and empty in others is a real empty value. ``workday check`` names absent nested columns."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from mentorbridge.connectors.base import Skipped, Window
from mentorbridge.connectors.workday.connector import sample_directory
from mentorbridge.connectors.workday.sample.reports import REPORT_ALIASES, write_report_files
from mentorbridge.connectors.workday.sample.tenant import Tenant, change_workers, generate_tenant
from mentorbridge.connectors.workday.streams import FileRows, ReportStream
from mentorbridge.plugin import compose
from mentorbridge.plugin.cli import cli
from mentorbridge.plugin.config import Config, load_config
from mentorbridge.plugin.errors import MentorbridgeError
from mentorbridge.plugin.store.db import Store
from mentorbridge.plugin.store.hris_models import (
    HrisWorker,
    StaleField,
    SuccessionCandidate,
    SuccessionPlan,
)
from mentorbridge.plugin.store.hris_stale import stale_fields
from tests.conftest import keys_env
from tests.connectors.workday.test_sync import config, sync
from tests.workday_server import WorkdayServer

HIDDEN = {"Email_-_Primary_Work", "Manager_ID", "Time_Zone", "Readiness", "Readiness_ID"}


@pytest.fixture
def tenant() -> Tenant:
    return generate_tenant(60, seed=23)


@pytest.fixture
def server(tenant: Tenant) -> Iterator[WorkdayServer]:
    with WorkdayServer(tenant) as running:
        yield running


def mirrored(store: Store) -> tuple[dict[str, tuple[Any, ...]], dict[tuple[str, str], Any]]:
    """Workers' (email, manager, time zone, title), and every candidate's readiness."""
    with store.reading() as session:
        workers = {
            w.employee_id: (w.work_email, w.manager_employee_id, w.time_zone, w.business_title)
            for w in session.scalars(select(HrisWorker))
        }
        candidates = {
            (plan, c.employee_id): (c.readiness_id, c.readiness)
            for plan, c in session.execute(
                select(SuccessionPlan.position_id, SuccessionCandidate).join(
                    SuccessionCandidate, SuccessionCandidate.plan_id == SuccessionPlan.id
                )
            ).all()
        }
    return workers, candidates


def test_a_column_hidden_from_every_row_fails_the_run_and_blanks_nothing(
    store: Store, server: WorkdayServer
) -> None:
    cfg = config(server, workers_from="raas")
    sync(cfg, store, full=True)
    workers, candidates = mirrored(store)
    assert sum(1 for email, _, zone, _ in workers.values() if email and zone) > len(workers) / 2
    assert any(readiness for readiness in candidates.values())

    server.reports.hidden |= HIDDEN
    with pytest.raises(MentorbridgeError) as failed:
        sync(cfg, store, full=True)

    message = str(failed.value)
    assert "work_email (column Email_-_Primary_Work)" in message
    assert "manager_employee_id (column Manager_ID)" in message
    assert "time_zone (column Time_Zone)" in message
    assert 'workday.absent_columns = "warn"' in message
    assert mirrored(store) == (workers, candidates)


def test_a_hidden_nested_column_fails_succession_plans_and_keeps_every_readiness(
    store: Store, server: WorkdayServer
) -> None:
    cfg = config(server, workers_from="raas")
    sync(cfg, store, full=True)
    _, candidates = mirrored(store)
    server.reports.hidden |= {"Readiness", "Readiness_ID"}

    with pytest.raises(MentorbridgeError) as failed:
        sync(cfg, store, full=True, only=["succession_plans"])

    assert "candidates.readiness (column Candidates → Readiness)" in str(failed.value)
    assert mirrored(store)[1] == candidates


def test_with_warn_the_rest_syncs_hidden_fields_keep_their_values_and_are_marked_stale(
    store: Store, server: WorkdayServer, tenant: Tenant
) -> None:
    cfg = config(server, workers_from="raas", absent_columns="warn")
    sync(cfg, store, full=True)
    workers, candidates = mirrored(store)
    server.reports.hidden |= HIDDEN
    changed = change_workers(tenant, fraction=0.2, entered_at=datetime.now(UTC), seed=3)
    by_wid = {w["workday_id"]: w for w in tenant.workers}

    sync(cfg, store, full=True)

    now_workers, now_candidates = mirrored(store)
    assert now_candidates == candidates
    for employee_id, (email, manager, zone, _) in now_workers.items():
        assert (email, manager, zone) == workers[employee_id][:3]
    for wid in changed:  # what the run could see is synced
        worker = by_wid[wid]
        assert now_workers[worker["employee_id"]][3] == worker["business_title"]
    with store.reading() as session:
        stale = stale_fields(session, "workday")
    assert {
        "workers.work_email",
        "workers.manager_employee_id",
        "workers.time_zone",
        "succession_plans.candidates.readiness",
        "succession_plans.candidates.readiness_id",
    } <= set(stale)
    since = stale["workers.work_email"]["since"]

    sync(cfg, store, full=True)  # still hidden: stale since the first run that lacked it
    with store.reading() as session:
        assert stale_fields(session, "workday")["workers.work_email"]["since"] == since

    tenant.workers[0]["work_email"] = "changed.while.hidden@example.com"
    server.reports.hidden -= HIDDEN
    sync(cfg, store, full=True)
    with store.reading() as session:
        assert session.scalars(select(StaleField)).all() == []
    assert mirrored(store)[0][tenant.workers[0]["employee_id"]][0] == (
        "changed.while.hidden@example.com"
    )


def test_a_column_empty_in_some_rows_is_a_real_empty_value(
    store: Store, server: WorkdayServer, tenant: Tenant
) -> None:
    cfg = config(server, workers_from="raas")
    sync(cfg, store, full=True)
    tenant.workers[0]["work_email"] = None
    tenant.workers[1]["time_zone"] = None

    sync(cfg, store, full=True)

    stored = mirrored(store)[0]
    assert stored[tenant.workers[0]["employee_id"]][0] is None
    assert stored[tenant.workers[1]["employee_id"]][2] is None
    assert stored[tenant.workers[2]["employee_id"]][0] == tenant.workers[2]["work_email"]
    with store.reading() as session:
        assert session.scalars(select(StaleField)).all() == []


def _drop_csv_column(path: Path, column: str) -> None:
    rows = list(csv.DictReader(io.StringIO(path.read_text("utf-8"))))
    out = io.StringIO()
    fields = [f for f in rows[0] if f != column]
    writer = csv.DictWriter(out, fields, extrasaction="ignore", lineterminator="\r\n")
    writer.writeheader()
    writer.writerows(rows)
    path.write_text(out.getvalue(), "utf-8")


def _aliases() -> dict[str, Any]:
    return load_config(environ={"XDG_CONFIG_HOME": "/nonexistent"})["workday"]["fields"]


@pytest.mark.parametrize("mode", ["fail", "warn"])
def test_a_csv_report_file_without_a_mapped_column_is_not_read_as_empty(
    tenant: Tenant, tmp_path: Path, mode: str
) -> None:
    write_report_files(tenant, tmp_path, fmt="csv")
    _drop_csv_column(tmp_path / "workers.csv", "Time_Zone")
    stream = ReportStream("workers", FileRows(tmp_path, "csv"), _aliases(), absent_columns=mode)
    records = stream.records(Window(since=None, until=datetime.now(UTC)))
    if mode == "fail":
        with pytest.raises(MentorbridgeError, match=r"time_zone \(column Time_Zone\)"):
            next(records)
        return
    read = [r for r in records if not isinstance(r, Skipped)]
    assert len(read) == len(tenant.workers)
    assert all("time_zone" not in r and "work_email" in r for r in read)
    assert stream.absent == {"time_zone": "Time_Zone"}


def test_a_required_column_hidden_fails_the_stream_even_with_warn(
    store: Store, server: WorkdayServer
) -> None:
    cfg = config(server, workers_from="raas", absent_columns="warn")
    server.reports.hidden |= {"Hire_Date"}
    with pytest.raises(MentorbridgeError, match="hire_date cannot be left out"):
        sync(cfg, store, full=True, only=["workers"])
    with store.reading() as session:
        assert session.scalars(select(HrisWorker)).all() == []


@pytest.mark.parametrize(
    ("hidden", "stream", "warning"),
    [
        ("Readiness", "succession_plans", "candidates.readiness (column Candidates → Readiness)"),
        (
            "Required_Level_ID",
            "job_profile_competencies",
            "competencies.required_level_id (column Competencies → Required_Level_ID)",
        ),
        ("Level_Name", "competencies", "levels.name (column Proficiency_Levels → Level_Name)"),
        (
            "Position_ID",
            "workers",
            "additional_jobs.position_id (column Additional_Jobs → Position_ID)",
        ),
        ("Email_-_Primary_Work", "workers", "work_email (column Email_-_Primary_Work)"),
    ],
)
def test_check_warns_about_absent_nested_columns_too(
    store: Store, server: WorkdayServer, hidden: str, stream: str, warning: str
) -> None:
    server.reports.hidden.add(hidden)
    cfg: Config = config(server, workers_from="raas")
    connector = compose.workday_connector(cfg, store)
    try:
        results = {r.source.split(" ")[0]: r for r in connector.check()}
    finally:
        connector.close()
    assert results[stream].ok
    assert any(w.startswith(warning) for w in results[stream].warnings), results[stream]
    assert REPORT_ALIASES  # the default layout is the one checked


def test_sync_and_status_name_the_stale_fields_an_admin_must_restore(
    store_url: str, tmp_path: Path
) -> None:
    rows = json.loads((sample_directory() / "workers.json").read_text())["Report_Entry"]
    for row in rows:
        row.pop("Time_Zone", None)
    (tmp_path / "workers.json").write_text(json.dumps({"Report_Entry": rows}))
    env = {
        "XDG_CONFIG_HOME": str(tmp_path / "cfg"),
        "MENTORBRIDGE_STORE_URL": store_url,
        **keys_env(store_url),
        "MENTORBRIDGE_WORKDAY_SOURCE": "files",
        "MENTORBRIDGE_WORKDAY_FILES_DIR": str(tmp_path),
    }
    assert CliRunner().invoke(cli, ["db", "upgrade"], env=env).exit_code == 0

    failed = CliRunner().invoke(cli, ["sync", "workday"], env=env)
    assert failed.exit_code == 1
    assert "time_zone (column Time_Zone)" in failed.output
    assert "Traceback" not in failed.output

    warned = CliRunner().invoke(
        cli, ["sync", "workday"], env={**env, "MENTORBRIDGE_WORKDAY_ABSENT_COLUMNS": "warn"}
    )
    assert warned.exit_code == 0, warned.output
    line = "warning: 1 field(s) stale, their report column absent from every row since"
    assert line in warned.output and "workers.time_zone since " in warned.output
    assert line in CliRunner().invoke(cli, ["sync", "status"], env=env).output


def test_flags_a_report_leaves_out_still_read_as_false(store: Store, server: WorkdayServer) -> None:
    server.reports.hidden |= {"Inactive", "Top_Candidate", "Temporary_Fill"}
    cfg = config(server, workers_from="raas")
    report = sync(cfg, store, full=True, only=["competencies", "succession_plans"])
    assert report.counts["competencies"].created > 0
    assert report.counts["succession_plans"].created > 0
    with store.reading() as session:
        assert not any(c.top_candidate for c in session.scalars(select(SuccessionCandidate)))
        assert session.scalars(select(StaleField)).all() == []
