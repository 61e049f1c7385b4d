"""``GET /learners/<worker_id>/transcript``: who may see it, what it shows, and each line's
delivery confirmed against a real LRS (Ralph, in process); the page in a real headless browser."""

from __future__ import annotations

import shutil
import struct
import subprocess
import time
import zlib
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import httpx
import pytest
from flask import Flask
from flask.testing import FlaskClient

from mentorbridge.plugin.demo.delivery import serving
from mentorbridge.plugin.reports.transcript_links import LinkSigner
from mentorbridge.plugin.store.db import Store
from mentorbridge.plugin.store.outbox import SqlOutbox
from mentorbridge.plugin.web import create_app
from mentorbridge.plugin.webhooks.sender import EventSender
from mentorbridge.xapi.lrs import LRSClient
from mentorbridge.xapi.outbox import Flusher
from tests.conftest import RALPH_ENDPOINT
from tests.plugin.web.conftest import (
    ADMIN_TOKEN,
    CLOCK,
    LINK_SECRET,
    MENTEE,
    MENTOR,
    SECRET,
    example,
    web_config,
)

ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
JSON = {"Accept": "application/json"}
PROGRAMME = [
    "pair.created",
    "session.scheduled",
    "session.completed",
    "reflection.submitted",
    "goal.set",
    "outcome.rated",
    "goal.achieved",
]


@pytest.fixture
def lrs(ralph: Any) -> LRSClient:
    return LRSClient(RALPH_ENDPOINT, client=ralph)


@pytest.fixture
def app(people: Store, store_url: str, lrs: LRSClient) -> Flask:
    return create_app(web_config(store_url), store=people, lrs=lrs, now=lambda: CLOCK)


@pytest.fixture
def client(app: Flask) -> Iterator[FlaskClient]:
    wsgi = httpx.Client(transport=httpx.WSGITransport(app=app), base_url="http://mb.test")
    with EventSender("http://mb.test", [SECRET], client=wsgi, clock=lambda: CLOCK) as sender:
        for event_type in PROGRAMME:
            assert sender.send(example(event_type)).status == 202
    with app.test_client() as test_client:
        yield test_client


def link(worker: str, *, now: float = CLOCK, ttl: int = 3600) -> str:
    url, _ = LinkSigner(LINK_SECRET, ttl).link("", worker, now=now)
    return url


def get(client: FlaskClient, url: str, **headers: str) -> Any:
    return client.get(url, headers={**JSON, **headers})


# -- access ------------------------------------------------------------------------------------


def test_transcript_a_learner_opens_their_own_with_a_signed_link(client: FlaskClient) -> None:
    response = get(client, link(MENTEE))
    assert response.status_code == 200
    assert response.json["learner"]["worker_id"] == MENTEE
    assert response.json["viewer"] == "learner"
    assert response.headers["Cache-Control"] == "private, no-store"
    assert response.headers["Referrer-Policy"] == "no-referrer"


def test_transcript_a_link_for_someone_else_is_403(client: FlaskClient) -> None:
    own_link = link(MENTOR)
    response = get(client, own_link.replace(f"/learners/{MENTOR}/", f"/learners/{MENTEE}/"))
    assert response.status_code == 403
    assert response.json["error"] == "forbidden"


def test_transcript_an_admin_sees_anyones(client: FlaskClient) -> None:
    for worker in (MENTEE, MENTOR):
        response = get(client, f"/learners/{worker}/transcript", **ADMIN)
        assert response.status_code == 200
        assert response.json["viewer"] == "admin"


@pytest.mark.parametrize(
    ("make_url", "headers", "message"),
    [
        (lambda: f"/learners/{MENTEE}/transcript", {}, "sign in"),
        (lambda: link(MENTEE, now=CLOCK - 7200), {}, "expired"),
        (lambda: link(MENTEE).replace("sig=", "sig=0"), {}, "signature is not valid"),
        (lambda: link(MENTEE).replace("expires=", "expires=9"), {}, "signature is not valid"),
        (lambda: link(MENTEE).replace("expires=", "expires=x"), {}, "malformed"),
        (
            lambda: f"/learners/{MENTEE}/transcript",
            {"Authorization": "Bearer not-the-token"},
            "bearer token is not valid",
        ),
        (lambda: f"/learners/{MENTEE}/transcript", {"Authorization": "Basic abc"}, "not valid"),
    ],
    ids=["anonymous", "expired", "tampered-sig", "extended", "garbled", "wrong-token", "basic"],
)
def test_transcript_refuses_without_proof_with_401(
    client: FlaskClient, make_url, headers: dict[str, str], message: str
) -> None:
    response = get(client, make_url(), **headers)
    assert response.status_code == 401
    assert message in response.json["message"]
    assert "learners" not in response.json["message"]


def test_transcript_of_someone_without_a_record_is_404_for_an_admin(client: FlaskClient) -> None:
    assert get(client, "/learners/10999/transcript", **ADMIN).status_code == 404


# -- content -----------------------------------------------------------------------------------


def test_transcript_shows_the_mentees_record(client: FlaskClient) -> None:
    body = get(client, link(MENTEE)).json
    assert body["summary"] == {
        "pairs": 1,
        "sessions_attended": 1,
        "sessions_given": 0,
        "hours": 0.8,  # 47 minutes
        "goals_set": 1,
        "goals_achieved": 1,
        "competencies_evidenced": 1,
        "reflections": 1,
    }
    assert body["pairs"][0]["role"] == "mentee"
    assert body["pairs"][0]["programme"] == "Reverse mentoring 2026"
    assert body["goals"][0]["title"] == "Run a team retro with a collaborative whiteboard"
    assert body["competencies"][0]["name"] == "Digital Fluency"


def test_transcript_shows_the_mentor_the_session_they_gave(client: FlaskClient) -> None:
    body = get(client, link(MENTOR)).json
    assert body["summary"]["sessions_given"] == 1
    assert body["summary"]["sessions_attended"] == 0
    assert body["sessions"][0]["role"] == "gave"
    assert body["goals"] == []


def test_transcript_keeps_private_words_from_admins(client: FlaskClient) -> None:
    response = get(client, f"/learners/{MENTEE}/transcript", **ADMIN)
    text = response.get_data(as_text=True)
    assert response.json["goals"][0]["title"] is None
    assert "whiteboard" not in text
    assert "inbox" not in text  # the reflection's words are never shown, to anyone
    assert "inbox" not in get(client, link(MENTEE)).get_data(as_text=True)


def test_transcript_unreleased_ratings_are_the_learners_alone(
    client: FlaskClient, app: Flask
) -> None:
    wsgi = httpx.Client(transport=httpx.WSGITransport(app=app), base_url="http://mb.test")
    with EventSender("http://mb.test", [SECRET], client=wsgi, clock=lambda: CLOCK) as sender:
        private = example(
            "outcome.rated",
            id="evt-private-rating",
            data={
                "outcome_id": "out-private",
                "released": False,
                "competency": {"id": "X", "name": "Private"},
            },
        )
        assert sender.send(private).status == 202
    own = [c["name"] for c in get(client, link(MENTEE)).json["competencies"]]
    admin = [
        c["name"]
        for c in get(client, f"/learners/{MENTEE}/transcript", **ADMIN).json["competencies"]
    ]
    assert own == ["Digital Fluency", "Private"]
    assert admin == ["Digital Fluency"]


def test_transcript_confirms_each_line_against_the_lrs(
    client: FlaskClient, people: Store, lrs: LRSClient
) -> None:
    before = get(client, link(MENTEE)).json
    assert before["lrs_check"] == "confirmed"
    assert before["sessions"][0]["delivery"]["state"] == "queued"
    assert before["sessions"][0]["delivery"]["in_lrs"] is False
    assert Flusher(SqlOutbox(people), lrs).flush().delivered == 7
    after = get(client, link(MENTEE)).json
    lines = [
        after["sessions"][0]["delivery"],
        after["goals"][0]["set"],
        after["goals"][0]["achieved"],
        after["competencies"][0]["delivery"],
    ]
    assert all(d["state"] == "delivered" and d["in_lrs"] is True for d in lines), lines


def test_transcript_says_so_when_the_lrs_cannot_confirm(
    people: Store, store_url: str, client: FlaskClient
) -> None:
    def down(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    unreachable = LRSClient("http://lrs.invalid/xAPI/", transport=httpx.MockTransport(down))
    app = create_app(web_config(store_url), store=people, lrs=unreachable, now=lambda: CLOCK)
    with app.test_client() as other:
        body = get(other, link(MENTEE)).json
    assert body["lrs_check"] == "unavailable"
    assert body["sessions"][0]["delivery"] == {
        "statement_id": body["sessions"][0]["delivery"]["statement_id"],
        "state": "queued",
        "in_lrs": None,
    }


def test_transcript_a_browser_gets_the_page(client: FlaskClient) -> None:
    response = client.get(link(MENTEE), headers={"Accept": "text/html,*/*;q=0.8"})
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    page = response.get_data(as_text=True)
    assert "Reverse-mentoring transcript" in page
    assert "Run a team retro" in page
    assert "Digital Fluency" in page
    expired = client.get(link(MENTEE, now=CLOCK - 7200), headers={"Accept": "text/html"})
    assert expired.status_code == 401 and expired.mimetype == "text/html"
    assert "expired" in expired.get_data(as_text=True)


CHROME = "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8"
FIREFOX = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
SAFARI = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"


@pytest.mark.parametrize(
    ("accept", "mimetype"),
    [
        (None, "text/html"),
        ("", "text/html"),
        ("*/*", "text/html"),
        (CHROME, "text/html"),
        (FIREFOX, "text/html"),
        (SAFARI, "text/html"),
        ("text/html", "text/html"),
        ("application/json, text/html", "text/html"),  # no preference: the page
        ("application/json", "application/json"),
        ("application/json, text/plain, */*", "application/json"),
        ("text/html;q=0.5, application/json", "application/json"),
    ],
    ids=[
        "no-accept",
        "empty",
        "any",
        "chrome",
        "firefox",
        "safari",
        "html",
        "tie",
        "json",
        "json-first",
        "json-preferred",
    ],
)
def test_transcript_answers_html_unless_json_is_preferred(
    client: FlaskClient, accept: str | None, mimetype: str
) -> None:
    headers = {} if accept is None else {"Accept": accept}
    response = client.get(link(MENTEE), headers=headers)
    assert response.status_code == 200
    assert response.mimetype == mimetype
    assert "Accept" in response.vary


def _visible_text(page: str) -> str:
    class Text(HTMLParser):
        def __init__(self) -> None:
            super().__init__()
            self.parts: list[str] = []
            self.skip = False

        def handle_starttag(self, tag: str, _attrs: object) -> None:
            self.skip = tag in ("style", "script", "title")

        def handle_endtag(self, _tag: str) -> None:
            self.skip = False

        def handle_data(self, data: str) -> None:
            if not self.skip:
                self.parts.append(data)

    parser = Text()
    parser.feed(page)
    return " ".join(" ".join(parser.parts).split())


def _unreachable_lrs() -> LRSClient:
    def down(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    return LRSClient("http://lrs.invalid/xAPI/", transport=httpx.MockTransport(down))


@pytest.mark.parametrize("check", ["skipped", "unavailable"])
def test_transcript_page_says_not_confirmed_when_the_lrs_did_not_confirm(
    client: FlaskClient, people: Store, store_url: str, lrs: LRSClient, check: str
) -> None:
    assert Flusher(SqlOutbox(people), lrs).flush().delivered == 7  # delivered, all of them
    unconfirmed = create_app(
        web_config(store_url, **({"lrs.auth": "basic"} if check == "skipped" else {})),
        store=people,
        lrs=_unreachable_lrs() if check == "unavailable" else None,
        now=lambda: CLOCK,
    )
    with unconfirmed.test_client() as other:
        body = get(other, link(MENTEE)).json
        page = other.get(link(MENTEE), headers={"Accept": CHROME}).get_data(as_text=True)
    assert body["lrs_check"] == check
    statements = [
        body["sessions"][0]["delivery"],
        body["goals"][0]["set"],
        body["goals"][0]["achieved"],
        body["competencies"][0]["delivery"],
    ]
    assert {d["state"] for d in statements} == {"delivered"}
    text = _visible_text(page)
    assert "delivered" not in text, text
    assert text.count("not confirmed") == len(statements) + 1  # each line, and the heading note
    assert "✓ in the LRS" not in text


def test_transcript_page_shows_confirmed_lines_as_in_the_lrs(
    client: FlaskClient, people: Store, lrs: LRSClient
) -> None:
    assert Flusher(SqlOutbox(people), lrs).flush().delivered == 7
    page = client.get(link(MENTEE), headers={"Accept": CHROME}).get_data(as_text=True)
    text = _visible_text(page)
    assert text.count("✓ in the LRS") == 4
    assert "not confirmed" not in text


def test_transcript_cancelled_sessions_show_as_retracted(client: FlaskClient, app: Flask) -> None:
    wsgi = httpx.Client(transport=httpx.WSGITransport(app=app), base_url="http://mb.test")
    with EventSender("http://mb.test", [SECRET], client=wsgi, clock=lambda: CLOCK) as sender:
        cancel = example("session.cancelled", data={"session_id": "sess-2026-017-03"})
        assert sender.send(cancel).status == 202
    body = get(client, link(MENTEE)).json
    assert body["sessions"][0]["status"] == "cancelled"
    assert body["sessions"][0]["cancel_reason"] == "rescheduled"
    assert body["sessions"][0]["delivery"]["state"] == "voided"
    assert body["summary"]["hours"] == 0


# -- in a browser ------------------------------------------------------------------------------

WIDTH, HEIGHT = 1100, 1300


def _browser(*args: str, url: str) -> str:
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    assert chromium, "the browser checks need Chromium: apt-get install -y chromium"
    result = subprocess.run(
        [chromium, "--headless", "--no-sandbox", "--disable-gpu", *args, url],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout


def _png_size_and_colours(path: Path) -> tuple[int, int, int]:
    """Width, height and how many distinct byte values the image data holds (a blank page
    has very few)."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    width, height = struct.unpack(">II", data[16:24])
    chunks, offset = [], 8
    while offset < len(data):
        (length,) = struct.unpack(">I", data[offset : offset + 4])
        if data[offset + 4 : offset + 8] == b"IDAT":
            chunks.append(data[offset + 8 : offset + 8 + length])
        offset += 12 + length
    return width, height, len(set(zlib.decompress(b"".join(chunks))))


def test_transcript_in_a_browser_is_a_page_saying_not_confirmed(
    client: FlaskClient, people: Store, store_url: str, lrs: LRSClient, tmp_path: Path
) -> None:
    assert Flusher(SqlOutbox(people), lrs).flush().delivered == 7
    # A service whose LRS credentials are not set: nothing can be confirmed.
    app = create_app(web_config(store_url, **{"lrs.auth": "basic"}), store=people)
    with serving(app) as base:
        url, _ = LinkSigner(LINK_SECRET, 3600).link(base, MENTEE, now=time.time())
        dom = _browser("--dump-dom", url=url)
        shot = tmp_path / "transcript.png"
        _browser(f"--screenshot={shot}", f"--window-size={WIDTH},{HEIGHT}", url=url)
    assert "Reverse-mentoring transcript" in dom and "Run a team retro" in dom
    assert dom.count(">not confirmed<") == 4  # each statement's line
    assert ">delivered<" not in dom and '"lrs_check"' not in dom  # the page, not JSON
    width, height, colours = _png_size_and_colours(shot)
    assert (width, height) == (WIDTH, HEIGHT)
    assert colours > 50, "the screenshot is (nearly) blank"
