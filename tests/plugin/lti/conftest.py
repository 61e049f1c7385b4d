"""The LTI tests' tool (served over HTTP, with a programme in its store) and platform."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from mentorbridge.plugin.store.db import Store
from tests.connectors.moodle.programme import build
from tests.lti_platform import LocalPlatform
from tests.plugin.lti.tool_server import INSTRUCTOR, LEARNER, Tool, serve_tool


@pytest.fixture
def tool(store: Store, store_url: str) -> Iterator[Tool]:
    build(store)  # E-1 .. E-3 executives and J-1 .. J-3 juniors with sessions and goals
    with serve_tool(store, store_url) as served:
        yield served


@pytest.fixture
def platform() -> Iterator[LocalPlatform]:
    with LocalPlatform(product="moodle") as running:
        running.add_course(context_id="c-1", title="Reverse mentoring programme", label="RMP")
        running.add_user(sub="u-exec1", name="Executive Number1", email="exec1@example.com",
                         person_sourcedid="E-1")  # fmt: skip
        running.add_user(sub="u-teacher", name="Tess Teacher", email="tess@example.com")
        running.add_user(sub="u-stranger", name="No Record", email="nobody@example.com")
        running.enrol("c-1", "u-exec1", roles=[LEARNER])
        running.enrol("c-1", "u-teacher", roles=[INSTRUCTOR])
        running.enrol("c-1", "u-stranger", roles=[LEARNER])
        yield running
