"""The push end to end against the local Moodle-shaped site, on SQLite and PostgreSQL: what
lands in Moodle, read back through Moodle's own web services."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import select, update

from mentorbridge.connectors.moodle.client import MoodleClient, is_read_function
from mentorbridge.connectors.moodle.localsite import LocalMoodleSite
from mentorbridge.connectors.moodle.push import push
from mentorbridge.connectors.moodle.report import PushReport
from mentorbridge.plugin.mapping.file import load_mapping
from mentorbridge.plugin.store.db import Store
from mentorbridge.plugin.store.hris_models import HrisOrganization, HrisWorker
from mentorbridge.plugin.store.lms_models import MoodleEvidencePush
from mentorbridge.plugin.store.sync_models import SyncRun
from tests.connectors.moodle.programme import (
    Built,
    add_worker,
    build,
    change_evidence,
    settings,
    terminate,
)

MAPPING = load_mapping(None)  # the default mapping: Moodle's default competence scale


@pytest.fixture
def site() -> Iterator[LocalMoodleSite]:
    with LocalMoodleSite() as running:
        yield running


@pytest.fixture
def client(site: LocalMoodleSite) -> Iterator[MoodleClient]:
    moodle = MoodleClient(site.url, site.token)
    yield moodle
    moodle.close()


@pytest.fixture
def built(store: Store) -> Built:
    return build(store)


def run(client: MoodleClient, store: Store, site: LocalMoodleSite, **options: Any) -> PushReport:
    chosen = {k: options.pop(k) for k in list(options) if k in ("full", "dry_run")}
    return push(client, store, settings(site.url, site.token, **options), MAPPING, **chosen)


def user(client: MoodleClient, employee_id: str) -> dict[str, Any]:
    found = client.call("core_user_get_users_by_field", field="idnumber", values=[employee_id])
    assert len(found) == 1, found
    return found[0]


def evidence_notes(client: MoodleClient, employee_id: str, idnumber: str) -> list[dict]:
    competencies = client.call(
        "core_competency_list_competencies", filters=[{"column": "idnumber", "value": idnumber}]
    )
    summary = client.call(
        "tool_lp_data_for_user_competency_summary",
        userid=user(client, employee_id)["id"],
        competencyid=competencies[0]["id"],
    )
    return summary.get("evidence", [])


def writes(site: LocalMoodleSite) -> list[str]:
    return [function for function, _ in site.calls if not is_read_function(function)]


def test_a_push_brings_users_framework_plans_evidence_and_milestones_into_moodle(
    client: MoodleClient, store: Store, site: LocalMoodleSite, built: Built
) -> None:
    report = run(client, store, site)

    assert report.ok, report.problems
    assert report.counts["users"]["created"] == 6
    assert report.counts["enrolments"]["enrolled"] == 6
    assert report.counts["plans"]["created"] == 6
    assert report.counts["evidence"]["written"] == 6
    executive = user(client, "E-1")
    assert executive["username"] == "exec1@example.com"
    assert (executive.get("firstname"), executive.get("lastname")) == ("Executive", "Number1")
    frameworks = client.call(
        "core_competency_list_competency_frameworks",
        context={"contextid": 1},
        query="MENTORBRIDGE-SUCCESSION",
    )
    assert [f["idnumber"] for f in frameworks] == ["MENTORBRIDGE-SUCCESSION"]
    wanted = {c.moodle_idnumber for c in MAPPING.competencies.values() if c.moodle_idnumber}
    listed = client.call(
        "core_competency_list_competencies",
        filters=[{"column": "competencyframeworkid", "value": frameworks[0]["id"]}],
    )
    assert {c["idnumber"] for c in listed} == wanted
    notes = evidence_notes(client, "E-1", "SUCC-DIGI")
    assert len(notes) == 1
    ev_id = built.evidence[("E-1", "digital-fluency")]
    assert notes[0]["grade"] == 2
    assert f"[mentorbridge evidence {ev_id} r1]" in notes[0]["note"]
    assert "Proficient" in notes[0]["note"]
    statuses = client.call(
        "core_completion_get_activities_completion_status",
        courseid=2,
        userid=executive["id"],
    )["statuses"]
    assert {s["cmid"] for s in statuses if s["state"] == 1} == {2, 3, 4}
    junior = user(client, "J-1")
    statuses = client.call(
        "core_completion_get_activities_completion_status", courseid=2, userid=junior["id"]
    )["statuses"]
    assert {s["cmid"] for s in statuses if s["state"] == 1} == {2, 3}  # no goal of their own
    with store.reading() as session:
        recorded = session.scalars(select(SyncRun).where(SyncRun.connector == "moodle")).one()
    assert recorded.status == "succeeded"
    assert recorded.counts["evidence"]["written"] == 6


def test_a_rerun_with_nothing_changed_only_reads(
    client: MoodleClient, store: Store, site: LocalMoodleSite, built: Built
) -> None:
    run(client, store, site)
    site.reset_calls()

    report = run(client, store, site)

    assert report.ok
    assert site.calls, "the push reads the site"
    assert writes(site) == []


def test_evidence_is_not_written_twice_after_a_crash_between_write_and_record(
    client: MoodleClient, store: Store, site: LocalMoodleSite, built: Built
) -> None:
    run(client, store, site)
    with store.transaction() as session:  # as if the process died before recording "done"
        session.execute(update(MoodleEvidencePush).values(state="pending"))
    site.reset_calls()

    report = run(client, store, site)

    assert report.counts["evidence"]["found_already_written"] == 6
    assert "core_competency_grade_competency_in_plan" not in writes(site)
    assert len(evidence_notes(client, "E-1", "SUCC-DIGI")) == 1


def test_a_pending_rating_that_never_reached_moodle_is_written_on_the_next_run(
    client: MoodleClient, store: Store, site: LocalMoodleSite, built: Built
) -> None:
    run(client, store, site)
    ev_id = built.evidence[("E-2", "digital-fluency")]
    change_evidence(store, ev_id, value=1, name="Emerging")
    with store.transaction() as session:  # journalled, then the process died before the call
        session.add(MoodleEvidencePush(evidence_id=ev_id, revision=2, state="pending", grade=1))

    report = run(client, store, site)

    assert report.counts["evidence"]["written"] == 1
    notes = evidence_notes(client, "E-2", "SUCC-DIGI")
    assert [n["grade"] for n in notes] == [1, 2]  # newest first


def test_a_retracted_rating_is_superseded_with_a_note_saying_why(
    client: MoodleClient, store: Store, site: LocalMoodleSite, built: Built
) -> None:
    run(client, store, site)
    change_evidence(
        store, built.evidence[("E-3", "digital-fluency")], value=2, name="x", status="withdrawn"
    )

    report = run(client, store, site)

    assert report.counts["evidence"]["superseded"] == 1
    newest = evidence_notes(client, "E-3", "SUCC-DIGI")[0]
    assert newest["grade"] == 1
    assert "withdrawn" in newest["note"]


def test_leavers_are_suspended_and_a_rehire_is_unsuspended(
    client: MoodleClient, store: Store, site: LocalMoodleSite, built: Built
) -> None:
    run(client, store, site)
    terminate(store, "J-2")

    report = run(client, store, site)

    assert report.counts["users"]["suspended"] == 1
    assert user(client, "J-2")["suspended"] is True
    terminate(store, "J-2", active=True)
    report = run(client, store, site)
    assert report.counts["users"]["unsuspended"] == 1
    assert user(client, "J-2")["suspended"] is False


def test_one_refused_user_in_a_batch_is_isolated_and_reported(
    client: MoodleClient, store: Store, site: LocalMoodleSite, built: Built
) -> None:
    client.call(  # someone else already has E-2's username
        "core_user_create_users",
        users=[
            {
                "username": "exec2@example.com",
                "firstname": "Other",
                "lastname": "Person",
                "email": "other@example.com",
                "idnumber": "X-99",
                "createpassword": True,
            }
        ],
    )

    report = run(client, store, site, match_fallback=())

    assert report.counts["users"]["created"] == 5
    assert [p.record for p in report.problems if p.phase == "users"] == ["E-2"]
    assert not report.ok
    with store.reading() as session:
        recorded = session.scalars(select(SyncRun).where(SyncRun.connector == "moodle")).one()
    assert recorded.status == "failed"
    assert recorded.errors[0]["key"] == "E-2"


def test_creating_the_framework_is_idempotent(
    client: MoodleClient, store: Store, site: LocalMoodleSite, built: Built
) -> None:
    run(client, store, site)
    run(client, store, site, full=True)
    site.reset_calls()

    run(client, store, site, full=True)

    assert "core_competency_create_competency_framework" not in writes(site)
    assert "core_competency_create_competency" not in writes(site)
    frameworks = client.call("core_competency_list_competency_frameworks", context={"contextid": 1})
    assert [f["idnumber"] for f in frameworks].count("MENTORBRIDGE-SUCCESSION") == 1


def test_a_dry_run_writes_nothing_anywhere(
    client: MoodleClient, store: Store, site: LocalMoodleSite, built: Built
) -> None:
    report = run(client, store, site, dry_run=True)

    assert report.counts["users"]["created"] == 6
    assert writes(site) == []
    with store.reading() as session:
        assert session.scalars(select(SyncRun)).all() == []


def test_changed_names_and_emails_are_updated_once(
    client: MoodleClient, store: Store, site: LocalMoodleSite, built: Built
) -> None:
    run(client, store, site)
    with store.transaction() as session:
        worker = session.scalars(select(HrisWorker).where(HrisWorker.employee_id == "E-1")).one()
        worker.legal_name, worker.work_email = "Executive Renamed Person", "renamed@example.com"

    report = run(client, store, site)

    assert report.counts["users"]["updated"] == 1
    updated = user(client, "E-1")
    assert (updated["firstname"], updated["lastname"]) == ("Executive Renamed", "Person")
    assert updated["email"] == "renamed@example.com"
    assert updated["username"] == "exec1@example.com"  # a username is never changed
    site.reset_calls()
    assert run(client, store, site).counts["users"]["updated"] == 0
    assert writes(site) == []


def test_a_user_found_by_email_is_adopted_given_the_employee_id_and_reported(
    client: MoodleClient, store: Store, site: LocalMoodleSite, built: Built
) -> None:
    (existing,) = client.call(
        "core_user_create_users",
        users=[
            {
                "username": "e.one",
                "firstname": "Executive",
                "lastname": "Number1",
                "email": "exec1@example.com",
                "createpassword": True,
            }
        ],
    )

    report = run(client, store, site)

    assert report.counts["users"]["matched_by_email"] == 1
    assert report.counts["users"]["created"] == 5
    adopted = user(client, "E-1")
    assert adopted["id"] == existing["id"] and adopted["username"] == "e.one"


@pytest.mark.parametrize(("auth", "password"), [("manual", "1"), ("oauth2", None)])
def test_manual_accounts_get_a_generated_password_and_sso_accounts_none(
    client: MoodleClient,
    store: Store,
    site: LocalMoodleSite,
    built: Built,
    auth: str,
    password: str | None,
) -> None:
    run(client, store, site, auth=auth)

    created = [u for f, p in site.calls if f == "core_user_create_users" for u in p["users"]]
    assert len(created) == 6
    assert {u["auth"] for u in created} == {auth}
    assert {u.get("createpassword") for u in created} == {password}
    assert all("password" not in u for u in created)


def test_an_hris_scope_brings_its_workers_and_an_unknown_scope_is_reported(
    client: MoodleClient, store: Store, site: LocalMoodleSite, built: Built
) -> None:
    with store.transaction() as session:
        for org, superior in (("SUP_SALES", None), ("SUP_SALES_EMEA", "WID-SALES")):
            session.add(
                HrisOrganization(
                    organization_id=org,
                    reference_id=org,
                    workday_id="WID-SALES" if org == "SUP_SALES" else None,
                    name=org,
                    superior_organization_id=superior,  # by the other kind of id
                    inactive=False,
                    record_hash="h",
                )
            )
        for employee_id, org in (("S-1", "SUP_SALES"), ("S-2", "SUP_SALES_EMEA")):
            email = f"{employee_id.lower()}@example.com" if employee_id == "S-1" else None
            add_worker(session, employee_id, f"Sales Person{employee_id}", email)
            session.flush()
            worker = session.scalars(
                select(HrisWorker).where(HrisWorker.employee_id == employee_id)
            ).one()
            worker.supervisory_organization_id = org

    report = run(client, store, site, scope_organisations=("SUP_SALES", "SUP_GONE"))

    assert report.counts["users"]["created"] == 7, report.problems  # 6 participants, S-1
    assert user(client, "S-1")["username"] == "s-1@example.com"
    problems = {p.record: p.message for p in report.problems}
    assert set(problems) == {"moodle.scope_organisations SUP_GONE", "S-2"}
    assert "sync workday" in problems["moodle.scope_organisations SUP_GONE"]
    assert "email" in problems["S-2"]  # Moodle needs one; S-2 has none in the HRIS
    plans = client.call("core_competency_list_user_plans", userid=user(client, "S-1")["id"])
    assert plans == []  # in scope, not in a pair: a user, no learning plan
