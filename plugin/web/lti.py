"""The LTI 1.3 tool's routes: OIDC login, launch, the tool's key set, deep linking.

A learner's launch shows their own transcript; an instructor's or administrator's the
programme dashboard (the impact report, in aggregate). A refused launch gets a page naming
what is wrong (JSON for API callers); nothing of it is kept.
"""

from __future__ import annotations

import io
import re
from urllib.parse import urlsplit

from flask import Blueprint, Response, current_app, g, jsonify, redirect, render_template, request

from mentorbridge.plugin.errors import UnknownReferenceError
from mentorbridge.plugin.lti.claims import DEEP_LINKING
from mentorbridge.plugin.lti.courses import remember_course
from mentorbridge.plugin.lti.deep_linking import ITEMS, make_ticket, read_ticket, response_jwt
from mentorbridge.plugin.lti.errors import LaunchRefused
from mentorbridge.plugin.lti.launch import VerifiedLaunch, cookie_name
from mentorbridge.plugin.lti.linking import Identity, link_user
from mentorbridge.plugin.lti.platforms import RegisteredPlatform
from mentorbridge.plugin.lti.registration import register_with_platform
from mentorbridge.plugin.lti.tool import LtiTool
from mentorbridge.plugin.mapping.file import load_mapping
from mentorbridge.plugin.reports.filters import ImpactFilters
from mentorbridge.plugin.reports.formats import format_for
from mentorbridge.plugin.reports.impact import impact_report
from mentorbridge.plugin.reports.transcript import read_transcript
from mentorbridge.plugin.web.headers import page_policy, template_scripts, template_styles
from mentorbridge.plugin.web.services import services

__all__ = ["bp"]

bp = Blueprint("lti", __name__)

_STYLE = re.compile(r"<style(?:\s[^>]*)?>(.*?)</style>", re.DOTALL | re.IGNORECASE)


def tool() -> LtiTool:
    app = services()
    if app.lti is None:
        app.lti = LtiTool(app.config, app.store)
    return app.lti


@bp.get("/.well-known/jwks.json")
def jwks() -> Response:
    response = jsonify(tool().keys.jwks())
    response.headers["Cache-Control"] = "public, max-age=300"
    return response


@bp.route("/lti/login", methods=["GET", "POST"])
def login() -> Response:
    params = {k: v for k, v in (request.form if request.method == "POST" else request.args).items()}
    started = tool().launcher.login(params)
    if started.storage_target:
        response = _page(
            "lti_storage_put.html",
            started.platform,
            target=started.storage_target,
            origin=started.platform_origin,
            key=started.storage_key,
            value=started.binding,
            next=started.url,
        )
    else:
        response = redirect(started.url, code=302)
    _set_binding_cookie(response, started.cookie_name, started.binding)
    return response


@bp.post("/lti/launch")
def launch() -> Response:
    form = request.form
    id_token, state = form.get("id_token", ""), form.get("state", "")
    binding = (form.get("binding") or request.cookies.get(cookie_name(state))) if state else None
    try:
        verified = tool().launcher.launch(id_token, state, binding)
    except LaunchRefused as refused:
        if refused.code == "no_browser_binding" and not form.get("binding"):
            target = tool().launcher.storage_target(state) or form.get("lti_storage_target")
            if target:  # the frame gets no cookie: the binding is in the platform's storage
                return _fetch_binding_page(id_token, state, target)
        raise
    response = _show(verified)
    response.delete_cookie(cookie_name(state), path="/lti/launch")
    return response


@bp.post("/lti/deep-link")
def deep_link() -> Response:
    lti = tool()
    ticket = read_ticket(lti.keys, lti.urls.base, request.form.get("ticket", ""))
    platform = lti.platforms.get(int(ticket["platform_id"]))
    choice = next((c for c in ITEMS if c.key == request.form.get("item")), None)
    if platform is None or choice is None:
        raise LaunchRefused("bad_ticket", "this selection is no longer valid: start again")
    signed = response_jwt(lti.keys, platform, ticket, choice, lti.urls.launch)
    return _page(
        "lti_autopost.html",
        platform,
        title="Adding the link to the course …",
        action=ticket["return_url"],
        fields={"JWT": signed},
        form_action=[_origin(ticket["return_url"])],
    )


@bp.get("/lti/register")
def register() -> Response:
    """Dynamic registration, opened by the LMS with its configuration URL."""
    lti = tool()
    platform = register_with_platform(
        lti.store,
        lti.urls,
        one_time_token=request.args.get("t", ""),
        openid_configuration=request.args.get("openid_configuration", ""),
        registration_token=request.args.get("registration_token"),
        name=lti.settings["tool_name"],
        custom_parameter=lti.settings["custom_parameter"],
        timeout=lti.timeout,
    )
    deployments = ", ".join(platform.deployments) or "none yet"
    return _page(
        "lti_registered.html",
        platform,
        message=(
            f"Registered with {platform.name} ({platform.issuer}) as client {platform.client_id}, "
            f"deployment {deployments}."
        ),
    )


@bp.errorhandler(LaunchRefused)
def refused(err: LaunchRefused) -> Response:
    """A page for a person, JSON for an API caller; the same code and message in both."""
    best = request.accept_mimetypes.best_match(["application/json", "text/html"])
    if best == "application/json":
        response = jsonify(
            {"error": err.code, "message": str(err), "request_id": g.get("request_id")}
        )
        response.status_code = err.status
        return response
    page = render_template(
        "lti_message.html",
        title="Mentorbridge could not open",
        message=str(err),
        code=err.code,
        request_id=g.get("request_id"),
    )
    return Response(page, err.status)


# -- what a launch shows -------------------------------------------------------------------


def _show(verified: VerifiedLaunch) -> Response:
    lti, launch, platform = tool(), verified.launch, verified.platform
    if launch.message_type == DEEP_LINKING:
        ticket = make_ticket(lti.keys, lti.urls.base, platform, launch)
        return _page(
            "lti_picker.html",
            platform,
            items=ITEMS,
            ticket=ticket,
            action=lti.urls.deep_link,
            form_action=["'self'"],
        )
    remember_course(lti.store, platform.id, launch)
    wanted = launch.custom.get("mentorbridge_view")
    if launch.is_staff and wanted != "record":
        return _dashboard(platform)
    identity = Identity(
        subject=launch.subject,
        custom_employee_id=_text(launch.custom.get(lti.settings["custom_parameter"])),
        person_sourcedid=launch.person_sourcedid,
        email=launch.email,
    )
    linked = link_user(lti.store, platform.id, identity, lti.settings["link_by"])
    if linked is None:
        return _page(
            "lti_message.html",
            platform,
            title="Your LMS account is not linked to an employee record",
            message=(
                "Mentorbridge could not tell which employee you are, so it cannot show your "
                "mentoring record. Please tell your LMS administrator."
            ),
            hint=(
                "For the administrator: the launch carried no Employee ID Mentorbridge knows "
                f"(custom parameter {lti.settings['custom_parameter']}, the LIS person "
                "sourcedid, or a work email matching one worker). Set the user's ID number "
                "in the LMS to their Workday Employee ID (`mentorbridge sync moodle` does it "
                "for Moodle), or see `mentorbridge lti links`."
            ),
            status=403,
        )
    app = services()
    try:
        record = read_transcript(
            app.store, linked.worker_id, viewer="learner", lrs=app.transcript_lrs
        )
    except UnknownReferenceError:
        return _page(
            "lti_message.html",
            platform,
            title="No reverse-mentoring record yet",
            message="Your mentoring sessions will appear here once your first pair starts.",
        )
    return _page("transcript.html", platform, t=record)


def _dashboard(platform: RegisteredPlatform) -> Response:
    app = services()
    mapping = load_mapping(app.config.mapping_file)
    report = impact_report(app.store, mapping, ImpactFilters.from_strings({}))
    buffer = io.BytesIO()
    format_for("html").write(report, buffer)
    html = buffer.getvalue().decode("utf-8")
    response = Response(html, content_type="text/html; charset=utf-8")
    response.headers["Content-Security-Policy"] = page_policy(
        _STYLE.findall(html), _frame_ancestors(platform)
    )
    _private(response)
    return response


# -- plumbing ------------------------------------------------------------------------------


def _page(
    template: str,
    platform: RegisteredPlatform,
    *,
    status: int = 200,
    form_action: list[str] | None = None,
    **values: object,
) -> Response:
    """An HTML page the platform may frame, with the scripts of the LTI templates allowed."""
    response = Response(render_template(template, **values), status)
    styles, scripts = _template_blocks()
    response.headers["Content-Security-Policy"] = page_policy(
        styles,
        _frame_ancestors(platform),
        scripts=scripts,
        form_action=form_action or ["'self'"],
    )
    _private(response)
    return response


def _template_blocks() -> tuple[list[str], list[str]]:
    """The templates' inline styles and scripts, read once per app (not per page)."""
    blocks = current_app.extensions.get("mentorbridge_lti_blocks")
    if blocks is None:
        blocks = (template_styles(current_app), template_scripts(current_app))
        current_app.extensions["mentorbridge_lti_blocks"] = blocks
    return blocks


def _fetch_binding_page(id_token: str, state: str, target: str) -> Response:
    """The browser has no state cookie (blocked in the frame): ask the platform's storage
    for the binding the login left there, then post the launch again with it."""
    lti = tool()
    platform, _claims = lti.launcher.verify(id_token)
    return _page(
        "lti_storage_get.html",
        platform,
        action=lti.urls.launch,
        target=target,
        origin=_origin(platform.auth_login_url),
        key=f"mentorbridge_state_{state}",
        id_token=id_token,
        state=state,
    )


def _set_binding_cookie(response: Response, name: str, value: str) -> None:
    secure = urlsplit(tool().urls.base).scheme == "https"
    response.set_cookie(
        name,
        value,
        max_age=tool().settings["launch_ttl_seconds"],
        path="/lti/launch",
        secure=secure,
        httponly=True,
        # A launch is a cross-site POST from the LMS: only SameSite=None cookies go with it,
        # and browsers take those only when Secure (over https). On plain http (a trial on
        # one host) Lax is what browsers accept.
        samesite="None" if secure else "Lax",
    )


def _frame_ancestors(platform: RegisteredPlatform) -> list[str]:
    return sorted({_origin(platform.issuer), _origin(platform.auth_login_url)})


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def _private(response: Response) -> None:
    response.headers["Cache-Control"] = "private, no-store"


def _text(value: object) -> str | None:
    return value if isinstance(value, str) else None
