"""The demo's LMS step: the programme pushed to a local Moodle-shaped site, and one learner's
learning plan read back through Moodle's own web services, as their Profile > Learning plans
page would show it.

The local site answers as the recorded Moodle 4.3 site does and is seeded like it: the default
competence scale (id 2) and a programme course RMP with three milestone activities (2, 3, 4).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mentorbridge.connectors.moodle.client import MoodleClient
from mentorbridge.connectors.moodle.localsite import LocalMoodleSite

__all__ = ["LearnerPlan", "moodle_overrides", "read_learner_plan"]

#: The local site's seeded scale, course and milestone activities (see the module docstring).
SCALE_ID = 2
COURSE = "RMP"
MILESTONE_CMIDS = {"first_session": 2, "sessions": 3, "goal": 4}


@dataclass
class LearnerPlan:
    """A learner's plan as Moodle shows it: each competency with its rating and latest note,
    and the programme course's milestone activities completed."""

    name: str
    competencies: list[tuple[str, str | None, str | None]] = field(default_factory=list)
    milestones_completed: int = 0
    milestones: int = 0


def moodle_overrides(site: LocalMoodleSite, directory: Path) -> dict[str, Any]:
    """Config values pointing Mentorbridge at the local site (its token in a file, as a
    secret is kept)."""
    token_file = directory / "moodle-token"
    token_file.write_text(site.token, "utf-8")
    os.chmod(token_file, 0o600)
    return {
        "moodle.url": site.url,
        "moodle.token_file": str(token_file),
        "moodle.scale_id": SCALE_ID,
        "moodle.course": COURSE,
        "moodle.milestone_first_session": MILESTONE_CMIDS["first_session"],
        "moodle.milestone_sessions": MILESTONE_CMIDS["sessions"],
        "moodle.milestone_goal": MILESTONE_CMIDS["goal"],
    }


def read_learner_plan(client: MoodleClient, employee_id: str) -> LearnerPlan | None:
    """The learner's first learning plan, read back from Moodle; ``None`` if they have none."""
    users = client.call("core_user_get_users_by_field", field="idnumber", values=[employee_id])
    if not users:
        return None
    user_id = users[0]["id"]
    plans = client.call("core_competency_list_user_plans", userid=user_id)
    if not plans:
        return None
    plan = LearnerPlan(name=plans[0]["name"])
    for entry in client.call("core_competency_list_plan_competencies", id=plans[0]["id"]):
        competency, rated = entry["competency"], entry.get("usercompetency") or {}
        note = None
        if rated.get("grade"):
            summary = client.call(
                "tool_lp_data_for_user_competency_summary",
                userid=user_id,
                competencyid=competency["id"],
            )
            notes = [e.get("note") for e in summary.get("evidence", []) if e.get("note")]
            note = notes[0] if notes else None  # newest first
        rating = rated.get("gradename") if rated.get("grade") else None
        plan.competencies.append((competency["shortname"], rating, note))
    courses = client.call("core_course_get_courses_by_field", field="shortname", value=COURSE)
    if courses.get("courses"):
        statuses = client.call(
            "core_completion_get_activities_completion_status",
            courseid=courses["courses"][0]["id"],
            userid=user_id,
        )["statuses"]
        wanted = set(MILESTONE_CMIDS.values())
        plan.milestones = len(wanted)
        plan.milestones_completed = sum(
            1 for s in statuses if s["cmid"] in wanted and s["state"] == 1
        )
    return plan
