"""Moodle's error answers as typed errors that say what the admin (or the sync) must do.

Moodle answers most errors with HTTP 200 and ``{"exception", "errorcode", "message"
[, "debuginfo"]}``; :func:`moodle_error` picks the class from those four fields. Every class
subclasses :class:`MoodleError` and the generic class from :mod:`plugin.errors` that says what
happens next, and its ``record_level`` says whether only this one record is bad (set it aside,
carry on) or the site needs fixing first. Messages name the function, Moodle's errorcode and the
fix; they never hold the token (the token is not in any field Moodle echoes).
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping
from typing import Any, ClassVar

from mentorbridge.plugin.errors import (
    ConflictError,
    RejectedError,
    SourceAuthError,
    SourceError,
    SourcePermissionError,
    SourceRequestError,
    SourceUnavailableError,
    UnknownReferenceError,
)

__all__ = [
    "SERVICE_NAME",
    "MoodleAccessDeniedError",
    "MoodleCannotRateError",
    "MoodleCompetenciesDisabledError",
    "MoodleCompletionDisabledError",
    "MoodleDuplicateError",
    "MoodleEndpointError",
    "MoodleError",
    "MoodleFunctionNotInServiceError",
    "MoodleInvalidParameterError",
    "MoodleInvalidRecordError",
    "MoodleMaintenanceError",
    "MoodleNoCompletionCriteriaError",
    "MoodlePasswordPolicyError",
    "MoodleRatingOutOfScaleError",
    "MoodleRequestError",
    "MoodleResponseFormatError",
    "MoodleTokenError",
    "MoodleUnavailableError",
    "MoodleUnknownFunctionError",
    "MoodleWebServicesDisabledError",
    "MoodleWriteUncertainError",
    "moodle_error",
]

#: The external service the admin sets up for us (shortname ``reverse_mentoring``).
SERVICE_NAME = "Reverse mentoring integration"
_ROLES = "Site administration > Users > Permissions > Define roles"
_DEBUGGING = (
    "Moodle hides which unless developer debugging is on (Site administration > Development > "
    "Debugging: DEVELOPER), which adds the detail to the next error"
)

#: Capabilities the integration role needs per function, beyond webservice/rest:use.
FUNCTION_CAPABILITIES: dict[str, str] = {
    "core_user_get_users_by_field": "moodle/user:viewdetails, moodle/user:viewhiddendetails, "
    "moodle/user:viewalldetails, moodle/course:useremail, moodle/site:viewuseridentity and "
    "moodle/site:viewfullnames",
    "core_user_get_users": "moodle/user:viewdetails, moodle/user:viewhiddendetails, "
    "moodle/user:viewalldetails, moodle/course:useremail, moodle/site:viewuseridentity and "
    "moodle/site:viewfullnames",
    "core_enrol_get_enrolled_users": "moodle/course:viewparticipants, moodle/user:viewdetails, "
    "moodle/course:useremail, moodle/site:viewuseridentity and moodle/site:viewfullnames",
    "core_user_create_users": "moodle/user:create",
    "core_user_update_users": "moodle/user:update",
    "core_competency_add_competency_to_course": "moodle/competency:coursecompetencymanage",
    "core_course_create_courses": "moodle/course:create and moodle/course:visibility (plus "
    "changeidnumber, changeshortname, changefullname and changesummary)",
    "core_course_get_courses_by_field": "moodle/course:view (or viewhiddencourses) and "
    "moodle/category:viewcourselist",
    "enrol_manual_enrol_users": "enrol/manual:enrol and moodle/role:assign",
    "core_completion_get_course_completion_status": "report/completion:view",
    "core_completion_get_activities_completion_status": "report/progress:view",
    "core_completion_override_activity_completion_status": "moodle/course:overridecompletion",
}
_PREFIX_CAPABILITIES = (
    ("core_competency_grade_competency", "moodle/competency:competencygrade"),
    (
        "core_competency_",
        "moodle/competency:competencymanage, competencyview, planmanage, planmanagedraft, "
        "planview, planviewdraft, usercompetencyview and usercompetencyreview",
    ),
    (
        "tool_lp_data_for_",
        "moodle/competency:usercompetencyview, userevidenceview and planview",
    ),
)


def _capabilities(function: str) -> str:
    if function in FUNCTION_CAPABILITIES:
        return FUNCTION_CAPABILITIES[function]
    for prefix, capabilities in _PREFIX_CAPABILITIES:
        if function.startswith(prefix):
            return capabilities
    return "the capabilities its documentation lists"


class MoodleError(SourceError):
    """Base of every Moodle error.

    Attributes:
        function: the web service function called.
        errorcode: Moodle's errorcode (None when the answer was not a Moodle error).
        exception: Moodle's PHP exception class, if it said.
        debuginfo: Moodle's debug detail (only sent with site debugging on).
        moodle_message: Moodle's own message, as sent.
        fix: what to do about it, in one sentence.
        record_level: True when only this one record is bad (set it aside and carry on); False
            when an admin must fix the site, the service or the configuration first.
    """

    record_level: ClassVar[bool] = False

    def __init__(
        self,
        message: str,
        *,
        function: str,
        errorcode: str | None = None,
        exception: str | None = None,
        debuginfo: str | None = None,
        moodle_message: str | None = None,
        fix: str = "",
        response: Any = None,
    ) -> None:
        super().__init__(message, response=response)
        self.function, self.errorcode, self.exception = function, errorcode, exception
        self.debuginfo, self.moodle_message, self.fix = debuginfo, moodle_message, fix


# -- the site, the service or the setup must change (not record level) ----------------------


class MoodleTokenError(MoodleError, SourceAuthError):
    """The token is unknown, expired or IP-restricted, or its user may not log in."""


class MoodleWebServicesDisabledError(MoodleError, SourcePermissionError):
    """Web services or the REST protocol are off (HTTP 403, empty body)."""


class MoodleFunctionNotInServiceError(MoodleError, SourcePermissionError):
    """The function is not in the token's external service, or the user is not authorised."""


class MoodleAccessDeniedError(MoodleError, SourcePermissionError):
    """The integration role lacks a capability, a context or a role assignment right."""


class MoodleUnknownFunctionError(MoodleError, SourceRequestError):
    """No such function on this Moodle: an older version, or a plugin is missing."""


class MoodleCompetenciesDisabledError(MoodleError, SourceRequestError):
    """Competencies are turned off on the site."""


class MoodleCompletionDisabledError(MoodleError, SourceRequestError):
    """Completion tracking is off on the site or in the course."""


class MoodleNoCompletionCriteriaError(MoodleError, SourceRequestError):
    """The course has no completion criteria (they cannot be set over web services)."""


class MoodleEndpointError(MoodleError, SourceRequestError):
    """The site URL does not lead to Moodle's REST endpoint (404, an HTML page, a redirect)."""


class MoodleResponseFormatError(MoodleError, SourceRequestError):
    """Moodle answered XML: ``moodlewsrestformat=json`` did not reach it."""


class MoodleRequestError(MoodleError, SourceRequestError):
    """Any other Moodle error: Moodle's message as it is."""


class MoodleUnavailableError(MoodleError, SourceUnavailableError):
    """Moodle (or a proxy) is throttling, down, or sent a malformed answer; retried."""

    def __init__(self, message: str, *, retry_after: float | None = None, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.retry_after = retry_after


class MoodleMaintenanceError(MoodleUnavailableError):
    """The site is in maintenance mode; try the run again later."""


class MoodleWriteUncertainError(MoodleUnavailableError):
    """A write failed after it may have reached Moodle; not retried in place, because the next
    run reads back before writing."""


# -- this one record is bad (record level) --------------------------------------------------


class MoodleInvalidParameterError(MoodleError, RejectedError):
    """A value Moodle refuses: a wrong type, a missing field, an uppercase username."""

    record_level = True


class MoodleInvalidRecordError(MoodleError, UnknownReferenceError):
    """A record the request names does not exist (a user id, a context, a course)."""

    record_level = True


class MoodleDuplicateError(MoodleError, ConflictError):
    """A username, short name or ID number that is already taken."""

    record_level = True


class MoodleRatingOutOfScaleError(MoodleError, RejectedError):
    """A rating that is not an item of the competency's scale."""

    record_level = True


class MoodleCannotRateError(MoodleError, RejectedError):
    """The competency may not be rated now: the user is not enrolled, the competency is not
    linked to the course, or the plan is not active."""

    record_level = True


class MoodlePasswordPolicyError(MoodleError, RejectedError):
    """A password that fails the site's password policy."""

    record_level = True


# -- choosing the class ---------------------------------------------------------------------

_WSACCESS_FIXES = {
    "wsaccessusersuspended": "the integration user is suspended: unsuspend it (Site "
    "administration > Users > Browse list of users) and keep the HR sync from suspending its "
    "own service account",
    "wsaccessuserdeleted": "the integration user was deleted: create a new one, authorise it "
    f'on the "{SERVICE_NAME}" service and give Mentorbridge its new token',
    "wsaccessuserunconfirmed": "the integration user is not confirmed: confirm it (Site "
    "administration > Users > Browse list of users)",
    "wsaccessuserexpired": "the integration user's password has expired: set a new one, or "
    "turn off password expiry for its authentication method",
    "wsaccessusernologin": 'the integration user\'s authentication is "No login": set it to '
    '"Manual accounts" or "Web services authentication"',
}
_MANAGE_TOKENS = (
    "check moodle.token; create a token for the integration user on the "
    f'"{SERVICE_NAME}" service under Site administration > Server > Web services > Manage '
    "tokens and configure that one"
)


def _clean(text: str | None, limit: int = 400) -> str:
    """One line, at most ``limit`` characters."""
    text = " ".join((text or "").split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _policy_text(errorcode: str) -> str:
    parts = [html.unescape(re.sub(r"<[^>]+>", " ", part)) for part in errorcode.split("</div>")]
    return " ".join(_clean(part) for part in parts if part.strip())


def moodle_error(
    function: str, answer: Mapping[str, Any], *, response: Any = None, note: str = ""
) -> MoodleError:
    """The typed error for a Moodle error answer.

    Args:
        function: the function that was called.
        answer: ``{"exception", "errorcode", "message"[, "debuginfo"]}`` as Moodle sent it.
        response: the HTTP response, kept on the error.
        note: a sentence to add (the answer came as XML, say).
    """
    exception = str(answer.get("exception") or "") or None
    errorcode = str(answer.get("errorcode") or "") or None
    moodle_message = str(answer.get("message") or "")
    debuginfo = str(answer["debuginfo"]) if answer.get("debuginfo") else None
    code = errorcode or ""
    detail = f"{moodle_message} {debuginfo or ''}"
    cls, problem, fix = _classify(function, exception or "", code, moodle_message, detail)
    if cls is MoodlePasswordPolicyError:
        said = "Moodle's errorcode is the policy text itself"
    else:
        said = f"Moodle errorcode {code or 'none'}: {_clean(moodle_message).rstrip('.')}"
        if debuginfo:
            said += f" ({_clean(debuginfo)})"
    message = f"{function}: {problem.rstrip('.')}. {said}. Fix: {fix}."
    if note:
        message += f" {note}"
    error = cls(
        message,
        function=function,
        errorcode=errorcode,
        exception=exception,
        debuginfo=debuginfo,
        moodle_message=moodle_message,
        fix=fix,
        response=response,
    )
    if isinstance(error, MoodleInvalidRecordError):
        error.kind = "user" if code == "invaliduser" else "record"
    return error


def _classify(
    function: str, exception: str, code: str, message: str, detail: str
) -> tuple[type[MoodleError], str, str]:
    """(class, what went wrong, the fix) for one Moodle error answer."""
    lower = detail.lower()
    if code.startswith("<") or message.startswith("error/<"):
        return (
            MoodlePasswordPolicyError,
            f"the password fails the site's password policy: {_policy_text(code or message)}",
            "send createpassword=1 (Moodle mails the user a password), use SSO authentication "
            "(auth=oauth2, saml2 ...) without a password, or send passwords that meet the policy",
        )
    if code == "invalidtoken":
        return MoodleTokenError, "Moodle does not know the token", _MANAGE_TOKENS
    if code in _WSACCESS_FIXES:
        return MoodleTokenError, "Moodle refuses the integration user", _WSACCESS_FIXES[code]
    if code.startswith("wsaccessuser"):
        return (
            MoodleTokenError,
            "Moodle refuses the integration user",
            "check the integration user's account (suspended, deleted, unconfirmed, expired "
            "password, No login) under Site administration > Users > Browse list of users",
        )
    if code == "sitemaintenance":
        return (
            MoodleMaintenanceError,
            "the site is in maintenance mode",
            "run again once the maintenance is over (Site administration > Server > "
            "Maintenance mode)",
        )
    if code == "accessexception" or exception.endswith("webservice_access_exception"):
        return _access_exception(function, lower)
    if code == "invalidrecord" and "external_functions" in lower:
        return (
            MoodleUnknownFunctionError,
            f"the function {function} does not exist on this Moodle",
            "it needs a newer Moodle version or a plugin that is missing; check the version "
            "(core_webservice_get_site_info release) and install the plugin that provides it",
        )
    if code == "nopermissions":
        return (
            MoodleAccessDeniedError,
            "the integration user lacks a capability",
            f"give the integration role (rm_webservice) the capability Moodle names, in the "
            f"system context: {_ROLES} > edit the role; {function} needs {_capabilities(function)}",
        )
    if code == "requireloginerror":
        return (
            MoodleAccessDeniedError,
            "the integration user cannot access the course or context",
            "assign the integration role in the system context (Site administration > Users > "
            "Permissions > Assign system roles) and check the course exists and is visible to it "
            "(moodle/course:viewhiddencourses for hidden courses)",
        )
    if code == "wsusercannotassign":
        role = re.search(r"role \((\d+)\)", message)
        which = f"the role with id {role.group(1)}" if role else "the role being given"
        return (
            MoodleAccessDeniedError,
            "the integration user may not assign that role",
            f"{_ROLES} > Allow role assignments: let the integration role (rm_webservice) assign "
            f"{which} (student for enrolments, usually id 5), and give it moodle/role:assign and "
            "enrol/manual:enrol",
        )
    if code == "competenciesarenotenabled":
        return (
            MoodleCompetenciesDisabledError,
            "competencies are turned off on the site",
            "Site administration > Competencies > Competencies settings: tick Enable "
            "competencies (core_competency | enabled)",
        )
    if code == "completionnotenabled":
        return (
            MoodleCompletionDisabledError,
            "completion tracking is off",
            "Site administration > Advanced features: tick Enable completion tracking, and set "
            "Completion tracking to Yes in the course settings (Course > Settings > Completion "
            "tracking)",
        )
    if code == "nocriteriaset":
        return (
            MoodleNoCompletionCriteriaError,
            "the course has no completion criteria",
            "set them in the course (Course > Course completion: e.g. all activities must be "
            "completed); they cannot be set over web services",
        )
    if code == "invalidparameter":
        return _invalid_parameter(function, lower)
    if code == "invaliduser":
        return (
            MoodleInvalidRecordError,
            "the user does not exist in Moodle",
            "the user id is stale (the user was deleted?): look the user up again by idnumber, "
            "or create it",
        )
    if code in ("shortnametaken", "courseidnumbertaken", "idnumbertaken") or (
        code == "invalidpersistenterror" and "already in use" in lower
    ):
        return (
            MoodleDuplicateError,
            "the short name or ID number is already used by another record",
            "look the existing record up (by shortname or idnumber) and use or update it "
            "instead of creating a new one, or give this one a different value",
        )
    if code == "invalidpersistenterror" and "invalid rating" in lower:
        return (
            MoodleRatingOutOfScaleError,
            "the rating is not an item of the competency's scale",
            "send a grade between 1 and the number of items in the framework's scale (check the "
            "competency mapping's scale values)",
        )
    if code == "invalidpersistenterror":
        return (
            MoodleInvalidParameterError,
            "Moodle refused a value of this record",
            "correct the value Moodle names",
        )
    if code == "codingerror" and "may not be rated" in lower:
        return (
            MoodleCannotRateError,
            "the competency may not be rated for this user now",
            "enrol the user in the course and link the competency to the course (a rating in a "
            "course), or make the plan active, status 1 (a rating in a plan)",
        )
    if code == "codingerror" and "invalid context id" in lower:
        return (
            MoodleInvalidRecordError,
            "the record refers to a context that does not exist",
            "check the competency framework id (competencyframeworkid) or context id sent: the "
            "framework may have been deleted; look it up again by idnumber",
        )
    if code == "invalidrecord" or exception.endswith("dml_missing_record_exception"):
        return (
            MoodleInvalidRecordError,
            "a record the request names does not exist in Moodle",
            "the id is stale (deleted in Moodle?): look the record up again by its idnumber",
        )
    return MoodleRequestError, "Moodle refused the call", "act on Moodle's message"


def _access_exception(function: str, lower: str) -> tuple[type[MoodleError], str, str]:
    if "token expired" in lower:
        return (
            MoodleTokenError,
            "the token has expired",
            "create a token without an expiry date (Valid until off) under Site administration "
            "> Server > Web services > Manage tokens and configure it as moodle.token",
        )
    if "ip:" in lower or "ip restriction" in lower:
        return (
            MoodleTokenError,
            "the token may not be used from this server's IP address",
            "add this server's address to the token's IP restriction (Manage tokens) or clear it",
        )
    if "rest:use" in lower:
        return (
            MoodleAccessDeniedError,
            "the integration user may not use the REST protocol",
            f"{_ROLES} > the integration role: allow webservice/rest:use in the system context",
        )
    return (
        MoodleFunctionNotInServiceError,
        f"{function} may not be called with this token",
        f'add {function} to the external service "{SERVICE_NAME}" (Site administration > '
        "Server > Web services > External services > Functions), and check the integration "
        "user is an authorised user of that restricted service, the service is enabled and the "
        "token belongs to it",
    )


def _invalid_parameter(function: str, lower: str) -> tuple[type[MoodleError], str, str]:
    if "already exists" in lower:
        return (
            MoodleDuplicateError,
            "a user with that username already exists",
            "look the user up (core_user_get_users_by_field, by username or idnumber) and "
            "update or link it instead of creating it",
        )
    if 'expecting "username" type' in lower:
        return (
            MoodleInvalidParameterError,
            "the username is not a valid Moodle username",
            "usernames must be lowercase and use only a-z, 0-9, _ . @ and - (PARAM_USERNAME)",
        )
    missing = re.search(r"missing required key in single structure: (\w+)", lower)
    if missing:
        return (
            MoodleInvalidParameterError,
            f"the required field {missing.group(1)} is missing",
            f"send {missing.group(1)} (a list with no items counts as missing: send one or more)",
        )
    expecting = re.search(r'the server was expecting "(\w+)" type', lower)
    if expecting:
        return (
            MoodleInvalidParameterError,
            f"a value does not have the type Moodle expects ({expecting.group(1)})",
            "send the value with the type Moodle names",
        )
    if "invalid parameter value detected:" in lower or "unexpected keys" in lower:
        return (
            MoodleInvalidParameterError,
            "Moodle refused a parameter",
            "correct the parameter Moodle's debuginfo names",
        )
    users = (
        " a username that already exists or has uppercase letters," if "user" in function else ""
    )
    return (
        MoodleInvalidParameterError,
        "Moodle refused a parameter value",
        f"look for{users} a wrong type or a missing required field in this record; {_DEBUGGING}",
    )
