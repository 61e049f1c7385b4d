"""Learning plans, ratings with their evidence, and the pages that read them back."""

from __future__ import annotations

from typing import Any

from . import exporters
from .call import Call, Function
from .dates import uniqid
from .errors import coding_error, invalid_persistent, missing_record
from .params import Single, default, required
from .state import STUDENT_ROLE, Competency, Plan, PlanCompetency, User, UserCompetency

__all__ = ["FUNCTIONS"]

#: ``plan::DUEDATE_THRESHOLD``: a due date must be at least this far ahead.
DUEDATE_THRESHOLD = 600
OVERRIDE = 3


def _user(call: Call, userid: int) -> User:
    found = call.state.users.get(userid)
    if found is None or found.deleted:
        raise missing_record("user", userid)
    return found


def _plan(call: Call, planid: int) -> Plan:
    found = call.state.plans.get(planid)
    if found is None:
        raise missing_record("competency_plan", planid)
    return found


def _competency(call: Call, competencyid: int) -> Competency:
    found = call.state.competencies.get(competencyid)
    if found is None:
        raise missing_record("competency", competencyid)
    return found


def create_plan(call: Call, params: dict[str, Any]) -> dict[str, Any]:
    state = call.state
    fields = params["plan"]
    _user(call, fields["userid"])
    if fields["templateid"] is not None:
        raise coding_error("To create a plan from a template use api::create_plan_from_template().")
    if fields["status"] == 2:
        raise coding_error("A plan cannot be created as complete.")
    errors: dict[str, str] = {}
    if fields["status"] not in (0, 1, 3, 4):
        errors["status"] = "Data submitted is invalid"
    duedate = fields["duedate"]
    if duedate and fields["status"] == 1:  # draft statuses are not checked
        if duedate <= call.now:
            errors["duedate"] = "The due date cannot be set in the past."
        elif duedate <= call.now + DUEDATE_THRESHOLD:
            errors["duedate"] = "The due date cannot be too soon."
    if errors:
        raise invalid_persistent(errors)
    plan = Plan(
        state.next_id("competency_plan"),
        fields["name"],
        fields["userid"],
        status=fields["status"],
        description=fields["description"],
        descriptionformat=fields["descriptionformat"],
        origtemplateid=fields["origtemplateid"],
        duedate=duedate,
        reviewerid=fields["reviewerid"],
        timecreated=call.now,
        timemodified=call.now,
        usermodified=call.userid,
    )
    state.add_plan(plan)
    return exporters.plan(call, plan)


def list_user_plans(call: Call, params: dict[str, Any]) -> list[dict[str, Any]]:
    user = _user(call, params["userid"])
    plans = call.state.plans_of(user.id)
    return [exporters.plan(call, p) for p in sorted(plans, key=lambda p: (p.name, p.id))]


def add_competency_to_plan(call: Call, params: dict[str, Any]) -> bool:
    state = call.state
    plan = _plan(call, params["planid"])
    if plan.templateid is not None:
        raise coding_error("A competency can not be added to a learning plan based on a template")
    if plan.status == 2:
        raise coding_error("A competency can not be added to a learning plan completed")
    item = _competency(call, params["competencyid"])
    if not state.framework_of(item).visible:
        raise coding_error("A competency belonging to hidden framework can not be added")
    existing = state.plan_competency_ids(plan.id)
    if item.id not in existing:  # already there: still true, as Moodle answers
        link = PlanCompetency(
            state.next_id("competency_plancomp"),
            plan.id,
            item.id,
            sortorder=len(existing),
            timecreated=call.now,
        )
        state.add_plan_competency(link)
    return True


def list_plan_competencies(call: Call, params: dict[str, Any]) -> list[dict[str, Any]]:
    state = call.state
    plan = _plan(call, params["id"])
    result = []
    for competencyid in state.plan_competency_ids(plan.id):
        item = state.competencies[competencyid]
        uc = state.user_competency(plan.userid, competencyid)
        result.append(
            {
                "competency": exporters.competency(item),
                "usercompetency": exporters.user_competency(call, uc, plan.userid, item),
            }
        )
    return result


def _rate(
    call: Call,
    uc: UserCompetency,
    item: Competency,
    *,
    grade: int,
    note: str | None,
    contextid: int,
    descidentifier: str,
    desca: str | None,
    courseid: int | None = None,
) -> dict[str, Any]:
    """``api::add_evidence`` with ``ACTION_OVERRIDE``: the rating is checked against the scale
    (the user competency, created beforehand, stays even when it fails, as in Moodle), then
    recorded as an evidence and as the user competency's grade; the latest rating wins."""
    scale, _ = call.state.scale_of(item)
    if grade <= 0 or grade > len(scale.items):
        raise invalid_persistent({"grade": "Invalid rating"})
    proficiency = call.state.proficiency_of(item, grade)
    if courseid is not None:
        call.state.user_competency_courses[(uc.userid, courseid, item.id)] = (grade, proficiency)
    uc.grade, uc.proficiency = grade, proficiency
    evidence = call.state.add_evidence(
        uc,
        contextid=contextid,
        action=OVERRIDE,
        descidentifier=descidentifier,
        now=call.now,
        actor=call.userid,
        desca=desca,
        grade=grade,
        note=note,
    )
    return exporters.evidence(call, evidence, item)


def grade_competency(call: Call, params: dict[str, Any]) -> dict[str, Any]:
    user = _user(call, params["userid"])
    item = _competency(call, params["competencyid"])
    uc = call.state.get_or_create_user_competency(user.id, item.id, call.now, call.userid)
    return _rate(
        call,
        uc,
        item,
        grade=params["grade"],
        note=params["note"],
        contextid=user.contextid,
        descidentifier="evidence_manualoverride",
        desca=None,
    )


def grade_competency_in_plan(call: Call, params: dict[str, Any]) -> dict[str, Any]:
    plan = _plan(call, params["planid"])
    item = _competency(call, params["competencyid"])
    if item.id not in call.state.plan_competency_ids(plan.id):
        raise coding_error(f"The competency does not belong to this plan: {item.id}, {plan.id}")
    if plan.status != 1:
        # The lab found ratings in a plan need an active plan; the text is this site's own.
        raise coding_error("The competency may not be rated at this time.")
    user = call.state.users[plan.userid]
    uc = call.state.get_or_create_user_competency(user.id, item.id, call.now, call.userid)
    return _rate(
        call,
        uc,
        item,
        grade=params["grade"],
        note=params["note"],
        contextid=user.contextid,
        descidentifier="evidence_manualoverrideinplan",
        desca=plan.name,
    )


def grade_competency_in_course(call: Call, params: dict[str, Any]) -> dict[str, Any]:
    state = call.state
    course = state.courses.get(params["courseid"])
    if course is None:
        raise missing_record("course", params["courseid"])
    user = _user(call, params["userid"])
    item = _competency(call, params["competencyid"])
    if not any(link.competencyid == item.id for link in state.course_competency_links(course.id)):
        raise coding_error(f"The competency does not belong to this course: {item.id}, {course.id}")
    if not state.is_enrolled(course.id, user.id, STUDENT_ROLE):
        raise coding_error("The competency may not be rated at this time.")
    uc = state.get_or_create_user_competency(user.id, item.id, call.now, call.userid)
    return _rate(
        call,
        uc,
        item,
        grade=params["grade"],
        note=params["note"],
        contextid=course.contextid,
        descidentifier="evidence_manualoverrideincourse",
        desca=f"Course: {course.fullname}",
        courseid=course.id,
    )


def _comppath(call: Call, item: Competency) -> dict[str, Any]:
    framework = call.state.framework_of(item)
    ancestors = [
        call.state.competencies[int(cid)] for cid in item.path.strip("/").split("/") if cid != "0"
    ]
    return {
        "ancestors": [
            {
                "id": a.id,
                "name": exporters.format_string(a.shortname),
                "first": i == 0,
                "last": i == len(ancestors) - 1,
                "position": i,
            }
            for i, a in enumerate(ancestors)
        ],
        "framework": {
            "id": framework.id,
            "name": exporters.format_string(framework.shortname),
            "first": False,
            "last": False,
            "position": -1,
        },
        "pluginbaseurl": f"{call.url}/admin/tool/lp",
        "pagecontextid": framework.contextid,
        "showlinks": True,
    }


def user_competency_summary(call: Call, params: dict[str, Any]) -> dict[str, Any]:
    """``tool_lp_data_for_user_competency_summary``: the learner's competency page."""
    state = call.state
    user = _user(call, params["userid"])
    item = _competency(call, params["competencyid"])
    # api::get_user_competency: reading the page creates the user competency if need be.
    uc = state.get_or_create_user_competency(user.id, item.id, call.now, call.userid)
    framework = state.framework_of(item)
    scale, configuration = state.scale_of(item)
    level = item.path.count("/") - 1
    taxonomies = [t for t in framework.taxonomies.split(",") if t]
    term = taxonomies[level - 1] if 0 < level <= len(taxonomies) else "competency"
    newest_first = sorted(uc.evidence, key=lambda e: (e.timecreated, e.id), reverse=True)
    return {
        "showrelatedcompetencies": True,
        "cangrade": True,
        "competency": {
            "linkedcourses": [],
            "relatedcompetencies": [],
            "competency": exporters.competency(item),
            "framework": exporters.framework(call, framework),
            "hascourses": False,
            "hasrelatedcompetencies": False,
            "scaleid": scale.id,
            "scaleconfiguration": configuration,
            "taxonomyterm": exporters.TAXONOMY_TERMS.get(term, "Competency"),
            "comppath": _comppath(call, item),
            "pluginbaseurl": f"{call.url}/admin/tool/lp",
        },
        "user": exporters.user_summary(call, user),
        "usercompetency": exporters.user_competency(call, uc, user.id, item),
        "evidence": [exporters.evidence(call, e, item) for e in newest_first],
        "commentarea": exporters.comment_area(call, "user_competency", uc.id, user.contextid),
    }


def read_user_evidence(call: Call, params: dict[str, Any]) -> dict[str, Any]:
    found = call.state.user_evidence.get(params["id"])
    if found is None:
        raise missing_record("competency_userevidence", params["id"])
    return exporters.user_evidence(call, found)


_BUTTON = (
    '<div class="singlebutton">\n'
    '    <form method="get" action="{url}/admin/tool/lp/user_evidence_edit.php" >\n'
    '            <input type="hidden" name="userid" value="{userid}">\n'
    '        <button type="submit" class="btn btn-secondary"\n'
    '            id="single_button{uniqid}1"\n'
    "            \n"
    "            \n"
    "            >Add new evidence</button>\n"
    "    </form>\n"
    "</div>"
)


def user_evidence_list_page(call: Call, params: dict[str, Any]) -> dict[str, Any]:
    user = _user(call, params["userid"])
    records = [e for e in call.state.user_evidence.values() if e.userid == user.id]
    records.sort(key=lambda e: (e.name, e.id))
    return {
        "canmanage": True,
        "userid": user.id,
        "pluginbaseurl": f"{call.url}/admin/tool/lp",
        "evidence": [exporters.user_evidence(call, e, list_page=True) for e in records],
        "navigation": [_BUTTON.format(url=call.url, userid=user.id, uniqid=uniqid(call.moment))],
    }


_GRADE = {"grade": required("int"), "note": default("notags", None)}

FUNCTIONS: dict[str, Function] = {
    "core_competency_create_plan": Function(
        Single(
            {
                "plan": Single(
                    {
                        "name": required("text"),
                        "description": default("cleanhtml", ""),
                        "descriptionformat": default("int", 1),
                        "userid": required("int"),
                        "templateid": default("int", None),
                        "origtemplateid": default("int", None),
                        "status": default("int", 0),
                        "duedate": default("int", 0),
                        "reviewerid": default("int", None),
                    }
                )
            }
        ),
        create_plan,
        competency=True,
    ),
    "core_competency_list_user_plans": Function(
        Single({"userid": required("int")}), list_user_plans, competency=True
    ),
    "core_competency_add_competency_to_plan": Function(
        Single({"planid": required("int"), "competencyid": required("int")}),
        add_competency_to_plan,
        competency=True,
    ),
    "core_competency_list_plan_competencies": Function(
        Single({"id": required("int")}), list_plan_competencies, competency=True
    ),
    "core_competency_grade_competency": Function(
        Single({"userid": required("int"), "competencyid": required("int"), **_GRADE}),
        grade_competency,
        competency=True,
    ),
    "core_competency_grade_competency_in_plan": Function(
        Single({"planid": required("int"), "competencyid": required("int"), **_GRADE}),
        grade_competency_in_plan,
        competency=True,
    ),
    "core_competency_grade_competency_in_course": Function(
        Single(
            {
                "courseid": required("int"),
                "userid": required("int"),
                "competencyid": required("int"),
                **_GRADE,
            }
        ),
        grade_competency_in_course,
        competency=True,
    ),
    "tool_lp_data_for_user_competency_summary": Function(
        Single({"userid": required("int"), "competencyid": required("int")}),
        user_competency_summary,
        competency=True,
    ),
    "core_competency_read_user_evidence": Function(
        Single({"id": required("int")}), read_user_evidence, competency=True
    ),
    "tool_lp_data_for_user_evidence_list_page": Function(
        Single({"userid": required("int")}), user_evidence_list_page, competency=True
    ),
}
