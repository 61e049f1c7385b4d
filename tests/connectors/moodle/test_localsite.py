"""The local Moodle-shaped site answers as the recorded Moodle 4.3 site did.

The replay starts one site seeded like the recorded one and sends every recorded request in file
order (the recordings are one session: users created in 002 are read in 003, and so on), then
compares each answer with the recorded one. Only what cannot match is normalised:

- timestamps (``timecreated``, ``timemodified``, ``timecompleted``, ``cacherev``, the
  ``_lastloaded`` preference) come from this machine's clock: compared by type (a non-zero Unix
  time where the recording has one, 0 or null exactly where it has those), and ``userdate`` by
  its format (its formatting is checked exactly in ``test_dates_print_as_the_recorded_site``);
- the site URL: the recording's ``http://127.0.0.1:8081`` is this site's URL;
- PHP ``uniqid`` values (the summary's comment area ``cid``, the evidence page's button id).

No id is normalised: the seed holds exactly what the recorded site held before the session
(users 1-3, scales 1-3, category 1, course 2 with course modules 2-4, context ids up to 15), so
every id of the session (users 4-8, framework 1, competencies 1-4, plan 1, user competencies
1-2, evidence 1-3, course 3, context ids 12-21) comes out the same.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, NamedTuple

import pytest
import requests

from mentorbridge.connectors.moodle.localsite import (
    IMPLEMENTED_FUNCTIONS,
    RECORDED_SERVICE_FUNCTIONS,
    LocalMoodleSite,
    dates,
)
from mentorbridge.connectors.moodle.localsite.dates import userdate

FIXTURES = Path(__file__).resolve().parents[4] / "shared" / "fixtures" / "moodle"
RECORDINGS = sorted(FIXTURES.glob("[0-9][0-9][0-9]_*.json"))
RECORDED_URL = "http://127.0.0.1:8081"
TIMESTAMP_KEYS = frozenset({"timecreated", "timemodified", "timecompleted", "cacherev"})
USERDATE = re.compile(r"[A-Z][a-z]+day, \d{1,2} [A-Z][a-z]+ \d{4}, \d{1,2}:\d{2} [AP]M")
UNIQID = re.compile(r"[0-9a-f]{13}")
BUTTON_ID = re.compile(r"single_button[0-9a-f]{13}\d+")

#: 034/035 read evidence of prior learning the lab created with Moodle's PHP API.
PRIOR_LEARNING = {
    "userid": 5,
    "name": "Ran a hands-on AI tools workshop for the leadership team",
    "description": (
        "<p>Mentor-led session (90 min) on generative-AI assistants, followed by a practical "
        "exercise.</p>"
    ),
    "url": "https://intranet.example.com/reverse-mentoring/workshops/2026-03-ai-tools",
    "competencyids": [1],
}


class Answer(NamedTuple):
    status: int
    content_type: str
    text: str


def load(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text(encoding="utf-8"))


def send(site: LocalMoodleSite, recorded: dict[str, Any]) -> Answer:
    fields = {k: site.token if v == "<TOKEN>" else v for k, v in recorded["request"].items()}
    if recorded.get("http_method") == "GET":
        response = requests.get(site.endpoint, params=fields, timeout=10)
    else:
        response = requests.post(site.endpoint, data=fields, timeout=10)
    return Answer(response.status_code, response.headers["Content-Type"], response.text)


def prepare(site: LocalMoodleSite, number: str) -> None:
    """Change the site as the lab changed the recorded one between recordings."""
    if number == "001":
        site.webservices_enabled = True  # 000 was recorded before web services were enabled
    elif number == "034":
        site.add_user_evidence(**PRIOR_LEARNING)
    elif number == "066":
        site.debug = True  # 066-072: $CFG->debug = DEVELOPER
    elif number == "073":
        site.viewfullnames = True  # granted to the integration role at the end of the session


@pytest.fixture(scope="module")
def replayed() -> tuple[dict[str, Answer], str]:
    answers: dict[str, Answer] = {}
    site = LocalMoodleSite(
        viewfullnames=False, functions=RECORDED_SERVICE_FUNCTIONS, webservices_enabled=False
    )
    with site:
        for path in RECORDINGS:
            prepare(site, path.name[:3])
            answers[path.stem] = send(site, load(path))
        return answers, site.url


def stamp(value: Any) -> Any:
    if value in (0, None):
        return value
    assert isinstance(value, int) and not isinstance(value, bool), value
    assert value > 1_000_000_000, value
    return "<unix time>"


def normalise(value: Any, key: str | None = None) -> Any:
    if isinstance(value, dict):
        if value.get("name") == "_lastloaded":
            return {**value, "value": stamp(value["value"])}
        return {k: normalise(v, k) for k, v in value.items()}
    if isinstance(value, list):
        return [normalise(item, key) for item in value]
    if key in TIMESTAMP_KEYS:
        return stamp(value)
    if key == "userdate":
        assert USERDATE.fullmatch(value), value
        return "<userdate>"
    if key == "cid" and UNIQID.fullmatch(value):
        return "<uniqid>"
    if isinstance(value, str):
        return BUTTON_ID.sub("single_button<uniqid>", value)
    return value


def test_every_recording_is_replayed() -> None:
    assert len(RECORDINGS) == 74


@pytest.mark.parametrize("path", RECORDINGS, ids=[p.stem for p in RECORDINGS])
def test_the_answer_is_the_recorded_one(
    path: Path, replayed: tuple[dict[str, Answer], str]
) -> None:
    answers, url = replayed
    recorded, answer = load(path), answers[path.stem]
    assert answer.status == recorded["http_status"]
    if "response_raw" in recorded:  # 000: web services off
        assert answer.text == recorded["response_raw"]
        assert answer.content_type == recorded["response_content_type"]
    elif recorded.get("response_is_raw_text"):  # 062, 063: XML, compared as text
        assert answer.text == recorded["response"].replace(RECORDED_URL, url)
        assert answer.content_type == recorded["response_content_type"]
    else:
        expected = json.loads(json.dumps(recorded["response"]).replace(RECORDED_URL, url))
        assert normalise(json.loads(answer.text)) == normalise(expected)
        assert answer.content_type == "application/json"


# Behaviour the recordings don't show but the connector relies on.
def flatten(prefix: str, value: Any, out: list[tuple[str, str]]) -> list[tuple[str, str]]:
    if isinstance(value, dict):
        for key, item in value.items():
            flatten(f"{prefix}[{key}]" if prefix else key, item, out)
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            flatten(f"{prefix}[{index}]", item, out)
    elif isinstance(value, bool):
        out.append((prefix, "1" if value else "0"))
    elif value is not None:
        out.append((prefix, str(value)))
    return out


def call(site: LocalMoodleSite, function: str, **params: Any) -> Any:
    fields = {"wstoken": site.token, "wsfunction": function, "moodlewsrestformat": "json"}
    response = requests.post(site.endpoint, data=flatten("", {**fields, **params}, []), timeout=10)
    assert response.status_code == 200
    return response.json()


def person(username: str, **extra: Any) -> dict[str, Any]:
    first, last = username.split(".")
    return {
        "username": username,
        "firstname": first.title(),
        "lastname": last.title(),
        "email": f"{username}@example.com",
        "password": "Rm-2026!secret",
        **extra,
    }


@pytest.fixture
def site() -> Iterator[LocalMoodleSite]:
    with LocalMoodleSite() as running:
        yield running


def test_create_users_is_all_or_nothing(site: LocalMoodleSite) -> None:
    before = dict(site.state.users)
    weak = call(
        site,
        "core_user_create_users",
        users=[person("ana.lima"), person("bo.berg", password="abc")],
    )
    assert weak["errorcode"].startswith("<div>Passwords must be at least 8 characters long.</div>")
    duplicate = call(site, "core_user_create_users", users=[person("ana.lima"), person("ana.lima")])
    assert duplicate["errorcode"] == "invalidparameter"
    same_email = call(
        site,
        "core_user_create_users",
        users=[person("ana.lima"), person("bo.berg", email="ANA.LIMA@example.com")],
    )
    assert same_email["errorcode"] == "invalidparameter"
    assert site.state.users == before

    created = call(
        site,
        "core_user_create_users",
        users=[person("ana.lima"), person("bo.berg", password="", createpassword=1)],
    )
    assert [u["username"] for u in created] == ["ana.lima", "bo.berg"]
    assert created[0]["id"] < created[1]["id"]
    # An SSO account keeps no password, so the policy does not apply.
    sso = call(site, "core_user_create_users", users=[person("cy.ng", auth="oauth2", password="")])
    assert sso[0]["username"] == "cy.ng"


def test_update_users_fails_per_user_as_warnings(site: LocalMoodleSite) -> None:
    (ana,) = call(site, "core_user_create_users", users=[person("ana.lima")])
    answer = call(
        site,
        "core_user_update_users",
        users=[
            {"id": 999999, "department": "Nowhere"},
            {"id": ana["id"], "suspended": 1, "idnumber": "W-7", "lastname": "Lima-Souza"},
            {"id": 2, "department": "Admins"},
        ],
    )
    assert answer == {
        "warnings": [
            {
                "item": "user",
                "itemid": 999999,
                "warningcode": "invaliduserid",
                "message": "Invalid user ID",
            },
            {
                "item": "user",
                "itemid": 2,
                "warningcode": "usernotupdatedadmin",
                "message": "Cannot update admin accounts",
            },
        ]
    }
    (found,) = call(site, "core_user_get_users_by_field", field="idnumber", values=["W-7"])
    assert (found["suspended"], found["lastname"]) == (True, "Lima-Souza")
    assert site.state.users[2].department == ""


def succession(site: LocalMoodleSite) -> tuple[int, int, int]:
    """A framework on the readiness scale with one competency, and a user with an active plan
    holding it: (userid, competencyid, planid)."""
    framework = call(
        site,
        "core_competency_create_competency_framework",
        competencyframework={
            "shortname": "Succession",
            "idnumber": "SUCC",
            "scaleid": 3,
            "scaleconfiguration": json.dumps(
                [{"scaleid": "3"}]
                + [
                    {"id": i, "scaledefault": int(i == 1), "proficient": int(i >= 3)}
                    for i in range(1, 5)
                ]
            ),
            "contextid": 1,
        },
    )
    competency = call(
        site,
        "core_competency_create_competency",
        competency={
            "shortname": "Digital",
            "idnumber": "DIGI",
            "competencyframeworkid": framework["id"],
        },
    )
    (user,) = call(site, "core_user_create_users", users=[person("ana.lima")])
    plan = call(
        site,
        "core_competency_create_plan",
        plan={"name": "Plan", "userid": user["id"], "status": 1},
    )
    assert (
        call(
            site,
            "core_competency_add_competency_to_plan",
            planid=plan["id"],
            competencyid=competency["id"],
        )
        is True
    )
    return user["id"], competency["id"], plan["id"]


def test_the_latest_rating_wins_and_every_rating_is_kept_as_evidence(site: LocalMoodleSite) -> None:
    userid, competencyid, planid = succession(site)
    first = call(
        site,
        "core_competency_grade_competency",
        userid=userid,
        competencyid=competencyid,
        grade=4,
        note="first",
    )
    second = call(
        site,
        "core_competency_grade_competency_in_plan",
        planid=planid,
        competencyid=competencyid,
        grade=2,
        note="second",
    )
    assert (first["gradename"], second["gradename"]) == ("Role model", "Developing")
    uc = site.state.user_competency(userid, competencyid)
    assert uc is not None
    assert (uc.grade, uc.proficiency) == (2, False)
    assert [e.note for e in uc.evidence] == ["first", "second"]
    summary = call(
        site, "tool_lp_data_for_user_competency_summary", userid=userid, competencyid=competencyid
    )
    assert [e["note"] for e in summary["evidence"]] == ["second", "first"]
    assert summary["usercompetency"]["gradename"] == "Developing"
    (listed,) = call(site, "core_competency_list_plan_competencies", id=planid)
    assert listed["usercompetency"]["proficiencyname"] == "No"


def test_ratings_are_refused_outside_an_active_plan_or_the_scale(site: LocalMoodleSite) -> None:
    userid, competencyid, _ = succession(site)
    draft = call(site, "core_competency_create_plan", plan={"name": "Draft", "userid": userid})
    assert draft["status"] == 0
    call(
        site,
        "core_competency_add_competency_to_plan",
        planid=draft["id"],
        competencyid=competencyid,
    )
    refused = call(
        site,
        "core_competency_grade_competency_in_plan",
        planid=draft["id"],
        competencyid=competencyid,
        grade=3,
    )
    assert refused["errorcode"] == "codingerror"
    out_of_scale = call(
        site, "core_competency_grade_competency", userid=userid, competencyid=competencyid, grade=5
    )
    assert out_of_scale["message"] == "Error: Invalid rating"
    uc = site.state.user_competency(userid, competencyid)
    assert uc is not None and uc.evidence == []  # created by the attempt, as Moodle does, unrated


def test_linking_a_competency_twice_to_a_course_answers_false(site: LocalMoodleSite) -> None:
    _, competencyid, _ = succession(site)
    assert (
        call(
            site, "core_competency_add_competency_to_course", courseid=2, competencyid=competencyid
        )
        is True
    )
    assert (
        call(
            site, "core_competency_add_competency_to_course", courseid=2, competencyid=competencyid
        )
        is False
    )
    (link,) = call(site, "core_competency_list_course_competencies", id=2)
    assert link["competency"]["id"] == competencyid
    assert link["coursecompetency"]["courseid"] == 2
    assert call(site, "core_competency_get_scale_values", scaleid=2) == [
        {"id": 1, "name": "Not yet competent"},
        {"id": 2, "name": "Competent"},
    ]


def test_update_competency_changes_the_fields_and_keeps_idnumbers_unique(
    site: LocalMoodleSite,
) -> None:
    _, competencyid, _ = succession(site)
    framework = site.state.competencies[competencyid].competencyframeworkid
    other = call(
        site,
        "core_competency_create_competency",
        competency={"shortname": "Other", "idnumber": "OTHER", "competencyframeworkid": framework},
    )
    assert (
        call(
            site,
            "core_competency_update_competency",
            competency={"id": competencyid, "shortname": "Digital & data"},
        )
        is True
    )
    taken = call(
        site,
        "core_competency_update_competency",
        competency={"id": other["id"], "idnumber": "DIGI"},
    )
    assert taken["message"] == "Error: This ID number is already in use"
    (read,) = call(
        site, "core_competency_list_competencies", filters=[{"column": "id", "value": competencyid}]
    )
    assert read["shortname"] == "Digital &amp; data"  # format_string, as Moodle exports it


def test_a_framework_needs_a_default_and_a_proficient_item(site: LocalMoodleSite) -> None:
    answer = call(
        site,
        "core_competency_create_competency_framework",
        competencyframework={
            "shortname": "Bad",
            "idnumber": "BAD",
            "scaleid": 2,
            "scaleconfiguration": '[{"scaleid":"2"},{"id":1,"scaledefault":1,"proficient":0}]',
            "contextid": 1,
        },
    )
    assert answer["errorcode"] == "invalidpersistenterror"
    assert "default and proficient items" in answer["message"]


def test_calls_run_concurrently(site: LocalMoodleSite) -> None:
    site.delay = 0.2
    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=10) as pool:
        answers = list(pool.map(lambda _: call(site, "core_webservice_get_site_info"), range(10)))
    assert time.monotonic() - started < 1.0  # ten calls in series would take 2 s
    assert all(a["userid"] == 3 for a in answers)
    assert [name for name, _ in site.calls] == ["core_webservice_get_site_info"] * 10


def test_concurrent_writes_get_distinct_ids(site: LocalMoodleSite) -> None:
    with ThreadPoolExecutor(max_workers=8) as pool:
        answers = list(
            pool.map(
                lambda i: call(site, "core_user_create_users", users=[person(f"user.n{i}")]),
                range(16),
            )
        )
    ids = [a[0]["id"] for a in answers]
    assert len(set(ids)) == 16


def test_each_call_is_delayed() -> None:
    with LocalMoodleSite(delay=0.1) as site:
        started = time.monotonic()
        call(site, "core_webservice_get_site_info")
        assert time.monotonic() - started >= 0.1


def test_calls_are_recorded_with_their_parameters(site: LocalMoodleSite) -> None:
    call(site, "core_user_get_users_by_field", field="idnumber", values=["W-1", "W-2"])
    assert site.calls == [
        ("core_user_get_users_by_field", {"field": "idnumber", "values": ["W-1", "W-2"]})
    ]
    site.reset_calls()
    assert site.calls == []


def test_by_default_the_service_holds_every_implemented_function(site: LocalMoodleSite) -> None:
    info = call(site, "core_webservice_get_site_info")
    assert [f["name"] for f in info["functions"]] == list(IMPLEMENTED_FUNCTIONS)
    assert info["functions"][: len(RECORDED_SERVICE_FUNCTIONS)] == [
        {"name": name, "version": "2023100900"} for name in RECORDED_SERVICE_FUNCTIONS
    ]
    with pytest.raises(ValueError, match="does not implement"):
        LocalMoodleSite(functions={"core_course_delete_courses"})


def test_unexpected_keys_and_bad_booleans_are_invalid_parameters() -> None:
    with LocalMoodleSite(debug=True) as site:
        extra = call(site, "core_competency_read_competency_framework", id=1, colour="red")
        assert extra["debuginfo"] == "Unexpected keys (colour) detected in parameter array."
        boolean = call(site, "core_user_update_users", users=[{"id": 4, "suspended": "true"}])
        assert boolean["debuginfo"] == (
            "users => Invalid parameter value detected: suspended => Invalid parameter value "
            'detected: Invalid external api parameter: the value is "true", the server was '
            'expecting "bool" type'
        )


def test_competencies_disabled() -> None:
    with LocalMoodleSite(competencies_enabled=False) as site:
        answer = call(site, "core_competency_list_user_plans", userid=3)
        assert answer["errorcode"] == "competenciesarenotenabled"


def test_completion_needs_criteria_enrolment_and_the_setting() -> None:
    with LocalMoodleSite(completion_criteria=False) as site:
        (user,) = call(site, "core_user_create_users", users=[person("ana.lima")])
        untracked = call(
            site, "core_completion_get_course_completion_status", courseid=2, userid=user["id"]
        )
        assert untracked["errorcode"] == "nottracked"
        call(
            site,
            "enrol_manual_enrol_users",
            enrolments=[{"roleid": 5, "userid": user["id"], "courseid": 2}],
        )
        answer = call(
            site, "core_completion_get_course_completion_status", courseid=2, userid=user["id"]
        )
        assert answer["errorcode"] == "nocriteriaset"
    with LocalMoodleSite(completion_enabled=False) as site:
        info = call(site, "core_webservice_get_site_info")
        assert {"name": "enablecompletion", "value": 0} in info["advancedfeatures"]
        answer = call(
            site,
            "core_completion_override_activity_completion_status",
            userid=3,
            cmid=2,
            newstate=1,
        )
        assert answer["errorcode"] == "completionnotenabled"


def test_a_site_without_the_course() -> None:
    with LocalMoodleSite(course=False) as site:
        answer = call(site, "core_course_get_courses_by_field", field="shortname", value="RMP")
        assert answer == {"courses": [], "warnings": []}
        refused = call(
            site, "enrol_manual_enrol_users", enrolments=[{"roleid": 5, "userid": 3, "courseid": 2}]
        )
        assert refused["errorcode"] == "invalidparameter"


def test_enrolment_is_one_transaction(site: LocalMoodleSite) -> None:
    created = call(site, "core_user_create_users", users=[person("ana.lima"), person("bo.berg")])
    answer = call(
        site,
        "enrol_manual_enrol_users",
        enrolments=[
            {"roleid": 5, "userid": created[0]["id"], "courseid": 2},
            {"roleid": 3, "userid": created[1]["id"], "courseid": 2},
        ],
    )
    assert answer["errorcode"] == "wsusercannotassign"
    assert site.state.enrolments == {}


def test_xml_answers_follow_the_shape_of_a_list(site: LocalMoodleSite) -> None:
    response = requests.post(
        site.endpoint,
        data={
            "wstoken": site.token,
            "wsfunction": "core_competency_get_scale_values",
            "scaleid": "2",
        },
        timeout=10,
    )
    assert response.headers["Content-Type"] == "application/xml; charset=utf-8"
    assert response.text == (
        '<?xml version="1.0" encoding="UTF-8" ?>\n<RESPONSE>\n<MULTIPLE>\n'
        '<SINGLE>\n<KEY name="id"><VALUE>1</VALUE>\n</KEY>\n'
        '<KEY name="name"><VALUE>Not yet competent</VALUE>\n</KEY>\n</SINGLE>\n'
        '<SINGLE>\n<KEY name="id"><VALUE>2</VALUE>\n</KEY>\n'
        '<KEY name="name"><VALUE>Competent</VALUE>\n</KEY>\n</SINGLE>\n'
        "</MULTIPLE>\n</RESPONSE>\n"
    )


def test_dates_print_as_the_recorded_site() -> None:
    # 028's evidence (November, GMT) and 023's due date (May, British summer time).
    assert userdate(1795568161) == "Wednesday, 25 November 2026, 12:56 AM"
    assert userdate(1811120161) == "Monday, 24 May 2027, 1:56 AM"


def test_a_suspended_integration_user_is_locked_out(site: LocalMoodleSite) -> None:
    answer = call(site, "core_user_update_users", users=[{"id": 3, "suspended": 1}])
    assert answer == {"warnings": []}
    refused = call(site, "core_webservice_get_site_info")
    assert refused["errorcode"] == "wsaccessusersuspended"


def test_dates_without_a_time_zone_database(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(dates, "_zone", lambda _name: None)
    assert dates.userdate(1795568161) == "Wednesday, 25 November 2026, 12:56 AM"
    assert dates.userdate(1811120161) == "Monday, 24 May 2027, 1:56 AM"
    assert dates.userdate(1774746000) == "Sunday, 29 March 2026, 2:00 AM"  # BST from 01:00 UTC


def test_stopping_ends_kept_alive_connections() -> None:
    site = LocalMoodleSite().start()
    with requests.Session() as session:
        fields = {"wstoken": site.token, "wsfunction": "core_webservice_get_site_info"}
        assert session.post(site.endpoint, data=fields, timeout=10).status_code == 200
        started = time.monotonic()
        site.stop()
        assert time.monotonic() - started < 5
    with pytest.raises(RuntimeError, match="not running"):
        _ = site.url
