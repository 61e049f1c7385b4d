"""The Moodle client: form encoding (checked against real recorded requests), decoding of every
recorded result, warnings, retries that are safe for writes, and a token that never leaks."""

from __future__ import annotations

import json
import logging
import socket
import threading
from collections.abc import Iterator
from http.client import RemoteDisconnected
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl

import pytest
import requests
import responses
from urllib3.exceptions import ProtocolError

from mentorbridge.connectors.http import HttpClient
from mentorbridge.connectors.moodle.client import (
    MoodleClient,
    MoodleWarning,
    encode_params,
    is_read_function,
)
from mentorbridge.connectors.moodle.errors import (
    MoodleEndpointError,
    MoodleError,
    MoodleMaintenanceError,
    MoodleTokenError,
    MoodleUnavailableError,
    MoodleWriteUncertainError,
)
from mentorbridge.plugin.errors import (
    ConfigError,
    MentorbridgeError,
    SourceUnavailableError,
    SourceUnreachableError,
)
from tests.connectors.moodle import (
    ENDPOINT,
    SITE,
    TOKEN,
    body_of,
    content_type_of,
    is_error,
    nest,
    recording,
    recording_ids,
)

SUCCESSES = [n for n in recording_ids() if not is_error(recording(n))]
CONTROL = ("wstoken", "wsfunction", "moodlewsrestformat")
READ = "core_user_get_users_by_field"
WRITE = "core_user_create_users"


def make_client(
    sleeps: list[float] | None = None, *, retries: int = 3, url: str = SITE, **http: Any
) -> MoodleClient:
    pauses = sleeps if sleeps is not None else []
    client = HttpClient(
        max_retries=retries, backoff_base=1, backoff_cap=4, sleep=pauses.append, **http
    )
    return MoodleClient(url, TOKEN, http=client)


def sent_fields(call: Any) -> list[tuple[str, str]]:
    return parse_qsl(call.request.body, keep_blank_values=True)


def moodle_answer(answer: Any, status: int = 200) -> dict[str, Any]:
    return {"body": json.dumps(answer), "status": status, "content_type": "application/json"}


INVALID_TOKEN = {
    "exception": "moodle_exception",
    "errorcode": "invalidtoken",
    "message": "Invalid token - token not found",
}


# -- encoding -------------------------------------------------------------------------------


def test_nested_lists_and_objects_use_php_brackets() -> None:
    params = {
        "users": [
            {
                "username": "amara.okafor",
                "customfields": [{"type": "team", "value": "Data"}],
                "preferences": [],
            }
        ],
        "criteria": {"key": "idnumber", "value": "W-1"},
    }
    assert encode_params(params) == [
        ("users[0][username]", "amara.okafor"),
        ("users[0][customfields][0][type]", "team"),
        ("users[0][customfields][0][value]", "Data"),
        ("criteria[key]", "idnumber"),
        ("criteria[value]", "W-1"),
    ]


def test_scalars_booleans_none_and_json_strings() -> None:
    config = '[{"scaleid":"3"},{"id":1,"scaledefault":1,"proficient":0}]'
    params = {
        "visible": True,
        "createpassword": False,
        "flags": [True, False],
        "duedate": None,
        "nested": {"skip": None, "keep": 0},
        "grade": 3,
        "weight": 0.5,
        "competencyframework": {"scaleconfiguration": config},
    }
    assert encode_params(params) == [
        ("visible", "1"),
        ("createpassword", "0"),
        ("flags[0]", "1"),
        ("flags[1]", "0"),
        ("nested[keep]", "0"),
        ("grade", "3"),
        ("weight", "0.5"),
        ("competencyframework[scaleconfiguration]", config),
    ]


def test_other_types_are_refused() -> None:
    with pytest.raises(TypeError, match=r"when: cannot send a object"):
        encode_params({"when": object()})


def test_nest_reads_bracket_keys_back() -> None:
    assert nest({"a[0][b][0][c]": "1", "a[0][d]": "2", "e": "3"}) == {
        "a": [{"b": [{"c": "1"}], "d": "2"}],
        "e": "3",
    }


@pytest.mark.parametrize("number", ["002", "008", "017", "023", "036", "006", "050", "053"])
def test_recorded_requests_encode_back_to_what_was_sent(number: str) -> None:
    recorded = recording(number)["request"]
    fields = {k: v for k, v in recorded.items() if k not in CONTROL}
    assert encode_params(nest(fields)) == list(fields.items())


@responses.activate
@pytest.mark.parametrize("number", ["002", "008", "017", "023", "036"])
def test_client_posts_exactly_the_recorded_form(number: str) -> None:
    rec = recording(number)
    responses.add(responses.POST, ENDPOINT, body=body_of(rec), content_type=content_type_of(rec))
    params = nest({k: v for k, v in rec["request"].items() if k not in CONTROL})

    assert make_client().call(rec["wsfunction"], **params) == rec["response"]

    (call,) = responses.calls
    recorded = [(k, TOKEN if v == "<TOKEN>" else v) for k, v in rec["request"].items()]
    assert sent_fields(call) == recorded
    assert call.request.method == "POST"
    assert call.request.url == ENDPOINT  # the token only in the body
    assert call.request.headers["Content-Type"] == "application/x-www-form-urlencoded"


@responses.activate
def test_control_keys_cannot_be_overridden() -> None:
    with pytest.raises(ValueError, match="wstoken is set by the client"):
        make_client().call(READ, wstoken="other")
    with pytest.raises(ValueError, match="not a Moodle web service function name"):
        make_client().call("core_user_get_users?x=1")
    assert not responses.calls


# -- decoding -------------------------------------------------------------------------------


@responses.activate
@pytest.mark.parametrize("number", SUCCESSES)
def test_every_recorded_result_decodes_exactly(number: str) -> None:
    rec = recording(number)
    responses.add(
        responses.POST,
        ENDPOINT,
        body=body_of(rec),
        status=rec["http_status"],
        content_type=content_type_of(rec),
    )
    client = make_client()

    result = client.call(rec["wsfunction"])

    assert result == rec["response"]
    assert type(result) is type(rec["response"])
    assert client.calls == {rec["wsfunction"]: 1}


def test_the_recordings_cover_every_result_shape() -> None:
    shapes = {type(recording(n)["response"]).__name__ for n in SUCCESSES}
    assert shapes == {"dict", "list", "NoneType", "bool"}
    assert len(SUCCESSES) >= 48


# -- the site URL, the client's face --------------------------------------------------------


@pytest.mark.parametrize(
    "url", [SITE, f"{SITE}/", f"{SITE}//", "  https://lms.example.com/ ", "https://lms.example.com"]
)
def test_site_url_tolerates_a_trailing_slash(url: str) -> None:
    assert make_client(url=url).endpoint == ENDPOINT


def test_site_url_may_have_a_path() -> None:
    client = make_client(url="http://example.com/moodle/")
    assert client.endpoint == "http://example.com/moodle/webservice/rest/server.php"


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("ftp://lms.example.com", "http:// or https://"),
        ("lms.example.com", "http:// or https://"),
        ("https://", "http:// or https://"),
        ("https://lms.example.com/?lang=en", "query"),
        ("https://lms.example.com/#top", "fragment"),
        ("https://admin:pw@lms.example.com", "user name or password"),
        (f"{SITE}/webservice/rest/server.php", "without /webservice/rest/server.php"),
    ],
)
def test_bad_site_urls_are_config_errors(url: str, problem: str) -> None:
    with pytest.raises(ConfigError, match=problem) as caught:
        make_client(url=url)
    assert caught.value.key == "moodle.url"
    assert "pw" not in str(caught.value)


@pytest.mark.parametrize("token", ["", "   ", f" {TOKEN}"])
def test_empty_or_padded_tokens_are_config_errors(token: str) -> None:
    with pytest.raises(ConfigError) as caught:
        MoodleClient(SITE, token)
    assert caught.value.key == "moodle.token"
    assert TOKEN not in str(caught.value)


def test_repr_names_the_site_not_the_token() -> None:
    client = make_client()
    assert repr(client) == f"MoodleClient(site_url='{SITE}')"
    assert TOKEN not in repr(client) and TOKEN not in str(client)


@pytest.mark.parametrize(
    ("function", "read"),
    [
        ("core_webservice_get_site_info", True),
        ("core_user_get_users_by_field", True),
        ("core_competency_list_user_plans", True),
        ("core_competency_read_competency_framework", True),
        ("core_competency_search_competencies", True),
        ("tool_lp_data_for_user_competency_summary", True),
        ("core_user_create_users", False),
        ("core_user_update_users", False),
        ("core_competency_grade_competency_in_plan", False),
        ("enrol_manual_enrol_users", False),
        ("core_completion_override_activity_completion_status", False),
    ],
)
def test_reads_are_told_from_writes_by_name(function: str, read: bool) -> None:
    assert is_read_function(function) is read
    assert make_client().is_read(function) is read


def test_more_reads_can_be_named() -> None:
    client = MoodleClient(SITE, TOKEN, read_functions={"local_rm_fetch"})
    assert client.is_read("local_rm_fetch")
    assert not client.is_read("local_rm_store")


# -- warnings -------------------------------------------------------------------------------


@responses.activate
def test_warnings_are_gathered_and_logged(caplog: pytest.LogCaptureFixture) -> None:
    answer = {
        "warnings": [
            {"item": "user", "itemid": 5, "warningcode": "invaliduser", "message": "Invalid user"},
            {"warningcode": "nopermission", "message": "No permission"},
        ]
    }
    responses.add(responses.POST, ENDPOINT, **moodle_answer(answer))
    responses.add(responses.POST, ENDPOINT, **moodle_answer({"users": [], "warnings": []}))
    client = make_client()

    with caplog.at_level(logging.DEBUG):
        assert client.call("core_user_update_users", users=[{"id": 5}]) == answer

    assert client.take_warnings() == [
        MoodleWarning("core_user_update_users", "user", 5, "invaliduser", "Invalid user"),
        MoodleWarning("core_user_update_users", None, None, "nopermission", "No permission"),
    ]
    assert client.take_warnings() == []
    warned = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warned) == 2
    assert "core_user_update_users" in warned[0].getMessage()
    assert "Invalid user" in warned[0].getMessage() and "5" in warned[0].getMessage()
    assert all(TOKEN not in r.getMessage() for r in caplog.records)

    client.call("core_user_get_users", criteria=[{"key": "idnumber", "value": "W-1"}])
    assert client.take_warnings() == []


@responses.activate
def test_results_without_warnings_leave_none() -> None:
    for answer in ([{"warnings": [{"warningcode": "x", "message": "in a list"}]}], None, True):
        responses.add(responses.POST, ENDPOINT, **moodle_answer(answer))
    client = make_client()
    for _ in range(3):
        client.call(READ)
    assert client.take_warnings() == []
    assert client.calls == {READ: 3}


# -- retries --------------------------------------------------------------------------------


@responses.activate
def test_a_read_is_retried_after_503() -> None:
    responses.add(responses.POST, ENDPOINT, body="", status=503, headers={"Retry-After": "2"})
    responses.add(responses.POST, ENDPOINT, **moodle_answer([{"id": 4}]))
    sleeps: list[float] = []
    client = make_client(sleeps)

    assert client.call(READ, field="idnumber", values=["W-1001"]) == [{"id": 4}]

    assert sleeps == [2.0]
    assert client.calls == {READ: 2}
    assert len(responses.calls) == 2


@responses.activate
def test_a_read_gives_up_after_the_retries() -> None:
    responses.add(responses.POST, ENDPOINT, body="<html>Bad gateway</html>", status=502)
    client = make_client(retries=2)
    with pytest.raises(SourceUnavailableError, match="still failing after 3 attempts"):
        client.call(READ)
    assert client.calls == {READ: 3}


@responses.activate
@pytest.mark.parametrize("function", [READ, WRITE])
def test_a_moodle_error_is_never_retried(function: str) -> None:
    responses.add(responses.POST, ENDPOINT, **moodle_answer(INVALID_TOKEN))
    sleeps: list[float] = []
    client = make_client(sleeps)
    with pytest.raises(MoodleTokenError):
        client.call(function)
    assert len(responses.calls) == 1 and sleeps == []


@responses.activate
def test_maintenance_mode_is_retriable_later_but_not_retried_now() -> None:
    answer = {"exception": "moodle_exception", "errorcode": "sitemaintenance", "message": "Down"}
    responses.add(responses.POST, ENDPOINT, **moodle_answer(answer))
    with pytest.raises(MoodleMaintenanceError) as caught:
        make_client().call(READ)
    assert isinstance(caught.value, SourceUnavailableError)
    assert len(responses.calls) == 1


@responses.activate
@pytest.mark.parametrize("status", [429, 502, 503, 504])
def test_a_write_is_retried_when_moodle_surely_did_not_get_it(status: int) -> None:
    responses.add(responses.POST, ENDPOINT, body="", status=status)
    responses.add(responses.POST, ENDPOINT, **moodle_answer([{"id": 9, "username": "x"}]))
    client = make_client()
    assert client.call(WRITE, users=[{"username": "x"}]) == [{"id": 9, "username": "x"}]
    assert client.calls == {WRITE: 2}


@responses.activate
def test_a_500_on_a_write_is_not_retried() -> None:
    responses.add(responses.POST, ENDPOINT, body="", status=500)
    client = make_client()
    with pytest.raises(MoodleWriteUncertainError, match="may or may not have happened") as caught:
        client.call(WRITE, users=[{"username": "x"}])
    assert isinstance(caught.value, SourceUnavailableError)
    assert "HTTP 500" in str(caught.value) and WRITE in str(caught.value)
    assert len(responses.calls) == 1


@responses.activate
def test_a_500_on_a_read_is_retried() -> None:
    responses.add(responses.POST, ENDPOINT, body="", status=500)
    responses.add(responses.POST, ENDPOINT, body="null", content_type="application/json")
    assert make_client().call(READ) is None
    assert len(responses.calls) == 2


@responses.activate
def test_a_malformed_answer_to_a_write_is_not_retried() -> None:
    responses.add(responses.POST, ENDPOINT, body='[{"id": 9', content_type="application/json")
    with pytest.raises(MoodleWriteUncertainError, match=r"not JSON.*may or may not"):
        make_client().call(WRITE)
    assert len(responses.calls) == 1


@responses.activate
def test_a_connection_dropped_after_sending_a_write_is_not_retried() -> None:
    dropped = requests.ConnectionError(
        ProtocolError("Connection aborted.", RemoteDisconnected("closed without response"))
    )
    responses.add(responses.POST, ENDPOINT, body=dropped)
    client = make_client()
    with pytest.raises(MoodleWriteUncertainError, match="connection broke"):
        client.call(WRITE)
    assert len(responses.calls) == 1 and client.calls == {WRITE: 1}


@responses.activate
def test_a_connection_dropped_on_a_read_is_retried() -> None:
    dropped = requests.ConnectionError(
        ProtocolError("Connection aborted.", RemoteDisconnected("closed without response"))
    )
    responses.add(responses.POST, ENDPOINT, body=dropped)
    responses.add(responses.POST, ENDPOINT, **moodle_answer(True))
    assert make_client().call(READ) is True


@responses.activate
def test_redirects_are_not_followed() -> None:
    responses.add(
        responses.POST, ENDPOINT, status=303, headers={"Location": f"{SITE}/login/index.php"}
    )
    with pytest.raises(
        MoodleEndpointError, match=r"redirects \(303\) to https://lms\.example\.com/login"
    ):
        make_client().call(READ)
    assert len(responses.calls) == 1


# -- real sockets: refused connections and timeouts -----------------------------------------


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def silent_server() -> Iterator[str]:
    """A server that accepts connections (the kernel does) but never answers."""
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(8)
        yield f"http://127.0.0.1:{server.getsockname()[1]}"


@pytest.mark.timeout(30)
def test_connection_refused_on_a_write_is_retried(caplog: pytest.LogCaptureFixture) -> None:
    sleeps: list[float] = []
    client = make_client(sleeps, retries=2, url=f"http://127.0.0.1:{closed_port()}")

    with caplog.at_level(logging.DEBUG), pytest.raises(SourceUnreachableError) as caught:
        client.call(WRITE, users=[{"username": "x", "password": "Pw-1234!x"}])

    assert len(sleeps) == 2
    assert client.calls == {WRITE: 3}
    assert "connection refused" in str(caught.value)
    assert_no_token(caught.value, caplog)


@pytest.mark.timeout(30)
def test_a_read_timeout_on_a_write_is_not_retried(
    silent_server: str, caplog: pytest.LogCaptureFixture
) -> None:
    sleeps: list[float] = []
    client = make_client(sleeps, url=silent_server, read_timeout=0.3)

    with caplog.at_level(logging.DEBUG), pytest.raises(MoodleWriteUncertainError) as caught:
        client.call(WRITE, users=[{"username": "x"}])

    assert sleeps == [] and client.calls == {WRITE: 1}
    assert "did not answer in time" in str(caught.value)
    assert "next run reads back" in str(caught.value)
    assert isinstance(caught.value.__cause__, requests.ReadTimeout)
    assert_no_token(caught.value, caplog)


@pytest.mark.timeout(30)
def test_a_read_timeout_on_a_read_is_retried(silent_server: str) -> None:
    sleeps: list[float] = []
    client = make_client(sleeps, retries=1, url=silent_server, read_timeout=0.2)
    with pytest.raises(SourceUnavailableError, match="timed out"):
        client.call(READ)
    assert len(sleeps) == 1 and client.calls == {READ: 2}


# -- the token never leaks ------------------------------------------------------------------


def chain(err: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    todo: list[BaseException | None] = [err]
    while todo:
        current = todo.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        todo.extend((current.__cause__, current.__context__))


def assert_no_token(err: BaseException, caplog: pytest.LogCaptureFixture) -> None:
    """Not in any log line, nor in the text, repr or args of the error or its causes, nor in
    the request bodies that ``requests`` keeps on them."""
    assert TOKEN not in caplog.text
    for record in caplog.records:
        assert TOKEN not in record.getMessage()
    for current in chain(err):
        assert TOKEN not in str(current)
        assert TOKEN not in repr(current)
        assert TOKEN not in repr(current.args)
        response = getattr(current, "response", None)
        for request in (getattr(current, "request", None), getattr(response, "request", None)):
            body = getattr(request, "body", None) or ""
            assert TOKEN not in (body.decode() if isinstance(body, bytes) else body)
            assert TOKEN not in (getattr(request, "url", None) or "")


class Moodle(BaseHTTPRequestHandler):
    """A stand-in Moodle that plays back ``server.answers`` and records what it was sent."""

    server: Any

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        self.server.received.append((self.path, self.rfile.read(length).decode()))
        status, body = self.server.answers.pop(0)
        data = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def local_moodle() -> Iterator[Any]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Moodle)
    server.answers, server.received = [], []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    server.url = f"http://127.0.0.1:{server.server_address[1]}"
    yield server
    server.shutdown()
    server.server_close()


@pytest.mark.timeout(30)
def test_the_token_stays_out_of_logs_and_errors_over_real_http(
    local_moodle: Any, caplog: pytest.LogCaptureFixture
) -> None:
    warnings = {"warnings": [{"warningcode": "w", "message": "careful", "item": "user"}]}
    local_moodle.answers = [
        (503, ""),
        (200, json.dumps(warnings)),
        (200, json.dumps(INVALID_TOKEN)),
        (500, ""),
    ]
    client = make_client(url=local_moodle.url)

    with caplog.at_level(logging.DEBUG):
        assert client.call(READ, field="id", values=[1]) == warnings
        with pytest.raises(MoodleTokenError) as bad_token:
            client.call(READ)
        with pytest.raises(MoodleWriteUncertainError) as server_error:
            client.call(WRITE)

    assert any(r.name.startswith("urllib3") for r in caplog.records)  # urllib3 was listening
    assert any("retry 1 of 3" in r.getMessage() for r in caplog.records)
    for err in (bad_token.value, server_error.value):
        assert_no_token(err, caplog)
    assert TOKEN not in repr(client)
    # ...while Moodle got it, in the body only.
    assert {path for path, _ in local_moodle.received} == {"/webservice/rest/server.php"}
    assert all(("wstoken", TOKEN) in parse_qsl(body) for _, body in local_moodle.received)


@responses.activate
@pytest.mark.parametrize(
    "answer",
    [
        {"body": json.dumps(INVALID_TOKEN), "content_type": "application/json"},
        {"body": "", "status": 403},
        {"body": "<html>Maintenance</html>", "status": 503},
        {"body": requests.ConnectTimeout("connect timed out")},
        {"body": requests.ReadTimeout("read timed out")},
    ],
)
def test_the_token_stays_out_of_every_error(
    answer: dict[str, Any], caplog: pytest.LogCaptureFixture
) -> None:
    responses.add(responses.POST, ENDPOINT, **answer)
    with caplog.at_level(logging.DEBUG), pytest.raises(MentorbridgeError) as caught:
        make_client(retries=1).call(WRITE)
    assert_no_token(caught.value, caplog)


@responses.activate
def test_a_token_echoed_back_is_scrubbed() -> None:
    echo = {
        "exception": "moodle_exception",
        "errorcode": "strange",
        "message": f"Something about {TOKEN}",
    }
    responses.add(responses.POST, ENDPOINT, **moodle_answer(echo))
    with pytest.raises(MoodleError) as caught:
        make_client().call(READ)
    assert TOKEN not in str(caught.value) and "<token>" in str(caught.value)
    assert TOKEN not in caught.value.moodle_message


def test_unavailable_errors_are_retriable() -> None:
    assert issubclass(MoodleUnavailableError, SourceUnavailableError)
    assert issubclass(MoodleWriteUncertainError, MoodleUnavailableError)
