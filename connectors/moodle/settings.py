"""The Moodle connector's settings, read once from the ``moodle`` config section."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

__all__ = ["MILESTONES", "MoodleSettings"]

#: The programme milestones that complete a course activity, in the order people reach them.
MILESTONES = ("first_session", "sessions", "goal")


@dataclass(frozen=True, slots=True)
class MoodleSettings:
    """What the push needs to know about the site (see the ``moodle`` config section)."""

    url: str
    token: str
    match_fallback: tuple[str, ...] = ("email",)
    username_from: str = "email"
    auth: str = "manual"
    scope_organisations: tuple[str, ...] = ()
    framework_idnumber: str = "MENTORBRIDGE-SUCCESSION"
    framework_name: str = "Succession competencies (reverse mentoring)"
    scale_id: int = 0
    course: str = ""
    student_role_id: int = 5
    plan_name: str = "Reverse mentoring programme"
    #: Milestone name -> course module id (0: not configured).
    milestones: Mapping[str, int] | None = None
    sessions_count: int = 6
    batch_size: int = 100
    concurrency: int = 4

    @classmethod
    def from_config(cls, section: Mapping[str, Any]) -> MoodleSettings:
        return cls(
            url=section["url"].rstrip("/"),
            token=section.get("token") or "",
            match_fallback=tuple(section["match_fallback"]),
            username_from=section["username_from"],
            auth=section["auth"],
            scope_organisations=tuple(section["scope_organisations"]),
            framework_idnumber=section["framework_idnumber"],
            framework_name=section["framework_name"],
            scale_id=section["scale_id"],
            course=section["course"],
            student_role_id=section["student_role_id"],
            plan_name=section["plan_name"],
            milestones={
                "first_session": section["milestone_first_session"],
                "sessions": section["milestone_sessions"],
                "goal": section["milestone_goal"],
            },
            sessions_count=section["milestone_sessions_count"],
            batch_size=section["batch_size"],
            concurrency=section["concurrency"],
        )

    def milestone_cmids(self) -> dict[str, int]:
        """The configured milestones and their course module ids."""
        return {name: cmid for name, cmid in (self.milestones or {}).items() if cmid}
