"""The shapes Moodle's functions return, key for key as the recordings show them.

Key order follows Moodle's return descriptions (JSON clients don't care, XML readers may). Text
properties Moodle formats with ``format_string`` (names, departments) come back HTML-escaped.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from typing import Any

from .call import Call
from .dates import uniqid, userdate
from .state import (
    ROLES,
    SYSTEM_CONTEXT,
    Competency,
    Course,
    CourseCompetency,
    Evidence,
    Framework,
    Plan,
    User,
    UserCompetency,
    UserEvidence,
)

__all__ = [
    "comment_area",
    "competency",
    "context_name",
    "course",
    "course_competency",
    "enrolled_user",
    "evidence",
    "format_string",
    "framework",
    "plan",
    "user_competency",
    "user_details",
    "user_evidence",
    "user_summary",
]

#: The theme revision in the recorded site's image URLs.
THEME_REV = "1795567965"
COMMENT_TEMPLATE = (
    '<div class="comment-message"><div class="comment-message-meta mr-3">'
    '<span class="picture">___picture___</span><span class="user">___name___</span>'
    ' - <span class="time">___time___</span></div>'
    '<div class="text">___content___</div></div>'
)
EVIDENCE_STRINGS = {
    "evidence_manualoverride": "The competency rating was manually set.",
    "evidence_manualoverrideinplan": (
        "The competency rating was manually set in the learning plan '{$a}'."
    ),
    "evidence_manualoverrideincourse": (
        "The competency rating was manually set in the course '{$a}'."
    ),
    "evidence_evidenceofpriorlearninglinked": "The evidence of prior learning '{$a}' was linked.",
    "evidence_evidenceofpriorlearningunlinked": (
        "The evidence of prior learning '{$a}' was unlinked."
    ),
}
PLAN_STATUS = {0: "Draft", 1: "Active", 2: "Complete", 3: "Waiting for review", 4: "In review"}
USER_COMPETENCY_STATUS = {0: "Idle", 1: "Waiting for review", 2: "In review"}
TAXONOMY_TERMS = {
    "behaviour": "Behaviour",
    "competency": "Competency",
    "concept": "Concept",
    "domain": "Domain",
    "indicator": "Indicator",
    "level": "Level",
    "outcome": "Outcome",
    "practice": "Practice",
    "proficiency": "Proficiency",
    "skill": "Skill",
    "value": "Value",
}
#: ``core_user_get_users`` / ``get_users_by_field``: the return description's key order.
USER_ORDER = [
    "id",
    "username",
    "firstname",
    "lastname",
    "fullname",
    "email",
    "address",
    "phone1",
    "phone2",
    "department",
    "institution",
    "idnumber",
    "interests",
    "firstaccess",
    "lastaccess",
    "auth",
    "suspended",
    "confirmed",
    "lang",
    "theme",
    "timezone",
    "mailformat",
    "description",
    "descriptionformat",
    "city",
    "country",
    "profileimageurlsmall",
    "profileimageurl",
    "customfields",
    "preferences",
]
#: ``core_enrol_get_enrolled_users``: its own description (no auth, lang, ...; roles instead).
ENROLLED_ORDER = [
    "id",
    "username",
    "firstname",
    "lastname",
    "fullname",
    "email",
    "address",
    "phone1",
    "phone2",
    "department",
    "institution",
    "idnumber",
    "interests",
    "firstaccess",
    "lastaccess",
    "lastcourseaccess",
    "description",
    "descriptionformat",
    "city",
    "country",
    "profileimageurlsmall",
    "profileimageurl",
    "customfields",
    "groups",
    "roles",
    "preferences",
    "enrolledcourses",
]

_TAG = re.compile(r"<(?=[A-Za-z/!?])[^>]*(?:>|$)")
_BARE_AMP = re.compile(r"&(?!(?:#\d+|#x[0-9a-fA-F]+|[a-zA-Z][a-zA-Z0-9]*);)")


def format_string(text: str) -> str:
    """``format_string``: tags stripped, bare ampersands and angle brackets escaped."""
    text = _BARE_AMP.sub("&amp;", _TAG.sub("", text))
    return text.replace("<", "&lt;").replace(">", "&gt;")


def _picture(call: Call, size: int) -> str:
    return f"{call.url}/theme/image.php/boost/core/{THEME_REV}/u/f{size}"


def context_name(call: Call, contextid: int, *, prefix: bool = True) -> str:
    """A context's name as Moodle prints it (system, category, course or user)."""
    if contextid == SYSTEM_CONTEXT:
        return "System"
    for category in call.state.categories.values():
        if category.contextid == contextid:
            return f"Category: {category.name}" if prefix else category.name
    for item in call.state.courses.values():
        if item.contextid == contextid:
            return f"Course: {item.fullname}" if prefix else item.fullname
    for user in call.state.users.values():
        if user.contextid == contextid:
            return f"User: {user.fullname}" if prefix else user.fullname
    return "System"


def _pick(available: dict[str, Any], order: Iterable[str], fields: set[str] | None) -> dict:
    wanted = None if fields is None else fields | {"id", "fullname"}
    return {
        key: available[key]
        for key in order
        if key in available and (wanted is None or key in wanted)
    }


def _user_common(call: Call, user: User) -> dict[str, Any]:
    """What ``user_get_user_details`` lets the integration role see."""
    data: dict[str, Any] = {"id": user.id, "username": user.username}
    if call.viewfullnames:
        data["firstname"], data["lastname"] = user.firstname, user.lastname
    data["fullname"] = user.fullname
    data["email"] = user.email
    data["department"] = user.department
    if user.institution:
        data["institution"] = user.institution
    if user.idnumber:
        data["idnumber"] = user.idnumber
    data["firstaccess"], data["lastaccess"] = user.firstaccess, user.lastaccess
    data.update(
        auth=user.auth,
        suspended=user.suspended,
        confirmed=user.confirmed,
        lang=user.lang,
        theme=user.theme,
        timezone=user.timezone,
        mailformat=user.mailformat,
    )
    # $CFG->profilesforenrolledusersonly: a description shows once the user holds a role.
    current = user.id == call.userid
    if user.description is not None and (current or call.state.has_role_assignment(user.id)):
        data["description"], data["descriptionformat"] = user.description, user.descriptionformat
    if user.city:
        data["city"] = user.city
    if user.country:
        data["country"] = user.country
    data["profileimageurlsmall"] = _picture(call, 2)
    data["profileimageurl"] = _picture(call, 1)
    if current:
        data["preferences"] = [{"name": n, "value": v} for n, v in user.preferences] + [
            {"name": "_lastloaded", "value": call.now}
        ]
    return data


def user_details(call: Call, user: User) -> dict[str, Any]:
    """A user as ``core_user_get_users_by_field`` and ``core_user_get_users`` return it."""
    return _pick(_user_common(call, user), USER_ORDER, None)


def enrolled_user(call: Call, user: User, item: Course, fields: set[str] | None) -> dict[str, Any]:
    """A user as ``core_enrol_get_enrolled_users`` returns it (``fields``: its userfields)."""
    available = _user_common(call, user)
    available["lastcourseaccess"] = 0
    available["groups"] = []
    enrolment = call.state.enrolments.get((item.id, user.id))
    available["roles"] = [
        {"roleid": roleid, "name": "", "shortname": ROLES.get(roleid, ""), "sortorder": 0}
        for roleid in (enrolment.roleids if enrolment else [])
    ]
    available["enrolledcourses"] = [
        {
            "id": c.id,
            "fullname": format_string(c.fullname),
            "shortname": format_string(c.shortname),
        }
        for c in sorted(call.state.courses.values(), key=lambda c: c.id)
        if call.state.is_enrolled(c.id, user.id)
    ]
    return _pick(available, ENROLLED_ORDER, fields)


def user_summary(call: Call, user: User) -> dict[str, Any]:
    """``user_summary_exporter`` (the acting user of an evidence, the user of a summary)."""
    return {
        "id": user.id,
        "email": user.email,
        "idnumber": user.idnumber,
        "phone1": user.phone1,
        "phone2": user.phone2,
        "department": format_string(user.department),
        "institution": format_string(user.institution),
        "fullname": user.fullname,
        "identity": user.email,
        "profileurl": f"{call.url}/user/profile.php?id={user.id}",
        "profileimageurl": _picture(call, 1),
        "profileimageurlsmall": _picture(call, 2),
    }


def framework(call: Call, item: Framework) -> dict[str, Any]:
    """``competency_framework_exporter``."""
    count = sum(1 for c in call.state.competencies.values() if c.competencyframeworkid == item.id)
    return {
        "shortname": format_string(item.shortname),
        "idnumber": item.idnumber,
        "description": item.description,
        "descriptionformat": item.descriptionformat,
        "visible": item.visible,
        "scaleid": item.scaleid,
        "scaleconfiguration": item.scaleconfiguration,
        "contextid": item.contextid,
        "taxonomies": item.taxonomies,
        "id": item.id,
        "timecreated": item.timecreated,
        "timemodified": item.timemodified,
        "usermodified": item.usermodified,
        "canmanage": True,
        "competenciescount": count,
        "contextname": context_name(call, item.contextid),
        "contextnamenoprefix": context_name(call, item.contextid, prefix=False),
    }


def competency(item: Competency) -> dict[str, Any]:
    """``competency_exporter``."""
    return {
        "shortname": format_string(item.shortname),
        "idnumber": item.idnumber,
        "description": item.description,
        "descriptionformat": item.descriptionformat,
        "sortorder": item.sortorder,
        "parentid": item.parentid,
        "path": item.path,
        "ruleoutcome": item.ruleoutcome,
        "ruletype": item.ruletype,
        "ruleconfig": item.ruleconfig,
        "scaleid": item.scaleid,
        "scaleconfiguration": item.scaleconfiguration,
        "competencyframeworkid": item.competencyframeworkid,
        "id": item.id,
        "timecreated": item.timecreated,
        "timemodified": item.timemodified,
        "usermodified": item.usermodified,
    }


def course_competency(item: CourseCompetency) -> dict[str, Any]:
    """``course_competency_exporter``."""
    return {
        "courseid": item.courseid,
        "competencyid": item.competencyid,
        "sortorder": item.sortorder,
        "ruleoutcome": item.ruleoutcome,
        "id": item.id,
        "timecreated": item.timecreated,
        "timemodified": item.timemodified,
        "usermodified": item.usermodified,
    }


def comment_area(
    call: Call, area: str, itemid: int, contextid: int, cid: str | None = None
) -> dict[str, Any]:
    """``comment_area_exporter`` for a plan or a user competency (nobody may post here)."""
    return {
        "component": "competency",
        "commentarea": area,
        "itemid": itemid,
        "courseid": 1,
        "contextid": contextid,
        "cid": cid if cid is not None else uniqid(call.moment),
        "autostart": False,
        "canpost": False,
        "canview": True,
        "count": 0,
        "collapsediconkey": "t/collapsed",
        "displaytotalcount": True,
        "displaycancel": False,
        "fullwidth": True,
        "linktext": "Comments",
        "notoggle": False,
        "template": COMMENT_TEMPLATE,
        "canpostorhascomments": False,
    }


def plan(call: Call, item: Plan) -> dict[str, Any]:
    """``plan_exporter`` as the integration user (manager and reviewer) sees a plan."""
    status = item.status
    draft = status in (0, 3, 4)
    return {
        "name": format_string(item.name),
        "description": item.description,
        "descriptionformat": item.descriptionformat,
        "userid": item.userid,
        "templateid": item.templateid,
        "origtemplateid": item.origtemplateid,
        "status": status,
        "duedate": item.duedate,
        "reviewerid": item.reviewerid,
        "id": item.id,
        "timecreated": item.timecreated,
        "timemodified": item.timemodified,
        "usermodified": item.usermodified,
        "statusname": PLAN_STATUS.get(status, ""),
        "isbasedontemplate": item.templateid is not None,
        "canmanage": True,
        "canrequestreview": False,
        "canreview": True,
        "canbeedited": status != 2,
        "isactive": status == 1,
        "isdraft": draft,
        "iscompleted": status == 2,
        "isinreview": status == 4,
        "iswaitingforreview": status == 3,
        "isreopenallowed": status == 2,
        "iscompleteallowed": status == 1,
        "isunlinkallowed": item.templateid is not None,
        "isrequestreviewallowed": False,
        "iscancelreviewrequestallowed": False,
        "isstartreviewallowed": status == 3,
        "isstopreviewallowed": status == 4,
        "isapproveallowed": draft,
        "isunapproveallowed": status == 1,
        "duedateformatted": userdate(item.duedate),
        "commentarea": comment_area(
            call,
            "plan",
            item.id,
            call.state.users[item.userid].contextid,
            cid=f"plancommentarea{item.id}",
        ),
        "url": f"{call.url}/admin/tool/lp/plan.php?id={item.id}",
    }


def _grade_name(call: Call, comp: Competency, grade: int | None) -> str:
    if grade is None:
        return "-"
    scale, _ = call.state.scale_of(comp)
    return scale.items[grade - 1] if 0 < grade <= len(scale.items) else "-"


def user_competency(
    call: Call, uc: UserCompetency | None, userid: int, comp: Competency
) -> dict[str, Any]:
    """``user_competency_exporter``; a user competency not stored yet shows with id 0, as
    Moodle's ``create_relation`` leaves it."""
    status = uc.status if uc else 0
    grade = uc.grade if uc else None
    proficiency = uc.proficiency if uc else None
    ucid = uc.id if uc else 0
    return {
        "userid": userid,
        "competencyid": comp.id,
        "status": status,
        "reviewerid": uc.reviewerid if uc else None,
        "proficiency": proficiency,
        "grade": grade,
        "id": ucid,
        "timecreated": uc.timecreated if uc else 0,
        "timemodified": uc.timemodified if uc else 0,
        "usermodified": uc.usermodified if uc else 0,
        "canrequestreview": False,
        "canreview": True,
        "gradename": _grade_name(call, comp, grade),
        "isrequestreviewallowed": False,
        "iscancelreviewrequestallowed": False,
        "isstartreviewallowed": status == 1,
        "isstopreviewallowed": status == 2,
        "isstatusidle": status == 0,
        "isstatusinreview": status == 2,
        "isstatuswaitingforreview": status == 1,
        "proficiencyname": "Yes" if proficiency else "No",
        "statusname": "-" if status == 0 else USER_COMPETENCY_STATUS.get(status, "-"),
        "url": f"{call.url}/admin/tool/lp/user_competency.php?id={ucid}",
    }


def evidence(call: Call, item: Evidence, comp: Competency) -> dict[str, Any]:
    """``evidence_exporter``."""
    data: dict[str, Any] = {
        "usercompetencyid": item.usercompetencyid,
        "contextid": item.contextid,
        "action": item.action,
        "actionuserid": item.actionuserid,
        "descidentifier": item.descidentifier,
        "desccomponent": item.desccomponent,
        "desca": item.desca,
        "url": item.url,
        "grade": item.grade,
        "note": item.note,
        "id": item.id,
        "timecreated": item.timecreated,
        "timemodified": item.timemodified,
        "usermodified": item.usermodified,
    }
    actor = call.state.users.get(item.actionuserid or 0)
    if actor is not None:
        data["actionuser"] = user_summary(call, actor)
    template = EVIDENCE_STRINGS.get(item.descidentifier, item.descidentifier)
    argument = "" if item.desca is None else json.loads(item.desca)
    data["description"] = template.replace("{$a}", str(argument))
    data["gradename"] = _grade_name(call, comp, item.grade)
    data["userdate"] = userdate(item.timecreated)
    data["candelete"] = False
    return data


def _urlshort(url: str) -> str:
    short = re.sub(r"^https?://(www\.)?", "", url)
    return short if len(short) <= 30 else short[:27] + "..."


def user_evidence(call: Call, item: UserEvidence, *, list_page: bool = False) -> dict[str, Any]:
    """``user_evidence_exporter`` (``read_user_evidence``) or, with ``list_page``, the
    ``user_evidence_summary_exporter`` of the evidence list page."""
    comps = [call.state.competencies[cid] for cid in item.competencyids]
    data: dict[str, Any] = {
        "userid": item.userid,
        "name": format_string(item.name),
        "description": item.description,
        "descriptionformat": item.descriptionformat,
        "url": item.url,
        "id": item.id,
        "timecreated": item.timecreated,
        "timemodified": item.timemodified,
        "usermodified": item.usermodified,
        "canmanage": True,
    }
    files = {
        "filecount": 0,
        "files": [],
        "hasurlorfiles": bool(item.url),
        "urlshort": _urlshort(item.url),
    }
    if not list_page:
        data["competencycount"] = len(comps)
        data["competencies"] = [competency(c) for c in comps]
        data.update(files)
        return data
    data.update(files)
    data["competencycount"] = len(comps)
    data["usercompetencies"] = [
        {
            "competency": competency(c),
            "usercompetency": user_competency(
                call, call.state.user_competency(item.userid, c.id), item.userid, c
            ),
        }
        for c in comps
    ]
    data["userhasplan"] = any(p.userid == item.userid for p in call.state.plans.values())
    return data


def course(call: Call, item: Course) -> dict[str, Any]:
    """A course as ``core_course_get_courses_by_field`` returns it."""
    category = call.state.categories.get(item.categoryid)
    return {
        "id": item.id,
        "fullname": format_string(item.fullname),
        "displayname": format_string(item.fullname),
        "shortname": format_string(item.shortname),
        "courseimage": f"{call.url}/pluginfile.php/{item.contextid}/course/generated/course.svg",
        "categoryid": item.categoryid,
        "categoryname": format_string(category.name) if category else "",
        "sortorder": item.sortorder,
        "summary": item.summary,
        "summaryformat": item.summaryformat,
        "summaryfiles": [],
        "overviewfiles": [],
        "showactivitydates": False,
        "showcompletionconditions": True,
        "contacts": [],
        "enrollmentmethods": ["manual"] if item.manual_enrol else [],
        "idnumber": item.idnumber,
        "format": item.format,
        "showgrades": item.showgrades,
        "newsitems": item.newsitems,
        "startdate": item.startdate,
        "enddate": item.enddate,
        "maxbytes": item.maxbytes,
        "showreports": item.showreports,
        "visible": item.visible,
        "groupmode": item.groupmode,
        "groupmodeforce": item.groupmodeforce,
        "defaultgroupingid": item.defaultgroupingid,
        "enablecompletion": item.enablecompletion,
        "completionnotify": item.completionnotify,
        "lang": item.lang,
        "theme": item.theme,
        "marker": 0,
        "legacyfiles": 0,
        "calendartype": "",
        "timecreated": item.timecreated,
        "timemodified": item.timemodified,
        "requested": 0,
        "cacherev": item.cacherev,
        "filters": [
            {"filter": name, "localstate": 0, "inheritedstate": 1}
            for name in (
                "displayh5p",
                "activitynames",
                "mathjaxloader",
                "emoticon",
                "urltolink",
                "mediaplugin",
            )
        ],
        "courseformatoptions": [
            {"name": name, "value": value} for name, value in item.formatoptions.items()
        ],
    }
