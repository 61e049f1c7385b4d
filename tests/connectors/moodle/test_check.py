"""`moodle check`'s findings against local Moodle-shaped sites set up right and set up wrong:
each problem is found, and comes with the admin step that fixes it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from mentorbridge.connectors.moodle.check import Finding, check_site
from mentorbridge.connectors.moodle.client import MoodleClient
from mentorbridge.connectors.moodle.functions import FUNCTIONS
from mentorbridge.connectors.moodle.localsite import LocalMoodleSite
from mentorbridge.connectors.moodle.push import push
from mentorbridge.plugin.mapping.file import load_mapping
from mentorbridge.plugin.store.db import Store
from tests.connectors.moodle.programme import build, settings

MAPPING = load_mapping(None)


def check(site: LocalMoodleSite, store: Store | None = None, **options: Any) -> list[Finding]:
    token = options.pop("token", site.token)
    with MoodleClient(site.url, token) as client:
        return check_site(client, settings(site.url, token, **options), MAPPING, store)


def problems(findings: list[Finding]) -> list[Finding]:
    return [f for f in findings if f.status == "problem"]


@pytest.fixture
def site() -> Iterator[LocalMoodleSite]:
    with LocalMoodleSite() as running:
        yield running


def test_a_site_set_up_as_the_guide_says_has_no_problem(
    site: LocalMoodleSite, store: Store
) -> None:
    build(store)
    with MoodleClient(site.url, site.token) as client:
        push(client, store, settings(site.url, site.token), MAPPING)  # someone is enrolled
    findings = check(site, store)
    assert problems(findings) == [], findings
    assert findings[0].what.startswith("Local Moodle") or "Moodle 4.3" in findings[0].what
    assert any("scale 2 matches the mapping" in f.what for f in findings)
    assert sum("tracks completion" in f.what and "milestone" in f.what for f in findings) == 3


def test_a_bad_token_is_the_one_problem_reported(site: LocalMoodleSite) -> None:
    (finding,) = check(site, token="0" * 32)
    assert finding.status == "problem" and "token" in finding.fix.lower()
    assert "0" * 32 not in finding.fix + finding.what


def test_web_services_switched_off_are_named() -> None:
    with LocalMoodleSite(webservices_enabled=False) as site:
        (finding,) = check(site)
    assert finding.status == "problem" and "web services" in finding.fix.lower()


def test_functions_missing_from_the_service_are_listed_with_where_to_add_them() -> None:
    lacking = (
        "core_competency_update_competency",
        "core_completion_get_activities_completion_status",
    )
    with LocalMoodleSite(functions=[f for f in FUNCTIONS if f not in lacking]) as site:
        findings = check(site)
    (missing,) = [f for f in problems(findings) if "lacks" in f.what]
    assert all(name in missing.what for name in lacking)
    assert "External services > (the service) > Functions > Add functions" in missing.fix


def test_names_hidden_without_viewfullnames_are_a_problem() -> None:
    with LocalMoodleSite(viewfullnames=False) as site:
        findings = check(site)
    (names,) = [f for f in problems(findings) if "firstname" in f.what]
    assert "moodle/site:viewfullnames" in names.fix


def test_competencies_and_completion_switched_off_are_named() -> None:
    with LocalMoodleSite(competencies_enabled=False, completion_enabled=False) as site:
        found = {f.what: f.fix for f in problems(check(site))}
    assert "Enable competencies" in found["competencies are disabled on the site"]
    completion = next(
        fix for what, fix in found.items() if "completion tracking is disabled" in what
    )
    assert "Advanced features > Enable completion tracking" in completion


@pytest.mark.parametrize(
    ("scale_id", "expected"),
    [
        (0, "moodle.scale_id is not set"),
        (1, "scale 1 has the items"),  # the separate-and-connected-ways-of-knowing scale
    ],
)
def test_a_scale_that_is_not_set_or_not_the_mappings_is_a_problem(
    site: LocalMoodleSite, scale_id: int, expected: str
) -> None:
    (scale,) = [f for f in problems(check(site, scale_id=scale_id)) if "scale" in f.what]
    assert scale.what.startswith(expected)
    assert "Not yet competent" in scale.fix or "Not yet competent" in scale.what


def test_a_missing_course_is_a_problem(site: LocalMoodleSite) -> None:
    (course,) = problems(check(site, course="NOPE"))
    assert "no course has the short name 'NOPE'" in course.what
    assert "moodle.course" in course.fix


def test_a_milestone_that_is_not_an_activity_of_the_course_is_a_problem(
    site: LocalMoodleSite, store: Store
) -> None:
    build(store)
    with MoodleClient(site.url, site.token) as client:
        push(client, store, settings(site.url, site.token), MAPPING)
    milestones = {"first_session": 2, "sessions": 3, "goal": 99}
    (wrong,) = problems(check(site, store, milestones=milestones))
    assert "milestone goal: course module 99" in wrong.what
    assert "Completion tracking" in wrong.fix
