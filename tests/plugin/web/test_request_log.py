"""Every log line written while answering a request carries the id the answer gives."""

from __future__ import annotations

import json
import logging

import httpx
import pytest
from flask import Flask

from mentorbridge.plugin.logs import JsonFormatter, TextFormatter
from mentorbridge.plugin.webhooks.sender import EventSender
from tests.plugin.web.conftest import example


def break_the_recorder(monkeypatch: pytest.MonkeyPatch) -> None:
    """A 500 half-way through an event, after another module has logged something."""

    def broken(*_args, **_kwargs):
        logging.getLogger("mentorbridge.plugin.recorder").warning("reading the pair's context")
        raise RuntimeError("statement builder crashed")

    monkeypatch.setattr("mentorbridge.plugin.recorder.Recorder._pair_context", broken)


def test_request_log_the_error_line_of_a_500_carries_the_answers_request_id(
    sender: EventSender, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    sender.send(example("pair.created"))
    break_the_recorder(monkeypatch)
    caplog.set_level("INFO")
    caplog.clear()  # only this request's lines, whatever logging earlier tests set up
    sent = sender.send(example("session.completed"))
    assert sent.status == 500
    request_id = sent.body["request_id"]
    [error] = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert error.name == "mentorbridge.web"
    assert error.request_id == request_id
    during = [r for r in caplog.records if r.name == "mentorbridge.plugin.recorder"]
    assert [r.request_id for r in during] == [request_id]
    [access] = [r for r in caplog.records if r.name == "mentorbridge.web.access"]
    assert access.status == 500 and access.request_id == request_id


def test_request_log_both_formatters_show_the_request_id(
    sender: EventSender, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    sender.send(example("pair.created"))
    break_the_recorder(monkeypatch)
    caplog.set_level("ERROR")
    caplog.clear()
    sent = sender.send(example("session.completed"))
    [error] = [r for r in caplog.records if r.levelno == logging.ERROR]
    line = json.loads(JsonFormatter().format(error))
    assert line["request_id"] == sent.body["request_id"]
    assert line["error"] == "RuntimeError"
    text = TextFormatter("%(levelname)s %(name)s: %(message)s").format(error)
    first_line = text.splitlines()[0]
    assert first_line.endswith(f"[request_id={sent.body['request_id']}]")


def test_request_log_a_callers_request_id_is_the_one_logged(
    app: Flask, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("INFO", logger="mentorbridge.web.access")
    caplog.clear()
    with app.test_client() as client:
        response = client.get("/healthz", headers={"X-Request-Id": "lms-7f3a.42"})
        unsafe = client.get("/healthz", headers={"X-Request-Id": "id with spaces"})
    assert response.headers["X-Request-Id"] == "lms-7f3a.42"
    access = [r for r in caplog.records if r.name == "mentorbridge.web.access"]
    assert [r.request_id for r in access] == [
        "lms-7f3a.42",
        unsafe.headers["X-Request-Id"],
    ]
    assert len(unsafe.headers["X-Request-Id"]) == 32  # made up, not the caller's


def test_request_log_lines_outside_a_request_carry_no_request_id(
    app: Flask, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("INFO")
    client = httpx.Client(transport=httpx.WSGITransport(app=app), base_url="http://mb.test")
    with client:
        client.get("/healthz")
    logging.getLogger("mentorbridge.test").info("after the request")
    after = caplog.records[-1]
    assert after.getMessage() == "after the request"
    assert not hasattr(after, "request_id")
    assert "request_id" not in json.loads(JsonFormatter().format(after))
    assert "request_id" not in TextFormatter().format(after)
