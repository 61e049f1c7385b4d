"""Property-based fuzzing of ``POST /webhooks/v1/events``: whatever arrives, the answer is never
a 500, and an event that is not accepted leaves the store exactly as it was."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from mentorbridge import schemas
from mentorbridge.plugin.store.db import Store
from mentorbridge.plugin.store.models import OutboxStatement
from mentorbridge.plugin.webhooks.events import EVENT_TYPES
from mentorbridge.plugin.webhooks.sender import EventSender, encode_event
from mentorbridge.plugin.webhooks.signing import signature_header
from tests.plugin.web.conftest import CLOCK, SECRET, example, table_counts
from tests.strategies import from_schema

EXPECTED = {200, 202, 400, 401, 409, 413, 415, 422}
FUZZ = settings(
    max_examples=120,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4)
    ),
    max_leaves=12,
)


@st.composite
def envelope_like(draw: st.DrawFn) -> dict[str, Any]:
    """Roughly the right shape: real keys with values of any kind, sometimes extra keys."""
    event = {
        "id": draw(st.text(max_size=10) | st.integers()),
        "type": draw(st.sampled_from(EVENT_TYPES) | st.text(max_size=10)),
        "occurred_at": draw(st.sampled_from(["2026-10-06T09:50:00Z", "", "2026-02-30T00:00:00Z"])),
        "data": draw(json_values),
    }
    if draw(st.booleans()):
        event.update(draw(st.dictionaries(st.text(max_size=8), json_values, max_size=2)))
    return event


@st.composite
def schema_valid_event(draw: st.DrawFn) -> dict[str, Any]:
    """Valid by the schemas, refering to a mix of known and made-up pairs, sessions, people."""
    event_type = draw(st.sampled_from(EVENT_TYPES))
    base = example(event_type, id=draw(st.from_regex(r"\Afz-[a-z0-9]{1,12}\Z")))
    drawn = draw(from_schema(schemas.load(f"webhooks/{event_type}")))
    keep = draw(st.sets(st.sampled_from(sorted(drawn) or ["none"])))
    base["data"].update({k: v for k, v in drawn.items() if k in keep})
    return base


def deliver(sender: EventSender, store: Store, body: bytes, content_type: str) -> None:
    before = table_counts(store)
    sent = sender.post(
        body, signature=signature_header(body, [SECRET], int(CLOCK)), content_type=content_type
    )
    assert sent.status in EXPECTED, (sent.status, sent.body)
    assert "request_id" in sent.body or sent.status in (200, 202)
    if sent.status == 202 and sent.body["status"] == "processed":
        with store.reading() as session:
            queued = set(session.scalars(select(OutboxStatement.statement_id)))
        assert set(sent.body["statement_ids"]) <= queued
    elif sent.status != 202:
        assert table_counts(store) == before, sent.body


@pytest.fixture
def recorded(sender: EventSender, people: Store) -> Store:
    """A pair with one completed session, so fuzzed events have something to refer to."""
    for event_type in ("pair.created", "session.completed"):
        assert sender.send(example(event_type)).status == 202
    return people


@FUZZ
@given(
    body=st.binary(max_size=300), content_type=st.sampled_from(["application/json", "text/plain"])
)
def test_fuzz_any_bytes(
    sender: EventSender, recorded: Store, body: bytes, content_type: str
) -> None:
    deliver(sender, recorded, body, content_type)


@FUZZ
@given(event=envelope_like())
def test_fuzz_anything_shaped_like_an_event(
    sender: EventSender, recorded: Store, event: dict[str, Any]
) -> None:
    deliver(sender, recorded, encode_event(event), "application/json")


@FUZZ
@given(event=schema_valid_event())
def test_fuzz_schema_valid_events(sender: EventSender, recorded: Store, event: dict) -> None:
    deliver(sender, recorded, encode_event(event), "application/json")
