"""The local LTI 1.3 platform: a Moodle 4.3 stand-in on 127.0.0.1 for an LTI tool's tests.

    with LocalPlatform() as platform:
        tool = platform.register_tool(initiate_login_uri=..., redirect_uris=[...], ...)
        platform.add_user(sub="u-ada", name="Ada Lovelace", email="ada@example.com")
        platform.add_course(context_id="c-1", title="Reverse mentoring programme", label="RMP")
        platform.enrol("c-1", "u-ada")
        start = platform.start_launch(tool.client_id, "u-ada", "c-1")
        # a browser now opens start.url with start.params; the tool redirects to /auth ...

It answers the flows as the IMS specs say and refuses what they say a platform must refuse,
recording each refusal (:attr:`LocalPlatform.refusals`) so a tool's tests can assert on why.
"""

from __future__ import annotations

import secrets
import threading
import traceback
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any
from urllib.parse import parse_qsl, urlencode

import requests
from werkzeug.exceptions import HTTPException
from werkzeug.routing import Map, Rule
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server
from werkzeug.wrappers import Request, Response

from tests.lti_platform import oidc, registration, services, vocab
from tests.lti_platform.claims import SIGN_WITH
from tests.lti_platform.deep_linking import deep_link_return
from tests.lti_platform.keys import SigningKey
from tests.lti_platform.model import (
    Call,
    Course,
    Enrolment,
    IssuedToken,
    LaunchStart,
    LineItem,
    Refusal,
    RegisteredTool,
    ResourceLink,
    Score,
    Tamper,
    User,
)
from tests.lti_platform.pages import LaunchForm, course_page, message_page
from tests.lti_platform.state import PRODUCTS, Settings, State, json_response

__all__ = ["LocalPlatform"]

_ROUTES = Map(
    [
        Rule("/.well-known/openid-configuration", endpoint="openid", methods=["GET"]),
        Rule("/jwks", endpoint="jwks", methods=["GET"]),
        Rule("/auth", endpoint="auth", methods=["GET", "POST"]),
        Rule("/register", endpoint="register", methods=["POST"]),
        Rule("/token", endpoint="token", methods=["POST"]),
        Rule("/deep_link_return", endpoint="deep_link_return", methods=["POST"]),
        Rule("/return", endpoint="return", methods=["GET"]),
        Rule("/course/view", endpoint="course_view", methods=["GET"]),
        Rule("/api/lti/courses/<course_id>/memberships", endpoint="memberships", methods=["GET"]),
        Rule(
            "/api/lti/courses/<course_id>/line_items",
            endpoint="line_items",
            methods=["GET", "POST"],
        ),
        Rule(
            "/api/lti/courses/<course_id>/line_items/<key>",
            endpoint="line_item",
            methods=["GET", "PUT", "DELETE"],
        ),
        Rule(
            "/api/lti/courses/<course_id>/line_items/<key>/scores",
            endpoint="scores",
            methods=["POST"],
        ),
        Rule(
            "/api/lti/courses/<course_id>/line_items/<key>/results",
            endpoint="results",
            methods=["GET"],
        ),
    ],
    strict_slashes=False,
)

#: What an admin's manual registration sends by default: names and email (Moodle "Always").
DEFAULT_CLAIMS = ("iss", "sub", "name", "given_name", "family_name", "email")
MEMBERSHIP_STATUSES = ("Active", "Inactive", "Deleted")


class _QuietHandler(WSGIRequestHandler):
    # One request per connection: stopping the server then leaves no keep-alive thread behind.
    protocol_version = "HTTP/1.0"

    def log(self, type: str, message: str, *args: Any) -> None:
        pass  # keep test output quiet


def _fetch_json(url: str) -> Any:
    response = requests.get(url, timeout=5, headers={"Accept": "application/json"})
    response.raise_for_status()
    return response.json()


class LocalPlatform:
    """An LTI 1.3 / Advantage platform on 127.0.0.1 (a free port unless ``port`` is given).

    ``product`` is ``"moodle"`` (Moodle 4.3's behaviour where the specs leave room) or
    ``"generic"``. ``page_size`` is the default NRPS/AGS page size. With
    ``strict_media_types`` the services refuse requests that don't name their media types
    (406/415). ``fetch_json`` fetches a tool's JWKS (default: ``requests.get``): give your own
    to serve it from a Flask test client.
    """

    def __init__(
        self,
        *,
        product: str = "moodle",
        page_size: int = 50,
        port: int = 0,
        strict_media_types: bool = True,
        access_token_ttl: int = 3600,
        login_ttl: int = 600,
        id_token_ttl: int = 300,
        fetch_json: Callable[[str], Any] | None = None,
    ) -> None:
        if product not in PRODUCTS:
            raise ValueError(f"product must be one of {sorted(PRODUCTS)}")
        if page_size < 1:
            raise ValueError("page_size must be at least 1")
        settings = Settings(
            product, page_size, strict_media_types, access_token_ttl, login_ttl, id_token_ttl
        )
        self._state = State(settings, fetch_json or _fetch_json)
        self._port = port
        self._server: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle -----------------------------------------------------------------------------

    def start(self) -> LocalPlatform:
        """Listen on 127.0.0.1 and serve in a background thread."""
        if self._server is not None:
            raise RuntimeError("the platform is already running")
        self._server = make_server(
            "127.0.0.1", self._port, self._wsgi, threaded=True, request_handler=_QuietHandler
        )
        self._state.base_url = f"http://127.0.0.1:{self._server.server_port}"
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.01},
            name="lti-platform",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and wait for the server thread."""
        if self._server is None or self._thread is None:
            return
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()
        self._server, self._thread = None, None

    def __enter__(self) -> LocalPlatform:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.stop()

    # -- addresses -----------------------------------------------------------------------------

    @property
    def url(self) -> str:
        """``http://127.0.0.1:<port>`` (the platform must be running)."""
        if self._server is None:
            raise RuntimeError("the platform is not running")
        return self._state.base_url

    @property
    def issuer(self) -> str:
        """The ``iss`` of everything the platform signs: its URL, as Moodle uses its wwwroot."""
        return self.url

    @property
    def openid_configuration_url(self) -> str:
        return f"{self.url}/.well-known/openid-configuration"

    @property
    def authorization_endpoint(self) -> str:
        return f"{self.url}/auth"

    @property
    def token_endpoint(self) -> str:
        return f"{self.url}/token"

    @property
    def jwks_url(self) -> str:
        return f"{self.url}/jwks"

    @property
    def registration_endpoint(self) -> str:
        return f"{self.url}/register"

    @property
    def deep_link_return_url(self) -> str:
        return f"{self.url}/deep_link_return"

    def memberships_url(self, course_id: str) -> str:
        """The NRPS ``context_memberships_url`` of a course."""
        return self._state.memberships_url(course_id)

    def line_items_url(self, course_id: str) -> str:
        """The AGS ``lineitems`` URL of a course."""
        return self._state.line_items_url(course_id)

    def openid_configuration(self) -> dict[str, Any]:
        """What ``/.well-known/openid-configuration`` answers."""
        with self._state.lock:
            return registration.openid_configuration(self._state)

    def jwks(self) -> dict[str, Any]:
        """What ``/jwks`` answers: every published key."""
        with self._state.lock:
            return {"keys": [key.public_jwk() for key in self._state.keys]}

    # -- registration --------------------------------------------------------------------------

    def new_registration_token(self) -> str:
        """A one-time bearer token for ``POST /register``."""
        token = "reg-" + secrets.token_urlsafe(24)
        with self._state.lock:
            self._state.registration_tokens[token] = False
        return token

    def registration_initiation_url(self, tool_registration_url: str) -> str:
        """The URL the admin's browser opens to start Dynamic Registration (with a new token)."""
        query = urlencode(
            {
                "openid_configuration": self.openid_configuration_url,
                "registration_token": self.new_registration_token(),
            }
        )
        separator = "&" if "?" in tool_registration_url else "?"
        return f"{tool_registration_url}{separator}{query}"

    def register_tool(
        self,
        *,
        initiate_login_uri: str,
        redirect_uris: Sequence[str],
        jwks_uri: str | None,
        target_link_uri: str,
        deep_link_uri: str | None = None,
        custom_parameters: Mapping[str, str] | None = None,
        scopes: Sequence[str] | None = None,
        name: str = "Test tool",
        claims: Sequence[str] | None = None,
        jwks: Mapping[str, Any] | None = None,
    ) -> RegisteredTool:
        """Register a tool by hand, as an admin types it into Moodle (LTI 1.3, keyset URL).

        ``scopes`` None grants every service scope; ``claims`` None sends names and email.
        ``jwks`` (a JWKS document) replaces fetching ``jwks_uri``.
        """
        if isinstance(redirect_uris, str):
            raise TypeError("redirect_uris is a list of URLs")
        granted = list(vocab.SERVICE_SCOPES if scopes is None else scopes)
        unknown = set(granted) - set(vocab.SERVICE_SCOPES)
        if unknown:
            raise ValueError(f"unknown scopes {sorted(unknown)}")
        if jwks_uri is None and jwks is None:
            raise ValueError("give jwks_uri or jwks")
        with self._state.lock:
            tool = RegisteredTool(
                client_id=registration.new_client_id(),
                deployment_id=self._state.next_id(),
                name=name,
                initiate_login_uri=initiate_login_uri,
                redirect_uris=list(redirect_uris),
                jwks_uri=jwks_uri,
                target_link_uri=target_link_uri,
                deep_link_uri=deep_link_uri,
                custom_parameters=dict(custom_parameters or {}),
                scopes=granted,
                claims=list(DEFAULT_CLAIMS if claims is None else claims),
                jwks=dict(jwks) if jwks is not None else None,
            )
            self._state.tools[tool.client_id] = tool
            return tool

    @property
    def tools(self) -> dict[str, RegisteredTool]:
        """Registered tools by client_id (manual and dynamic)."""
        with self._state.lock:
            return dict(self._state.tools)

    # -- people and courses --------------------------------------------------------------------

    def add_user(
        self,
        sub: str,
        name: str | None = None,
        given_name: str | None = None,
        family_name: str | None = None,
        email: str | None = None,
        person_sourcedid: str | None = None,
        custom: Mapping[str, str] | None = None,
        *,
        username: str | None = None,
    ) -> User:
        """Add an account. Names default from ``name`` ("Ada Lovelace" → Ada / Lovelace);
        ``person_sourcedid`` is Moodle's idnumber (sent only when set)."""
        full = name or sub
        given, _, family = full.partition(" ")
        user = User(
            sub=sub,
            name=full,
            given_name=given_name if given_name is not None else given,
            family_name=family_name if family_name is not None else family,
            email=email if email is not None else f"{sub}@example.com",
            person_sourcedid=person_sourcedid,
            username=username or sub,
            custom=dict(custom or {}),
        )
        with self._state.lock:
            self._state.users[sub] = user
        return user

    def add_course(
        self,
        context_id: str,
        title: str = "Course",
        label: str | None = None,
        *,
        sourcedid: str | None = None,
    ) -> Course:
        """Add a course (LTI context); ``sourcedid`` is its idnumber."""
        course = Course(context_id, title, label or context_id, sourcedid)
        with self._state.lock:
            self._state.courses[context_id] = course
        return course

    def enrol(
        self,
        course_id: str,
        sub: str,
        roles: Sequence[str] | None = None,
        status: str = "Active",
    ) -> Enrolment:
        """Enrol (or re-enrol) a user; roles default to Learner."""
        if status not in MEMBERSHIP_STATUSES:
            raise ValueError(f"status must be one of {MEMBERSHIP_STATUSES}")
        with self._state.lock:
            if sub not in self._state.users:
                raise ValueError(f"no user {sub!r}")
            course = self._state.courses.get(course_id)
            if course is None:
                raise ValueError(f"no course {course_id!r}")
            enrolment = Enrolment(sub, list(roles or [vocab.ROLE_LEARNER]), status)
            course.enrolments[sub] = enrolment
            return enrolment

    def add_resource_link(
        self,
        course_id: str,
        resource_link_id: str,
        client_id: str,
        *,
        title: str | None = None,
        description: str = "",
        custom: Mapping[str, str] | None = None,
        target_link_uri: str | None = None,
        score_maximum: float | None = None,
    ) -> ResourceLink:
        """Place a tool in a course (a Moodle activity). With ``score_maximum`` the activity
        has its gradebook line item, sent as the AGS ``lineitem`` of its launches."""
        with self._state.lock:
            if course_id not in self._state.courses:
                raise ValueError(f"no course {course_id!r}")
            if client_id not in self._state.tools:
                raise ValueError(f"no tool {client_id!r}")
            link = ResourceLink(
                resource_link_id,
                course_id,
                client_id,
                title or f"Activity {resource_link_id}",
                description,
                dict(custom or {}),
                target_link_uri,
            )
            self._state.resource_links[(course_id, resource_link_id)] = link
            if score_maximum is not None:
                self.add_line_item(
                    course_id, link.title, score_maximum, resource_link_id=resource_link_id
                )
            return link

    def add_line_item(
        self,
        course_id: str,
        label: str,
        score_maximum: float,
        *,
        resource_link_id: str | None = None,
        resource_id: str | None = None,
        tag: str | None = None,
        client_id: str | None = None,
    ) -> LineItem:
        """A gradebook column made on the platform side (visible to ``client_id``, or every
        tool when None; a resource link's column belongs to its tool)."""
        with self._state.lock:
            if course_id not in self._state.courses:
                raise ValueError(f"no course {course_id!r}")
            if resource_link_id is not None:
                link = self._state.resource_links.get((course_id, resource_link_id))
                if link is None:
                    raise ValueError(f"no resource link {resource_link_id!r} in {course_id!r}")
                client_id = client_id or link.client_id
            key = self._state.next_id()
            item = LineItem(
                key=key,
                course_id=course_id,
                url=f"{self._state.line_items_url(course_id)}/{key}",
                label=label,
                score_maximum=float(score_maximum),
                resource_id=resource_id,
                tag=tag,
                resource_link_id=resource_link_id,
                client_id=client_id,
            )
            self._state.line_items[key] = item
            return item

    # -- launches ------------------------------------------------------------------------------

    def start_launch(
        self,
        client_id: str,
        sub: str,
        course_id: str,
        message_type: str = vocab.RESOURCE_LINK_REQUEST,
        resource_link_id: str = "rl-1",
        target_link_uri: str | None = None,
        roles: Sequence[str] | None = None,
        custom: Mapping[str, str] | None = None,
        method: str = "GET",
        storage_target: str | None = None,
        *,
        resource_link_title: str | None = None,
        accept_multiple: bool = True,
    ) -> LaunchStart:
        """Start a launch: the login initiation to send to the tool's initiate_login_uri.

        ``roles`` default to the enrolment's. The resource link is made on first use
        (``resource_link_title``). ``accept_multiple`` goes in deep_linking_settings.
        """
        with self._state.lock:
            return oidc.start_launch(
                self._state,
                client_id=client_id,
                sub=sub,
                course_id=course_id,
                message_type=message_type,
                resource_link_id=resource_link_id,
                target_link_uri=target_link_uri,
                roles=list(roles) if roles is not None else None,
                custom=custom,
                method=method,
                storage_target=storage_target,
                resource_link_title=resource_link_title,
                accept_multiple=accept_multiple,
            )

    def course_page_url(self, start: LaunchStart) -> str:
        """A course page of the platform framing the launch ``start`` (an "Embed" activity),
        with the platform's storage frame answering ``lti.put_data``/``lti.get_data``."""
        return f"{self.url}/course/view?{urlencode({'src': start.as_url()})}"

    def authorize(self, params: Mapping[str, str]) -> LaunchForm:
        """``/auth`` as a call: the form to POST to the redirect_uri (id_token and state, or
        the error). Raises :class:`AuthorizationRefused` for an unknown client or a
        redirect_uri that is not registered (nothing may be sent there)."""
        with self._state.lock:
            return oidc.authorize(self._state, dict(params))

    def authorize_location(self, location: str) -> LaunchForm:
        """:meth:`authorize` for the redirect a tool's login initiation answers: ``location``
        must be the authorization endpoint with the request as its query."""
        base, _, query = location.partition("?")
        if base != self.authorization_endpoint:
            raise ValueError(f"{location!r} is not the authorization endpoint")
        return self.authorize(dict(parse_qsl(query, keep_blank_values=True)))

    # -- knobs ---------------------------------------------------------------------------------

    def tamper(
        self,
        *,
        claims: Mapping[str, Any] | None = None,
        remove: Iterable[str] = (),
        sign_with: str | None = None,
        multi_aud: bool = False,
        once: bool = True,
    ) -> None:
        """Change the next id_token (every one from now on with ``once=False``).

        ``claims`` are set (replacing whole claims), ``remove`` deleted. ``sign_with``:
        ``"unknown-key"`` (a key the JWKS does not list), ``"expired"`` (iat 10 and exp 5
        minutes ago), ``"no-kid"``, ``"none"`` (unsigned) or ``"hs256"`` (HMAC keyed with the
        platform's public key). ``multi_aud`` makes ``aud`` a list with a second audience,
        with ``azp`` the client_id (valid per the spec).
        """
        if sign_with is not None and sign_with not in SIGN_WITH:
            raise ValueError(f"sign_with must be one of {SIGN_WITH}")
        with self._state.lock:
            self._state.tampers.append(
                Tamper(dict(claims or {}), list(remove), sign_with, multi_aud, once)
            )

    def clear_tampering(self) -> None:
        """Forget every pending tamper (``once=False`` ones included)."""
        with self._state.lock:
            self._state.tampers.clear()

    def rotate_keys(self, *, drop_old: bool = False) -> str:
        """Sign with a new key (new kid) from now on; the old keys stay in the JWKS unless
        ``drop_old``. Returns the new kid."""
        key = SigningKey.generate()
        with self._state.lock:
            self._state.keys = [key] if drop_old else [*self._state.keys, key]
        return key.kid

    @property
    def signing_kid(self) -> str:
        """The kid the next id_token is signed with."""
        with self._state.lock:
            return self._state.signing_key.kid

    @property
    def clock_skew(self) -> float:
        """Seconds the platform's clock is ahead (or behind, negative) when it signs."""
        return self._state.clock_skew

    @clock_skew.setter
    def clock_skew(self, seconds: float) -> None:
        self._state.clock_skew = seconds

    def expire_access_tokens(self) -> None:
        """Every service access token issued so far stops working (401)."""
        with self._state.lock:
            self._state.access_tokens.clear()

    # -- what happened -------------------------------------------------------------------------

    @property
    def users(self) -> dict[str, User]:
        with self._state.lock:
            return dict(self._state.users)

    @property
    def courses(self) -> dict[str, Course]:
        with self._state.lock:
            return dict(self._state.courses)

    @property
    def resource_links(self) -> list[ResourceLink]:
        """Resource links (activities), including those made from deep-linking responses."""
        with self._state.lock:
            return list(self._state.resource_links.values())

    @property
    def issued_tokens(self) -> list[IssuedToken]:
        """Every id_token signed, oldest first."""
        with self._state.lock:
            return list(self._state.issued_tokens)

    @property
    def deep_link_responses(self) -> list[dict[str, Any]]:
        """The verified, decoded LtiDeepLinkingResponse JWTs the tool posted."""
        with self._state.lock:
            return list(self._state.deep_link_responses)

    @property
    def line_items(self) -> list[LineItem]:
        with self._state.lock:
            return list(self._state.line_items.values())

    @property
    def scores(self) -> list[Score]:
        """Every score accepted, oldest first."""
        with self._state.lock:
            return list(self._state.scores)

    @property
    def latest_scores(self) -> dict[tuple[str, str], Score]:
        """The score that counts, by (line item URL, user id)."""
        with self._state.lock:
            return dict(self._state.latest_scores)

    @property
    def calls(self) -> list[Call]:
        """Every request received, as (method, path, query)."""
        with self._state.lock:
            return list(self._state.calls)

    @property
    def refusals(self) -> list[Refusal]:
        """Every request refused (or answered with an error), with the reason."""
        with self._state.lock:
            return list(self._state.refusals)

    @property
    def jwks_fetches(self) -> list[str]:
        """Every fetch of a tool's JWKS (URL), oldest first."""
        with self._state.lock:
            return list(self._state.jwks_fetches)

    @property
    def returns(self) -> list[dict[str, str]]:
        """The queries of the visits to the launch_presentation return_url (lti_msg …)."""
        with self._state.lock:
            return list(self._state.returns)

    @property
    def errors(self) -> list[str]:
        """Tracebacks of requests that crashed the platform (answered 500): should stay empty."""
        with self._state.lock:
            return list(self._state.errors)

    # -- HTTP ----------------------------------------------------------------------------------

    def _wsgi(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        request = Request(environ)
        state = self._state
        with state.lock:
            query = request.query_string.decode("latin-1")
            state.calls.append(Call(request.method, request.path, query))
            try:
                response = self._dispatch(request)
            except Exception:  # a bug in the platform: answer 500 and keep the traceback
                state.errors.append(traceback.format_exc())
                response = Response("platform error", status=500, content_type="text/plain")
        return response(environ, start_response)

    def _dispatch(self, request: Request) -> Response:
        state = self._state
        try:
            endpoint, args = _ROUTES.bind_to_environ(request.environ).match()
        except HTTPException as error:
            return error.get_response(request.environ)
        if endpoint == "openid":
            return json_response(registration.openid_configuration(state))
        if endpoint == "jwks":
            return json_response({"keys": [key.public_jwk() for key in state.keys]})
        if endpoint == "course_view":
            return Response(
                course_page(request.args.get("src", "")), content_type="text/html; charset=utf-8"
            )
        if endpoint == "return":
            state.returns.append(request.args.to_dict())
            text = request.args.get("lti_errormsg") or request.args.get("lti_msg") or ""
            page = message_page("Back in the course", text)
            return Response(page, content_type="text/html; charset=utf-8")
        handlers: dict[str, Callable[..., Response]] = {
            "auth": oidc.auth_endpoint,
            "register": registration.register_endpoint,
            "token": services.token_endpoint,
            "deep_link_return": deep_link_return,
            "memberships": services.memberships_endpoint,
            "line_items": services.line_items_endpoint,
            "line_item": services.line_item_endpoint,
            "scores": services.scores_endpoint,
            "results": services.results_endpoint,
        }
        return handlers[endpoint](state, request, **args)
