"""Launches driven through a local LTI 1.3 platform: registration, a learner's and an
instructor's launch, deep linking, every refusal the spec asks for, and key rotation."""

from __future__ import annotations

import time
from typing import Any

import jwt
import pytest
import requests
from sqlalchemy import func, select

from mentorbridge.plugin.lti.registration import issue_registration_url
from mentorbridge.plugin.store.lti_models import LtiPlatform, LtiUserLink
from tests.lti_platform import LaunchForm, LocalPlatform
from tests.plugin.lti.tool_server import Tool, launch

MESSAGE_TYPE = "https://purl.imsglobal.org/spec/lti/claim/message_type"


def register_manually(tool: Tool, platform: LocalPlatform) -> Any:
    registered = platform.register_tool(
        initiate_login_uri=f"{tool.url}/lti/login",
        redirect_uris=[f"{tool.url}/lti/launch"],
        jwks_uri=f"{tool.url}/.well-known/jwks.json",
        target_link_uri=f"{tool.url}/lti/launch",
        deep_link_uri=f"{tool.url}/lti/launch",
        custom_parameters={"employee_id": "$Person.sourcedId"},
    )
    tool.lti.platforms.add(
        issuer=platform.issuer,
        client_id=registered.client_id,
        auth_login_url=f"{platform.url}/auth",
        jwks_url=platform.jwks_url,
        auth_token_url=f"{platform.url}/token",
        deployments=[registered.deployment_id],
    )
    return registered


def registered_dynamically(tool: Tool, platform: LocalPlatform) -> Any:
    issued = issue_registration_url(tool.store, tool.lti.urls, 600)
    answer = requests.get(
        issued.url,
        params={
            "openid_configuration": platform.openid_configuration_url,
            "registration_token": platform.new_registration_token(),
        },
        timeout=10,
    )
    assert answer.status_code == 200, answer.text
    assert "org.imsglobal.lti.close" in answer.text
    (registered,) = platform.tools.values()
    return registered, issued, answer


def test_dynamic_registration_registers_the_tool_with_the_platform(
    tool: Tool, platform: LocalPlatform
) -> None:
    registered, issued, _ = registered_dynamically(tool, platform)
    body = registered.registration
    assert body["initiate_login_uri"] == f"{tool.url}/lti/login"
    assert body["jwks_uri"] == f"{tool.url}/.well-known/jwks.json"
    configuration = body["https://purl.imsglobal.org/spec/lti-tool-configuration"]
    assert configuration["custom_parameters"] == {"employee_id": "$Person.sourcedId"}
    assert "https://purl.imsglobal.org/spec/lti-ags/scope/score" in body["scope"].split()
    (stored,) = tool.lti.platforms.all()
    assert (stored.issuer, stored.client_id) == (platform.issuer, registered.client_id)
    assert stored.deployments == (registered.deployment_id,)
    assert stored.registered_by == "dynamic"
    again = requests.get(
        issued.url,
        params={
            "openid_configuration": platform.openid_configuration_url,
            "registration_token": platform.new_registration_token(),
        },
        headers={"Accept": "application/json"},
        timeout=10,
    )
    assert again.status_code == 401 and again.json()["error"] == "invalid_registration_token"
    assert len(tool.lti.platforms.all()) == 1  # the one-time URL made one platform


def test_a_learner_lands_on_their_own_transcript(tool: Tool, platform: LocalPlatform) -> None:
    registered = register_manually(tool, platform)
    start = platform.start_launch(registered.client_id, "u-exec1", "c-1")
    page = launch(requests.Session(), platform, start)
    assert page.status_code == 200, page.text
    assert "sessions attended" in page.text.lower()
    policy = page.headers["Content-Security-Policy"]
    assert f"frame-ancestors {platform.url}" in policy
    with tool.store.reading() as session:
        (link,) = session.scalars(select(LtiUserLink)).all()
    assert (link.subject, link.worker_id, link.linked_by) == ("u-exec1", "E-1", "custom")
    as_json = launch(requests.Session(), platform, start_for(platform, registered, "u-exec1"),
                     accept="application/json")  # fmt: skip
    assert as_json.status_code == 200


def start_for(platform: LocalPlatform, registered: Any, sub: str, **more: Any) -> Any:
    return platform.start_launch(registered.client_id, sub, "c-1", **more)


def test_an_instructor_lands_on_the_programme_dashboard(
    tool: Tool, platform: LocalPlatform
) -> None:
    registered = register_manually(tool, platform)
    page = launch(requests.Session(), platform, start_for(platform, registered, "u-teacher"))
    assert page.status_code == 200, page.text
    assert "<svg" in page.text  # the impact report's charts
    assert "E-1" not in page.text  # aggregates only


def test_an_unlinked_learner_gets_a_page_saying_what_the_admin_must_do(
    tool: Tool, platform: LocalPlatform
) -> None:
    registered = register_manually(tool, platform)
    page = launch(requests.Session(), platform, start_for(platform, registered, "u-stranger"))
    assert page.status_code == 403
    assert "not linked to an employee record" in page.text
    assert "Workday Employee ID" in page.text


def refused(platform: LocalPlatform, registered: Any, tool: Tool, **tamper: Any) -> Any:
    platform.tamper(**tamper)
    answer = launch(
        requests.Session(), platform, start_for(platform, registered, "u-exec1"),
        accept="application/json",
    )  # fmt: skip
    return answer


@pytest.mark.parametrize(
    ("tamper", "code"),
    [
        ({"claims": {"aud": "someone-else"}}, "unknown_platform"),
        ({"claims": {"iss": "https://evil.example.com"}}, "unknown_platform"),
        ({"sign_with": "unknown-key"}, "bad_signature"),
        ({"sign_with": "expired"}, "expired"),
        ({"claims": {"https://purl.imsglobal.org/spec/lti/claim/deployment_id": "dep-x"}},
         "unknown_deployment"),
        ({"claims": {MESSAGE_TYPE: "LtiSubmissionReviewRequest"}}, "wrong_message_type"),
        ({"remove": ["https://purl.imsglobal.org/spec/lti/claim/roles"]}, "missing_claim"),
        ({"claims": {"nonce": "not-the-one-issued"}}, "replayed"),
    ],
)  # fmt: skip
def test_bad_launches_are_refused_and_nothing_is_kept(
    tool: Tool, platform: LocalPlatform, tamper: dict[str, Any], code: str
) -> None:
    registered = register_manually(tool, platform)
    answer = refused(platform, registered, tool, **tamper)
    assert answer.status_code in (400, 401), answer.text
    assert answer.json()["error"] == code, answer.json()
    with tool.store.reading() as session:
        assert session.scalar(select(func.count()).select_from(LtiUserLink)) == 0


def test_a_replayed_launch_is_refused(tool: Tool, platform: LocalPlatform) -> None:
    registered = register_manually(tool, platform)
    browser = requests.Session()
    start = start_for(platform, registered, "u-exec1")
    login = browser.get(start.url, params=start.params, allow_redirects=False)
    form = LaunchForm.parse(browser.get(login.headers["Location"]).text)
    first = browser.post(form.action, data=form.fields)
    assert first.status_code == 200
    again = browser.post(form.action, data=form.fields, headers={"Accept": "application/json"})
    assert again.status_code == 401 and again.json()["error"] in ("replayed", "no_browser_binding")


def test_a_launch_from_another_browser_is_refused(tool: Tool, platform: LocalPlatform) -> None:
    registered = register_manually(tool, platform)
    victim, attacker = requests.Session(), requests.Session()
    start = start_for(platform, registered, "u-exec1")
    login = attacker.get(start.url, params=start.params, allow_redirects=False)
    form = LaunchForm.parse(attacker.get(login.headers["Location"]).text)
    forced = victim.post(form.action, data=form.fields, headers={"Accept": "application/json"})
    assert forced.status_code == 401 and forced.json()["error"] == "no_browser_binding"


def test_an_unknown_platform_cannot_even_log_in(tool: Tool, platform: LocalPlatform) -> None:
    answer = requests.get(
        f"{tool.url}/lti/login",
        params={"iss": platform.issuer, "login_hint": "u", "target_link_uri": tool.url},
        headers={"Accept": "application/json"},
        allow_redirects=False,
        timeout=10,
    )
    assert answer.status_code == 401 and answer.json()["error"] == "unknown_platform"


def test_deep_linking_returns_a_signed_content_item(tool: Tool, platform: LocalPlatform) -> None:
    registered = register_manually(tool, platform)
    browser = requests.Session()
    start = start_for(platform, registered, "u-teacher", message_type="LtiDeepLinkingRequest")
    picker = launch(browser, platform, start)
    assert picker.status_code == 200 and "My mentoring record" in picker.text
    choice = LaunchForm.parse(picker.text)  # the first form: "My mentoring record"
    answer = browser.post(choice.action, data=choice.fields)
    assert answer.status_code == 200
    back = LaunchForm.parse(answer.text)
    done = browser.post(back.action, data=back.fields)
    assert done.status_code == 200, done.text
    (response,) = platform.deep_link_responses
    (item,) = response["https://purl.imsglobal.org/spec/lti-dl/claim/content_items"]
    assert item["type"] == "ltiResourceLink" and item["title"] == "My mentoring record"
    assert item["url"] == f"{tool.url}/lti/launch"


def test_key_rotation_keeps_launches_and_services_working(
    tool: Tool, platform: LocalPlatform
) -> None:
    registered = register_manually(tool, platform)
    assert launch(requests.Session(), platform, start_for(platform, registered, "u-exec1")).ok
    platform.rotate_keys()  # the platform signs with a key the tool has not cached
    time.sleep(tool.lti.key_sets.cooldown)  # an unknown kid refetches at most once a second
    assert launch(requests.Session(), platform, start_for(platform, registered, "u-exec1")).ok
    old = jwt.get_unverified_header(tool.lti.keys.sign({"aud": "x"}))["kid"]
    tool.lti.keys.rotate()
    published = requests.get(f"{tool.url}/.well-known/jwks.json", timeout=10).json()
    assert old in {k["kid"] for k in published["keys"]}


def test_the_registration_url_is_refused_without_its_token(
    tool: Tool, platform: LocalPlatform
) -> None:
    answer = requests.get(
        f"{tool.url}/lti/register",
        params={"openid_configuration": platform.openid_configuration_url, "t": "guess"},
        headers={"Accept": "application/json"},
        timeout=10,
    )
    assert answer.status_code == 401
    with tool.store.reading() as session:
        assert session.scalar(select(func.count()).select_from(LtiPlatform)) == 0
