"""Duplicates real tenants send: merged and counted, never a crash, and one stream's failure
never stops the others."""

from __future__ import annotations

import copy

import pytest
from sqlalchemy import select

from mentorbridge.connectors.workday.sample.tenant import Tenant
from mentorbridge.plugin.errors import SyncFailedError
from mentorbridge.plugin.store.db import Store
from mentorbridge.plugin.store.hris_models import (
    JobProfile,
    JobProfileCompetency,
    SuccessionCandidate,
    SuccessionPlan,
)
from mentorbridge.plugin.store.sync_models import SyncBookmark, SyncRun
from tests.connectors.workday.test_sync import config, count, server, sync, tenant
from tests.workday_server import WorkdayServer

__all__ = ["server", "tenant"]  # fixtures


def require_twice(tenant: Tenant) -> tuple[str, str, str]:
    """The first job profile lists its first competency again, at a lower and a higher level."""
    profile = tenant.job_profile_competencies[0]
    first = profile["competencies"][0]
    low = {**first, "required_level_id": "AWARE", "required_level": "Aware"}
    high = {**first, "required_level_id": "EXPERT", "required_level": "Expert"}
    profile["competencies"][0] = high
    profile["competencies"].append(low)  # the highest comes first, the lowest last
    tenant.job_profile_competencies[1]["competencies"].append(
        copy.deepcopy(tenant.job_profile_competencies[1]["competencies"][0])
    )
    tenant.revision += 1
    return profile["job_profile_id"], first["competency_id"], "EXPERT"


def test_a_job_profile_requiring_a_competency_twice_keeps_the_highest_level(
    store: Store, server: WorkdayServer, tenant: Tenant
) -> None:
    profile_id, competency_id, highest = require_twice(tenant)
    plan = tenant.succession_plans[0]
    plan["candidates"].append({**plan["candidates"][0], "readiness": "Ready in 1-2 Years"})
    report = sync(config(server, workers_from="raas"), store, full=True)
    assert report.ok
    assert report.counts["job_profile_competencies"].merged == 2
    assert report.counts["succession_plans"].merged == 1
    assert report.notes == [
        "job_profile_competencies: 2 duplicate requirements merged (kept the highest required "
        "level)",
        "succession_plans: 1 duplicate candidates merged (kept the last listed)",
    ]
    # Every stream after the duplicates ran, and everything is stored.
    assert count(store, JobProfile) == len(tenant.job_profile_competencies)
    assert count(store, SuccessionPlan) == len(tenant.succession_plans)
    assert count(store, SuccessionCandidate) == sum(
        len({c["employee_id"] for c in p["candidates"]}) for p in tenant.succession_plans
    )
    with store.reading() as session:
        levels = session.scalars(
            select(JobProfileCompetency.required_level_id)
            .join(JobProfile, JobProfile.id == JobProfileCompetency.job_profile_id)
            .where(
                JobProfile.job_profile_id == profile_id,
                JobProfileCompetency.competency_id == competency_id,
            )
        ).all()
        readiness = session.scalar(
            select(SuccessionCandidate.readiness)
            .join(SuccessionPlan, SuccessionPlan.id == SuccessionCandidate.plan_id)
            .where(
                SuccessionPlan.position_id == plan["position_id"],
                SuccessionCandidate.employee_id == plan["candidates"][0]["employee_id"],
            )
        )
        run = session.scalar(select(SyncRun))
    assert levels == [highest]
    assert readiness == "Ready in 1-2 Years"  # the last listing
    assert run.status == "succeeded"
    assert run.counts["job_profile_competencies"]["merged"] == 2


def test_a_failing_report_stops_no_other_stream_and_keeps_its_bookmark(
    store: Store, server: WorkdayServer, tenant: Tenant
) -> None:
    server.fail_next(
        path_contains="RM_Job_Profile_Competencies", status=404, body="Report not found", times=9
    )
    with pytest.raises(SyncFailedError) as caught:
        sync(config(server, workers_from="raas"), store, full=True)
    assert list(caught.value.failed) == ["job_profile_competencies"]
    assert "not found (404" in caught.value.failed["job_profile_competencies"]
    report = caught.value.report
    assert report.counts["competency_assessments"].created == len(tenant.competency_assessments)
    assert report.counts["succession_plans"].created == len(tenant.succession_plans)
    with store.reading() as session:
        run = session.scalar(select(SyncRun))
        bookmarks = set(session.scalars(select(SyncBookmark.stream)))
    assert run.status == "failed" and "job_profile_competencies: " in run.message
    assert "job_profile_competencies" not in bookmarks
    assert {"workers", "competency_assessments", "succession_plans"} <= bookmarks
