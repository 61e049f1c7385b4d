"""Competency frameworks, competencies and their links to courses: ``core_competency_*``."""

from __future__ import annotations

import json
from typing import Any

from . import exporters
from .call import Call, Function
from .errors import coding_error, invalid_parameter, invalid_persistent, missing_record
from .params import Multiple, Single, default, optional, required
from .state import SYSTEM_CONTEXT, Competency, CourseCompetency, Framework

__all__ = ["FUNCTIONS", "context_from_params", "scale_configuration_error"]

IDNUMBER_TAKEN = "This ID number is already in use"
SCALE_CONFIGURATION = "The scale needs to be configured by selecting default and proficient items."
_CONTEXT_KEYS = {
    "contextid": optional("int"),
    "contextlevel": optional("alpha"),
    "instanceid": optional("int"),
}


def context_from_params(call: Call, params: dict[str, Any]) -> int:
    """``external_api::get_context_from_params``: a context id, or a level and an instance."""
    state = call.state
    if params.get("contextid"):
        contextid = params["contextid"]
        known = {SYSTEM_CONTEXT}
        known |= {c.contextid for c in state.categories.values()}
        known |= {c.contextid for c in state.courses.values()}
        known |= {u.contextid for u in state.users.values()}
        if contextid not in known:
            raise missing_record("context", contextid)
        return contextid
    level, instance = params.get("contextlevel"), params.get("instanceid")
    if level and instance is not None:
        if level == "system":
            return SYSTEM_CONTEXT
        tables = {
            "coursecat": (state.categories, "course_categories"),
            "course": (state.courses, "course"),
            "user": (state.users, "user"),
        }
        if level not in tables:
            raise invalid_parameter(f"Invalid context level = {level}")
        records, table = tables[level]
        if instance not in records:
            raise missing_record(table, instance)
        return records[instance].contextid
    raise invalid_parameter(
        "Missing parameters, please provide either context level with instance id, or context id"
    )


def scale_configuration_error(scaleid: int, configuration: str | None) -> str | None:
    """``competency_framework::validate_scaleconfiguration``: element 0 names the scale, then
    at least one default item and one proficient item."""
    try:
        items = json.loads(configuration or "")
    except ValueError:
        return SCALE_CONFIGURATION
    if not isinstance(items, list) or not items:
        return SCALE_CONFIGURATION
    head, rest = items[0], items[1:]
    if not isinstance(head, dict) or str(head.get("scaleid")) != str(scaleid):
        return SCALE_CONFIGURATION
    rest = [item for item in rest if isinstance(item, dict)]
    if not any(item.get("scaledefault") for item in rest) or not any(
        item.get("proficient") for item in rest
    ):
        return SCALE_CONFIGURATION
    return None


def _framework(call: Call, frameworkid: int) -> Framework:
    if frameworkid == 0:
        # A persistent with id 0 has no context: what create_competency without a framework
        # answers (fixture 052).
        raise coding_error("Invalid context id specified context::instance_by_id()")
    found = call.state.frameworks.get(frameworkid)
    if found is None:
        raise missing_record("competency_framework", frameworkid)
    return found


def _competency(call: Call, competencyid: int) -> Competency:
    found = call.state.competencies.get(competencyid)
    if found is None:
        raise missing_record("competency", competencyid)
    return found


def create_framework(call: Call, params: dict[str, Any]) -> dict[str, Any]:
    state = call.state
    fields = params["competencyframework"]
    contextid = context_from_params(call, fields)
    errors: dict[str, str] = {}
    if any(f.idnumber == fields["idnumber"] for f in state.frameworks.values()):
        errors["idnumber"] = IDNUMBER_TAKEN
    if fields["scaleid"] not in state.scales:
        errors["scaleid"] = "Incorrect scale id"
    problem = scale_configuration_error(fields["scaleid"], fields["scaleconfiguration"])
    if problem:
        errors["scaleconfiguration"] = problem
    categories = {c.contextid for c in state.categories.values()}
    if contextid != SYSTEM_CONTEXT and contextid not in categories:
        errors["contextid"] = "Invalid context"
    if errors:
        raise invalid_persistent(errors)
    framework = Framework(
        state.next_id("competency_framework"),
        fields["shortname"],
        fields["idnumber"],
        fields["scaleid"],
        fields["scaleconfiguration"],
        contextid,
        description=fields["description"],
        descriptionformat=fields["descriptionformat"],
        visible=fields["visible"],
        taxonomies=fields["taxonomies"],
        timecreated=call.now,
        timemodified=call.now,
        usermodified=call.userid,
    )
    state.frameworks[framework.id] = framework
    return exporters.framework(call, framework)


def _within(framework: Framework, contextid: int, includes: str) -> bool:
    """``includes``: ``children`` (the context and below), ``parents`` (and above), ``self``."""
    if includes == "parents":
        return framework.contextid in (contextid, SYSTEM_CONTEXT)
    if includes == "children" and contextid == SYSTEM_CONTEXT:
        return True
    return framework.contextid == contextid


def list_frameworks(call: Call, params: dict[str, Any]) -> list[dict[str, Any]]:
    contextid = context_from_params(call, params["context"])
    query = params["query"].lower()
    found = [
        f
        for f in call.state.frameworks.values()
        if _within(f, contextid, params["includes"])
        and (not params["onlyvisible"] or f.visible)
        and (not query or query in f.shortname.lower() or query in f.idnumber.lower())
    ]
    return [exporters.framework(call, f) for f in _sorted(found, params)]


def _sorted(records: list[Any], params: dict[str, Any]) -> list[Any]:
    sort = params.get("sort") or ""
    if sort and records and hasattr(records[0], sort):
        records = sorted(records, key=lambda r: (getattr(r, sort), r.id))
    if (params.get("order") or "").upper() == "DESC":
        records.reverse()
    skip, limit = params.get("skip") or 0, params.get("limit") or 0
    return records[skip : skip + limit] if limit else records[skip:]


def read_framework(call: Call, params: dict[str, Any]) -> dict[str, Any]:
    return exporters.framework(call, _framework(call, params["id"]))


def _competency_errors(
    call: Call, fields: dict[str, Any], framework: Framework, itself: int = 0
) -> dict[str, str]:
    errors: dict[str, str] = {}
    if any(
        c.idnumber == fields.get("idnumber")
        and c.competencyframeworkid == framework.id
        and c.id != itself
        for c in call.state.competencies.values()
    ):
        errors["idnumber"] = IDNUMBER_TAKEN
    parentid = fields.get("parentid") or 0
    parent = call.state.competencies.get(parentid)
    if parentid and (parent is None or parent.competencyframeworkid != framework.id):
        errors["parentid"] = "Data submitted is invalid"
    scaleid = fields.get("scaleid")
    if scaleid is not None:
        if scaleid not in call.state.scales:
            errors["scaleid"] = "Incorrect scale id"
        problem = scale_configuration_error(scaleid, fields.get("scaleconfiguration"))
        if problem:
            errors["scaleconfiguration"] = problem
    return errors


def create_competency(call: Call, params: dict[str, Any]) -> dict[str, Any]:
    state = call.state
    fields = params["competency"]
    framework = _framework(call, fields["competencyframeworkid"])
    errors = _competency_errors(call, fields, framework)
    if errors:
        raise invalid_persistent(errors)
    parentid = fields["parentid"] or 0
    parent = state.competencies.get(parentid)
    siblings = sum(
        1
        for c in state.competencies.values()
        if c.competencyframeworkid == framework.id and c.parentid == parentid
    )
    item = Competency(
        state.next_id("competency"),
        fields["shortname"],
        fields["idnumber"],
        framework.id,
        sortorder=siblings,
        description=fields["description"],
        descriptionformat=fields["descriptionformat"],
        parentid=parentid,
        path=f"{parent.path}{parent.id}/" if parent else "/0/",
        ruleoutcome=fields["ruleoutcome"],
        ruletype=fields["ruletype"],
        ruleconfig=fields["ruleconfig"],
        scaleid=fields["scaleid"],
        scaleconfiguration=fields["scaleconfiguration"],
        timecreated=call.now,
        timemodified=call.now,
        usermodified=call.userid,
    )
    state.competencies[item.id] = item
    return exporters.competency(item)


#: What ``api::update_competency`` lets an update change (the rest has its own functions).
_UPDATABLE = [
    "shortname",
    "idnumber",
    "description",
    "descriptionformat",
    "ruleoutcome",
    "ruletype",
    "ruleconfig",
    "scaleid",
    "scaleconfiguration",
]


def update_competency(call: Call, params: dict[str, Any]) -> bool:
    fields = params["competency"]
    item = _competency(call, fields["id"])
    merged = {k: getattr(item, k) for k in _UPDATABLE} | {
        k: v for k, v in fields.items() if k in _UPDATABLE
    }
    errors = _competency_errors(call, merged, call.state.framework_of(item), itself=item.id)
    if errors:
        raise invalid_persistent(errors)
    for key in _UPDATABLE:
        setattr(item, key, merged[key])
    item.timemodified, item.usermodified = call.now, call.userid
    return True


_FILTER_COLUMNS = (
    "id",
    "shortname",
    "description",
    "sortorder",
    "idnumber",
    "parentid",
    "competencyframeworkid",
)


def list_competencies(call: Call, params: dict[str, Any]) -> list[dict[str, Any]]:
    filters: dict[str, str] = {}
    for item in params["filters"]:
        if item["column"] not in _FILTER_COLUMNS:
            raise invalid_parameter("Filter column was invalid")
        filters[item["column"]] = item["value"]
    if "competencyframeworkid" in filters:
        raw = filters["competencyframeworkid"]
        _framework(call, int(raw) if raw.lstrip("-").isdigit() else -1)
    found = [
        c
        for c in call.state.competencies.values()
        if all(str(getattr(c, column)) == value for column, value in filters.items())
    ]
    if not params["sort"]:
        # No ORDER BY: PostgreSQL answered in the order of the (framework, idnumber) index the
        # filter used (fixture 015), not in insertion order.
        found.sort(key=lambda c: (c.competencyframeworkid, c.idnumber))
    return [exporters.competency(c) for c in _sorted(found, params)]


def search_competencies(call: Call, params: dict[str, Any]) -> list[dict[str, Any]]:
    framework = _framework(call, params["competencyframeworkid"])
    text = params["searchtext"].lower()
    found = [
        c
        for c in call.state.competencies.values()
        if c.competencyframeworkid == framework.id
        and (
            text in c.shortname.lower()
            or text in c.idnumber.lower()
            or text in c.description.lower()
        )
    ]
    found.sort(key=lambda c: (c.path, c.sortorder))
    return [exporters.competency(c) for c in found]


def _course(call: Call, courseid: int) -> Any:
    found = call.state.courses.get(courseid)
    if found is None:
        raise missing_record("course", courseid)
    return found


def add_competency_to_course(call: Call, params: dict[str, Any]) -> bool:
    state = call.state
    course = _course(call, params["courseid"])
    item = _competency(call, params["competencyid"])
    if not state.framework_of(item).visible:
        raise coding_error("A competency belonging to hidden framework can not be linked to course")
    links = state.course_competency_links(course.id)
    if any(link.competencyid == item.id for link in links):
        return False  # Moodle's api answers false for a link that already exists
    link = CourseCompetency(
        state.next_id("competency_coursecomp"),
        course.id,
        item.id,
        sortorder=len(links),
        timecreated=call.now,
        timemodified=call.now,
        usermodified=call.userid,
    )
    state.course_competencies[link.id] = link
    return True


def list_course_competencies(call: Call, params: dict[str, Any]) -> list[dict[str, Any]]:
    course = _course(call, params["id"])
    return [
        {
            "competency": exporters.competency(call.state.competencies[link.competencyid]),
            "coursecompetency": exporters.course_competency(link),
        }
        for link in call.state.course_competency_links(course.id)
    ]


def get_scale_values(call: Call, params: dict[str, Any]) -> list[dict[str, Any]]:
    scale = call.state.scales.get(params["scaleid"])
    if scale is None:
        raise missing_record("scale", params["scaleid"])
    return [{"id": i, "name": name} for i, name in enumerate(scale.items, 1)]


_COMPETENCY_FIELDS = {
    "shortname": required("text"),
    "idnumber": required("raw"),
    "description": default("cleanhtml", ""),
    "descriptionformat": default("int", 1),
    "sortorder": default("int", 0),
    "parentid": default("int", 0),
    "path": default("raw", "/0/"),
    "ruleoutcome": default("int", 0),
    "ruletype": default("raw", None),
    "ruleconfig": default("raw", None),
    "scaleid": default("int", None),
    "scaleconfiguration": default("raw", None),
    "competencyframeworkid": default("int", 0),
}
_ID = Single({"id": required("int")})

FUNCTIONS: dict[str, Function] = {
    "core_competency_create_competency_framework": Function(
        Single(
            {
                "competencyframework": Single(
                    {
                        "shortname": required("text"),
                        "idnumber": required("raw"),
                        "description": default("cleanhtml", ""),
                        "descriptionformat": default("int", 1),
                        "visible": default("bool", True),
                        "scaleid": required("int"),
                        "scaleconfiguration": required("raw"),
                        **_CONTEXT_KEYS,
                        "taxonomies": default("raw", ""),
                    }
                )
            }
        ),
        create_framework,
        competency=True,
    ),
    "core_competency_list_competency_frameworks": Function(
        Single(
            {
                "sort": default("alphanumext", "shortname"),
                "order": default("alpha", ""),
                "skip": default("int", 0),
                "limit": default("int", 0),
                "context": Single(_CONTEXT_KEYS),
                "includes": default("alpha", "children"),
                "onlyvisible": default("bool", False),
                "query": default("raw", ""),
            }
        ),
        list_frameworks,
        competency=True,
    ),
    "core_competency_read_competency_framework": Function(_ID, read_framework, competency=True),
    "core_competency_create_competency": Function(
        Single({"competency": Single(_COMPETENCY_FIELDS)}), create_competency, competency=True
    ),
    "core_competency_update_competency": Function(
        Single(
            {
                "competency": Single(
                    {"id": required("int")}
                    | {key: optional(value.type) for key, value in _COMPETENCY_FIELDS.items()}
                )
            }
        ),
        update_competency,
        competency=True,
    ),
    "core_competency_list_competencies": Function(
        Single(
            {
                "filters": Multiple(
                    Single({"column": required("alphanumext"), "value": required("raw")})
                ),
                "sort": default("alphanumext", ""),
                "order": default("alpha", ""),
                "skip": default("int", 0),
                "limit": default("int", 0),
            }
        ),
        list_competencies,
        competency=True,
    ),
    "core_competency_search_competencies": Function(
        Single({"searchtext": required("raw"), "competencyframeworkid": required("int")}),
        search_competencies,
        competency=True,
    ),
    "core_competency_add_competency_to_course": Function(
        Single({"courseid": required("int"), "competencyid": required("int")}),
        add_competency_to_course,
        competency=True,
    ),
    "core_competency_list_course_competencies": Function(
        _ID, list_course_competencies, competency=True
    ),
    "core_competency_get_scale_values": Function(
        Single({"scaleid": required("int")}), get_scale_values
    ),
}
