"""Roster linking and score posting for every course the tool was launched from (`mentorbridge
lti roster`, `mentorbridge lti scores`, and the worker after each mapper run)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from mentorbridge.plugin.errors import MentorbridgeError
from mentorbridge.plugin.lti.advantage import AdvantageClient
from mentorbridge.plugin.lti.courses import courses
from mentorbridge.plugin.lti.gradebook import ScoreReport, post_scores
from mentorbridge.plugin.lti.roster import RosterReport, sync_roster
from mentorbridge.plugin.lti.tool import LtiTool

__all__ = ["CourseRun", "run_courses"]


@dataclass
class CourseRun:
    platform: str
    context_id: str
    roster: RosterReport = field(default_factory=RosterReport)
    scores: ScoreReport | None = None
    calls: Counter[str] = field(default_factory=Counter)
    error: str | None = None


def run_courses(lti: LtiTool, *, scores: bool, platform_id: int | None = None) -> list[CourseRun]:
    """Link each course's roster, and with ``scores`` post the changed scores; a course that
    fails is reported and the others go on."""
    runs = []
    clients: dict[int, AdvantageClient] = {}
    for course in courses(lti.store, platform_id):
        platform = lti.platforms.get(course.platform_id)
        if platform is None:
            continue
        run = CourseRun(platform=platform.name, context_id=course.context_id)
        runs.append(run)
        try:
            client = clients.get(platform.id)
            if client is None:
                client = clients[platform.id] = AdvantageClient(
                    platform, lti.keys, timeout=lti.timeout
                )
            before = Counter(client.calls)
            links = sync_roster(lti.store, client, course, lti.settings["link_by"], run.roster)
            if scores:
                run.scores = ScoreReport()
                post_scores(
                    lti.store,
                    client,
                    course,
                    links,
                    label=lti.settings["line_item_label"],
                    target=lti.settings["sessions_target"],
                    report=run.scores,
                )
            run.calls = Counter(client.calls) - before
        except MentorbridgeError as err:
            run.error = str(err)
    return runs
