"""Which web service functions exist: those the site implements, and in what order a service
lists them.

A function Moodle has but the token's service lacks is refused with ``accessexception``; a name
Moodle does not know at all with ``invalidrecord`` (no row in ``external_functions``). Hence the
list of other real Moodle functions below, so that both answers can be told apart.
"""

from __future__ import annotations

from .call import Function
from .fn_competency import FUNCTIONS as _COMPETENCY
from .fn_courses import FUNCTIONS as _COURSES
from .fn_plans import FUNCTIONS as _PLANS
from .fn_users import FUNCTIONS as _USERS

__all__ = ["FUNCTIONS", "IMPLEMENTED_FUNCTIONS", "KNOWN_FUNCTIONS", "RECORDED_SERVICE_FUNCTIONS"]

FUNCTIONS: dict[str, Function] = {**_USERS, **_COMPETENCY, **_PLANS, **_COURSES}

#: The recorded site's service "Reverse mentoring integration", in its order (fixture 001).
RECORDED_SERVICE_FUNCTIONS: tuple[str, ...] = (
    "core_webservice_get_site_info",
    "core_user_get_users_by_field",
    "core_user_get_users",
    "core_user_create_users",
    "core_user_update_users",
    "core_competency_create_competency_framework",
    "core_competency_list_competency_frameworks",
    "core_competency_read_competency_framework",
    "core_competency_create_competency",
    "core_competency_list_competencies",
    "core_competency_search_competencies",
    "core_competency_add_competency_to_course",
    "core_competency_create_plan",
    "core_competency_add_competency_to_plan",
    "core_competency_list_user_plans",
    "core_competency_grade_competency",
    "core_competency_grade_competency_in_plan",
    "core_competency_grade_competency_in_course",
    "core_competency_read_user_evidence",
    "core_competency_list_plan_competencies",
    "tool_lp_data_for_user_competency_summary",
    "tool_lp_data_for_user_evidence_list_page",
    "core_course_create_courses",
    "core_course_get_courses_by_field",
    "enrol_manual_enrol_users",
    "core_completion_get_course_completion_status",
    "core_completion_get_activities_completion_status",
    "core_completion_override_activity_completion_status",
    "core_enrol_get_enrolled_users",
)

#: Every implemented function: the recorded service's, then the others the connector uses.
IMPLEMENTED_FUNCTIONS: tuple[str, ...] = RECORDED_SERVICE_FUNCTIONS + tuple(
    name for name in FUNCTIONS if name not in RECORDED_SERVICE_FUNCTIONS
)

#: Real Moodle 4.3 functions this site does not implement (answered ``accessexception``).
_OTHER_MOODLE_FUNCTIONS = frozenset(
    {
        "core_user_delete_users",
        "core_user_get_course_user_profiles",
        "core_course_delete_courses",
        "core_course_update_courses",
        "core_course_get_courses",
        "core_course_get_contents",
        "core_course_get_categories",
        "core_course_create_categories",
        "core_cohort_create_cohorts",
        "core_cohort_add_cohort_members",
        "core_cohort_delete_cohort_members",
        "core_enrol_get_users_courses",
        "enrol_manual_unenrol_users",
        "core_completion_update_activity_completion_status_manually",
        "core_completion_mark_course_self_completed",
        "core_competency_read_competency",
        "core_competency_delete_competency",
        "core_competency_update_competency_framework",
        "core_competency_delete_competency_framework",
        "core_competency_remove_competency_from_course",
        "core_competency_remove_competency_from_plan",
        "core_competency_read_plan",
        "core_competency_update_plan",
        "core_competency_complete_plan",
        "core_competency_reopen_plan",
        "core_competency_delete_evidence",
        "core_competency_create_user_evidence_competency",
        "core_competency_delete_user_evidence",
        "core_competency_set_course_competency_ruleoutcome",
        "core_competency_user_competency_request_review",
        "core_competency_create_template",
        "core_competency_add_competency_to_template",
        "tool_lp_data_for_plans_page",
        "tool_lp_data_for_plan_page",
        "tool_lp_data_for_user_competency_summary_in_plan",
        "tool_lp_data_for_user_competency_summary_in_course",
        "core_badges_get_user_badges",
        "core_notes_create_notes",
        "core_webservice_get_site_info",
    }
)

#: Names with a row in Moodle's ``external_functions``.
KNOWN_FUNCTIONS: frozenset[str] = frozenset(FUNCTIONS) | _OTHER_MOODLE_FUNCTIONS
