"""The local LTI platform behaves as the specs say, and refuses what they say it must refuse."""

from __future__ import annotations

import json
import secrets
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import jwt
import pytest
import requests
from werkzeug.serving import WSGIRequestHandler, make_server
from werkzeug.wrappers import Request, Response

from tests.lti_platform import (
    AuthorizationRefused,
    LaunchForm,
    LaunchStart,
    LocalPlatform,
    RegisteredTool,
    SigningKey,
    browse_launch,
    vocab,
)

LEARNER = vocab.ROLE_LEARNER
INSTRUCTOR = vocab.ROLE_INSTRUCTOR


# -- a tool, as little of one as the tests need ------------------------------------------------


class _Quiet(WSGIRequestHandler):
    protocol_version = "HTTP/1.0"

    def log(self, type: str, message: str, *args: Any) -> None:
        pass


class FakeTool:
    """Serves a JWKS, a login initiation that sends the browser to ``/auth``, and a launch
    endpoint that records what the platform POSTs."""

    def __init__(self, key: SigningKey) -> None:
        self.keys = [key]
        self.launches: list[dict[str, str]] = []
        self.jwks_hits = 0
        self._server = make_server("127.0.0.1", 0, self._app, threaded=True, request_handler=_Quiet)
        self.url = f"http://127.0.0.1:{self._server.server_port}"
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True
        )

    def __enter__(self) -> FakeTool:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()

    def _app(self, environ: dict[str, Any], start_response: Any) -> Any:
        request = Request(environ)
        if request.path == "/jwks":
            self.jwks_hits += 1
            body = json.dumps({"keys": [k.public_jwk() for k in self.keys]})
            response = Response(body, content_type="application/json")
        elif request.path == "/login":
            params = request.values
            state, nonce = secrets.token_urlsafe(8), secrets.token_urlsafe(8)
            query = {
                "scope": "openid",
                "response_type": "id_token",
                "response_mode": "form_post",
                "prompt": "none",
                "client_id": params["client_id"],
                "redirect_uri": f"{self.url}/launch",
                "login_hint": params["login_hint"],
                "lti_message_hint": params["lti_message_hint"],
                "state": state,
                "nonce": nonce,
            }
            response = Response(status=302)
            response.headers["Location"] = f"{params['iss']}/auth?{urlencode(query)}"
            response.set_cookie("lti-state", state)
        else:
            self.launches.append({**request.form.to_dict(), "cookie": request.cookies["lti-state"]})
            response = Response("launched")
        return response(environ, start_response)


@pytest.fixture(scope="module")
def tool_key() -> SigningKey:
    return SigningKey.generate("tool-key-1")


@pytest.fixture(scope="module")
def tool_server(tool_key: SigningKey) -> Iterator[FakeTool]:
    with FakeTool(tool_key) as fake:
        yield fake


@pytest.fixture
def tool(tool_server: FakeTool, tool_key: SigningKey) -> FakeTool:
    """The module's tool, as new: its key, nothing received."""
    tool_server.keys, tool_server.launches, tool_server.jwks_hits = [tool_key], [], 0
    return tool_server


@pytest.fixture
def platform() -> Iterator[LocalPlatform]:
    with LocalPlatform(page_size=2) as running:
        yield running
    assert running.errors == []


@pytest.fixture
def http() -> Iterator[requests.Session]:
    with requests.Session() as session:
        yield session


def register(platform: LocalPlatform, tool: FakeTool, **changes: Any) -> RegisteredTool:
    settings: dict[str, Any] = {
        "initiate_login_uri": f"{tool.url}/login",
        "redirect_uris": [f"{tool.url}/launch"],
        "jwks_uri": f"{tool.url}/jwks",
        "target_link_uri": f"{tool.url}/launch",
        "deep_link_uri": f"{tool.url}/deep",
        "custom_parameters": {"programme": "$Context.title"},
        **changes,
    }
    return platform.register_tool(**settings)


def populate(platform: LocalPlatform) -> None:
    platform.add_user(
        sub="u-ada", name="Ada Lovelace", email="ada@example.com", person_sourcedid="10002"
    )
    platform.add_user(sub="u-bob", name="Bob Builder", email="bob@example.com")
    platform.add_course(context_id="c-1", title="Reverse mentoring programme", label="RMP")
    platform.enrol("c-1", "u-ada")
    platform.enrol("c-1", "u-bob", roles=[INSTRUCTOR])


def auth_params(start: LaunchStart, redirect_uri: str, /, **changes: str | None) -> dict[str, str]:
    """What a correct tool sends to /auth for this launch (``None`` leaves a field out)."""
    params: dict[str, str | None] = {
        "scope": "openid",
        "response_type": "id_token",
        "response_mode": "form_post",
        "prompt": "none",
        "client_id": start.params["client_id"],
        "redirect_uri": redirect_uri,
        "login_hint": start.params["login_hint"],
        "lti_message_hint": start.params["lti_message_hint"],
        "state": "state-1",
        "nonce": "nonce-1",
        **changes,
    }
    return {k: v for k, v in params.items() if v is not None}


def verify(platform: LocalPlatform, token: str, audience: str) -> dict[str, Any]:
    """Verify an id_token as a tool must: against the platform's JWKS, by kid."""
    keys = jwt.PyJWKSet.from_dict(requests.get(platform.jwks_url, timeout=5).json())
    kid = jwt.get_unverified_header(token)["kid"]
    key = next(k for k in keys.keys if k.key_id == kid)
    return jwt.decode(
        token, key.key, algorithms=["RS256"], audience=audience, issuer=platform.issuer
    )


def launch(
    platform: LocalPlatform, tool: RegisteredTool, sub: str = "u-ada", **kwargs: Any
) -> tuple[LaunchForm, dict[str, Any]]:
    start = platform.start_launch(tool.client_id, sub, "c-1", **kwargs)
    form = platform.authorize(auth_params(start, tool.redirect_uris[0]))
    assert form.id_token, form.fields
    return form, verify(platform, form.id_token, tool.client_id)


# -- configuration and keys --------------------------------------------------------------------


def test_openid_configuration_describes_the_platform(
    platform: LocalPlatform, http: requests.Session
) -> None:
    config = http.get(platform.openid_configuration_url, timeout=5).json()
    assert config["issuer"] == platform.issuer == platform.url
    assert config["authorization_endpoint"] == f"{platform.url}/auth"
    assert config["token_endpoint"] == f"{platform.url}/token"
    assert config["jwks_uri"] == platform.jwks_url
    assert config["registration_endpoint"] == f"{platform.url}/register"
    assert config["token_endpoint_auth_methods_supported"] == ["private_key_jwt"]
    assert config["token_endpoint_auth_signing_alg_values_supported"] == ["RS256"]
    assert config["id_token_signing_alg_values_supported"] == ["RS256"]
    assert config["response_types_supported"] == ["id_token"]
    assert config["subject_types_supported"] == ["public", "pairwise"]
    assert {"openid", vocab.SCOPE_NRPS, vocab.SCOPE_SCORE} <= set(config["scopes_supported"])
    assert "email" in config["claims_supported"]
    lti = config[vocab.PLATFORM_CONFIGURATION]
    assert lti["product_family_code"] == "moodle"
    assert [m["type"] for m in lti["messages_supported"]] == list(vocab.MESSAGE_TYPES)
    assert "Person.sourcedId" in lti["variables"]


def test_jwks_lists_the_signing_key(platform: LocalPlatform, http: requests.Session) -> None:
    (key,) = http.get(platform.jwks_url, timeout=5).json()["keys"]
    assert key["kid"] == platform.signing_kid
    assert (key["kty"], key["alg"], key["use"]) == ("RSA", "RS256", "sig")
    assert "key_ops" not in key and "d" not in key


def test_rotate_keys_keeps_the_old_key_published(platform: LocalPlatform) -> None:
    old = platform.signing_kid
    new = platform.rotate_keys()
    assert platform.signing_kid == new != old
    assert [k["kid"] for k in platform.jwks()["keys"]] == [old, new]
    platform.rotate_keys(drop_old=True)
    assert [k["kid"] for k in platform.jwks()["keys"]] == [platform.signing_kid]


def test_a_token_signed_before_rotation_still_verifies(
    platform: LocalPlatform, tool: FakeTool
) -> None:
    populate(platform)
    registered = register(platform, tool)
    before, _ = launch(platform, registered)
    platform.rotate_keys()
    after, _ = launch(platform, registered)
    assert jwt.get_unverified_header(after.id_token or "")["kid"] == platform.signing_kid
    assert verify(platform, before.id_token or "", registered.client_id)["sub"] == "u-ada"


# -- dynamic registration ----------------------------------------------------------------------

TOOL = "https://tool.example.org"


def registration_body(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "application_type": "web",
        "response_types": ["id_token"],
        "grant_types": ["implicit", "client_credentials"],
        "initiate_login_uri": f"{TOOL}/lti/login",
        "redirect_uris": [f"{TOOL}/lti/launch"],
        "client_name": "MentorBridge",
        "jwks_uri": f"{TOOL}/lti/jwks",
        "token_endpoint_auth_method": "private_key_jwt",
        "scope": f"{vocab.SCOPE_NRPS} {vocab.SCOPE_SCORE} https://example.org/unknown",
        vocab.TOOL_CONFIGURATION: {
            "domain": "tool.example.org",
            "target_link_uri": f"{TOOL}/lti/launch",
            "custom_parameters": {"sourced": "$Person.sourcedId"},
            "claims": ["iss", "sub", "name"],
            "messages": [{"type": "LtiDeepLinkingRequest", "target_link_uri": f"{TOOL}/lti/deep"}],
        },
    }
    body.update(changes)
    return body


def post_registration(
    http: requests.Session, platform: LocalPlatform, body: Any, token: str | None
) -> requests.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return http.post(platform.registration_endpoint, json=body, headers=headers, timeout=5)


def test_dynamic_registration_with_a_one_time_token(
    platform: LocalPlatform, http: requests.Session
) -> None:
    token = platform.new_registration_token()
    answer = post_registration(http, platform, registration_body(), token)
    assert answer.status_code == 200, answer.text
    registered = answer.json()
    client_id = registered["client_id"]
    config = registered[vocab.TOOL_CONFIGURATION]
    assert config["deployment_id"]
    assert registered["scope"] == f"{vocab.SCOPE_NRPS} {vocab.SCOPE_SCORE}"
    assert registered["client_name"] == "MentorBridge"
    tool = platform.tools[client_id]
    assert tool.registration == registration_body()
    assert tool.deployment_id == config["deployment_id"]
    assert tool.deep_link_uri == f"{TOOL}/lti/deep"
    assert tool.redirect_uris == [f"{TOOL}/lti/launch"]
    assert (tool.sends_name, tool.sends_email) == (True, False)

    again = post_registration(http, platform, registration_body(), token)
    assert again.status_code == 401
    assert again.json()["error"] == "invalid_token"
    assert len(platform.tools) == 1
    assert post_registration(http, platform, registration_body(), None).status_code == 401
    assert post_registration(http, platform, registration_body(), "made-up").status_code == 401


def _without_config(name: str) -> dict[str, Any]:
    body = registration_body()
    del body[vocab.TOOL_CONFIGURATION][name]
    return body


def _config(**changes: Any) -> dict[str, Any]:
    body = registration_body()
    body[vocab.TOOL_CONFIGURATION].update(changes)
    return body


@pytest.mark.parametrize(
    ("body", "error", "mentions"),
    [
        (registration_body(application_type="native"), "invalid_client_metadata", "web"),
        (registration_body(response_types=["code"]), "invalid_client_metadata", "id_token"),
        (registration_body(grant_types=["implicit"]), "invalid_client_metadata", "client_cred"),
        (
            registration_body(token_endpoint_auth_method="client_secret_basic"),
            "invalid_client_metadata",
            "private_key_jwt",
        ),
        (registration_body(scope=[vocab.SCOPE_SCORE]), "invalid_client_metadata", "scope"),
        (registration_body(client_name=""), "invalid_client_metadata", "client_name"),
        (registration_body(jwks_uri="/jwks"), "invalid_client_metadata", "jwks_uri"),
        (registration_body(redirect_uris=[]), "invalid_redirect_uri", "redirect_uris"),
        (
            registration_body(redirect_uris=["https://evil.example.com/launch"]),
            "invalid_redirect_uri",
            "domain",
        ),
        (
            registration_body(initiate_login_uri="https://login.example.com/x"),
            "invalid_client_metadata",
            "initiate_login_uri",
        ),
        (
            _config(target_link_uri="https://tool.example.org:8443/launch"),
            "invalid_client_metadata",
            "target_link_uri",
        ),
        (_config(domain="https://tool.example.org"), "invalid_client_metadata", "domain"),
        (_without_config("domain"), "invalid_client_metadata", "domain"),
        (
            _config(messages=[{"type": "LtiSubmissionReviewRequest"}]),
            "invalid_client_metadata",
            "not supported",
        ),
        (registration_body(**{vocab.TOOL_CONFIGURATION: None}), "invalid_client_metadata", ""),
        (["not", "an", "object"], "invalid_client_metadata", "object"),
    ],
)
def test_a_bad_registration_is_refused(
    platform: LocalPlatform, http: requests.Session, body: Any, error: str, mentions: str
) -> None:
    token = platform.new_registration_token()
    answer = post_registration(http, platform, body, token)
    assert answer.status_code == 400
    assert answer.json()["error"] == error
    assert mentions in answer.json()["error_description"]
    assert platform.tools == {}
    # A refused body does not use up the token.
    assert post_registration(http, platform, registration_body(), token).status_code == 200


def test_secondary_domains_and_www_are_accepted(
    platform: LocalPlatform, http: requests.Session
) -> None:
    body = _config(secondary_domains=["login.example.com"], domain="www.tool.example.org")
    body["initiate_login_uri"] = "https://login.example.com/lti"
    answer = post_registration(http, platform, body, platform.new_registration_token())
    assert answer.status_code == 200, answer.text


def test_registration_initiation_url_carries_configuration_and_token(
    platform: LocalPlatform,
) -> None:
    url = platform.registration_initiation_url(f"{TOOL}/lti/register?x=1")
    query = parse_qs(urlsplit(url).query)
    assert query["openid_configuration"] == [platform.openid_configuration_url]
    assert query["x"] == ["1"]
    assert query["registration_token"][0].startswith("reg-")


def test_a_dynamically_registered_tool_gets_only_the_claims_it_asked_for(
    platform: LocalPlatform, http: requests.Session
) -> None:
    answer = post_registration(
        http, platform, registration_body(), platform.new_registration_token()
    )
    tool = platform.tools[answer.json()["client_id"]]
    populate(platform)
    _, claims = launch(platform, tool)
    assert claims["name"] == "Ada Lovelace"
    assert "email" not in claims
    assert claims[vocab.CUSTOM] == {"sourced": "10002"}
    assert vocab.NRPS_CLAIM in claims
    assert claims[vocab.AGS_CLAIM]["scope"] == [vocab.SCOPE_SCORE]
    start = platform.start_launch(tool.client_id, "u-bob", "c-1", "LtiDeepLinkingRequest")
    assert start.params["target_link_uri"] == f"{TOOL}/lti/deep"


# -- launches ----------------------------------------------------------------------------------


def test_login_initiation_carries_what_the_tool_needs(
    platform: LocalPlatform, tool: FakeTool
) -> None:
    populate(platform)
    registered = register(platform, tool)
    start = platform.start_launch(
        registered.client_id, "u-ada", "c-1", method="POST", storage_target="_parent"
    )
    assert start.url == f"{tool.url}/login"
    assert start.method == "POST"
    assert start.params == {
        "iss": platform.issuer,
        "login_hint": "u-ada",
        "target_link_uri": f"{tool.url}/launch",
        "lti_message_hint": json.dumps({"launchid": start.launch_id}),
        "lti_deployment_id": registered.deployment_id,
        "client_id": registered.client_id,
        "lti_storage_target": "_parent",
    }
    assert start.as_url().startswith(f"{tool.url}/login?iss=")


def test_the_id_token_verifies_and_carries_every_claim(
    platform: LocalPlatform, tool: FakeTool
) -> None:
    populate(platform)
    registered = register(platform, tool)
    platform.add_resource_link(
        "c-1", "rl-7", registered.client_id, title="Session 1", score_maximum=10
    )
    form, claims = launch(platform, registered, resource_link_id="rl-7", custom={"x": "$User.id"})
    assert form.action == f"{tool.url}/launch"
    assert form.state == "state-1"
    header = jwt.get_unverified_header(form.id_token or "")
    assert (header["alg"], header["kid"]) == ("RS256", platform.signing_kid)
    assert claims["iss"] == platform.issuer
    assert claims["aud"] == registered.client_id
    assert claims["sub"] == "u-ada"
    assert claims["nonce"] == "nonce-1"
    assert 299 <= claims["exp"] - claims["iat"] <= 301
    assert abs(claims["iat"] - time.time()) < 5
    assert (claims["name"], claims["given_name"], claims["family_name"]) == (
        "Ada Lovelace",
        "Ada",
        "Lovelace",
    )
    assert claims["email"] == "ada@example.com"
    assert claims[vocab.MESSAGE_TYPE] == "LtiResourceLinkRequest"
    assert claims[vocab.VERSION] == "1.3.0"
    assert claims[vocab.DEPLOYMENT_ID] == registered.deployment_id
    assert claims[vocab.TARGET_LINK_URI] == f"{tool.url}/launch"
    assert claims[vocab.RESOURCE_LINK] == {"id": "rl-7", "title": "Session 1", "description": ""}
    assert claims[vocab.ROLES] == [LEARNER]
    assert claims[vocab.CONTEXT] == {
        "id": "c-1",
        "label": "RMP",
        "title": "Reverse mentoring programme",
        "type": [vocab.CONTEXT_TYPE_COURSE_SECTION],
    }
    assert claims[vocab.CUSTOM] == {"programme": "Reverse mentoring programme", "x": "u-ada"}
    assert claims[vocab.LIS] == {"person_sourcedid": "10002"}
    presentation = claims[vocab.LAUNCH_PRESENTATION]
    assert presentation["document_target"] == "iframe"
    assert presentation["return_url"].startswith(f"{platform.url}/return?course=c-1")
    assert claims[vocab.NRPS_CLAIM] == {
        "context_memberships_url": f"{platform.url}/api/lti/courses/c-1/memberships",
        "service_versions": ["2.0"],
    }
    ags = claims[vocab.AGS_CLAIM]
    assert ags["lineitems"] == f"{platform.url}/api/lti/courses/c-1/line_items"
    assert ags["lineitem"] == platform.line_items[0].url
    assert set(ags["scope"]) == set(vocab.AGS_SCOPES)
    assert vocab.DL_SETTINGS not in claims
    assert platform.issued_tokens[-1].claims == claims


def test_custom_parameters_are_substituted_and_keyed_like_moodle(
    platform: LocalPlatform, tool: FakeTool
) -> None:
    populate(platform)
    registered = register(
        platform,
        tool,
        custom_parameters={"mentor-Id": "$Person.sourcedId", "cost": "\\$5", "odd": "$Nope"},
    )
    _, ada = launch(platform, registered)
    assert ada[vocab.CUSTOM] == {
        "mentor-Id": "10002",
        "mentor_id": "10002",
        "cost": "$5",
        "odd": "$Nope",
    }
    # Bob has no idnumber: Moodle leaves the variable as it is, and sends no lis claim.
    _, bob = launch(platform, registered, sub="u-bob")
    assert bob[vocab.CUSTOM]["mentor_id"] == "$Person.sourcedId"
    assert vocab.LIS not in bob
    assert bob[vocab.ROLES] == [INSTRUCTOR]


def test_a_tool_without_services_gets_no_service_claims(
    platform: LocalPlatform, tool: FakeTool
) -> None:
    populate(platform)
    registered = register(platform, tool, scopes=[], claims=["iss", "sub"])
    _, claims = launch(platform, registered)
    assert vocab.NRPS_CLAIM not in claims and vocab.AGS_CLAIM not in claims
    assert not {"name", "given_name", "family_name", "email"} & set(claims)


def test_a_deep_linking_request_carries_its_settings(
    platform: LocalPlatform, tool: FakeTool
) -> None:
    populate(platform)
    registered = register(platform, tool)
    _, claims = launch(platform, registered, sub="u-bob", message_type="LtiDeepLinkingRequest")
    assert claims[vocab.MESSAGE_TYPE] == "LtiDeepLinkingRequest"
    assert claims[vocab.TARGET_LINK_URI] == f"{tool.url}/deep"
    assert vocab.RESOURCE_LINK not in claims
    settings = claims[vocab.DL_SETTINGS]
    assert settings["deep_link_return_url"] == platform.deep_link_return_url
    assert settings["accept_types"] == ["ltiResourceLink"]
    assert settings["accept_presentation_document_targets"] == ["iframe", "window"]
    assert settings["accept_multiple"] is True
    assert settings["data"]


def test_a_browser_walks_the_whole_launch_through_a_live_tool(
    platform: LocalPlatform, tool: FakeTool, http: requests.Session
) -> None:
    populate(platform)
    registered = register(platform, tool)
    for method in ("GET", "POST"):
        start = platform.start_launch(registered.client_id, "u-ada", "c-1", method=method)
        answer = browse_launch(start, http)
        assert answer.text == "launched"
    first, second = tool.launches
    assert first["state"] == first["cookie"]
    assert verify(platform, second["id_token"], registered.client_id)["sub"] == "u-ada"
    assert ("GET", "/auth") in [(c.method, c.path) for c in platform.calls]


def test_authorize_location_takes_the_tool_redirect(
    platform: LocalPlatform, tool: FakeTool, http: requests.Session
) -> None:
    populate(platform)
    registered = register(platform, tool)
    start = platform.start_launch(registered.client_id, "u-ada", "c-1")
    redirect = http.get(start.as_url(), allow_redirects=False, timeout=5)
    form = platform.authorize_location(redirect.headers["Location"])
    assert verify(platform, form.id_token or "", registered.client_id)["sub"] == "u-ada"
    with pytest.raises(ValueError, match="authorization endpoint"):
        platform.authorize_location("https://elsewhere.example.org/auth?x=1")


# -- /auth refusals ----------------------------------------------------------------------------


@pytest.fixture
def started(platform: LocalPlatform, tool: FakeTool) -> tuple[RegisteredTool, LaunchStart]:
    populate(platform)
    registered = register(platform, tool)
    return registered, platform.start_launch(registered.client_id, "u-ada", "c-1")


def test_an_unknown_client_or_unregistered_redirect_uri_gets_an_error_page_not_a_redirect(
    platform: LocalPlatform, started: tuple[RegisteredTool, LaunchStart], http: requests.Session
) -> None:
    registered, start = started
    redirect_uri = registered.redirect_uris[0]
    for changes in (
        {"client_id": "nobody"},
        {"redirect_uri": redirect_uri + "/"},
        {"redirect_uri": redirect_uri.replace("http://", "https://")},
        {"redirect_uri": None},
    ):
        params = auth_params(start, redirect_uri, **changes)
        with pytest.raises(AuthorizationRefused):
            platform.authorize(params)
        answer = http.get(platform.authorization_endpoint, params=params, timeout=5)
        assert answer.status_code == 400
        assert "<form" not in answer.text
    assert platform.refusals[0].error == "unauthorized_client"
    # The launch was not used up by the refusals.
    assert platform.authorize(auth_params(start, redirect_uri)).id_token


@pytest.mark.parametrize(
    ("changes", "error"),
    [
        ({"response_type": "code"}, "unsupported_response_type"),
        ({"response_type": "id_token token"}, "unsupported_response_type"),
        ({"scope": "openid profile"}, "invalid_scope"),
        ({"response_mode": "query"}, "invalid_request"),
        ({"prompt": "login"}, "invalid_request"),
        ({"prompt": None}, "invalid_request"),
        ({"nonce": None}, "invalid_request"),
        ({"login_hint": None}, "invalid_request"),
        ({"lti_message_hint": None}, "invalid_request"),
        ({"lti_message_hint": '{"launchid": "ltilaunch-forged"}'}, "invalid_request"),
        ({"lti_message_hint": "not json"}, "invalid_request"),
        ({"login_hint": "u-bob"}, "access_denied"),
    ],
)
def test_a_bad_authentication_request_is_answered_with_an_error_at_the_redirect_uri(
    platform: LocalPlatform,
    started: tuple[RegisteredTool, LaunchStart],
    changes: dict[str, str | None],
    error: str,
) -> None:
    registered, start = started
    form = platform.authorize(auth_params(start, registered.redirect_uris[0], **changes))
    assert form.action == registered.redirect_uris[0]
    assert form.error == error
    assert form.state == "state-1"
    assert form.fields["error_description"]
    assert form.id_token is None
    assert platform.refusals[-1].error == error


def test_a_login_is_good_for_one_launch_only(
    platform: LocalPlatform, started: tuple[RegisteredTool, LaunchStart], http: requests.Session
) -> None:
    registered, start = started
    params = auth_params(start, registered.redirect_uris[0])
    answer = http.post(platform.authorization_endpoint, data=params, timeout=5)
    assert answer.status_code == 200
    assert LaunchForm.parse(answer.text).id_token
    replay = LaunchForm.parse(http.get(platform.authorization_endpoint, params=params).text)
    assert replay.error == "invalid_request"
    assert "already used" in replay.fields["error_description"]


def test_a_launch_for_another_client_is_refused(
    platform: LocalPlatform, started: tuple[RegisteredTool, LaunchStart], tool: FakeTool
) -> None:
    _, start = started
    other = register(platform, tool, redirect_uris=[f"{tool.url}/other"])
    params = auth_params(start, f"{tool.url}/other", client_id=other.client_id)
    assert platform.authorize(params).error == "unauthorized_client"


def test_launch_form_parses_what_auth_answers() -> None:
    form = LaunchForm("https://tool.example.org/launch?a=1&b=2", {"id_token": 'x"<&>', "s": ""})
    parsed = LaunchForm.parse(form.html())
    assert parsed == form
    with pytest.raises(ValueError, match="no <form>"):
        LaunchForm.parse("<html><body>nothing</body></html>")


# -- tampering ---------------------------------------------------------------------------------


def test_tamper_changes_the_next_token_only(platform: LocalPlatform, tool: FakeTool) -> None:
    populate(platform)
    registered = register(platform, tool)
    platform.tamper(claims={"aud": "other"}, remove=[vocab.DEPLOYMENT_ID])
    start = platform.start_launch(registered.client_id, "u-ada", "c-1")
    token = platform.authorize(auth_params(start, registered.redirect_uris[0])).id_token or ""
    tampered = jwt.decode(token, options={"verify_signature": False})
    assert tampered["aud"] == "other"
    assert vocab.DEPLOYMENT_ID not in tampered
    with pytest.raises(jwt.InvalidAudienceError):
        verify(platform, token, registered.client_id)
    _, clean = launch(platform, registered)
    assert clean[vocab.DEPLOYMENT_ID] == registered.deployment_id


def test_tamper_can_last(platform: LocalPlatform, tool: FakeTool) -> None:
    populate(platform)
    registered = register(platform, tool)
    platform.tamper(multi_aud=True, once=False)
    for _ in range(2):
        _, claims = launch(platform, registered)
        assert claims["aud"][0] == registered.client_id and len(claims["aud"]) == 2
        assert claims["azp"] == registered.client_id
    platform.clear_tampering()
    assert launch(platform, registered)[1]["aud"] == registered.client_id


def _next_token(platform: LocalPlatform, registered: RegisteredTool) -> str:
    start = platform.start_launch(registered.client_id, "u-ada", "c-1")
    return platform.authorize(auth_params(start, registered.redirect_uris[0])).id_token or ""


@pytest.mark.parametrize(
    ("sign_with", "refusal"),
    [
        ("unknown-key", StopIteration),
        ("expired", jwt.ExpiredSignatureError),
        ("no-kid", KeyError),
        ("none", KeyError),
        ("hs256", jwt.InvalidAlgorithmError),
    ],
)
def test_sign_with_makes_tokens_a_tool_must_refuse(
    platform: LocalPlatform, tool: FakeTool, sign_with: str, refusal: type[Exception]
) -> None:
    populate(platform)
    registered = register(platform, tool)
    platform.tamper(sign_with=sign_with)
    token = _next_token(platform, registered)
    with pytest.raises(refusal):
        verify(platform, token, registered.client_id)
    assert verify(platform, _next_token(platform, registered), registered.client_id)


def test_tamper_rejects_an_unknown_signing_trick(platform: LocalPlatform) -> None:
    with pytest.raises(ValueError, match="sign_with"):
        platform.tamper(sign_with="rot13")


def test_clock_skew_moves_iat(platform: LocalPlatform, tool: FakeTool) -> None:
    populate(platform)
    registered = register(platform, tool)
    platform.clock_skew = 120
    token = _next_token(platform, registered)
    with pytest.raises(jwt.ImmatureSignatureError):
        verify(platform, token, registered.client_id)


# -- the token endpoint ------------------------------------------------------------------------


def assertion(
    key: SigningKey, client_id: str, audience: str, *, kid: bool = True, **changes: Any
) -> str:
    now = int(time.time())
    claims = {
        "iss": client_id,
        "sub": client_id,
        "aud": audience,
        "iat": now,
        "exp": now + 60,
        "jti": str(uuid.uuid4()),
        **changes,
    }
    return key.sign({k: v for k, v in claims.items() if v is not None}, kid=kid)


def token_request(
    http: requests.Session, platform: LocalPlatform, client_assertion: str, scope: str
) -> requests.Response:
    form = {
        "grant_type": "client_credentials",
        "client_assertion_type": vocab.CLIENT_ASSERTION_TYPE,
        "client_assertion": client_assertion,
        "scope": scope,
    }
    return http.post(platform.token_endpoint, data=form, timeout=5)


def access_token(
    http: requests.Session,
    platform: LocalPlatform,
    registered: RegisteredTool,
    key: SigningKey,
    *scopes: str,
) -> str:
    signed = assertion(key, registered.client_id, platform.token_endpoint)
    answer = token_request(http, platform, signed, " ".join(scopes))
    assert answer.status_code == 200, answer.text
    return answer.json()["access_token"]


def test_the_token_endpoint_grants_the_registered_scopes_asked_for(
    platform: LocalPlatform, tool: FakeTool, tool_key: SigningKey, http: requests.Session
) -> None:
    registered = register(platform, tool, scopes=[vocab.SCOPE_SCORE, vocab.SCOPE_NRPS])
    signed = assertion(tool_key, registered.client_id, platform.token_endpoint)
    answer = token_request(http, platform, signed, f"{vocab.SCOPE_SCORE} {vocab.SCOPE_LINEITEM}")
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 3600
    assert body["scope"] == vocab.SCOPE_SCORE
    assert body["access_token"]
    assert answer.headers["Cache-Control"] == "no-store"
    assert platform.jwks_fetches == [f"{tool.url}/jwks"]
    # The key is cached: a second request does not fetch the JWKS again.
    access_token(http, platform, registered, tool_key, vocab.SCOPE_NRPS)
    assert tool.jwks_hits == 1


def test_a_replayed_client_assertion_is_refused(
    platform: LocalPlatform, tool: FakeTool, tool_key: SigningKey, http: requests.Session
) -> None:
    registered = register(platform, tool)
    signed = assertion(tool_key, registered.client_id, platform.token_endpoint)
    assert token_request(http, platform, signed, vocab.SCOPE_SCORE).status_code == 200
    again = token_request(http, platform, signed, vocab.SCOPE_SCORE)
    assert again.status_code == 401
    assert again.json()["error"] == "invalid_client"
    assert "jti" in again.json()["error_description"]


def test_a_new_tool_key_is_fetched_when_its_kid_is_unknown(
    platform: LocalPlatform, tool: FakeTool, tool_key: SigningKey, http: requests.Session
) -> None:
    registered = register(platform, tool)
    access_token(http, platform, registered, tool_key, vocab.SCOPE_SCORE)
    rotated = SigningKey.generate("tool-key-2")
    tool.keys = [tool_key, rotated]
    access_token(http, platform, registered, rotated, vocab.SCOPE_SCORE)
    assert tool.jwks_hits == 2


@pytest.mark.parametrize(
    ("case", "status", "error"),
    [
        ("wrong audience", 401, "invalid_client"),
        ("expired", 401, "invalid_client"),
        ("no jti", 401, "invalid_client"),
        ("iss is not sub", 401, "invalid_client"),
        ("unknown client", 401, "invalid_client"),
        ("unknown key", 401, "invalid_client"),
        ("no kid", 401, "invalid_client"),
        ("not a jwt", 401, "invalid_client"),
        ("scope not granted", 400, "invalid_scope"),
        ("no scope", 400, "invalid_request"),
        ("wrong grant", 400, "unsupported_grant_type"),
        ("wrong assertion type", 401, "invalid_client"),
        ("json body", 400, "invalid_request"),
    ],
)
def test_the_token_endpoint_refuses(
    platform: LocalPlatform,
    tool: FakeTool,
    tool_key: SigningKey,
    http: requests.Session,
    case: str,
    status: int,
    error: str,
) -> None:
    registered = register(platform, tool, scopes=[vocab.SCOPE_SCORE])
    client_id, audience = registered.client_id, platform.token_endpoint
    key, kid, scope = tool_key, True, vocab.SCOPE_SCORE
    changes: dict[str, Any] = {}
    form_changes: dict[str, str] = {}
    if case == "wrong audience":
        audience = platform.issuer
    elif case == "expired":
        changes = {"iat": int(time.time()) - 600, "exp": int(time.time()) - 300}
    elif case == "no jti":
        changes = {"jti": None}
    elif case == "iss is not sub":
        changes = {"sub": "someone-else"}
    elif case == "unknown client":
        client_id = "nobody"
    elif case == "unknown key":
        key = SigningKey.generate("stranger")
    elif case == "no kid":
        kid = False
    elif case == "scope not granted":
        scope = vocab.SCOPE_NRPS
    elif case == "no scope":
        scope = ""
    elif case == "wrong grant":
        form_changes = {"grant_type": "password"}
    elif case == "wrong assertion type":
        form_changes = {"client_assertion_type": "urn:ietf:params:oauth:grant-type:jwt-bearer"}
    signed = assertion(key, client_id, audience, kid=kid, **changes)
    form = {
        "grant_type": "client_credentials",
        "client_assertion_type": vocab.CLIENT_ASSERTION_TYPE,
        "client_assertion": "not.a.jwt" if case == "not a jwt" else signed,
        "scope": scope,
        **form_changes,
    }
    if case == "json body":
        answer = http.post(platform.token_endpoint, json=form, timeout=5)
    else:
        answer = http.post(platform.token_endpoint, data=form, timeout=5)
    assert answer.status_code == status, answer.text
    assert answer.json()["error"] == error
    assert platform.refusals[-1].endpoint == "token"


def test_a_tool_key_can_be_registered_without_a_jwks_server(
    tool_key: SigningKey, http: requests.Session
) -> None:
    jwks = {"keys": [tool_key.public_jwk()]}
    fetched: list[str] = []

    def fetch(url: str) -> Any:
        fetched.append(url)
        return jwks

    with LocalPlatform(fetch_json=fetch) as platform:
        static = platform.register_tool(
            initiate_login_uri=f"{TOOL}/login",
            redirect_uris=[f"{TOOL}/launch"],
            jwks_uri=None,
            target_link_uri=f"{TOOL}/launch",
            jwks=jwks,
        )
        fetching = platform.register_tool(
            initiate_login_uri=f"{TOOL}/login",
            redirect_uris=[f"{TOOL}/launch"],
            jwks_uri=f"{TOOL}/jwks",
            target_link_uri=f"{TOOL}/launch",
        )
        for registered in (static, fetching):
            assert access_token(http, platform, registered, tool_key, vocab.SCOPE_SCORE)
        assert fetched == [f"{TOOL}/jwks"]
        assert static.deployment_id != fetching.deployment_id


# -- NRPS --------------------------------------------------------------------------------------

NRPS_ACCEPT = {"Accept": vocab.MEDIA_MEMBERSHIPS}


def test_memberships_are_paged_with_link_headers(
    platform: LocalPlatform, tool: FakeTool, tool_key: SigningKey, http: requests.Session
) -> None:
    populate(platform)
    for n in range(3):
        platform.add_user(sub=f"u-{n}", name=f"Learner {n}")
        platform.enrol("c-1", f"u-{n}", status="Inactive" if n == 2 else "Active")
    registered = register(platform, tool, claims=["iss", "sub", "name"])
    token = access_token(http, platform, registered, tool_key, vocab.SCOPE_NRPS)
    headers = {**NRPS_ACCEPT, "Authorization": f"Bearer {token}"}
    url: str | None = platform.memberships_url("c-1")
    members, pages = [], 0
    while url:
        answer = http.get(url, headers=headers, timeout=5)
        assert answer.status_code == 200, answer.text
        assert answer.headers["Content-Type"] == vocab.MEDIA_MEMBERSHIPS
        body = answer.json()
        assert body["id"] == platform.memberships_url("c-1")
        assert body["context"] == {
            "id": "c-1",
            "label": "RMP",
            "title": "Reverse mentoring programme",
        }
        members += body["members"]
        pages += 1
        url = answer.links.get("next", {}).get("url")
    assert pages == 3
    assert [m["user_id"] for m in members] == ["u-ada", "u-bob", "u-0", "u-1", "u-2"]
    ada = members[0]
    assert ada == {
        "status": "Active",
        "user_id": "u-ada",
        "roles": [LEARNER],
        "name": "Ada Lovelace",
        "given_name": "Ada",
        "family_name": "Lovelace",
        "lis_person_sourcedid": "10002",
    }
    assert "lis_person_sourcedid" not in members[1]
    assert members[4]["status"] == "Inactive"

    learners = http.get(
        platform.memberships_url("c-1"),
        params={"role": "Instructor", "limit": 10},
        headers=headers,
        timeout=5,
    )
    assert [m["user_id"] for m in learners.json()["members"]] == ["u-bob"]
    assert "next" not in learners.links


def test_memberships_refuse_bad_requests(
    platform: LocalPlatform, tool: FakeTool, tool_key: SigningKey, http: requests.Session
) -> None:
    populate(platform)
    registered = register(platform, tool)
    url = platform.memberships_url("c-1")
    nrps = access_token(http, platform, registered, tool_key, vocab.SCOPE_NRPS)
    score_only = access_token(http, platform, registered, tool_key, vocab.SCOPE_SCORE)

    def get(token: str | None, accept: str = vocab.MEDIA_MEMBERSHIPS, target: str = url) -> int:
        headers = {"Accept": accept}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        return http.get(target, headers=headers, timeout=5).status_code

    assert get(None) == 401
    assert get("made-up") == 401
    assert get(score_only) == 403
    assert get(nrps, accept="application/json") == 406
    assert get(nrps, target=platform.memberships_url("c-404")) == 404
    assert get(nrps, target=url + "?limit=0") == 400
    assert get(nrps) == 200
    platform.expire_access_tokens()
    assert get(nrps) == 401


# -- AGS ---------------------------------------------------------------------------------------


@pytest.fixture
def ags(
    platform: LocalPlatform, tool: FakeTool, tool_key: SigningKey, http: requests.Session
) -> dict[str, str]:
    """Bearer headers for the AGS scopes, with a course, people and a resource link."""
    populate(platform)
    registered = register(platform, tool)
    platform.add_resource_link("c-1", "rl-1", registered.client_id, title="Session 1")
    token = access_token(http, platform, registered, tool_key, *vocab.AGS_SCOPES)
    readonly = access_token(http, platform, registered, tool_key, vocab.SCOPE_LINEITEM_READONLY)
    return {"all": f"Bearer {token}", "readonly": f"Bearer {readonly}"}


def create(
    http: requests.Session, platform: LocalPlatform, auth: str, body: dict[str, Any]
) -> requests.Response:
    headers = {"Authorization": auth, "Content-Type": vocab.MEDIA_LINEITEM}
    return http.post(
        platform.line_items_url("c-1"), data=json.dumps(body), headers=headers, timeout=5
    )


def score(http: requests.Session, line_item: str, auth: str, **changes: Any) -> requests.Response:
    body = {
        "userId": "u-ada",
        "scoreGiven": 7,
        "scoreMaximum": 10,
        "comment": "Well done",
        "timestamp": datetime.now(UTC).isoformat(),
        "activityProgress": "Completed",
        "gradingProgress": "FullyGraded",
        **changes,
    }
    headers = {"Authorization": auth, "Content-Type": vocab.MEDIA_SCORE}
    body = {k: v for k, v in body.items() if v is not None}
    return http.post(f"{line_item}/scores", data=json.dumps(body), headers=headers, timeout=5)


def test_line_items_are_created_listed_and_filtered(
    platform: LocalPlatform, ags: dict[str, str], http: requests.Session
) -> None:
    made = create(
        http,
        platform,
        ags["all"],
        {
            "label": "Reflection",
            "scoreMaximum": 10,
            "resourceId": "reflection-1",
            "tag": "reflection",
            "resourceLinkId": "rl-1",
        },
    )
    assert made.status_code == 201, made.text
    assert made.headers["Content-Type"] == vocab.MEDIA_LINEITEM
    item = made.json()
    assert item["id"].startswith(platform.line_items_url("c-1") + "/")
    for n in range(2):
        assert create(http, platform, ags["all"], {"label": f"Extra {n}", "scoreMaximum": 5}).ok
    headers = {"Authorization": ags["readonly"], "Accept": vocab.MEDIA_LINEITEMS}
    first = http.get(platform.line_items_url("c-1"), headers=headers, timeout=5)
    assert first.headers["Content-Type"] == vocab.MEDIA_LINEITEMS
    assert [i["label"] for i in first.json()] == ["Reflection", "Extra 0"]
    second = http.get(first.links["next"]["url"], headers=headers, timeout=5)
    assert [i["label"] for i in second.json()] == ["Extra 1"]
    assert "next" not in second.links
    for query in (
        {"resource_link_id": "rl-1"},
        {"tag": "reflection"},
        {"resource_id": "reflection-1"},
    ):
        found = http.get(platform.line_items_url("c-1"), params=query, headers=headers, timeout=5)
        assert found.json() == [item], query
    one = http.get(item["id"], headers={**headers, "Accept": vocab.MEDIA_LINEITEM}, timeout=5)
    assert one.json() == item
    assert platform.line_items[0].label == "Reflection"


def test_a_line_item_is_updated_and_deleted(
    platform: LocalPlatform, ags: dict[str, str], http: requests.Session
) -> None:
    item = create(http, platform, ags["all"], {"label": "Draft", "scoreMaximum": 10}).json()
    headers = {"Authorization": ags["all"], "Content-Type": vocab.MEDIA_LINEITEM}
    changed = {**item, "label": "Final", "scoreMaximum": 20}
    put = http.put(item["id"], data=json.dumps(changed), headers=headers, timeout=5)
    assert put.status_code == 200, put.text
    assert put.json() == changed
    readonly = {"Authorization": ags["readonly"], "Content-Type": vocab.MEDIA_LINEITEM}
    assert http.put(item["id"], data=json.dumps(changed), headers=readonly).status_code == 403
    assert http.delete(item["id"], headers=headers, timeout=5).status_code == 204
    gone = http.get(
        item["id"], headers={"Authorization": ags["all"], "Accept": vocab.MEDIA_LINEITEM}
    )
    assert gone.status_code == 404


@pytest.mark.parametrize(
    "body",
    [
        {"scoreMaximum": 10},
        {"label": "", "scoreMaximum": 10},
        {"label": "x", "scoreMaximum": 0},
        {"label": "x", "scoreMaximum": "10"},
        {"label": "x", "scoreMaximum": 10, "resourceLinkId": "rl-404"},
        {"label": "x", "scoreMaximum": 10, "startDateTime": "tomorrow"},
        {"label": "x", "scoreMaximum": 10, "tag": 5},
    ],
)
def test_a_bad_line_item_is_refused(
    platform: LocalPlatform, ags: dict[str, str], http: requests.Session, body: dict[str, Any]
) -> None:
    answer = create(http, platform, ags["all"], body)
    assert answer.status_code == 400
    assert answer.json()["error"] == "invalid_request"


def test_line_items_check_scopes_and_media_types(
    platform: LocalPlatform, ags: dict[str, str], http: requests.Session
) -> None:
    body = {"label": "x", "scoreMaximum": 1}
    assert create(http, platform, ags["readonly"], body).status_code == 403
    as_json = {"Authorization": ags["all"], "Content-Type": "application/json"}
    url = platform.line_items_url("c-1")
    assert http.post(url, data=json.dumps(body), headers=as_json, timeout=5).status_code == 415
    assert http.get(url, headers={"Authorization": ags["all"]}, timeout=5).status_code == 406
    assert http.get(url, headers={"Accept": vocab.MEDIA_LINEITEMS}, timeout=5).status_code == 401


def test_scores_become_results(
    platform: LocalPlatform, ags: dict[str, str], http: requests.Session
) -> None:
    item = create(http, platform, ags["all"], {"label": "Quiz", "scoreMaximum": 100}).json()
    answer = score(http, item["id"], ags["all"])
    assert answer.status_code == 200, answer.text
    assert platform.scores[-1].score_given == 7
    results = http.get(
        f"{item['id']}/results",
        headers={"Authorization": ags["all"], "Accept": vocab.MEDIA_RESULTS},
        timeout=5,
    )
    assert results.headers["Content-Type"] == vocab.MEDIA_RESULTS
    (result,) = results.json()
    assert result["userId"] == "u-ada"
    assert result["scoreOf"] == item["id"]
    assert result["resultScore"] == 70  # 7 of 10, on the line item's scale of 100
    assert result["resultMaximum"] == 100
    assert result["comment"] == "Well done"
    readonly = {"Authorization": ags["readonly"], "Accept": vocab.MEDIA_RESULTS}
    assert http.get(f"{item['id']}/results", headers=readonly, timeout=5).status_code == 403


def test_a_score_not_fully_graded_keeps_no_grade(
    platform: LocalPlatform, ags: dict[str, str], http: requests.Session
) -> None:
    item = create(http, platform, ags["all"], {"label": "Essay", "scoreMaximum": 10}).json()
    assert score(http, item["id"], ags["all"], gradingProgress="PendingManual").ok
    (result,) = platform.latest_scores.values()
    assert result.score_given is None


def test_a_score_older_than_the_last_one_is_refused(
    platform: LocalPlatform, ags: dict[str, str], http: requests.Session
) -> None:
    item = create(http, platform, ags["all"], {"label": "Quiz", "scoreMaximum": 10}).json()
    now = datetime.now(UTC)
    assert score(http, item["id"], ags["all"], timestamp=now.isoformat()).ok
    older = score(http, item["id"], ags["all"], timestamp=(now - timedelta(minutes=1)).isoformat())
    assert older.status_code == 409
    # Moodle compares whole seconds: a score later within the same second is refused too.
    same_second = now.replace(microsecond=999_999)
    if same_second != now:
        assert (
            score(http, item["id"], ags["all"], timestamp=same_second.isoformat()).status_code
            == 409
        )
    newer = score(
        http,
        item["id"],
        ags["all"],
        scoreGiven=9,
        timestamp=(now + timedelta(seconds=2)).isoformat(),
    )
    assert newer.ok
    assert platform.latest_scores[(item["id"], "u-ada")].score_given == 9
    assert [s.score_given for s in platform.scores] == [7, 9]


def test_a_generic_platform_accepts_a_score_of_the_same_time(
    tool: FakeTool, tool_key: SigningKey, http: requests.Session
) -> None:
    with LocalPlatform(product="generic") as platform:
        populate(platform)
        registered = register(platform, tool)
        auth = f"Bearer {access_token(http, platform, registered, tool_key, *vocab.AGS_SCOPES)}"
        item = platform.add_line_item("c-1", "Quiz", 10)
        stamp = datetime.now(UTC).isoformat()
        assert score(http, item.url, auth, timestamp=stamp).ok
        assert score(http, item.url, auth, timestamp=stamp, scoreGiven=8).ok
        assert (
            platform.openid_configuration()[vocab.PLATFORM_CONFIGURATION]["product_family_code"]
            == "ims-test-platform"
        )


@pytest.mark.parametrize(
    "changes",
    [
        {"userId": None},
        {"userId": "u-stranger"},
        {"userId": "u-bob"},  # an instructor is not gradable
        {"timestamp": None},
        {"timestamp": "2026-01-01T10:00:00"},  # no offset
        {"timestamp": "yesterday"},
        {"activityProgress": "Done"},
        {"gradingProgress": None},
        {"scoreGiven": -1},
        {"scoreGiven": True},
        {"scoreMaximum": None},
        {"scoreMaximum": 0},
        {"comment": 5},
    ],
)
def test_a_bad_score_is_refused(
    platform: LocalPlatform, ags: dict[str, str], http: requests.Session, changes: dict[str, Any]
) -> None:
    item = platform.add_line_item("c-1", "Quiz", 10)
    answer = score(http, item.url, ags["all"], **changes)
    assert answer.status_code == 400, changes
    assert platform.scores == []


def test_scores_check_scope_and_media_type(
    platform: LocalPlatform, ags: dict[str, str], http: requests.Session
) -> None:
    item = platform.add_line_item("c-1", "Quiz", 10)
    assert score(http, item.url, ags["readonly"]).status_code == 403
    headers = {"Authorization": ags["all"], "Content-Type": "application/json"}
    body = json.dumps({"userId": "u-ada"})
    assert http.post(f"{item.url}/scores", data=body, headers=headers).status_code == 415
    assert score(http, item.url + "0", ags["all"]).status_code == 404


def test_the_launch_names_the_line_item_of_its_resource_link(
    platform: LocalPlatform, ags: dict[str, str], http: requests.Session
) -> None:
    registered = next(iter(platform.tools.values()))
    made = create(
        http,
        platform,
        ags["all"],
        {"label": "Session", "scoreMaximum": 3, "resourceLinkId": "rl-1"},
    )
    _, claims = launch(platform, registered, resource_link_id="rl-1")
    assert claims[vocab.AGS_CLAIM]["lineitem"] == made.json()["id"]


# -- deep linking ------------------------------------------------------------------------------


def deep_link_response(
    key: SigningKey, registered: RegisteredTool, platform: LocalPlatform, data: str, **changes: Any
) -> str:
    now = int(time.time())
    claims = {
        "iss": registered.client_id,
        "aud": platform.issuer,
        "iat": now,
        "exp": now + 60,
        "nonce": secrets.token_hex(8),
        vocab.MESSAGE_TYPE: "LtiDeepLinkingResponse",
        vocab.VERSION: "1.3.0",
        vocab.DEPLOYMENT_ID: registered.deployment_id,
        vocab.DL_CONTENT_ITEMS: [
            {
                "type": "ltiResourceLink",
                "title": "Mentoring session 1",
                "url": "https://tool.example.org/launch?session=1",
                "custom": {"session": "1"},
                "lineItem": {"scoreMaximum": 10, "label": "Session 1", "tag": "session"},
            }
        ],
        vocab.DL_DATA: data,
        vocab.DL_MSG: "One session added",
        **changes,
    }
    return key.sign({k: v for k, v in claims.items() if v is not None})


@pytest.fixture
def deep_linking(platform: LocalPlatform, tool: FakeTool) -> tuple[RegisteredTool, str]:
    populate(platform)
    registered = register(platform, tool)
    _, claims = launch(platform, registered, sub="u-bob", message_type="LtiDeepLinkingRequest")
    return registered, claims[vocab.DL_SETTINGS]["data"]


def test_a_deep_linking_response_adds_content(
    platform: LocalPlatform,
    deep_linking: tuple[RegisteredTool, str],
    tool_key: SigningKey,
    http: requests.Session,
) -> None:
    registered, data = deep_linking
    signed = deep_link_response(tool_key, registered, platform, data)
    answer = http.post(platform.deep_link_return_url, data={"JWT": signed}, timeout=5)
    assert answer.status_code == 200, answer.text
    assert "Mentoring session 1" in answer.text
    (response,) = platform.deep_link_responses
    assert response[vocab.DL_DATA] == data
    assert response[vocab.DL_CONTENT_ITEMS][0]["title"] == "Mentoring session 1"
    link = platform.resource_links[-1]
    assert (link.title, link.custom) == ("Mentoring session 1", {"session": "1"})
    (item,) = platform.line_items
    assert (item.label, item.score_maximum, item.resource_link_id) == ("Session 1", 10, link.id)
    # The same request cannot be answered twice.
    replay = http.post(platform.deep_link_return_url, data={"JWT": signed}, timeout=5)
    assert replay.status_code == 400


@pytest.mark.parametrize(
    ("changes", "mentions"),
    [
        ({"aud": "https://elsewhere.example.org"}, "aud"),
        ({vocab.DL_DATA: "forged"}, "data"),
        ({vocab.DL_DATA: None}, "data"),
        ({"nonce": None}, "nonce"),
        ({vocab.MESSAGE_TYPE: "LtiResourceLinkRequest"}, "message_type"),
        ({vocab.VERSION: "1.1"}, "version"),
        ({vocab.DEPLOYMENT_ID: "999"}, "deployment_id"),
        ({vocab.DL_CONTENT_ITEMS: {"type": "ltiResourceLink"}}, "array"),
        (
            {vocab.DL_CONTENT_ITEMS: [{"type": "file", "url": "https://x.example/f"}]},
            "accept_types",
        ),
        ({vocab.DL_CONTENT_ITEMS: [{"type": "ltiResourceLink", "url": "/relative"}]}, "url"),
        ({"exp": int(time.time()) - 100}, "expired"),
        ({"iss": "nobody"}, "iss"),
    ],
)
def test_a_bad_deep_linking_response_is_refused(
    platform: LocalPlatform,
    deep_linking: tuple[RegisteredTool, str],
    tool_key: SigningKey,
    http: requests.Session,
    changes: dict[str, Any],
    mentions: str,
) -> None:
    registered, data = deep_linking
    signed = deep_link_response(tool_key, registered, platform, data, **changes)
    answer = http.post(platform.deep_link_return_url, data={"JWT": signed}, timeout=5)
    assert answer.status_code == 400
    assert mentions in platform.refusals[-1].description
    assert platform.deep_link_responses == []


def test_a_deep_linking_response_signed_with_an_unknown_key_is_refused(
    platform: LocalPlatform,
    deep_linking: tuple[RegisteredTool, str],
    http: requests.Session,
) -> None:
    registered, data = deep_linking
    signed = deep_link_response(SigningKey.generate("stranger"), registered, platform, data)
    assert http.post(platform.deep_link_return_url, data={"JWT": signed}).status_code == 400
    assert "kid" in platform.refusals[-1].description
    assert http.post(platform.deep_link_return_url, data={}).status_code == 400


def test_accept_multiple_false_allows_one_item(
    platform: LocalPlatform, tool: FakeTool, tool_key: SigningKey, http: requests.Session
) -> None:
    populate(platform)
    registered = register(platform, tool)
    _, claims = launch(
        platform, registered, message_type="LtiDeepLinkingRequest", accept_multiple=False
    )
    data = claims[vocab.DL_SETTINGS]["data"]
    two = [{"type": "ltiResourceLink", "title": "A"}, {"type": "ltiResourceLink", "title": "B"}]
    signed = deep_link_response(
        tool_key, registered, platform, data, **{vocab.DL_CONTENT_ITEMS: two}
    )
    assert http.post(platform.deep_link_return_url, data={"JWT": signed}).status_code == 400
    assert "accept_multiple" in platform.refusals[-1].description


# -- bookkeeping -------------------------------------------------------------------------------


def test_the_return_url_and_every_call_are_recorded(
    platform: LocalPlatform, http: requests.Session
) -> None:
    answer = http.get(f"{platform.url}/return", params={"course": "c-1", "lti_msg": "Bye"})
    assert answer.status_code == 200 and "Bye" in answer.text
    assert platform.returns == [{"course": "c-1", "lti_msg": "Bye"}]
    assert http.get(f"{platform.url}/nowhere", timeout=5).status_code == 404
    assert http.put(platform.jwks_url, timeout=5).status_code == 405
    assert platform.calls == [
        ("GET", "/return", "course=c-1&lti_msg=Bye"),
        ("GET", "/nowhere", ""),
        ("PUT", "/jwks", ""),
    ]
    assert platform.calls[0].args == {"course": "c-1", "lti_msg": "Bye"}


def test_start_launch_refuses_what_the_platform_does_not_have(
    platform: LocalPlatform, tool: FakeTool
) -> None:
    populate(platform)
    registered = register(platform, tool, deep_link_uri=None)
    platform.add_course(context_id="c-2", title="Other")
    with pytest.raises(ValueError, match="not enrolled"):
        platform.start_launch(registered.client_id, "u-ada", "c-2")
    with pytest.raises(ValueError, match="deep linking"):
        platform.start_launch(registered.client_id, "u-bob", "c-1", "LtiDeepLinkingRequest")
    with pytest.raises(ValueError, match="client_id"):
        platform.start_launch("nobody", "u-ada", "c-1")
    # Roles given explicitly launch someone without an enrolment (a site admin, say).
    admin = platform.start_launch(
        registered.client_id, "u-ada", "c-2", roles=[vocab.ROLE_ADMINISTRATOR]
    )
    assert admin.params["login_hint"] == "u-ada"
