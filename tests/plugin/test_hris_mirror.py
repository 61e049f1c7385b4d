"""The HRIS mirror: idempotent upserts, terminations and rehires, people links, sensitive
fields off by default, replaced child rows (SQLite and PostgreSQL)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from mentorbridge.connectors.base import StreamCounts, SyncReport
from mentorbridge.plugin.identity import Identity
from mentorbridge.plugin.store.db import Store
from mentorbridge.plugin.store.hris import HrisMirror
from mentorbridge.plugin.store.hris_models import (
    HrisOrganization,
    HrisWorker,
    JobProfileCompetency,
    SuccessionCandidate,
    WorkerEvent,
)
from mentorbridge.plugin.store.hris_orgs import resolve_organization
from mentorbridge.plugin.store.keys import keyring_of
from mentorbridge.plugin.store.models import Person
from mentorbridge.plugin.store.sync_models import SyncRun


def worker(n: int, **changes: Any) -> dict[str, Any]:
    record = {
        "workday_id": f"{n:032x}",
        "employee_id": str(10000 + n),
        "worker_type": "employee",
        "legal_name": f"Worker {n}",
        "preferred_name": None,
        "work_email": None,
        "business_title": "Analyst",
        "job_profile_id": "JP-1",
        "job_profile": "Analyst",
        "management_level": "6 Individual Contributor",
        "supervisory_organization_id": "ORG-1",
        "supervisory_organization": "Org 1",
        "manager_employee_id": None,
        "location": "London",
        "country": "GB",
        "time_zone": "Europe/London",
        "hire_date": "2020-01-06",
        "original_hire_date": None,
        "active": True,
        "termination_date": None,
        "additional_jobs": [],
        "last_updated": "2026-10-01T08:00:00+00:00",
        "birth_generation": "Millennial",
        "gender": "Female",
        "ethnicity": "Prefer not to say",
    }
    return record | changes


def write(
    mirror: HrisMirror, stream: str, records: list[dict], *, run: int, dry_run: bool = False
) -> StreamCounts:
    return mirror.write("workday", stream, records, bookmark=None, run_id=run, dry_run=dry_run)


def start(mirror: HrisMirror) -> int:
    return mirror.start_run("workday", "full", False)


def test_unchanged_records_leave_rows_untouched(store: Store) -> None:
    mirror = HrisMirror(store)
    run = start(mirror)
    assert write(mirror, "workers", [worker(1), worker(2)], run=run).created == 2
    with store.reading() as session:
        before = {w.workday_id: w.updated_at for w in session.scalars(select(HrisWorker))}
    counts = write(mirror, "workers", [worker(1), worker(2, business_title="Lead")], run=run)
    assert (counts.created, counts.updated, counts.unchanged) == (0, 1, 1)
    with store.reading() as session:
        after = {
            w.workday_id: (w.updated_at, w.business_title)
            for w in session.scalars(select(HrisWorker))
        }
    assert after[f"{1:032x}"][0] == before[f"{1:032x}"]
    assert after[f"{2:032x}"] == (after[f"{2:032x}"][0], "Lead")
    assert after[f"{2:032x}"][0] > before[f"{2:032x}"]


def test_every_worker_is_a_person_with_an_opaque_id(store: Store) -> None:
    mirror = HrisMirror(store)
    write(mirror, "workers", [worker(1), worker(2)], run=start(mirror))
    with store.reading() as session:
        people = session.scalars(select(Person).order_by(Person.worker_id)).all()
    assert [p.worker_id for p in people] == ["10001", "10002"]
    identity = Identity(keyring_of(store).identity_key)
    for person in people:  # the keyed hash of the Employee ID, never the ID itself
        assert person.opaque_id == identity.opaque_id_for(person.worker_id)
        assert person.worker_id not in person.opaque_id


def test_a_termination_marks_the_worker_inactive_and_leaves_an_event(store: Store) -> None:
    mirror = HrisMirror(store)
    run = start(mirror)
    write(mirror, "workers", [worker(1)], run=run)
    counts = write(
        mirror, "workers", [worker(1, active=False, termination_date="2026-10-31")], run=run
    )
    assert counts.terminated == 1
    with store.reading() as session:
        row = session.scalar(select(HrisWorker))
        event = session.scalar(select(WorkerEvent))
        person = session.get(Person, row.person_id)
    assert row.active is False and person.active is False
    assert (event.kind, str(event.effective_on), event.handled_at) == (
        "terminated",
        "2026-10-31",
        None,
    )


def test_a_rehire_is_the_same_person_even_with_a_new_employee_id(store: Store) -> None:
    mirror = HrisMirror(store)
    run = start(mirror)
    write(mirror, "workers", [worker(1)], run=run)
    with store.reading() as session:
        opaque = session.scalar(select(Person.opaque_id))
    write(mirror, "workers", [worker(1, active=False, termination_date="2025-01-31")], run=run)
    counts = write(
        mirror,
        "workers",
        [worker(1, employee_id="20001", hire_date="2026-09-01", original_hire_date="2020-01-06")],
        run=run,
    )
    assert counts.rehired == 1
    with store.reading() as session:
        people = session.scalars(select(Person)).all()
        kinds = session.scalars(select(WorkerEvent.kind).order_by(WorkerEvent.id)).all()
    assert [(p.worker_id, p.opaque_id, p.active) for p in people] == [("20001", opaque, True)]
    assert kinds == ["terminated", "rehired"]


def test_sensitive_fields_are_stored_only_when_enabled(store: Store) -> None:
    write(HrisMirror(store), "workers", [worker(1)], run=start(HrisMirror(store)))
    with store.reading() as session:
        assert session.scalar(select(HrisWorker.sensitive)) is None
    enabled = HrisMirror(store, sensitive_fields=["birth_generation"])
    write(enabled, "workers", [worker(2)], run=start(enabled))
    with store.reading() as session:
        stored = session.scalar(
            select(HrisWorker.sensitive).where(HrisWorker.employee_id == "10002")
        )
    assert stored == {"birth_generation": "Millennial"}


def test_a_dry_run_counts_but_writes_nothing(store: Store) -> None:
    mirror = HrisMirror(store)
    counts = write(mirror, "workers", [worker(1)], run=start(mirror), dry_run=True)
    assert counts.created == 1
    with store.reading() as session:
        assert session.scalar(select(func.count()).select_from(HrisWorker)) == 0
        assert session.scalar(select(func.count()).select_from(Person)) == 0


def test_job_profile_requirements_and_candidates_are_replaced_whole(store: Store) -> None:
    mirror = HrisMirror(store)
    run = start(mirror)
    profile = {
        "job_profile_id": "JP-1",
        "job_profile": "Analyst",
        "competencies": [
            {
                "competency_id": "SUCC-DIGI",
                "required_level_id": "SKILLED",
                "required_level": "Skilled",
            },
            {"competency_id": "SUCC-CUST", "required_level_id": None, "required_level": None},
        ],
    }
    plan = {
        "position_id": "P-1",
        "position": "CFO",
        "incumbent_employee_id": "10001",
        "last_updated": None,
        "candidates": [
            {
                "employee_id": "10002",
                "readiness_id": "RN",
                "readiness": "Ready Now",
                "top_candidate": True,
                "temporary_fill": False,
            }
        ],
    }
    write(mirror, "job_profile_competencies", [profile], run=run)
    write(mirror, "succession_plans", [plan], run=run)
    profile["competencies"] = profile["competencies"][:1]
    plan["candidates"].append(
        {
            "employee_id": "10003",
            "readiness_id": "R12",
            "readiness": "Ready in 1-2 Years",
            "top_candidate": False,
            "temporary_fill": True,
        }
    )
    assert write(mirror, "job_profile_competencies", [profile], run=run).updated == 1
    assert write(mirror, "succession_plans", [plan], run=run).updated == 1
    with store.reading() as session:
        required = session.scalars(select(JobProfileCompetency.competency_id)).all()
        candidates = session.scalars(
            select(SuccessionCandidate.employee_id).order_by(SuccessionCandidate.employee_id)
        ).all()
    assert required == ["SUCC-DIGI"] and candidates == ["10002", "10003"]


def test_assessments_are_keyed_by_worker_competency_date_and_source(store: Store) -> None:
    mirror = HrisMirror(store)
    run = start(mirror)
    base = {
        "employee_id": "10001",
        "competency_id": "SUCC-DIGI",
        "level_id": "AWARE",
        "level": "Aware",
        "assessed_on": "2026-03-01",
        "source": "Manager",
        "last_updated": None,
    }
    counts = write(
        mirror,
        "competency_assessments",
        [base, base | {"source": "Self"}, base | {"assessed_on": "2026-09-01"}],
        run=run,
    )
    assert counts.created == 3
    again = write(
        mirror,
        "competency_assessments",
        [base | {"level_id": "SKILLED"}, base | {"source": "Self"}],
        run=run,
    )
    assert (again.updated, again.unchanged, again.created) == (1, 1, 0)


# -- one organisation identity across sources ---------------------------------------------------

ORG_WID = "8f0e1c2d3b4a5968778695a4b3c2d1e0"
TOP_WID = "0c2d9a7e6b5f4e3d2c1b0a9f8e7d6c5b"


def organization(organization_id: str, **changes: Any) -> dict[str, Any]:
    record = {
        "organization_id": organization_id,
        "name": "Data Platform (Mia Chen)",
        "type": "Supervisory",
        "superior_organization_id": None,
        "manager_employee_id": None,
        "inactive": False,
    }
    return record | changes


def organizations(store: Store) -> list[HrisOrganization]:
    with store.reading() as session:
        return list(session.scalars(select(HrisOrganization).order_by(HrisOrganization.id)))


def test_an_organisation_keeps_its_wid_and_reference_id_and_resolves_by_either(
    store: Store,
) -> None:
    mirror = HrisMirror(store)
    run = start(mirror)
    rest = organization(ORG_WID, reference_id="SUP_DATA", superior_organization_id=TOP_WID)
    write(mirror, "organizations", [rest, organization(TOP_WID, name="Top")], run=run)
    (org, top) = organizations(store)
    assert (org.workday_id, org.reference_id) == (ORG_WID, "SUP_DATA")
    assert (top.workday_id, top.reference_id) == (TOP_WID, None)
    with store.reading() as session:
        assert resolve_organization(session, "SUP_DATA").id == org.id
        assert resolve_organization(session, ORG_WID).id == org.id
        assert resolve_organization(session, org.superior_organization_id).id == top.id
        assert resolve_organization(session, "SUP_NOWHERE") is None


def test_a_source_lacking_the_superior_or_manager_does_not_blank_a_known_one(
    store: Store,
) -> None:
    mirror = HrisMirror(store)
    run = start(mirror)
    from_rest = organization(
        ORG_WID,
        reference_id="SUP_DATA",
        superior_organization_id=TOP_WID,
        manager_employee_id="10007",
    )
    write(mirror, "organizations", [from_rest], run=run)
    from_report = organization("SUP_DATA", name="Data Platform")  # no superior, no manager
    counts = write(mirror, "organizations", [from_report], run=run)
    assert (counts.created, counts.updated) == (0, 1)
    (org,) = organizations(store)
    assert org.name == "Data Platform"
    assert (org.superior_organization_id, org.manager_employee_id) == (TOP_WID, "10007")
    assert (org.workday_id, org.reference_id) == (ORG_WID, "SUP_DATA")
    again = write(mirror, "organizations", [from_report], run=run)
    assert (again.updated, again.unchanged) == (0, 1)


def test_one_organisation_stored_under_each_id_is_merged_when_a_record_ties_them(
    store: Store,
) -> None:
    mirror = HrisMirror(store)
    run = start(mirror)
    write(mirror, "organizations", [organization(ORG_WID, manager_employee_id="10007")], run=run)
    write(
        mirror,
        "organizations",
        [organization("SUP_DATA", superior_organization_id="SUP_TOP")],
        run=run,
    )
    assert len(organizations(store)) == 2
    tie = organization(ORG_WID, reference_id="SUP_DATA")
    counts = write(mirror, "organizations", [tie], run=run)
    assert counts.updated == 1
    (org,) = organizations(store)
    assert (org.workday_id, org.reference_id) == (ORG_WID, "SUP_DATA")
    assert (org.manager_employee_id, org.superior_organization_id) == ("10007", "SUP_TOP")


def test_the_run_report_counts_and_lists_workers_whose_organisation_or_manager_is_unknown(
    store: Store,
) -> None:
    mirror = HrisMirror(store)
    run = start(mirror)
    write(mirror, "organizations", [organization(ORG_WID, reference_id="SUP_DATA")], run=run)
    records = [
        worker(1, supervisory_organization_id="SUP_DATA"),  # by reference id: known
        worker(2, supervisory_organization_id=ORG_WID, manager_employee_id="10001"),
        worker(3, supervisory_organization_id="SUP_GONE"),
        worker(4, supervisory_organization_id="SUP_DATA", manager_employee_id="99999"),
        worker(5, additional_jobs=[{"position_id": "P-5", "supervisory_organization_id": "X"}]),
        worker(6, supervisory_organization_id="SUP_GONE", active=False),  # inactive: not checked
    ]
    write(mirror, "workers", records, run=run)
    report = SyncReport("workday", "full", False, run_id=run)
    mirror.finish_run(run, report, error=None)
    unknown = report.consistency
    assert unknown["workers"] == 5
    assert unknown["unknown_organization"] == {"count": 2, "first": ["10003", "10005"]}
    assert unknown["unknown_manager"] == {"count": 1, "first": ["10004"]}
    with store.reading() as session:
        assert session.get(SyncRun, run).consistency == unknown


def test_a_dry_run_reports_no_consistency(store: Store) -> None:
    mirror = HrisMirror(store)
    run = mirror.start_run("workday", "full", True)
    report = SyncReport("workday", "full", True, run_id=run)
    mirror.finish_run(run, report, error=None)
    assert report.consistency == {}
