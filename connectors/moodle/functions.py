"""The web service functions and capabilities the Moodle connector needs: the one list the
push, `mentorbridge moodle check` and the README's admin guide share."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["CAPABILITIES", "FUNCTIONS", "missing_functions"]

#: Every function the push and the check call, in the order an admin adds them.
FUNCTIONS: tuple[str, ...] = (
    "core_webservice_get_site_info",
    "core_user_get_users_by_field",
    "core_user_create_users",
    "core_user_update_users",
    "core_competency_list_competency_frameworks",
    "core_competency_create_competency_framework",
    "core_competency_get_scale_values",
    "core_competency_list_competencies",
    "core_competency_create_competency",
    "core_competency_update_competency",
    "core_competency_list_course_competencies",
    "core_competency_add_competency_to_course",
    "core_competency_list_user_plans",
    "core_competency_create_plan",
    "core_competency_list_plan_competencies",
    "core_competency_add_competency_to_plan",
    "core_competency_grade_competency_in_plan",
    "tool_lp_data_for_user_competency_summary",
    "core_course_get_courses_by_field",
    "core_enrol_get_enrolled_users",
    "enrol_manual_enrol_users",
    "core_completion_get_activities_completion_status",
    "core_completion_override_activity_completion_status",
)

#: The integration role's capabilities (system context), as the recorded site needed them.
CAPABILITIES: tuple[str, ...] = (
    "webservice/rest:use",
    "moodle/user:viewdetails",
    "moodle/user:viewhiddendetails",
    "moodle/user:viewalldetails",
    "moodle/site:viewuseridentity",
    "moodle/site:viewfullnames",
    "moodle/course:useremail",
    "moodle/user:create",
    "moodle/user:update",
    "moodle/competency:competencymanage",
    "moodle/competency:competencyview",
    "moodle/competency:coursecompetencymanage",
    "moodle/competency:coursecompetencyview",
    "moodle/competency:planmanage",
    "moodle/competency:planmanagedraft",
    "moodle/competency:planview",
    "moodle/competency:planviewdraft",
    "moodle/competency:competencygrade",
    "moodle/competency:usercompetencyview",
    "moodle/competency:usercompetencyreview",
    "moodle/competency:userevidenceview",
    "moodle/course:view",
    "moodle/course:viewparticipants",
    "moodle/category:viewcourselist",
    "enrol/manual:enrol",
    "moodle/role:assign",
    "report/progress:view",
    "report/completion:view",
    "moodle/course:overridecompletion",
)


def missing_functions(site_info: Mapping[str, Any]) -> list[str]:
    """The functions the token's service lacks (``core_webservice_get_site_info`` lists the
    service's functions)."""
    present = {f.get("name") for f in site_info.get("functions", [])}
    return [name for name in FUNCTIONS if name not in present]
