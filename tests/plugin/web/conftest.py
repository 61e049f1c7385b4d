"""The web app on a test store, with a fixed clock and a sender signing like a real one."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from flask import Flask

from mentorbridge.plugin.config import Config, load_config
from mentorbridge.plugin.store.db import Store
from mentorbridge.plugin.web import create_app
from mentorbridge.plugin.webhooks.sender import EventSender
from tests.fakes import NOW

SECRET = "whsec_test_secret_0123456789abcdef"
ADMIN_TOKEN = "admin-token-0123456789abcdef"
LINK_SECRET = "link-secret-0123456789abcdef"
#: The app's clock: unix seconds of the tests' "now".
CLOCK = NOW.timestamp()
EXAMPLES = Path(__file__).parents[3] / "schemas" / "webhooks" / "examples"
#: The workers the example events name: an executive mentee and a junior mentor.
MENTEE, MENTOR = "10004", "10412"


def example(event_type: str, **changes: Any) -> dict[str, Any]:
    """The shipped example of ``event_type``; ``changes`` replace envelope keys or, given as
    ``data={…}``, update its data."""
    event = json.loads((EXAMPLES / f"{event_type}.json").read_text("utf-8"))
    data = changes.pop("data", {})
    event.update(changes)
    event["data"].update(data)
    return event


def web_config(store_url: str, **overrides: Any) -> Config:
    return load_config(
        None,
        environ={},
        overrides={
            "store.url": store_url,
            "lrs.auth": "none",
            "web.signing_secret": SECRET,
            "web.admin_token": ADMIN_TOKEN,
            "web.link_secret": LINK_SECRET,
            **overrides,
        },
    )


@pytest.fixture
def people(store: Store) -> Store:
    """The store, knowing the two workers the examples name (as an HRIS sync would)."""
    from mentorbridge.plugin.recorder import Recorder
    from mentorbridge.xapi.statements import StatementBuilder
    from tests.conftest import SETTINGS

    recorder = Recorder(store, StatementBuilder(SETTINGS))
    for worker in (MENTEE, MENTOR, "10005", "10413"):
        recorder.register_person(worker)
    return store


@pytest.fixture
def app(people: Store, store_url: str) -> Flask:
    return create_app(web_config(store_url), store=people, now=lambda: CLOCK)


@pytest.fixture
def sender(app: Flask) -> Iterator[EventSender]:
    """Signs with the configured secret at the app's "now" and posts through WSGI."""
    client = httpx.Client(transport=httpx.WSGITransport(app=app), base_url="http://mb.test")
    with EventSender("http://mb.test", [SECRET], client=client, clock=lambda: CLOCK) as sent:
        yield sent


def table_counts(store: Store) -> dict[str, int]:
    """Rows per table: equal before and after means nothing was written."""
    from sqlalchemy import func, select

    from mentorbridge.plugin.store import Base

    with store.reading() as session:
        return {
            table.name: session.scalar(select(func.count()).select_from(table))
            for table in Base.metadata.sorted_tables
        }
