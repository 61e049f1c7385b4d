"""Launches: the third-party initiated login, and the authentication endpoint (``/auth``).

IMS Security Framework 5.1.1: the platform starts with a login initiation to the tool's
``initiate_login_uri``; the tool answers with an OIDC authentication request (implicit flow,
``response_mode=form_post``, ``prompt=none``); the platform checks it and form-POSTs the
id_token to the registered redirect_uri.
"""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Mapping

from werkzeug.wrappers import Request, Response

from tests.lti_platform import vocab
from tests.lti_platform.claims import launch_claims, sign_id_token
from tests.lti_platform.model import (
    AuthorizationRefused,
    DeepLinkRequest,
    LaunchStart,
    PendingLaunch,
    ResourceLink,
)
from tests.lti_platform.pages import LaunchForm, message_page
from tests.lti_platform.state import State

__all__ = ["auth_endpoint", "authorize", "start_launch"]

_REQUIRED = (
    "scope",
    "response_type",
    "response_mode",
    "prompt",
    "login_hint",
    "lti_message_hint",
    "nonce",
)


def start_launch(
    state: State,
    *,
    client_id: str,
    sub: str,
    course_id: str,
    message_type: str,
    resource_link_id: str | None,
    target_link_uri: str | None,
    roles: list[str] | None,
    custom: Mapping[str, str] | None,
    method: str,
    storage_target: str | None,
    resource_link_title: str | None,
    accept_multiple: bool,
) -> LaunchStart:
    """Record a launch and build the login initiation for it (see ``LocalPlatform``)."""
    tool = state.tools.get(client_id)
    if tool is None:
        raise ValueError(f"no tool with client_id {client_id!r}")
    if sub not in state.users:
        raise ValueError(f"no user {sub!r}")
    course = state.courses.get(course_id)
    if course is None:
        raise ValueError(f"no course {course_id!r}")
    if message_type not in vocab.MESSAGE_TYPES:
        raise ValueError(f"message_type must be one of {vocab.MESSAGE_TYPES}")
    if method not in ("GET", "POST"):
        raise ValueError("method must be GET or POST")
    enrolment = course.enrolments.get(sub)
    if roles is None:
        if enrolment is None:
            raise ValueError(f"{sub!r} is not enrolled in {course_id!r}: enrol them or give roles")
        roles = list(enrolment.roles)
    if message_type == vocab.DEEP_LINKING_REQUEST:
        if tool.deep_link_uri is None:
            raise ValueError(f"tool {client_id!r} has no deep linking (content selection) URL")
        target = target_link_uri or tool.deep_link_uri
        link_id = None
    else:
        link_id = resource_link_id or "rl-1"
        link = state.resource_links.get((course_id, link_id))
        if link is None:
            link = ResourceLink(
                link_id, course_id, client_id, resource_link_title or f"Activity {link_id}"
            )
            state.resource_links[(course_id, link_id)] = link
        elif link.client_id != client_id:
            raise ValueError(f"resource link {link_id!r} belongs to tool {link.client_id!r}")
        target = target_link_uri or link.target_link_uri or tool.target_link_uri
    launch_id = "ltilaunch" + secrets.token_hex(6)
    launch = PendingLaunch(
        launch_id=launch_id,
        client_id=client_id,
        sub=sub,
        course_id=course_id,
        message_type=message_type,
        resource_link_id=link_id,
        target_link_uri=target,
        roles=list(roles),
        custom=dict(custom or {}),
        login_hint=sub,
        created=time.time(),
        accept_multiple=accept_multiple,
    )
    state.launches[launch_id] = launch
    params = {
        "iss": state.issuer,
        "login_hint": launch.login_hint,
        "target_link_uri": target,
        # Moodle's form: JSON naming the launch (the tool must send it back unchanged).
        "lti_message_hint": json.dumps({"launchid": launch_id}),
        "lti_deployment_id": tool.deployment_id,
        "client_id": client_id,
    }
    if storage_target is not None:
        params["lti_storage_target"] = storage_target
    return LaunchStart(tool.initiate_login_uri, params, method, launch_id)


def _launch_of(state: State, hint: str) -> PendingLaunch | None:
    try:
        parsed = json.loads(hint)
    except ValueError:
        return None
    if not isinstance(parsed, dict) or not isinstance(parsed.get("launchid"), str):
        return None
    return state.launches.get(parsed["launchid"])


def authorize(state: State, params: Mapping[str, str]) -> LaunchForm:
    """Check an authentication request; the form to POST to the redirect_uri.

    Raises :class:`AuthorizationRefused` when the error must not go to the redirect_uri.
    """
    client_id = params.get("client_id", "")
    redirect_uri = params.get("redirect_uri", "")
    if not client_id:
        state.refuse("auth", 400, "invalid_request", "client_id is missing")
        raise AuthorizationRefused("invalid_request", "client_id is missing")
    tool = state.tools.get(client_id)
    if tool is None:
        description = f"unknown client_id {client_id!r}"
        state.refuse("auth", 400, "unauthorized_client", description)
        raise AuthorizationRefused("unauthorized_client", description)
    if redirect_uri not in tool.redirect_uris:
        description = (
            f"redirect_uri {redirect_uri!r} is not one registered for the tool "
            f"{tool.redirect_uris} (they must match exactly)"
        )
        state.refuse("auth", 400, "invalid_request", description)
        raise AuthorizationRefused("invalid_request", description)

    def error(code: str, description: str) -> LaunchForm:
        state.refuse("auth", 200, code, description)
        fields = {"error": code, "error_description": description}
        if params.get("state"):
            fields["state"] = params["state"]
        return LaunchForm(redirect_uri, fields)

    missing = [name for name in _REQUIRED if not params.get(name)]
    if missing:
        return error("invalid_request", f"missing parameters: {', '.join(missing)}")
    if params["response_type"] != "id_token":
        return error("unsupported_response_type", "response_type must be id_token")
    if params["scope"] != "openid":
        return error("invalid_scope", "scope must be openid")
    if params["response_mode"] != "form_post":
        return error("invalid_request", "response_mode must be form_post")
    if params["prompt"] != "none":
        return error("invalid_request", "prompt must be none")
    launch = _launch_of(state, params["lti_message_hint"])
    if launch is None:
        return error("invalid_request", "lti_message_hint is not one this platform sent")
    if launch.used:
        return error("invalid_request", "this login (lti_message_hint) was already used")
    if launch.client_id != client_id:
        return error("unauthorized_client", "the launch was for another client_id")
    if params["login_hint"] != launch.login_hint:
        return error("access_denied", "login_hint is not the one sent with this launch")
    if time.time() - launch.created > state.settings.login_ttl:
        return error("invalid_request", "the login initiation has expired")
    launch.used = True
    if launch.message_type == vocab.DEEP_LINKING_REQUEST:
        data = "dl-" + secrets.token_urlsafe(12)
        state.dl_requests[data] = DeepLinkRequest(
            data=data,
            client_id=client_id,
            deployment_id=tool.deployment_id,
            course_id=launch.course_id,
            sub=launch.sub,
            accept_types=["ltiResourceLink"],
            accept_multiple=launch.accept_multiple,
        )
        launch.dl_data = data
    claims = launch_claims(state, launch, tool, params["nonce"])
    issued = sign_id_token(state, claims, launch.launch_id)
    fields = {"id_token": issued.jwt}
    if params.get("state"):
        fields["state"] = params["state"]
    return LaunchForm(redirect_uri, fields)


def auth_endpoint(state: State, request: Request) -> Response:
    """``GET/POST /auth``: the form page, or an error page when there is nowhere to send it."""
    params = request.form if request.method == "POST" else request.args
    try:
        form = authorize(state, params.to_dict())
    except AuthorizationRefused as refused:
        page = message_page("Invalid request", f"{refused.error}: {refused.description}")
        return Response(page, status=400, content_type="text/html; charset=utf-8")
    response = Response(form.html(), content_type="text/html; charset=utf-8")
    response.headers["Cache-Control"] = "no-store"
    return response
