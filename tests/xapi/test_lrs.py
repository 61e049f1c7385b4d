"""The LRS client: headers, auth, answer classification, and reading with `more` (spec fakes)."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from mentorbridge.plugin.errors import (
    LRSAuthError,
    LRSEndpointError,
    LRSPayloadTooLargeError,
    LRSRejectedError,
    LRSUnavailableError,
)
from mentorbridge.plugin.retry import backoff_delay, parse_retry_after
from mentorbridge.xapi.lrs import LRSClient, LRSCredentials

ENDPOINT = "https://lrs.example.com/tenant-a/xapi/"


def client_for(handler: Callable[[httpx.Request], httpx.Response], **kwargs: Any) -> LRSClient:
    return LRSClient(ENDPOINT, transport=httpx.MockTransport(handler), **kwargs)


def test_post_sends_the_exact_bytes_with_version_header_and_basic_auth() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json=["x"])

    body = b'[{"id":"x","verb":{"id":"http://adlnet.gov/expapi/verbs/attended"}}]'
    with client_for(handler, credentials=LRSCredentials("basic", "mb", "s3cret!")) as client:
        client.post_statements(body)
    (request,) = seen
    assert request.method == "POST"
    assert str(request.url) == ENDPOINT + "statements"
    assert request.content == body
    assert request.headers["X-Experience-API-Version"] == "1.0.3"
    assert request.headers["Content-Type"] == "application/json"
    assert request.headers["Authorization"] == "Basic " + base64.b64encode(b"mb:s3cret!").decode()


def test_bearer_auth_sends_the_token() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(204)

    with client_for(handler, credentials=LRSCredentials("bearer", secret="tok-123")) as client:
        client.post_statements(b"[]")
    assert seen[0].headers["Authorization"] == "Bearer tok-123"


@pytest.mark.parametrize(
    ("status", "error"),
    [
        (400, LRSRejectedError),
        (409, LRSRejectedError),
        (422, LRSRejectedError),
        (401, LRSAuthError),
        (403, LRSAuthError),
        (413, LRSPayloadTooLargeError),
        (429, LRSUnavailableError),
        (500, LRSUnavailableError),
        (502, LRSUnavailableError),
        (503, LRSUnavailableError),
        (404, LRSEndpointError),
        (405, LRSEndpointError),
        (302, LRSEndpointError),
    ],
)
def test_every_answer_becomes_the_error_that_says_what_to_do(status: int, error: type) -> None:
    client = client_for(lambda request: httpx.Response(status, json={"detail": "nope"}))
    with pytest.raises(error, match=f"LRS answered {status}") as caught:
        client.post_statements(b"[]")
    assert caught.value.response.status_code == status


@pytest.mark.parametrize("status", [200, 204])
def test_success_answers_raise_nothing(status: int) -> None:
    client_for(lambda request: httpx.Response(status)).post_statements(b"[]")


def test_retry_after_is_read_in_seconds_and_as_a_date() -> None:
    client = client_for(lambda r: httpx.Response(429, headers={"Retry-After": "7"}))
    with pytest.raises(LRSUnavailableError) as caught:
        client.post_statements(b"[]")
    assert caught.value.retry_after == 7
    now = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
    assert parse_retry_after("Fri, 20 Nov 2026 12:00:30 GMT", now=now) == 30
    assert parse_retry_after("garbage") is None and parse_retry_after(None) is None


@pytest.mark.parametrize(
    "failure",
    [httpx.ConnectError("refused"), httpx.ReadTimeout("slow"), httpx.RemoteProtocolError("reset")],
)
def test_transport_failures_are_retriable(failure: Exception) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise failure

    with pytest.raises(LRSUnavailableError):
        client_for(handler).post_statements(b"[]")


def test_reading_follows_more_relative_to_the_endpoint_origin() -> None:
    """`more` is a relative IRL on the LRS's origin, not under the endpoint path (Data 2.5)."""
    pages = {
        "/tenant-a/xapi/statements": {
            "statements": [{"id": "1"}, {"id": "2"}],
            "more": "/cursor/abc?token=x%2Fy",
        },
        "/cursor/abc": {"statements": [{"id": "3"}], "more": ""},
    }
    seen: list[httpx.URL] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.url)
        return httpx.Response(200, json=pages[request.url.path])

    got = list(client_for(handler).statements(registration="r-1", limit=2))
    assert [s["id"] for s in got] == ["1", "2", "3"]
    assert seen[1] == httpx.URL("https://lrs.example.com/cursor/abc?token=x%2Fy")  # opaque


def test_reading_formats_filters_as_the_spec_wants() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"statements": []})

    agent = {
        "objectType": "Agent",
        "account": {"homePage": "https://id.example.com", "name": "p-1"},
    }
    list(
        client_for(handler).statements(
            agent=agent,
            verb="http://adlnet.gov/expapi/verbs/attended",
            activity="https://x.example.com/a",
            since=datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC),
            until=datetime(2026, 2, 1, tzinfo=UTC),
            ascending=True,
            related_agents=False,
        )
    )
    params = seen[0].url.params
    assert json.loads(params["agent"]) == agent
    assert params["since"] == "2026-01-02T03:04:05.000Z"
    assert params["until"] == "2026-02-01T00:00:00.000Z"
    assert params["ascending"] == "true" and params["related_agents"] == "false"
    assert seen[0].headers["X-Experience-API-Version"] == "1.0.3"


def test_a_more_link_that_repeats_is_an_error_not_an_endless_loop() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"statements": [{"id": "1"}], "more": "/again"})

    with pytest.raises(LRSEndpointError, match="same `more` link twice"):
        list(client_for(handler).statements())


def test_voided_statements_are_fetched_with_voided_statement_id() -> None:
    """A spec LRS hides a voided statement from statementId and serves it on voidedStatementId."""
    stored = {"id": "aaaaaaaa-0000-5000-8000-000000000001", "verb": {"id": "v"}}

    def handler(request: httpx.Request) -> httpx.Response:
        if "voidedStatementId" in request.url.params:
            return httpx.Response(200, json=stored)
        return httpx.Response(404)

    client = client_for(handler)
    assert client.get_statement(stored["id"]) is None
    assert client.get_voided_statement(stored["id"]) == stored


def test_about_is_optional() -> None:
    assert client_for(lambda r: httpx.Response(404)).about() is None
    about = {"version": ["1.0.3", "2.0.0"]}
    assert client_for(lambda r: httpx.Response(200, json=about)).about() == about


def test_backoff_grows_to_its_cap_and_never_overflows() -> None:
    assert 0.5 <= backoff_delay(1, base=1, cap=300) <= 1
    assert 150 <= backoff_delay(10, base=1, cap=300) <= 300
    assert 150 <= backoff_delay(5000, base=1, cap=300) <= 300
    assert backoff_delay(3, base=1, cap=300, retry_after=42) == 42
    assert backoff_delay(3, base=1, cap=30, retry_after=4200) == 30
