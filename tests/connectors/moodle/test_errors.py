"""Every recorded Moodle error answer becomes its typed error with a message naming the
function, Moodle's errorcode and the fix; plus the answers the recordings do not cover."""

from __future__ import annotations

import json
from typing import Any

import pytest
import responses

from mentorbridge.connectors.http import HttpClient
from mentorbridge.connectors.moodle import errors
from mentorbridge.connectors.moodle.client import MoodleClient
from mentorbridge.connectors.moodle.errors import (
    MoodleAccessDeniedError,
    MoodleCannotRateError,
    MoodleCompetenciesDisabledError,
    MoodleCompletionDisabledError,
    MoodleDuplicateError,
    MoodleEndpointError,
    MoodleError,
    MoodleFunctionNotInServiceError,
    MoodleInvalidParameterError,
    MoodleInvalidRecordError,
    MoodleMaintenanceError,
    MoodleNoCompletionCriteriaError,
    MoodlePasswordPolicyError,
    MoodleRatingOutOfScaleError,
    MoodleRequestError,
    MoodleResponseFormatError,
    MoodleTokenError,
    MoodleUnavailableError,
    MoodleUnknownFunctionError,
    MoodleWebServicesDisabledError,
    MoodleWriteUncertainError,
    moodle_error,
)
from mentorbridge.plugin.errors import (
    ConflictError,
    FatalError,
    RejectedError,
    RetriableError,
    SourceAuthError,
    SourceError,
    SourcePermissionError,
    SourceRequestError,
    SourceUnavailableError,
    UnknownReferenceError,
)
from tests.connectors.moodle import (
    ENDPOINT,
    SITE,
    TOKEN,
    body_of,
    content_type_of,
    is_error,
    recording,
    recording_ids,
)

WS_OVERVIEW = "Site administration > Server > Web services > Overview"
SERVICE = 'external service "Reverse mentoring integration"'
DEBUGGING = "developer debugging"

#: recording -> (error class, words of the fix the message must hold)
EXPECTED: dict[str, tuple[type[MoodleError], tuple[str, ...]]] = {
    "000": (MoodleWebServicesDisabledError, (WS_OVERVIEW, "enable web services and the REST")),
    "046": (MoodleTokenError, ("moodle.token", "Manage tokens")),
    "047": (MoodleFunctionNotInServiceError, (f"add core_course_delete_courses to the {SERVICE}",)),
    "048": (MoodleUnknownFunctionError, ("does not exist on this Moodle", "plugin")),
    "049": (MoodleInvalidParameterError, (DEBUGGING, "wrong type")),
    "050": (MoodleInvalidParameterError, (DEBUGGING, "wrong type")),
    "051": (MoodleInvalidParameterError, (DEBUGGING, "missing required field")),
    "052": (MoodleInvalidRecordError, ("competencyframeworkid",)),
    "053": (MoodleInvalidParameterError, ("username that already exists", DEBUGGING)),
    "054": (MoodlePasswordPolicyError, ("createpassword", "SSO", "at least 8 characters")),
    "055": (MoodleInvalidParameterError, ("uppercase", DEBUGGING)),
    "056": (MoodleDuplicateError, ("already used", "look the existing record up")),
    "057": (MoodleDuplicateError, ("ID number", "look the existing record up")),
    "058": (MoodleRatingOutOfScaleError, ("scale", "grade between 1")),
    "059": (MoodleCannotRateError, ("enrol the user", "link the competency to the course")),
    "060": (MoodleAccessDeniedError, ("Define roles > Allow role assignments", "id 3", "student")),
    "062": (MoodleResponseFormatError, ("moodlewsrestformat=json", "POST", "moodle.url")),
    "063": (MoodleTokenError, ("Manage tokens", "answered XML", "moodlewsrestformat=json")),
    "065": (MoodleInvalidRecordError, ("user id is stale",)),
    "066": (MoodleDuplicateError, ("already exists", "core_user_get_users_by_field")),
    "067": (MoodleInvalidParameterError, ('expecting "int" type',)),
    "068": (MoodleInvalidParameterError, ("send id",)),
    "069": (MoodleInvalidParameterError, ("usernames must be lowercase",)),
    "070": (MoodleCannotRateError, ("enrol the user",)),
    "071": (MoodleFunctionNotInServiceError, (SERVICE, "authorised user")),
    "072": (MoodleInvalidParameterError, ("send email",)),
}
RECORD_LEVEL = {
    MoodleInvalidParameterError,
    MoodleInvalidRecordError,
    MoodleDuplicateError,
    MoodleRatingOutOfScaleError,
    MoodleCannotRateError,
    MoodlePasswordPolicyError,
}


def client() -> MoodleClient:
    return MoodleClient(SITE, TOKEN, http=HttpClient(max_retries=2, sleep=lambda _: None))


def answer_with(rec: dict[str, Any]) -> None:
    responses.add(
        responses.POST,
        ENDPOINT,
        body=body_of(rec),
        status=rec["http_status"],
        content_type=content_type_of(rec),
    )


def test_every_error_recording_has_an_expectation() -> None:
    errors_recorded = {n for n in recording_ids() if is_error(recording(n))}
    assert errors_recorded == set(EXPECTED)
    # 061 (an empty result) and 064 (GET works too) are answers, not errors.
    assert {"061", "064"}.isdisjoint(errors_recorded)


@responses.activate
@pytest.mark.parametrize("number", sorted(EXPECTED))
def test_recorded_error_maps_to_its_typed_error(number: str) -> None:
    rec = recording(number)
    cls, fix_words = EXPECTED[number]
    answer_with(rec)

    with pytest.raises(MoodleError) as caught:
        client().call(rec["wsfunction"])

    err = caught.value
    assert type(err) is cls
    assert err.record_level is (cls in RECORD_LEVEL)
    message = str(err)
    assert message.startswith(f"{rec['wsfunction']}: ")
    assert "Fix: " in message
    for words in fix_words:
        assert words in message
    assert err.function == rec["wsfunction"]
    response = rec["response"]
    if isinstance(response, dict):  # a Moodle JSON error: its fields are kept and named
        assert err.errorcode == response["errorcode"]
        assert err.exception == response["exception"]
        assert err.debuginfo == response.get("debuginfo")
        assert err.moodle_message == response["message"]
        if cls is not MoodlePasswordPolicyError:
            assert f"Moodle errorcode {response['errorcode']}: " in message
    assert len(responses.calls) == 1  # never retried
    assert TOKEN not in message and "0123456789abcdef" not in message


@responses.activate
def test_xml_exception_keeps_its_errorcode() -> None:
    rec = recording("063")
    answer_with(rec)
    with pytest.raises(MoodleTokenError) as caught:
        client().call(rec["wsfunction"])
    assert caught.value.errorcode == "invalidtoken"
    assert caught.value.exception == "moodle_exception"
    assert "Moodle errorcode invalidtoken: Invalid token - token not found" in str(caught.value)


def test_password_policy_message_is_plain_text() -> None:
    err = moodle_error("core_user_create_users", recording("054")["response"])
    assert "<div>" not in str(err)
    assert "Passwords must have at least 1 digit(s). Passwords must have" in str(err)


# -- answers the recordings do not have -----------------------------------------------------


def moodle(errorcode: str, message: str = "msg", exception: str = "moodle_exception", **more: Any):
    return {"exception": exception, "errorcode": errorcode, "message": message, **more}


@pytest.mark.parametrize(
    ("answer", "cls", "words"),
    [
        (moodle("wsaccessusersuspended"), MoodleTokenError, "unsuspend it"),
        (moodle("wsaccessuserdeleted"), MoodleTokenError, "create a new one"),
        (moodle("wsaccessuserunconfirmed"), MoodleTokenError, "confirm it"),
        (moodle("wsaccessuserexpired"), MoodleTokenError, "password has expired"),
        (moodle("wsaccessusernologin"), MoodleTokenError, "Manual accounts"),
        (moodle("wsaccessusernew"), MoodleTokenError, "Browse list of users"),
        (
            moodle(
                "accessexception",
                "Access control exception",
                "webservice_access_exception",
                debuginfo="Invalid token - token expired - check validuntil time for the token",
            ),
            MoodleTokenError,
            "without an expiry date",
        ),
        (
            moodle(
                "accessexception",
                "Access control exception",
                "webservice_access_exception",
                debuginfo="Invalid service - IP:10.0.0.9 is not supported",
            ),
            MoodleTokenError,
            "IP restriction",
        ),
        (
            moodle(
                "accessexception",
                "Access control exception",
                "webservice_access_exception",
                debuginfo="You are not allowed to use the rest protocol (missing capability: "
                "webservice/rest:use)",
            ),
            MoodleAccessDeniedError,
            "allow webservice/rest:use",
        ),
        (
            moodle(
                "nopermissions",
                "Sorry, but you do not currently have permissions to do that (Create users).",
                "required_capability_exception",
            ),
            MoodleAccessDeniedError,
            "core_user_create_users needs moodle/user:create",
        ),
        (
            moodle(
                "requireloginerror", "Course or activity not accessible.", "require_login_exception"
            ),
            MoodleAccessDeniedError,
            "Assign system roles",
        ),
        (
            moodle("competenciesarenotenabled"),
            MoodleCompetenciesDisabledError,
            "Enable competencies",
        ),
        (
            moodle("completionnotenabled"),
            MoodleCompletionDisabledError,
            "Enable completion tracking",
        ),
        (moodle("nocriteriaset"), MoodleNoCompletionCriteriaError, "Course > Course completion"),
        (moodle("sitemaintenance"), MoodleMaintenanceError, "maintenance is over"),
        (
            moodle("invalidrecord", "Can't find data record in database table course."),
            MoodleInvalidRecordError,
            "look the record up again",
        ),
        (moodle("courseidnumbertaken"), MoodleDuplicateError, "already used"),
        (
            moodle("invalidpersistenterror", "Error: Date is in the past"),
            MoodleInvalidParameterError,
            "correct the value",
        ),
        (
            moodle(
                "invalidparameter",
                "Invalid parameter value detected",
                debuginfo="Unexpected keys (extra) detected in parameter array.",
            ),
            MoodleInvalidParameterError,
            "debuginfo names",
        ),
        (moodle("somethingnew", "Moodle's own words"), MoodleRequestError, "Moodle's own words"),
        (
            moodle("codingerror", "Coding error detected: something else"),
            MoodleRequestError,
            "something else",
        ),
    ],
)
def test_other_moodle_errors(answer: dict[str, Any], cls: type[MoodleError], words: str) -> None:
    err = moodle_error("core_user_create_users", answer)
    assert type(err) is cls
    assert words in str(err)
    assert f"Moodle errorcode {answer['errorcode']}: " in str(err)
    assert str(err).startswith("core_user_create_users: ")
    assert err.record_level is (cls in RECORD_LEVEL)


def test_invalid_records_say_what_kind() -> None:
    assert moodle_error("f", recording("065")["response"]).kind == "user"
    assert moodle_error("f", moodle("invalidrecord", "table course")).kind == "record"


@responses.activate
@pytest.mark.parametrize(
    ("answer", "cls", "words"),
    [
        ({"status": 404, "body": "Not found"}, MoodleEndpointError, "HTTP 404"),
        (
            {
                "body": "<!DOCTYPE html><html><body>Log in</body></html>",
                "content_type": "text/html",
            },
            MoodleEndpointError,
            "HTML page",
        ),
        ({"status": 403, "body": "Forbidden by WAF"}, MoodleRequestError, "HTTP 403: Forbidden"),
        ({"status": 401, "body": ""}, MoodleRequestError, "HTTP 401"),
        (
            {"status": 301, "headers": {"Location": "https://new.example.com/x?y=1"}},
            MoodleEndpointError,
            "redirects (301) to https://new.example.com/x.",
        ),
        ({"body": "", "content_type": "application/json"}, MoodleWriteUncertainError, "not JSON"),
    ],
)
def test_http_answers_that_are_not_moodle_answers(
    answer: dict[str, Any], cls: type[MoodleError], words: str
) -> None:
    responses.add(responses.POST, ENDPOINT, **answer)
    with pytest.raises(MoodleError) as caught:
        client().call("core_user_create_users")
    assert type(caught.value) is cls
    assert words in str(caught.value)
    assert str(caught.value).startswith("core_user_create_users: ")
    assert "Fix: " in str(caught.value)


@responses.activate
def test_an_html_error_page_with_503_is_retried_then_unavailable() -> None:
    responses.add(responses.POST, ENDPOINT, body="<html>Upgrading</html>", status=503)
    with pytest.raises(SourceUnavailableError, match="an HTML page: maintenance"):
        client().call("core_webservice_get_site_info")
    assert len(responses.calls) == 3


@responses.activate
@pytest.mark.parametrize("answer", [None, True, False, [], [{"id": 1}], {"warnings": []}, 0, "x"])
def test_bare_json_values_are_results(answer: Any) -> None:
    responses.add(
        responses.POST, ENDPOINT, body=json.dumps(answer), content_type="application/json"
    )
    assert client().call("core_competency_add_competency_to_plan") == answer


# -- the classes ----------------------------------------------------------------------------

GENERIC = {
    MoodleTokenError: SourceAuthError,
    MoodleWebServicesDisabledError: SourcePermissionError,
    MoodleFunctionNotInServiceError: SourcePermissionError,
    MoodleAccessDeniedError: SourcePermissionError,
    MoodleUnknownFunctionError: SourceRequestError,
    MoodleCompetenciesDisabledError: SourceRequestError,
    MoodleCompletionDisabledError: SourceRequestError,
    MoodleNoCompletionCriteriaError: SourceRequestError,
    MoodleEndpointError: SourceRequestError,
    MoodleResponseFormatError: SourceRequestError,
    MoodleRequestError: SourceRequestError,
    MoodleUnavailableError: SourceUnavailableError,
    MoodleMaintenanceError: SourceUnavailableError,
    MoodleWriteUncertainError: SourceUnavailableError,
    MoodleInvalidParameterError: RejectedError,
    MoodleInvalidRecordError: UnknownReferenceError,
    MoodleDuplicateError: ConflictError,
    MoodleRatingOutOfScaleError: RejectedError,
    MoodleCannotRateError: RejectedError,
    MoodlePasswordPolicyError: RejectedError,
}


def test_every_error_class_is_listed() -> None:
    exported = {
        getattr(errors, name)
        for name in errors.__all__
        if isinstance(getattr(errors, name), type) and getattr(errors, name) is not MoodleError
    }
    assert exported == set(GENERIC)


@pytest.mark.parametrize("cls", sorted(GENERIC, key=lambda c: c.__name__))
def test_each_class_is_a_moodle_error_and_its_generic_kind(cls: type[MoodleError]) -> None:
    assert issubclass(cls, MoodleError) and issubclass(cls, SourceError)
    assert issubclass(cls, GENERIC[cls])
    record_level = cls in RECORD_LEVEL
    assert cls.record_level is record_level
    assert issubclass(cls, RejectedError) is record_level
    assert issubclass(cls, FatalError | RetriableError) is not record_level
    err = cls("f: problem. Fix: x.", function="f", errorcode="c", response=None)
    assert err.function == "f" and err.errorcode == "c" and err.debuginfo is None
    assert str(err) == "f: problem. Fix: x."
