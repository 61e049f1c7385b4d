"""The sample tenant: deterministic, schema-valid, a sound hierarchy, the awkward cases real
tenants have, Workday's report quirks, and shipped files that match a fresh regeneration."""

from __future__ import annotations

import csv
import io
import json
import time
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mentorbridge import schemas
from mentorbridge.connectors.workday.sample import (
    STREAMS,
    Tenant,
    change_workers,
    generate_tenant,
    is_active,
    rehire,
    terminate,
)
from mentorbridge.connectors.workday.sample.__main__ import DATA, main
from mentorbridge.connectors.workday.sample.reports import (
    NESTED_ALIASES,
    REPORT_ALIASES,
    csv_text,
    json_text,
    report_aliases,
    report_rows,
    write_report_files,
)

TODAY = date(2026, 11, 1)


@pytest.fixture(scope="module")
def tenant() -> Tenant:
    """The shipped 500-worker tenant (read only: tests that change a tenant make their own)."""
    return generate_tenant()


def invalid_records(tenant: Tenant) -> list[tuple[str, int, Any]]:
    return [
        (stream, n, found)
        for stream in STREAMS
        for n, record in enumerate(tenant.records(stream))
        if (found := schemas.check(f"workday/{stream}", record))
    ]


def hierarchy_problems(tenant: Tenant) -> list[str]:
    """Everything wrong with the reporting lines and the organisation tree."""
    problems = []
    workers = {w["employee_id"]: w for w in tenant.workers}
    orgs = {o["organization_id"]: o for o in tenant.organizations}
    roots = [w for w in tenant.workers if w["manager_employee_id"] is None]
    if [w["management_level"] for w in roots] != ["1 Chief Executive"]:
        problems.append(f"roots: {roots}")
    for worker in tenant.workers:
        seen, current = set(), worker
        while current["manager_employee_id"] is not None:
            if current["employee_id"] in seen or current["manager_employee_id"] not in workers:
                problems.append(f"broken chain above {worker['employee_id']}")
                break
            seen.add(current["employee_id"])
            current = workers[current["manager_employee_id"]]
        org = orgs.get(worker["supervisory_organization_id"])
        if org is None or org["name"] != worker["supervisory_organization"]:
            problems.append(f"{worker['employee_id']} is in an unknown organisation")
        elif worker["manager_employee_id"] is not None:
            if org["manager_employee_id"] != worker["manager_employee_id"]:
                problems.append(f"{worker['employee_id']}'s organisation has another manager")
        elif org["superior_organization_id"] is not None:
            problems.append("the CEO is not in the top organisation")
        for job in worker["additional_jobs"]:
            if job["supervisory_organization_id"] not in orgs:
                problems.append(f"{worker['employee_id']} has a second job in no organisation")
    org_roots = [o for o in tenant.organizations if o["superior_organization_id"] is None]
    if len(org_roots) != 1:
        problems.append(f"organisation roots: {org_roots}")
    for org in tenant.organizations:
        seen_orgs, current_org = set(), org
        while current_org["superior_organization_id"] is not None:
            if current_org["organization_id"] in seen_orgs:
                problems.append(f"organisation cycle at {org['organization_id']}")
                break
            seen_orgs.add(current_org["organization_id"])
            superior = orgs.get(current_org["superior_organization_id"])
            if superior is None:
                problems.append(f"{org['organization_id']} has an unknown superior")
                break
            current_org = superior
        if org["manager_employee_id"] is not None and org["manager_employee_id"] not in workers:
            problems.append(f"{org['organization_id']} has an unknown manager")
    return problems


# -- generation --------------------------------------------------------------------------------


def test_generation_is_deterministic_for_a_seed() -> None:
    assert generate_tenant(200, seed=3) == generate_tenant(200, seed=3)
    assert generate_tenant(200, seed=3).workers != generate_tenant(200, seed=4).workers


def test_every_record_of_every_stream_validates(tenant: Tenant) -> None:
    assert all(tenant.records(stream) for stream in STREAMS)
    assert invalid_records(tenant) == []
    # The slow engine agrees on a sample (check() only consults it on failure).
    for stream in STREAMS:
        assert schemas.problems(f"workday/{stream}", tenant.records(stream)[0]) == []


def test_the_hierarchy_is_sound(tenant: Tenant) -> None:
    assert hierarchy_problems(tenant) == []
    levels = Counter(w["management_level"] for w in tenant.workers)
    assert levels["1 Chief Executive"] == 1
    assert 6 <= levels["2 Senior Executive"] <= 10
    for level in ("3 Vice President", "4 Director", "5 Manager"):
        assert levels[level] >= 10
    assert levels["6 Individual Contributor"] > 250


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(size=st.integers(min_value=1, max_value=150), seed=st.integers(0, 10_000))
def test_any_size_and_seed_gives_a_valid_sound_tenant(size: int, seed: int) -> None:
    small = generate_tenant(size, seed=seed)
    assert len(small.workers) == size
    assert invalid_records(small) == []
    assert hierarchy_problems(small) == []
    assert len({w["workday_id"] for w in small.workers}) == size
    assert len({w["employee_id"] for w in small.workers}) == size


def test_ids_look_like_workday_ids(tenant: Tenant) -> None:
    for worker in tenant.workers:
        wid = worker["workday_id"]
        assert len(wid) == 32 and set(wid) <= set("0123456789abcdef")
        if worker["worker_type"] == "contingent":
            assert worker["employee_id"].startswith("C-") and worker["employee_id"][2:].isdigit()
        else:
            assert worker["employee_id"].isdigit()
    assert tenant.workers[0]["employee_id"] == "10001"


def test_active_agrees_with_the_termination_date(tenant: Tenant) -> None:
    for worker in tenant.workers:
        assert worker["active"] == is_active(worker["termination_date"], tenant.today)


def test_last_updated_is_the_latest_change_entered(tenant: Tenant) -> None:
    latest: dict[str, datetime] = {}
    for change in tenant.changes:
        assert change.entered_at.tzinfo is not None
        latest[change.workday_id] = max(
            latest.get(change.workday_id, change.entered_at), change.entered_at
        )
    for worker in tenant.workers:
        moment = datetime.fromisoformat(worker["last_updated"])
        assert moment.utcoffset() == timedelta(0)
        assert moment == latest[worker["workday_id"]]
        assert moment.date() <= TODAY


def test_the_awkward_cases_are_there(tenant: Tenant) -> None:
    workers = tenant.workers
    names = {w["legal_name"] for w in workers}
    assert {"Zoë Ångström", "José Nuñez", "李小龙", "عائشة الحربي", "Siobhán O'Brien"} <= names
    assert any("🚀" in (w["preferred_name"] or "") for w in workers)
    assert any(w["preferred_name"] != w["legal_name"] for w in workers)
    assert any(w["work_email"] is None for w in workers)
    assert any(w["worker_type"] == "contingent" for w in workers)
    assert any(w["additional_jobs"] for w in workers)
    past = [w for w in workers if w["termination_date"] and w["termination_date"] < "2026-11-01"]
    future = [w for w in workers if w["termination_date"] and w["termination_date"] > "2026-11-01"]
    assert past and not any(w["active"] for w in past)
    assert future and all(w["active"] for w in future)
    rehires = [w for w in workers if w["original_hire_date"] < w["hire_date"]]
    assert rehires
    assert all(w["active"] and w["termination_date"] is None for w in rehires)
    kinds = {c.kind for c in tenant.changes if c.workday_id == rehires[0]["workday_id"]}
    assert {"Hire", "Termination", "Rehire"} <= kinds
    assert {
        ("GB", "Europe/London"),
        ("US", "America/New_York"),
        ("DE", "Europe/Berlin"),
        ("IN", "Asia/Kolkata"),
        ("SG", "Asia/Singapore"),
        ("BR", "America/Sao_Paulo"),
    } <= {(w["country"], w["time_zone"]) for w in workers}
    assert any(o["inactive"] and o["manager_employee_id"] is None for o in tenant.organizations)


def test_proportions_at_500(tenant: Tenant) -> None:
    workers = tenant.workers

    def share(predicate: Any) -> float:
        return sum(1 for w in workers if predicate(w)) / len(workers)

    assert 0.03 <= share(lambda w: w["work_email"] is None) <= 0.08
    assert 0.04 <= share(lambda w: w["worker_type"] == "contingent") <= 0.06
    assert 0.02 <= share(lambda w: w["additional_jobs"]) <= 0.04
    assert 0.03 <= share(lambda w: w["termination_date"] is not None) <= 0.05
    recent = (TODAY - timedelta(days=730)).isoformat()
    assert share(lambda w: w["worker_type"] == "employee" and w["hire_date"] >= recent) >= 0.15
    assert share(lambda w: w["birth_generation"] == "Gen Z") >= 0.15
    for field in ("birth_generation", "gender", "ethnicity"):
        assert share(lambda w, f=field: w[f] is not None) >= 0.85
    assert {w["birth_generation"] for w in workers} >= {
        "Gen Z",
        "Millennial",
        "Gen X",
        "Baby Boomer",
    }
    assert len({w["country"] for w in workers}) >= 6


def test_the_competency_library_has_the_tenant_scale(tenant: Tenant) -> None:
    library = {c["competency_id"]: c for c in tenant.competencies}
    assert 10 <= len(library) <= 14
    assert {
        cid: library[cid]["name"] for cid in ("SUCC-DIGI", "SUCC-INCL", "SUCC-FORE", "SUCC-CUST")
    } == {
        "SUCC-DIGI": "Digital Fluency",
        "SUCC-INCL": "Inclusive Leadership",
        "SUCC-FORE": "Strategic Foresight",
        "SUCC-CUST": "Customer Insight",
    }
    assert library["SUCC-DIGI"]["scale_id"] == "ACME_PROF_4"
    assert library["SUCC-DIGI"]["levels"] == [
        {"level_id": "AWARE", "name": "Aware", "rank": 1},
        {"level_id": "PRACTISING", "name": "Practising", "rank": 2},
        {"level_id": "SKILLED", "name": "Skilled", "rank": 3},
        {"level_id": "EXPERT", "name": "Expert", "rank": 4},
    ]
    assert len({c["scale_id"] for c in tenant.competencies}) >= 2
    assert len({c["category"] for c in tenant.competencies}) >= 3


def test_assessments_use_each_competencys_own_scale(tenant: Tenant) -> None:
    levels = {
        c["competency_id"]: {x["level_id"]: x["name"] for x in c["levels"]}
        for c in tenant.competencies
    }
    keys = Counter()
    per_worker = Counter()
    for row in tenant.competency_assessments:
        assert levels[row["competency_id"]][row["level_id"]] == row["level"]
        assert row["assessed_on"] < TODAY.isoformat()
        assert row["source"] in {"Manager", "Self", "Talent Review"}
        keys[(row["employee_id"], row["competency_id"], row["assessed_on"], row["source"])] += 1
        per_worker[row["employee_id"]] += 1
    assert max(keys.values()) == 1
    assert set(per_worker.values()) <= {2, 3, 4}
    assert len(per_worker) >= 0.8 * len(tenant.workers)
    assert set(per_worker) <= {w["employee_id"] for w in tenant.workers}


def test_every_job_profile_in_use_has_required_competencies(tenant: Tenant) -> None:
    used = {w["job_profile_id"] for w in tenant.workers}
    used |= {j["job_profile_id"] for w in tenant.workers for j in w["additional_jobs"]}
    profiles = {p["job_profile_id"]: p for p in tenant.job_profile_competencies}
    assert used == set(profiles)
    levels = {c["competency_id"]: {x["level_id"] for x in c["levels"]} for c in tenant.competencies}
    for profile in profiles.values():
        assert 2 <= len(profile["competencies"]) <= 4
        for required in profile["competencies"]:
            assert required["required_level_id"] in levels[required["competency_id"]]


def test_succession_plans_for_senior_positions(tenant: Tenant) -> None:
    plans = tenant.succession_plans
    active = {w["employee_id"] for w in tenant.workers if w["active"]}
    assert 8 <= len(plans) <= 12
    assert len({p["position_id"] for p in plans}) == len(plans)
    assert all(p["position_id"].startswith("P-") and len(p["position_id"]) == 7 for p in plans)
    incumbents = [p["incumbent_employee_id"] for p in plans]
    assert None in incumbents and sum(i is not None for i in incumbents) >= len(plans) - 2
    readiness = set()
    for plan in plans:
        candidates = plan["candidates"]
        assert 2 <= len(candidates) <= 4
        assert sum(c["top_candidate"] for c in candidates) == 1
        ids = [c["employee_id"] for c in candidates]
        assert len(set(ids)) == len(ids) and set(ids) <= active
        assert plan["incumbent_employee_id"] not in ids
        readiness |= {(c["readiness_id"], c["readiness"]) for c in candidates}
    assert readiness <= {
        ("RN", "Ready Now"),
        ("R12", "Ready in 1-2 Years"),
        ("R35", "Ready in 3-5 Years"),
        ("EMER", "Emergency Cover"),
    }
    assert any(c["temporary_fill"] for p in plans for c in p["candidates"])


def test_a_hundred_thousand_workers_generate_quickly() -> None:
    started = time.perf_counter()
    big = generate_tenant(100_000)
    elapsed = time.perf_counter() - started
    assert len(big.workers) == 100_000
    assert elapsed < 60, f"took {elapsed:.1f} s"
    assert len({w["workday_id"] for w in big.workers}) == 100_000
    assert Counter(w["management_level"] for w in big.workers)["1 Chief Executive"] == 1


# -- reports -----------------------------------------------------------------------------------


def test_the_shipped_files_equal_a_fresh_regeneration(tmp_path: Path) -> None:
    assert main(["--out", str(tmp_path)]) == 0
    for stream in STREAMS:
        fresh = (tmp_path / f"{stream}.json").read_bytes()
        assert (DATA / f"{stream}.json").read_bytes() == fresh, (
            f"{stream}.json differs: run `python -m connectors.workday.sample`, never edit by hand"
        )
    assert sorted(p.name for p in DATA.iterdir()) == sorted(f"{s}.json" for s in STREAMS)


def test_shipped_files_are_the_reports(tenant: Tenant) -> None:
    for stream in STREAMS:
        shipped = json.loads((DATA / f"{stream}.json").read_text("utf-8"))
        assert shipped == {"Report_Entry": report_rows(tenant, stream)}


def scalars(row: dict[str, Any]) -> list[Any]:
    values = []
    for value in row.values():
        if isinstance(value, list):
            assert value and all(isinstance(item, dict) and item for item in value)
            values += [v for item in value for v in item.values()]
        else:
            values.append(value)
    return values


def test_report_rows_follow_workdays_quirks(tenant: Tenant) -> None:
    for stream in STREAMS:
        known = set(REPORT_ALIASES[stream].values())
        nested = {
            REPORT_ALIASES[stream][f]: set(a.values())
            for f, a in NESTED_ALIASES.get(stream, {}).items()
        }
        for row in report_rows(tenant, stream):
            assert set(row) <= known
            assert all(isinstance(v, str) and v != "" for v in scalars(row))
            for alias, items in row.items():
                if isinstance(items, list):
                    assert all(set(item) <= nested[alias] for item in items)
    workers = {row["Employee_ID"]: row for row in report_rows(tenant, "workers")}
    no_email = next(w for w in tenant.workers if w["work_email"] is None)
    assert "Email_-_Primary_Work" not in workers[no_email["employee_id"]]
    assert "Manager_ID" not in workers["10001"] and "Termination_Date" not in workers["10001"]
    assert {row["Worker_Type"] for row in workers.values()} == {"Employee", "Contingent Worker"}
    assert {row["Active_Status"] for row in workers.values()} == {"0", "1"}
    assert all(
        "Additional_Jobs" not in row for row in workers.values() if "Additional_Jobs" not in row
    )
    second = next(w for w in tenant.workers if w["additional_jobs"])
    assert set(workers[second["employee_id"]]["Additional_Jobs"][0]) == {
        "Position_ID",
        "Business_Title",
        "Job_Profile_ID",
        "Supervisory_Organization_ID",
    }
    levels = report_rows(tenant, "competencies")[0]["Proficiency_Levels"]
    assert levels[0] == {"Level_ID": "AWARE", "Level_Name": "Aware", "Rank": "1"}
    candidate = report_rows(tenant, "succession_plans")[0]["Candidates"][0]
    assert candidate["Top_Candidate"] == "1" and candidate["Temporary_Fill"] in ("0", "1")


def test_sensitive_fields_can_be_left_out(tenant: Tenant) -> None:
    rows = report_rows(tenant, "workers", include_sensitive=False)
    assert not any({"Generation", "Gender", "Ethnicity"} & set(row) for row in rows)
    assert any("Gender" in row for row in report_rows(tenant, "workers"))


def test_a_report_without_rows_has_no_report_entry_key(tmp_path: Path) -> None:
    empty = generate_tenant(30)
    empty.succession_plans = []
    write_report_files(empty, tmp_path)
    assert json.loads((tmp_path / "succession_plans.json").read_text()) == {}
    assert json.loads((tmp_path / "workers.json").read_text())["Report_Entry"]
    assert json_text([]) == "{}"
    write_report_files(empty, tmp_path, fmt="csv")
    header = (tmp_path / "succession_plans.csv").read_text().splitlines()
    assert header == ["Position_ID,Position,Incumbent_ID,Last_Updated,Candidates"]


def test_csv_reports_match_the_json_ones(tenant: Tenant, tmp_path: Path) -> None:
    write_report_files(tenant, tmp_path, fmt="csv")
    for stream in STREAMS:
        rows = report_rows(tenant, stream)
        with (tmp_path / f"{stream}.csv").open(encoding="utf-8", newline="") as handle:
            read = list(csv.DictReader(handle))
        assert len(read) == len(rows)
        header = list(read[0])
        assert header == [a for a in report_aliases(stream) if any(a in r for r in rows)]
        for parsed, row in zip(read, rows, strict=True):
            rebuilt = {
                k: json.loads(v) if v.startswith("[") else v for k, v in parsed.items() if v != ""
            }
            assert rebuilt == row
    assert csv_text([{"A": "x,y"}], ["A", "B"]) == 'A\r\n"x,y"\r\n'
    assert list(csv.reader(io.StringIO(csv_text([], ["A", "B"])))) == [["A", "B"]]


# -- changing a tenant -------------------------------------------------------------------------


def test_change_workers_changes_exactly_the_fraction() -> None:
    changing = generate_tenant(400)
    before = {w["workday_id"]: dict(w) for w in changing.workers}
    entered = datetime(2026, 11, 3, 9, 30, tzinfo=UTC)
    changed = change_workers(changing, fraction=0.1, entered_at=entered, seed=5)
    assert len(changed) == 40 == len(set(changed))
    differs = {w["workday_id"] for w in changing.workers if w != before[w["workday_id"]]}
    assert differs == set(changed)
    for wid in changed:
        worker = next(w for w in changing.workers if w["workday_id"] == wid)
        assert worker["last_updated"] == "2026-11-03T09:30:00+00:00"
        assert worker["business_title"] != before[wid]["business_title"]
    assert invalid_records(changing) == []
    window = report_rows(changing, "workers", updated_from=entered - timedelta(minutes=1))
    assert {row["Workday_ID"] for row in window} == set(changed)
    assert report_rows(changing, "workers", updated_from=entered, updated_through=entered) == window
    older = report_rows(changing, "workers", updated_through=entered - timedelta(seconds=1))
    assert len(older) == 360
    assert len(report_rows(changing, "competencies", updated_from=entered)) == 14  # no last_updated
    logged = [c for c in changing.changes if c.entered_at == entered]
    assert sorted(c.workday_id for c in logged) == sorted(changed)
    assert {c.effective_on for c in logged} == {date(2026, 11, 3)}
    again = generate_tenant(400)
    assert change_workers(again, fraction=0.1, entered_at=entered, seed=5) == changed


def test_change_workers_by_id_and_the_version_history() -> None:
    changing = generate_tenant(50)
    target = changing.workers[7]
    title = target["business_title"]
    first = datetime(2026, 11, 2, 8, tzinfo=UTC)
    assert change_workers(changing, workday_ids=[target["workday_id"]], entered_at=first) == [
        target["workday_id"]
    ]
    assert changing.worker_as_of(target, first - timedelta(seconds=1))["business_title"] == title
    assert changing.worker_as_of(target, first) is target
    with pytest.raises(ValueError):
        change_workers(changing, entered_at=first)
    with pytest.raises(ValueError):
        change_workers(changing, fraction=0.1, entered_at=first.replace(tzinfo=None))
    with pytest.raises(KeyError):
        change_workers(changing, workday_ids=["0" * 32], entered_at=first)


def test_terminate_and_rehire() -> None:
    changing = generate_tenant(50)
    worker = next(w for w in changing.workers[20:] if w["active"] and not w["termination_date"])
    employee_id, hired = worker["employee_id"], worker["hire_date"]
    entered = datetime(2026, 10, 20, 15, tzinfo=UTC)
    terminate(changing, employee_id, on=date(2026, 11, 20), entered_at=entered)
    assert worker["termination_date"] == "2026-11-20" and worker["active"] is True
    terminate(changing, employee_id, on=date(2026, 10, 25), entered_at=entered + timedelta(days=1))
    assert worker["active"] is False
    rehired_at = datetime(2026, 11, 10, 9, tzinfo=UTC)
    rehire(changing, employee_id, on=date(2026, 11, 15), entered_at=rehired_at)
    assert worker["employee_id"] == employee_id and worker["active"] is True
    assert worker["termination_date"] is None
    assert worker["hire_date"] == "2026-11-15" and worker["original_hire_date"] == hired
    assert worker["last_updated"] == rehired_at.isoformat()
    log = [
        (c.kind, c.effective_on) for c in changing.changes if c.workday_id == worker["workday_id"]
    ]
    assert log[-3:] == [
        ("Termination", date(2026, 11, 20)),
        ("Termination", date(2026, 10, 25)),
        ("Rehire", date(2026, 11, 15)),
    ]
    assert changing.worker_as_of(worker, rehired_at - timedelta(hours=1))["active"] is False
    assert invalid_records(changing) == []
