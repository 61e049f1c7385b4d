"""The local Moodle-shaped site: a WSGI app for ``/webservice/rest/server.php`` served from a
thread on 127.0.0.1, answering as the recorded Moodle 4.3 site does.

    with LocalMoodleSite() as site:
        requests.post(f"{site.url}/webservice/rest/server.php", data={
            "wstoken": site.token, "wsfunction": "core_webservice_get_site_info",
            "moodlewsrestformat": "json"})
"""

from __future__ import annotations

import contextlib
import json
import secrets
import socket
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any

from werkzeug.serving import ThreadedWSGIServer, WSGIRequestHandler
from werkzeug.wrappers import Request, Response

from .call import Call, Function
from .errors import (
    WSError,
    access_exception,
    invalid_parameter,
    invalid_token,
    missing_record,
    moodle_exception,
)
from .functions import FUNCTIONS, IMPLEMENTED_FUNCTIONS, KNOWN_FUNCTIONS
from .params import as_lists, parse_fields, validate
from .state import ADMIN_ID, SiteState, UserEvidence
from .xmlout import xml_error, xml_response

__all__ = ["ENDPOINT", "LocalMoodleSite"]

ENDPOINT = "/webservice/rest/server.php"
_HTML = "text/html; charset=utf-8"
_XML = "application/xml; charset=utf-8"


class _QuietHandler(WSGIRequestHandler):
    """No access log line per request (the benchmark makes thousands)."""

    def log_request(self, *_args: object) -> None:
        pass


class _Server(ThreadedWSGIServer):
    """Threaded, and stopping closes the connections clients keep open, then waits for their
    threads: nothing is left behind (no socket, no thread) once :meth:`server_close` returns."""

    daemon_threads = False
    block_on_close = True

    def __init__(self, port: int, app: Callable[..., Any]) -> None:
        super().__init__("127.0.0.1", port, app, handler=_QuietHandler)
        self._open: set[socket.socket] = set()
        self._open_lock = threading.Lock()

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._open_lock:
            self._open.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self._open_lock:
            self._open.discard(request)
        super().shutdown_request(request)

    def close_connections(self) -> None:
        """End kept-alive connections: their handler threads read EOF and finish."""
        with self._open_lock:
            sockets = list(self._open)
        for sock in sockets:
            with contextlib.suppress(OSError):  # already closed by the client
                sock.shutdown(socket.SHUT_RDWR)


class LocalMoodleSite:
    """A stateful Moodle-shaped site for tests and the demo.

    Args:
        delay: seconds each call sleeps before it is answered (calls overlap while they sleep).
        debug: developer debugging: error answers carry ``debuginfo``.
        viewfullnames: the integration role holds ``moodle/site:viewfullnames``; without it
            user lists leave out ``firstname`` and ``lastname``.
        functions: the functions of the token's service; every implemented one by default.
            ``RECORDED_SERVICE_FUNCTIONS`` is the recorded site's service.
        webservices_enabled: off, every request gets HTTP 403 with an empty body.
        token: the one valid ``wstoken`` (a random one by default).
        port: TCP port on 127.0.0.1 (a free one by default).
        clock: the site's time, in seconds (``time.time`` by default).
        course: seed course 2 "RMP" with its three activities.
        completion_criteria: give course 2 its completion criteria (all three activities).
        competencies_enabled: off, competency functions fail with ``competenciesarenotenabled``.
        completion_enabled: the site-wide ``enablecompletion``.

    ``delay``, ``debug``, ``viewfullnames`` and ``webservices_enabled`` may be changed while the
    site runs, as an admin would change the setting.
    """

    def __init__(
        self,
        delay: float = 0.0,
        debug: bool = False,
        viewfullnames: bool = True,
        functions: Iterable[str] | None = None,
        webservices_enabled: bool = True,
        token: str | None = None,
        *,
        port: int = 0,
        clock: Callable[[], float] = time.time,
        course: bool = True,
        completion_criteria: bool = True,
        competencies_enabled: bool = True,
        completion_enabled: bool = True,
    ) -> None:
        self.delay = delay
        self.debug = debug
        self.viewfullnames = viewfullnames
        self.webservices_enabled = webservices_enabled
        self.token = token or secrets.token_hex(16)
        self.clock = clock
        chosen = set(IMPLEMENTED_FUNCTIONS if functions is None else functions)
        unknown = chosen - set(FUNCTIONS)
        if unknown:
            raise ValueError(f"the local site does not implement {', '.join(sorted(unknown))}")
        #: The service's functions, in service order.
        self.functions: tuple[str, ...] = tuple(n for n in IMPLEMENTED_FUNCTIONS if n in chosen)
        self.state = SiteState.seeded(course=course, completion_criteria=completion_criteria)
        self.state.competencies_enabled = competencies_enabled
        self.state.completion_enabled = completion_enabled
        #: Every request, in order: (wsfunction, its parameters as nested dicts and lists).
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self._calls_lock = threading.Lock()
        self._port = port
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    # Running.
    @property
    def url(self) -> str:
        """``http://127.0.0.1:PORT``, the site's ``wwwroot`` (once started)."""
        if self._server is None:
            raise RuntimeError("the local Moodle site is not running: call start() first")
        return f"http://127.0.0.1:{self._server.server_port}"

    @property
    def endpoint(self) -> str:
        """The REST endpoint's URL."""
        return self.url + ENDPOINT

    def start(self) -> LocalMoodleSite:
        """Serve from a daemon thread on 127.0.0.1."""
        if self._server is None:
            self._server = _Server(self._port, self.wsgi)
            self._thread = threading.Thread(
                target=self._server.serve_forever,
                kwargs={"poll_interval": 0.05},  # stop() waits at most this long
                name="local-moodle",
                daemon=True,
            )
            self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and close the socket."""
        if self._server is None:
            return
        self._server.shutdown()
        if self._thread is not None:
            self._thread.join()
        self._server.close_connections()
        self._server.server_close()
        self._server, self._thread = None, None

    def __enter__(self) -> LocalMoodleSite:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.stop()

    def reset_calls(self) -> None:
        """Forget the calls recorded so far."""
        with self._calls_lock:
            self.calls.clear()

    def add_user_evidence(
        self,
        userid: int,
        name: str,
        *,
        description: str = "",
        url: str = "",
        competencyids: Iterable[int] = (),
        actor: int = ADMIN_ID,
    ) -> UserEvidence:
        """Evidence of prior learning, created as Moodle's PHP API would (no web service can)."""
        return self.state.add_user_evidence(
            userid=userid,
            name=name,
            now=int(self.clock()),
            site_url=self.url,
            description=description,
            url=url,
            competencyids=tuple(competencyids),
            actor=actor,
        )

    # The web service.
    def wsgi(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        """The WSGI application."""
        return self._respond(Request(environ))(environ, start_response)

    def _respond(self, request: Request) -> Response:
        if request.path != ENDPOINT:
            return Response("", 404, content_type=_HTML)
        if request.method not in ("GET", "POST"):
            return Response("", 405, content_type=_HTML, headers={"Allow": "GET, POST"})
        if not self.webservices_enabled:
            return Response(b"", 403, content_type=_HTML)
        # array_merge($_GET, $_POST): the POST value wins.
        fields = {
            **parse_fields(request.args.items(multi=True)),
            **parse_fields(request.form.items(multi=True)),
        }
        restformat = fields.pop("moodlewsrestformat", None)
        restformat = restformat if restformat in ("json", "xml") else "xml"
        token, function = fields.pop("wstoken", None), fields.pop("wsfunction", None)
        for key in [k for k in fields if k.startswith("moodlewssetting")]:
            del fields[key]
        name = function if isinstance(function, str) else ""
        with self._calls_lock:
            self.calls.append((name, as_lists(fields)))
        if self.delay:
            time.sleep(self.delay)
        site_url = self.url if self._server is not None else request.host_url.rstrip("/")
        debug = self.debug
        try:
            entry, result = self._run(token, name, fields, site_url)
        except WSError as err:
            if restformat == "json":
                return Response(_json(err.as_dict(debug=debug)), content_type="application/json")
            return Response(xml_error(err, debug=debug), content_type=_XML)
        if restformat == "json":
            return Response(_json(result), content_type="application/json")
        return Response(xml_response(result, entry.xml_nulls), content_type=_XML)

    def _run(
        self, token: Any, name: str, fields: dict[str, Any], site_url: str
    ) -> tuple[Function, Any]:
        """What ``webservice_base_server::run`` does: token, function, service, parameters,
        then the function itself under the state's lock."""
        if not isinstance(token, str) or not secrets.compare_digest(token, self.token):
            raise invalid_token()
        if not name:
            raise invalid_parameter("Missing function name")
        if name not in KNOWN_FUNCTIONS:
            raise missing_record("external_functions", name, column="name")
        me = self.state.users[3]
        if me.suspended:
            raise moodle_exception(
                "wsaccessusersuspended",
                f"Refused web service access for suspended username: {me.username}",
            )
        if name not in self.functions:
            raise access_exception(name)
        entry = FUNCTIONS[name]
        params = validate(entry.params, fields)
        with self.state.lock:
            if entry.competency and not self.state.competencies_enabled:
                raise moodle_exception("competenciesarenotenabled", "Competencies are not enabled.")
            call = Call(
                self.state,
                site_url,
                self.clock(),
                self.viewfullnames,
                self.functions,
            )
            return entry, entry.handler(call, params)


def _json(value: Any) -> str:
    """``json_encode``: ASCII only and escaped slashes, as PHP writes them."""
    return json.dumps(value, separators=(",", ":")).replace("/", "\\/")
