"""Hostile but signed bodies: each is refused with a 400 naming the problem, never a 500."""

from __future__ import annotations

import json

import pytest

from mentorbridge import schemas
from mentorbridge.plugin.store.db import Store
from mentorbridge.plugin.webhooks.events import (
    EARLIEST_YEAR,
    EVENT_TYPES,
    LATEST_YEAR,
    MAX_DEPTH,
    _date_fields,
    parse_event,
)
from mentorbridge.plugin.webhooks.sender import EventSender, encode_event
from tests.plugin.web.conftest import example, table_counts

# -- nesting --------------------------------------------------------------------------------


def nested(depth: int) -> bytes:
    """A valid envelope whose data holds ``depth`` levels of objects and arrays in all
    (written out by hand: the json module itself cannot encode what is this deep)."""
    body = encode_event(example("pair.created"))
    levels = depth - 2  # the envelope and data are two levels already
    opening = "".join('{"x":' if level % 2 == 0 else "[" for level in range(levels))
    closing = "".join("}" if level % 2 == 0 else "]" for level in reversed(range(levels)))
    extra = f',"extra":{opening}1{closing}}}}}'.encode()
    assert body.endswith(b"}}")
    return body[:-2] + extra


@pytest.mark.parametrize("depth", [1_000, 40_000])
def test_hostile_deep_nesting_is_400_naming_the_limit(
    sender: EventSender, store: Store, depth: int
) -> None:
    before = table_counts(store)
    sent = sender.send(nested(depth))
    assert sent.status == 400, sent.body
    assert sent.body["error"] == "invalid_event"
    [problem] = sent.body["problems"]
    assert problem["path"] == "$"
    assert f"{depth} levels deep, more than the {MAX_DEPTH} allowed" in problem["message"]
    assert table_counts(store) == before


def test_hostile_nesting_at_the_limit_is_parsed_as_usual(sender: EventSender) -> None:
    sent = sender.send(nested(MAX_DEPTH))
    assert sent.status == 400
    # Read and checked against its schema: the unexpected key is what is wrong, not the depth.
    assert [p["path"] for p in sent.body["problems"]] == ["$.data"]
    assert "Additional properties" in sent.body["problems"][0]["message"]


def test_hostile_brackets_inside_strings_are_text_not_nesting(sender: EventSender) -> None:
    assert sender.send(example("pair.created")).status == 202
    assert sender.send(example("session.completed")).status == 202
    text = '"\\"' + "[{" * 5_000  # quotes and escapes too: only real strings are skipped
    sent = sender.send(example("reflection.submitted", data={"text": text}))
    assert sent.status == 202, sent.body


# -- dates and moments out of range ---------------------------------------------------------


def date_fields() -> list[tuple[str, str, str]]:
    """``(event type, JSON path, "date" or "moment")`` for every date field of every type."""
    found = []
    for event_type in EVENT_TYPES:
        for name, pattern in _date_fields("webhooks/event"):
            found.append((event_type, f"$.{name}", _kind(pattern)))
        for name, pattern in _date_fields(f"webhooks/{event_type}"):
            found.append((event_type, f"$.data.{name}", _kind(pattern)))
    return found


def _kind(pattern: str) -> str:
    return "moment" if "T" in pattern else "date"


FIELDS = date_fields()
TOO_LATE = {"moment": "9999-12-31T23:30:00-01:00", "date": "9999-12-31"}
TOO_EARLY = {"moment": "0001-01-01T00:30:00+01:00", "date": "0001-01-01"}


def with_value(event_type: str, path: str, value: str) -> dict:
    event = example(event_type)
    if path.startswith("$.data."):
        event["data"][path.removeprefix("$.data.")] = value
    else:
        event[path.removeprefix("$.")] = value
    return event


def test_hostile_every_type_has_its_date_fields_checked() -> None:
    paths = {(t, p) for t, p, _ in FIELDS}
    assert {(t, "$.occurred_at") for t in EVENT_TYPES} <= paths
    assert ("session.completed", "$.data.started_at") in paths
    assert ("session.scheduled", "$.data.planned_start") in paths
    assert ("pair.created", "$.data.started_on") in paths


@pytest.mark.parametrize("bound", ["too-late", "too-early"])
@pytest.mark.parametrize(
    ("event_type", "path", "kind"), FIELDS, ids=[f"{t}:{p}" for t, p, _ in FIELDS]
)
def test_hostile_a_date_out_of_range_is_400_naming_the_field(
    sender: EventSender, store: Store, event_type: str, path: str, kind: str, bound: str
) -> None:
    value = (TOO_LATE if bound == "too-late" else TOO_EARLY)[kind]
    before = table_counts(store)
    sent = sender.send(with_value(event_type, path, value))
    assert sent.status == 400, sent.body
    assert sent.body["error"] == "invalid_event"
    assert {
        "path": path,
        "message": f"{json.dumps(value)} is out of range: expected a {kind} in the years "
        f"{EARLIEST_YEAR} to {LATEST_YEAR}",
    } in sent.body["problems"]
    assert table_counts(store) == before


@pytest.mark.parametrize(
    ("event_type", "path", "kind"), FIELDS, ids=[f"{t}:{p}" for t, p, _ in FIELDS]
)
def test_hostile_the_range_includes_its_first_and_last_years(
    event_type: str, path: str, kind: str
) -> None:
    edges = {
        "moment": (f"{EARLIEST_YEAR}-01-01T00:30:00+01:00", f"{LATEST_YEAR}-12-31T23:30:00-01:00"),
        "date": (f"{EARLIEST_YEAR}-01-01", f"{LATEST_YEAR}-12-31"),
    }[kind]
    for value in edges:
        event = parse_event(encode_event(with_value(event_type, path, value)))
        typed = event.data if path.startswith("$.data.") else {"occurred_at": event.occurred_at}
        assert typed[path.rsplit(".", 1)[1]].year in (EARLIEST_YEAR, LATEST_YEAR)


def test_hostile_the_schemas_still_describe_dates_the_parser_checks() -> None:
    # The range check finds date fields by their schema pattern; a schema that changed its
    # pattern would silently drop out of it.
    for event_type in EVENT_TYPES:
        properties = schemas.load(f"webhooks/{event_type}")["properties"]
        described = {n for n, s in properties.items() if "date" in s.get("description", "")}
        assert described <= {n for n, _ in _date_fields(f"webhooks/{event_type}")}, event_type
