"""LTI Advantage against the local platform: the roster links members to workers, and the
gradebook gets each participant's progress once, again only when it changes."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import timedelta

import pytest
import requests
from sqlalchemy import select

from mentorbridge.plugin.jobs.lti import LtiScoresJob
from mentorbridge.plugin.lti.services_run import run_courses
from mentorbridge.plugin.mapping.run import EvidenceRun
from mentorbridge.plugin.store.db import Store
from mentorbridge.plugin.store.leases import hold_lease
from mentorbridge.plugin.store.models import MentoringSession, Pair
from tests.connectors.moodle.programme import T0
from tests.lti_platform import LocalPlatform
from tests.plugin.lti.test_launch import (  # the same platform and people
    register_manually,
    start_for,
)
from tests.plugin.lti.tool_server import LEARNER, Tool, launch


@pytest.fixture
def course(tool: Tool, platform: LocalPlatform) -> Iterator[str]:
    """A learner launched once from course c-1, so the tool knows its services."""
    platform.add_user(sub="u-junior1", name="Junior Mentor1", email="JUNIOR1@example.com")
    platform.enrol("c-1", "u-junior1", roles=[LEARNER])
    registered = register_manually(tool, platform)
    assert launch(requests.Session(), platform, start_for(platform, registered, "u-exec1")).ok
    yield "c-1"


def score_posts(platform: LocalPlatform) -> int:
    return sum(1 for call in platform.calls if call.method == "POST" and "/scores" in call.path)


def test_the_roster_links_members_and_names_who_could_not_be_linked(
    tool: Tool,
    platform: LocalPlatform,
    course: str,
) -> None:
    (run,) = run_courses(tool.lti, scores=False)
    assert run.error is None, run.error
    assert run.roster.members == 4
    assert run.roster.linked == {"lis_person_sourcedid": 1, "email": 1}
    assert sorted(subject for subject, _ in run.roster.unlinked) == ["u-stranger", "u-teacher"]
    assert run.calls["roster"] == run.roster.pages >= 1


def test_scores_are_posted_once_and_again_only_when_progress_changes(
    tool: Tool,
    platform: LocalPlatform,
    course: str,
) -> None:
    (first,) = run_courses(tool.lti, scores=True)
    assert first.error is None, first.error
    assert first.scores is not None and first.scores.posted == 2
    assert first.scores.line_items_created == 1
    (item,) = platform.line_items
    assert item.label == "Reverse mentoring programme" and item.score_maximum == 6
    latest = {user: score for (_, user), score in platform.latest_scores.items()}
    assert latest["u-exec1"].score_given == 3
    assert latest["u-exec1"].comment == "3 of 6 reverse-mentoring sessions held; 1 goal achieved"
    assert latest["u-junior1"].comment == "3 of 6 reverse-mentoring sessions held; 0 goals achieved"
    assert latest["u-exec1"].activity_progress == "InProgress"
    assert latest["u-exec1"].grading_progress == "FullyGraded"

    before = score_posts(platform)
    (again,) = run_courses(tool.lti, scores=True)
    assert again.scores is not None and (again.scores.posted, again.scores.unchanged) == (0, 2)
    assert score_posts(platform) == before  # nothing new, nothing posted
    assert "line items" not in again.calls  # the line item is remembered

    with tool.store.transaction() as session:  # pair 1 holds a fourth session
        pair = session.scalars(select(Pair).where(Pair.key == "pair-1")).one()
        session.add(
            MentoringSession(
                key="pair-1-s4", pair_id=pair.id, sequence=4, status="completed",
                started_at=T0 + timedelta(days=30), duration_seconds=2700, themes=[],
            )
        )  # fmt: skip
    time.sleep(1)  # Moodle refuses a score not newer, in whole seconds, than the last one
    (changed,) = run_courses(tool.lti, scores=True)
    assert changed.scores is not None and changed.scores.posted == 2  # both sides of pair 1
    assert changed.calls["score"] == 2  # one call per changed score
    latest = {user: score for (_, user), score in platform.latest_scores.items()}
    assert latest["u-exec1"].score_given == 4


def test_a_course_without_a_gradebook_is_reported(
    tool: Tool,
    platform: LocalPlatform,
    store: Store,
) -> None:
    registered = register_manually(tool, platform)
    platform.tamper(remove=["https://purl.imsglobal.org/spec/lti-ags/claim/endpoint"])
    assert launch(requests.Session(), platform, start_for(platform, registered, "u-exec1")).ok
    (run,) = run_courses(tool.lti, scores=True)
    assert run.scores is not None and run.scores.posted == 0
    assert "no gradebook" in run.scores.problems[0]


def test_the_worker_posts_scores_after_a_mapper_run_that_touched_people(
    tool: Tool,
    platform: LocalPlatform,
    course: str,
) -> None:
    config = tool.app.extensions["mentorbridge"].config
    job = LtiScoresJob(config, tool.store)

    def mapper_run(people: int) -> EvidenceRun:
        return EvidenceRun(full=False, reason=None, people=people, created=0, changed=0,
                           withdrawn=0, statements=0)  # fmt: skip

    first = job.after_mapper(mapper_run(people=0))  # the worker's first run always posts
    assert first is not None and first[0].scores is not None and first[0].scores.posted == 2
    assert job.after_mapper(mapper_run(people=0)) is None  # nothing touched, posted just now
    with hold_lease(tool.store, "lti:scores"):
        assert job.after_mapper(mapper_run(people=3)) is None  # another instance is posting
    again = job.after_mapper(mapper_run(people=3))
    assert again is not None and again[0].scores is not None
    assert (again[0].scores.posted, again[0].scores.unchanged) == (0, 2)
