"""Courses, manual enrolment and completion: ``core_course_*``, ``*enrol*``,
``core_completion_*``."""

from __future__ import annotations

from typing import Any

from . import exporters
from .call import Call, Function
from .errors import coding_error, invalid_parameter, missing_record, moodle_exception
from .params import Multiple, Single, default, optional, required
from .state import STUDENT_ROLE, ActivityCompletion, Course, Enrolment

__all__ = ["FUNCTIONS"]

#: Course settings ``create_courses`` takes as they are.
_COURSE_FIELDS = [
    "idnumber",
    "summary",
    "summaryformat",
    "format",
    "showgrades",
    "newsitems",
    "startdate",
    "enddate",
    "maxbytes",
    "showreports",
    "visible",
    "groupmode",
    "groupmodeforce",
    "defaultgroupingid",
    "enablecompletion",
    "completionnotify",
    "lang",
]


def _course(call: Call, courseid: int) -> Course:
    found = call.state.courses.get(courseid)
    if found is None:
        raise missing_record("course", courseid)
    return found


def get_courses_by_field(call: Call, params: dict[str, Any]) -> dict[str, Any]:
    field, value = params["field"], params["value"]
    courses = sorted(call.state.courses.values(), key=lambda c: c.id)
    if field == "":
        found = courses
    elif field == "id":
        found = [c for c in courses if str(c.id) == value]
    elif field == "ids":
        wanted = {v.strip() for v in value.split(",")}
        found = [c for c in courses if str(c.id) in wanted]
    elif field in ("shortname", "idnumber"):
        found = [c for c in courses if getattr(c, field) == value]
    elif field == "category":
        found = [c for c in courses if str(c.categoryid) == value]
    else:
        raise invalid_parameter("Invalid field name")
    return {"courses": [exporters.course(call, c) for c in found], "warnings": []}


def create_courses(call: Call, params: dict[str, Any]) -> list[dict[str, Any]]:
    state = call.state
    staged: list[Course] = []  # one transaction: all the courses or none
    for fields in params["courses"]:
        category = state.categories.get(fields["categoryid"])
        if category is None:
            raise missing_record("course_categories", fields["categoryid"])
        everyone = [*state.courses.values(), *staged]
        if any(c.shortname == fields["shortname"] for c in everyone):
            raise moodle_exception(
                "shortnametaken",
                f"Short name is already used for another course ({fields['shortname']})",
            )
        idnumber = fields.get("idnumber") or ""
        if idnumber and any(c.idnumber == idnumber for c in everyone):
            raise moodle_exception(
                "courseidnumbertaken",
                f"ID number is already used for another course ({idnumber})",
            )
        course = Course(
            state.next_id("course"),
            fields["shortname"],
            fields["fullname"],
            categoryid=category.id,
            contextid=state.next_id("context"),
            sortorder=0,
            timecreated=call.now,
            timemodified=call.now,
            cacherev=call.now,
        )
        for key in _COURSE_FIELDS:
            if fields.get(key) is not None:
                setattr(course, key, fields[key])
        if not state.completion_enabled:
            course.enablecompletion = 0
        for option in fields.get("courseformatoptions") or []:
            if option["name"] in ("hiddensections", "coursedisplay"):
                course.formatoptions[option["name"]] = int(option["value"] or 0)
        staged.append(course)
    for course in staged:
        # A new course goes first in its category; the others move down one.
        category = state.categories[course.categoryid]
        for other in state.courses.values():
            if other.categoryid == category.id:
                other.sortorder += 1
        course.sortorder = category.sortorder + 1
        state.courses[course.id] = course
    return [{"id": c.id, "shortname": c.shortname} for c in staged]


def enrol_users(call: Call, params: dict[str, Any]) -> None:
    state = call.state
    staged: list[Enrolment] = []  # one transaction
    for item in params["enrolments"]:
        course = state.courses.get(item["courseid"])
        if course is None:
            raise invalid_parameter("Context does not exist")
        if item["roleid"] not in state.assignable_roles:
            raise moodle_exception(
                "wsusercannotassign",
                f"You don't have the permission to assign this role ({item['roleid']}) to this "
                f"user ({item['userid']}) in this course ({item['courseid']}).",
            )
        if not course.manual_enrol:
            raise moodle_exception(
                "wsnoinstance",
                "Manual enrolment plugin instance doesn't exist or is disabled for the course "
                f"(id = {course.id})",
            )
        user = state.users.get(item["userid"])
        if user is None or user.deleted:
            raise coding_error("User ID does not exist or is deleted!")
        staged.append(
            Enrolment(
                course.id,
                user.id,
                [item["roleid"]],
                status=1 if item.get("suspend") else 0,
                timestart=item.get("timestart") or 0,
                timeend=item.get("timeend") or 0,
                timecreated=call.now,
            )
        )
    for new in staged:
        key = (new.courseid, new.userid)
        existing = state.enrolments.get(key)
        if existing is None:
            state.enrolments[key] = new
            continue
        if new.roleids[0] not in existing.roleids:
            existing.roleids.append(new.roleids[0])
        existing.status, existing.timestart, existing.timeend = (
            new.status,
            new.timestart,
            new.timeend,
        )


def get_enrolled_users(call: Call, params: dict[str, Any]) -> list[dict[str, Any]]:
    state = call.state
    course = _course(call, params["courseid"])
    options = {o["name"]: o["value"] for o in params["options"]}
    fields = None
    if options.get("userfields"):
        fields = {f.strip() for f in options["userfields"].split(",") if f.strip()}
    enrolments = [e for e in state.enrolments.values() if e.courseid == course.id]
    if options.get("onlyactive") in ("1", "true"):
        enrolments = [e for e in enrolments if e.status == 0]
    if options.get("onlysuspended") in ("1", "true"):
        enrolments = [e for e in enrolments if e.status == 1]
    if options.get("withcapability"):
        enrolments = []  # students hold none of the capabilities asked for here
    users = sorted((state.users[e.userid] for e in enrolments), key=lambda u: u.id)
    start = int(options.get("limitfrom") or 0)
    count = int(options.get("limitnumber") or 0)
    users = users[start : start + count] if count else users[start:]
    return [exporters.enrolled_user(call, u, course, fields) for u in users]


def _tracked(call: Call, course: Course, userid: int) -> bool:
    enrolment = call.state.enrolments.get((course.id, userid))
    return enrolment is not None and enrolment.status == 0 and STUDENT_ROLE in enrolment.roleids


def _completion_on(call: Call, course: Course) -> bool:
    return call.state.completion_enabled and bool(course.enablecompletion)


def activities_completion(call: Call, params: dict[str, Any]) -> dict[str, Any]:
    state = call.state
    course = _course(call, params["courseid"])
    user = state.users.get(params["userid"])
    if user is None:
        raise missing_record("user", params["userid"])
    statuses = []
    tracked = _tracked(call, course, user.id)
    modules = sorted(
        (m for m in state.modules.values() if m.courseid == course.id and m.completion),
        key=lambda m: m.id,
    )
    for module in modules if _completion_on(call, course) else []:
        done = state.activity_completion.get((module.id, user.id))
        statuses.append(
            {
                "cmid": module.id,
                "modname": module.modname,
                "instance": module.instance,
                "state": done.state if done else 0,
                "timecompleted": done.timemodified if done else 0,
                "tracking": module.completion,
                "overrideby": done.overrideby if done else None,
                "valueused": False,
                "hascompletion": True,
                "isautomatic": module.completion == 2,
                "istrackeduser": tracked,
                "uservisible": True,
                "details": [],
            }
        )
    return {"statuses": statuses, "warnings": []}


def course_completion(call: Call, params: dict[str, Any]) -> dict[str, Any]:
    state = call.state
    course = _course(call, params["courseid"])
    if not _completion_on(call, course):
        raise moodle_exception("cannotviewreport", "You cannot view this report")
    userid = params["userid"]
    if userid not in state.users:
        raise missing_record("user", userid)
    if not _tracked(call, course, userid):
        raise moodle_exception(
            "nottracked", "You are currently not being tracked by completion in this course"
        )
    if not course.completion_criteria:
        raise moodle_exception("nocriteriaset", "No completion criteria set for this course")
    completions = []
    for cmid in course.completion_criteria:
        module = state.modules[cmid]
        met = state.criteria_completions.get((course.id, userid, cmid))
        completions.append(
            {
                "type": 4,
                "title": "Activity completion",
                "status": "Yes" if met is not None else "No",
                "complete": met is not None,
                "timecompleted": met,
                "details": {
                    "type": "Activity completion",
                    "criteria": (
                        f'<a href="{call.url}/mod/{module.modname}/view.php?id={cmid}">'
                        f"{exporters.format_string(module.name)}</a>"
                    ),
                    "requirement": "Marking yourself complete",
                    "status": "",
                },
            }
        )
    return {
        "completionstatus": {
            "completed": (course.id, userid) in state.course_completions,
            "aggregation": 1,
            "completions": completions,
        },
        "warnings": [],
    }


def override_completion(call: Call, params: dict[str, Any]) -> dict[str, Any]:
    state = call.state
    module = state.modules.get(params["cmid"])
    if module is None:
        raise missing_record("course_modules", params["cmid"])
    user = state.users.get(params["userid"])
    if user is None:
        raise missing_record("user", params["userid"])
    course = state.courses[module.courseid]
    if not _completion_on(call, course):
        raise moodle_exception("completionnotenabled", "Completion is not enabled")
    key = (module.id, user.id)
    newstate = params["newstate"]
    current = state.activity_completion.get(key)
    if module.completion and newstate != (current.state if current else 0):
        if newstate not in (0, 1):
            raise moodle_exception(
                "err_system",
                "An error occurred in the completion system. (System administrators can enable "
                "debugging information for more detail.)",
                f"Unexpected manual completion state for {module.id}: {newstate}",
            )
        current = ActivityCompletion(module.id, user.id, newstate, call.now, call.userid)
        state.activity_completion[key] = current
        state.review_course_completion(course.id, user.id, call.now)
    return {
        "cmid": module.id,
        "userid": user.id,
        "state": current.state if current else 0,
        "timecompleted": current.timemodified if current else 0,
        "overrideby": current.overrideby if current else None,
        "tracking": module.completion,
    }


_PAIRS = Multiple(Single({"name": required("alphanumext"), "value": required("raw")}), presence=0)

FUNCTIONS: dict[str, Function] = {
    "core_course_get_courses_by_field": Function(
        Single({"field": default("alpha", ""), "value": default("raw", "")}),
        get_courses_by_field,
    ),
    "core_course_create_courses": Function(
        Single(
            {
                "courses": Multiple(
                    Single(
                        {
                            "fullname": required("text"),
                            "shortname": required("text"),
                            "categoryid": required("int"),
                            "idnumber": optional("raw"),
                            "summary": optional("raw"),
                            "summaryformat": default("int", 1),
                            "format": optional("plugin"),
                            "showgrades": optional("int"),
                            "newsitems": optional("int"),
                            "startdate": optional("int"),
                            "enddate": optional("int"),
                            "numsections": optional("int"),
                            "maxbytes": optional("int"),
                            "showreports": optional("int"),
                            "visible": optional("int"),
                            "hiddensections": optional("int"),
                            "groupmode": optional("int"),
                            "groupmodeforce": optional("int"),
                            "defaultgroupingid": optional("int"),
                            "enablecompletion": optional("int"),
                            "completionnotify": optional("int"),
                            "lang": optional("safedir"),
                            "forcetheme": optional("plugin"),
                            "courseformatoptions": _PAIRS,
                            "customfields": Multiple(
                                Single(
                                    {"shortname": required("alphanumext"), "value": required("raw")}
                                ),
                                presence=0,
                            ),
                        }
                    )
                )
            }
        ),
        create_courses,
    ),
    "enrol_manual_enrol_users": Function(
        Single(
            {
                "enrolments": Multiple(
                    Single(
                        {
                            "roleid": required("int"),
                            "userid": required("int"),
                            "courseid": required("int"),
                            "timestart": optional("int"),
                            "timeend": optional("int"),
                            "suspend": optional("int"),
                        }
                    )
                )
            }
        ),
        enrol_users,
    ),
    "core_enrol_get_enrolled_users": Function(
        Single(
            {
                "courseid": required("int"),
                "options": Multiple(
                    Single({"name": required("alphanumext"), "value": required("raw")}),
                    presence=2,
                    default=[],
                ),
            }
        ),
        get_enrolled_users,
    ),
    "core_completion_get_activities_completion_status": Function(
        Single({"courseid": required("int"), "userid": required("int")}), activities_completion
    ),
    "core_completion_get_course_completion_status": Function(
        Single({"courseid": required("int"), "userid": required("int")}), course_completion
    ),
    "core_completion_override_activity_completion_status": Function(
        Single({"userid": required("int"), "cmid": required("int"), "newstate": required("int")}),
        override_completion,
    ),
}
