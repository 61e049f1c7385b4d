"""`mentorbridge moodle check`: is the site ready for the push? Every finding says what an
admin must do about it, in Moodle's own menu names."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from mentorbridge.connectors.moodle.client import MoodleClient
from mentorbridge.connectors.moodle.errors import MoodleError
from mentorbridge.connectors.moodle.functions import missing_functions
from mentorbridge.connectors.moodle.people import unknown_scope_organisations
from mentorbridge.connectors.moodle.provision import UNKNOWN_SCOPE
from mentorbridge.connectors.moodle.settings import MoodleSettings
from mentorbridge.plugin.errors import SourceError
from mentorbridge.plugin.mapping.model import Mapping
from mentorbridge.plugin.store.db import Store
from mentorbridge.plugin.store.lms_models import MoodleUser

__all__ = ["Finding", "check_site"]


@dataclass(frozen=True, slots=True)
class Finding:
    """One thing checked: ``ok``, or a ``problem`` (the push fails or skips data) or a
    ``warning`` (it works, less well), with the fix."""

    status: str
    what: str
    fix: str = ""


def check_site(
    client: MoodleClient, settings: MoodleSettings, mapping: Mapping, store: Store | None = None
) -> list[Finding]:
    """Check the site against what the push needs; stops early only when nothing else can
    be asked (the site or the token fails)."""
    findings: list[Finding] = []
    try:
        site = client.call("core_webservice_get_site_info")
    except (MoodleError, SourceError) as err:
        return [Finding("problem", f"Moodle at {client.site_url} cannot be used", str(err))]
    findings.append(
        Finding(
            "ok",
            f"{site.get('sitename', '?')}: Moodle {site.get('release', '?')}, integration user "
            f"{site.get('username', '?')} (id {site.get('userid', '?')})",
        )
    )
    missing = missing_functions(site)
    if missing:
        findings.append(
            Finding(
                "problem",
                f"the external service lacks {len(missing)} function(s): {', '.join(missing)}",
                "Site administration > Server > Web services > External services > (the "
                "service) > Functions > Add functions: add each one listed",
            )
        )
    else:
        findings.append(Finding("ok", "the external service has every function the push calls"))
    present = {f.get("name") for f in site.get("functions", [])}

    def can(function: str) -> bool:
        return function in present

    findings.append(_completion_enabled(site))
    if can("core_competency_list_competency_frameworks"):
        findings.append(_competencies_enabled(client))
    findings.extend(_scale(client, settings, mapping, can))
    course = _course(client, settings, findings, can)
    if course is not None:
        findings.extend(_milestones(client, settings, course, can))
    if can("core_user_get_users_by_field"):
        findings.extend(_user_fields(client, store))
    if store is not None and settings.scope_organisations:
        with store.reading() as session:
            unknown = unknown_scope_organisations(session, settings)
        findings.extend(
            Finding("problem", f"moodle.scope_organisations: {ref} is unknown", UNKNOWN_SCOPE)
            for ref in unknown
        )
    return findings


def _completion_enabled(site: dict[str, Any]) -> Finding:
    features = {f.get("name"): f.get("value") for f in site.get("advancedfeatures", [])}
    if features.get("enablecompletion") == 1:
        return Finding("ok", "completion tracking is enabled")
    return Finding(
        "problem",
        "completion tracking is disabled on the site: milestones cannot complete activities",
        "Site administration > General > Advanced features > Enable completion tracking",
    )


def _competencies_enabled(client: MoodleClient) -> Finding:
    try:
        client.call(
            "core_competency_list_competency_frameworks",
            context={"contextid": 1},
            limit=1,
        )
    except MoodleError as err:
        if err.errorcode == "competenciesarenotenabled":
            return Finding(
                "problem",
                "competencies are disabled on the site",
                "Site administration > Competencies > Competencies settings > Enable competencies",
            )
        return Finding("problem", "competency frameworks cannot be read", str(err))
    return Finding("ok", "competencies are enabled")


def _scale(
    client: MoodleClient, settings: MoodleSettings, mapping: Mapping, can: Any
) -> list[Finding]:
    wanted = list(mapping.moodle_scale)
    if not settings.scale_id:
        return [
            Finding(
                "problem",
                "moodle.scale_id is not set",
                f"Site administration > Grades > Scales > Add a new scale with the items "
                f"{', '.join(wanted)} (lowest first), then set moodle.scale_id to its id",
            )
        ]
    if not can("core_competency_get_scale_values"):
        return [Finding("warning", "the scale cannot be verified without get_scale_values")]
    try:
        values = client.call("core_competency_get_scale_values", scaleid=settings.scale_id)
    except MoodleError as err:
        return [Finding("problem", f"scale {settings.scale_id} cannot be read", str(err))]
    names = [str(v.get("name", "")) for v in sorted(values, key=lambda v: int(v["id"]))]
    if [n.lower() for n in names] != [n.lower() for n in wanted]:
        return [
            Finding(
                "problem",
                f"scale {settings.scale_id} has the items {names or 'none'}, the mapping's "
                f"[moodle] scale is {wanted}",
                "make them the same: set moodle.scale_id to the scale with the mapping's "
                "items, or change the mapping's [moodle] scale (and `mentorbridge mapping "
                "check`)",
            )
        ]
    return [Finding("ok", f"scale {settings.scale_id} matches the mapping ({', '.join(names)})")]


def _course(
    client: MoodleClient, settings: MoodleSettings, findings: list[Finding], can: Any
) -> dict[str, Any] | None:
    if not settings.course:
        findings.append(
            Finding(
                "warning",
                "moodle.course is not set: no enrolment, course links or milestones",
                "create the programme course and set moodle.course to its short name",
            )
        )
        return None
    if not can("core_course_get_courses_by_field"):
        return None
    courses = client.call(
        "core_course_get_courses_by_field", field="shortname", value=settings.course
    ).get("courses", [])
    if not courses:
        findings.append(
            Finding(
                "problem",
                f"no course has the short name {settings.course!r}",
                "Site administration > Courses > Add a new course (completion tracking on), "
                "or correct moodle.course",
            )
        )
        return None
    course = courses[0]
    if not course.get("enablecompletion"):
        findings.append(
            Finding(
                "problem",
                f"course {settings.course} does not track completion",
                "the course > Settings > Completion tracking > Enable completion tracking: Yes",
            )
        )
    else:
        findings.append(
            Finding("ok", f"course {settings.course} (id {course['id']}) tracks completion")
        )
    return course


def _milestones(
    client: MoodleClient, settings: MoodleSettings, course: dict[str, Any], can: Any
) -> list[Finding]:
    cmids = settings.milestone_cmids()
    if not cmids:
        return [
            Finding(
                "warning",
                "no milestone activity is configured",
                "set moodle.milestone_first_session, moodle.milestone_sessions and "
                "moodle.milestone_goal to the course module ids (the id= in each activity's URL)",
            )
        ]
    if not (
        can("core_enrol_get_enrolled_users")
        and can("core_completion_get_activities_completion_status")
    ):
        return []
    enrolled = client.call(
        "core_enrol_get_enrolled_users",
        courseid=course["id"],
        options=[{"name": "userfields", "value": "id"}],
    )
    if not enrolled:
        return [
            Finding(
                "warning",
                "the milestone activities can be verified once someone is enrolled in the course",
            )
        ]
    answer = client.call(
        "core_completion_get_activities_completion_status",
        courseid=course["id"],
        userid=enrolled[0]["id"],
    )
    tracked = {int(s["cmid"]): s for s in answer.get("statuses", [])}
    findings = []
    for milestone, cmid in cmids.items():
        if cmid not in tracked:
            findings.append(
                Finding(
                    "problem",
                    f"milestone {milestone}: course module {cmid} is not an activity with "
                    f"completion tracking in course {course.get('shortname')}",
                    "add the activity to the course with Completion tracking: 'Students can "
                    "manually mark the activity as completed' (or conditions), and set its id",
                )
            )
        else:
            findings.append(
                Finding("ok", f"milestone {milestone}: activity {cmid} tracks completion")
            )
    return findings


def _user_fields(client: MoodleClient, store: Store | None) -> list[Finding]:
    """Whether users come back with the fields the push compares (Moodle silently leaves
    out what the role may not see). Moodle also leaves out an empty idnumber, so idnumber is
    judged only on a user the push gave one."""
    probe, pushed = 2, False  # the first admin on a standard site
    if store is not None:
        with store.reading() as session:
            known = session.scalars(select(MoodleUser.moodle_id).limit(1)).first()
        probe, pushed = (known, True) if known else (probe, False)
    users = client.call("core_user_get_users_by_field", field="id", values=[probe])
    if not users:
        return [Finding("warning", "no user could be read to check which fields Moodle shows")]
    user = users[0]
    fields = [
        ("firstname", "moodle/site:viewfullnames"),
        ("email", "moodle/course:useremail"),
    ]
    if pushed:
        fields.append(("idnumber", "moodle/user:viewalldetails"))
    findings = [
        Finding(
            "problem",
            f"users come back without their {field}",
            f"Site administration > Users > Define roles > (the integration role): "
            f"allow {capability}",
        )
        for field, capability in fields
        if field not in user
    ]
    if not findings:
        shown = ", ".join(field for field, _ in fields)
        findings.append(Finding("ok", f"users come back with their {shown}"))
    return findings
