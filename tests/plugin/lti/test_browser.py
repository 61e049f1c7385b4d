"""A launch inside an LMS page's iframe, in headless Chromium (Debian's package): with the
state cookie when tool and LMS are one site, and through the platform's postMessage storage
when they are two sites and the frame gets no cookie."""

from __future__ import annotations

import shutil
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from flask import Response, request
from sqlalchemy import select

from mentorbridge.plugin.store.db import Store
from mentorbridge.plugin.store.lti_models import LtiLaunchState, LtiUserLink
from tests.connectors.moodle.programme import build
from tests.lti_platform import LocalPlatform
from tests.plugin.lti.test_launch import register_manually
from tests.plugin.lti.tool_server import LEARNER, Tool, serve_tool


def chromium_until(url: str, done: Callable[[], bool], profile: Path, *, limit: float = 60) -> str:
    """Chromium opens ``url`` and runs it in real time (frames, scripts, postMessage, form
    posts) until ``done()`` or ``limit`` seconds; returns what it logged. (A virtual time
    budget does not deliver messages between frames of different sites: it is not used.)"""
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    assert browser, "the browser checks need Chromium: apt-get install -y chromium"
    log = profile / "chromium.log"
    with log.open("w") as stderr:
        running = subprocess.Popen(
            [
                *(browser, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run"),
                *(f"--user-data-dir={profile}", "--enable-logging=stderr", "--v=0", url),
            ],
            stdout=subprocess.DEVNULL,
            stderr=stderr,
        )
        try:
            deadline = time.monotonic() + limit
            while not done() and time.monotonic() < deadline and running.poll() is None:
                time.sleep(0.2)
        finally:
            running.terminate()
            try:
                running.wait(timeout=10)
            except subprocess.TimeoutExpired:
                running.kill()
                running.wait()
    return log.read_text(errors="replace")


def linked(store: Store) -> bool:
    with store.reading() as session:
        return session.scalar(select(LtiUserLink.id).limit(1)) is not None


@pytest.fixture
def platform() -> Iterator[LocalPlatform]:
    with LocalPlatform(product="moodle") as running:
        running.add_course(context_id="c-1", title="Reverse mentoring programme", label="RMP")
        running.add_user(sub="u-exec1", name="Executive Number1", email="exec1@example.com",
                         person_sourcedid="E-1")  # fmt: skip
        running.enrol("c-1", "u-exec1", roles=[LEARNER])
        yield running


def launches_seen(tool: Tool) -> list[tuple[bool, int]]:
    """Record each POST /lti/launch: whether it carried a binding field, and the answer."""
    seen: list[tuple[bool, int]] = []

    @tool.app.after_request
    def record(response: Response) -> Response:
        if request.path == "/lti/launch":
            seen.append((bool(request.form.get("binding")), response.status_code))
        return response

    return seen


@pytest.mark.parametrize("tool_host", ["127.0.0.1", "localhost"])
def test_a_learner_launch_in_an_iframe_reaches_the_transcript(
    store: Store, store_url: str, platform: LocalPlatform, tool_host: str, tmp_path: Path
) -> None:
    build(store)
    with serve_tool(store, store_url, host=tool_host) as tool:
        seen = launches_seen(tool)
        registered = register_manually(tool, platform)
        start = platform.start_launch(
            registered.client_id, "u-exec1", "c-1", storage_target="_parent"
        )
        console = chromium_until(
            platform.course_page_url(start),
            lambda: bool(seen) and seen[-1][1] == 200 and linked(store),
            tmp_path,
        )
    with store.reading() as session:
        links = session.scalars(select(LtiUserLink)).all()
        states = session.scalars(select(LtiLaunchState)).all()
    assert [(link.subject, link.worker_id) for link in links] == [("u-exec1", "E-1")], (
        seen,
        console[-3000:],
    )
    assert [state.used_at is not None for state in states] == [True]
    if tool_host == "127.0.0.1":  # one site: the state cookie came with the launch
        assert seen == [(False, 200)]
    else:  # two sites: no cookie in the frame, so the binding came from platform storage
        assert seen == [(False, 200), (True, 200)]
    assert "Content Security Policy" not in console
