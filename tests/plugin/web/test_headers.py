"""Security headers: no referrer and no sniffing on every answer, a Content-Security-Policy
on pages (framable only by the configured LMS origins), ``Allow`` on a 405; the transcript
still renders under its policy in a real headless Chromium."""

from __future__ import annotations

import shutil
import subprocess
import time
from collections.abc import Iterator

import httpx
import pytest
from flask import Flask, Response
from flask.testing import FlaskClient

from mentorbridge.plugin.demo.delivery import serving
from mentorbridge.plugin.errors import ConfigError
from mentorbridge.plugin.reports.transcript_links import LinkSigner
from mentorbridge.plugin.store.db import Store
from mentorbridge.plugin.web import create_app
from mentorbridge.plugin.webhooks.sender import EventSender
from tests.plugin.web.conftest import LINK_SECRET, MENTEE, SECRET, example, web_config

LMS = "https://lms.acme.com"
PAGE = {"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"}


def programme_app(people: Store, store_url: str, **overrides: object) -> Flask:
    """An app whose mentee has a record (no LRS credentials: nothing is confirmed)."""
    app = create_app(
        web_config(store_url, **{"lrs.auth": "basic", **overrides}), store=people, now=time.time
    )
    wsgi = httpx.Client(transport=httpx.WSGITransport(app=app), base_url="http://mb.test")
    with EventSender("http://mb.test", [SECRET], client=wsgi, clock=time.time) as sender:
        for event_type in ("pair.created", "session.completed", "goal.set"):
            assert sender.send(example(event_type)).status == 202
    return app


@pytest.fixture
def client(people: Store, store_url: str) -> Iterator[FlaskClient]:
    app = programme_app(people, store_url, **{"web.frame_ancestors": [LMS]})
    with app.test_client() as test_client:
        yield test_client


def link(worker: str = MENTEE, base: str = "") -> str:
    url, _ = LinkSigner(LINK_SECRET, 3600).link(base, worker, now=time.time())
    return url


ANSWERS = [
    ("transcript page", "GET", lambda: link(), PAGE, 200),
    ("transcript json", "GET", lambda: link(), {"Accept": "application/json"}, 200),
    ("tampered link page", "GET", lambda: link("10412") + "x", PAGE, 401),
    ("no proof", "GET", lambda: f"/learners/{MENTEE}/transcript", {}, 401),
    ("unsigned event", "POST", lambda: "/webhooks/v1/events", {}, 401),
    ("health", "GET", lambda: "/healthz", {}, 200),
    ("metrics", "GET", lambda: "/metrics", {}, 200),
    ("openapi", "GET", lambda: "/openapi.json", {}, 200),
    ("unknown path", "GET", lambda: "/wp-admin", PAGE, 404),
    ("wrong method", "DELETE", lambda: "/webhooks/v1/events", {}, 405),
]


@pytest.mark.parametrize(
    ("method", "make_url", "headers", "status"),
    [a[1:] for a in ANSWERS],
    ids=[a[0] for a in ANSWERS],
)
def test_headers_every_answer_sends_no_referrer_and_no_sniffing(
    client: FlaskClient, method: str, make_url, headers: dict, status: int
) -> None:
    response = client.open(make_url(), method=method, headers=headers)
    assert response.status_code == status
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    policy = response.headers["Content-Security-Policy"]
    if response.mimetype == "text/html":
        assert f"frame-ancestors {LMS}" in policy.split("; ")
        assert "default-src 'none'" in policy.split("; ")
    else:
        assert policy == "default-src 'none'; frame-ancestors 'none'"


def test_headers_pages_allow_only_their_own_styles_and_the_configured_lms(
    client: FlaskClient,
) -> None:
    page = client.get(link(), headers=PAGE)
    error_page = client.get(f"/learners/{MENTEE}/transcript?sig=forged", headers=PAGE)
    assert page.mimetype == error_page.mimetype == "text/html"
    for response in (page, error_page):
        directives = dict(
            d.split(" ", 1) for d in response.headers["Content-Security-Policy"].split("; ")
        )
        assert directives["default-src"] == "'none'"
        assert directives["frame-ancestors"] == LMS
        assert directives["base-uri"] == directives["form-action"] == "'none'"
        assert directives["style-src"].startswith("'sha256-")
        assert "unsafe-inline" not in directives["style-src"]


def test_headers_pages_are_framed_only_by_the_service_itself_by_default(app: Flask) -> None:
    with app.test_client() as client:
        response = client.get(f"/learners/{MENTEE}/transcript", headers=PAGE)
    assert response.mimetype == "text/html"
    assert "frame-ancestors 'self'" in response.headers["Content-Security-Policy"].split("; ")


def test_headers_a_405_says_which_methods_are_allowed(client: FlaskClient) -> None:
    response = client.get("/webhooks/v1/events")
    assert response.status_code == 405
    assert set(response.headers["Allow"].split(", ")) == {"POST", "OPTIONS"}
    assert response.json["error"] == "method_not_allowed"
    transcript = client.post(link())
    assert transcript.status_code == 405
    assert set(transcript.headers["Allow"].split(", ")) == {"GET", "HEAD", "OPTIONS"}


@pytest.mark.parametrize(
    "origin", ["https://lms.acme.com; script-src *", "lms.acme.com", "https://lms.acme.com/path"]
)
def test_headers_frame_ancestors_must_be_origins(store_url: str, origin: str) -> None:
    with pytest.raises(ConfigError, match=r"web\.frame_ancestors\[0\].*expected 'self', 'none'"):
        web_config(store_url, **{"web.frame_ancestors": [origin]})


# -- in a browser ------------------------------------------------------------------------------


def chromium(url: str) -> tuple[str, list[str]]:
    """The DOM Chromium built from ``url``, and what its console said about the page's
    Content-Security-Policy."""
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    assert browser, "the browser checks need Chromium: apt-get install -y chromium"
    result = subprocess.run(
        [
            *(browser, "--headless", "--no-sandbox", "--disable-gpu", "--enable-logging=stderr"),
            *("--v=0", "--virtual-time-budget=3000", "--dump-dom", url),
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    console = [
        line
        for line in result.stderr.splitlines()
        if "Content Security Policy" in line or "frame-ancestors" in line
    ]
    return result.stdout, console


def lms_site() -> tuple[Flask, dict[str, str]]:
    """A page that frames ``frame["src"]``, as an LMS course page embeds the transcript."""
    site, frame = Flask("lms"), {}

    @site.get("/course")
    def course() -> Response:
        return Response(f'<!doctype html><title>course</title><iframe src="{frame["src"]}">')

    return site, frame


def test_headers_the_transcript_renders_under_its_policy_in_chromium(
    people: Store, store_url: str
) -> None:
    allowed_site, allowed_frame = lms_site()
    other_site, other_frame = lms_site()
    with serving(allowed_site) as allowed, serving(other_site) as other:
        app = programme_app(people, store_url, **{"web.frame_ancestors": [allowed]})
        with serving(app) as base:
            dom, console = chromium(link(base=base))
            allowed_frame["src"] = other_frame["src"] = link(base=base)
            _, allowed_console = chromium(f"{allowed}/course")
            _, other_console = chromium(f"{other}/course")
    assert "Reverse-mentoring transcript" in dom and "Run a team retro" in dom
    assert console == []  # its styles apply: nothing was refused
    assert allowed_console == []
    assert any("frame-ancestors" in line for line in other_console), other_console
