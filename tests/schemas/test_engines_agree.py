"""The fast compiled check and the explaining validator agree on every statement we try."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import fastjsonschema
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mentorbridge import schemas
from mentorbridge.xapi.statements import StatementBuilder
from tests.conftest import SETTINGS
from tests.fakes import NOW
from tests.xapi.test_statements import every_template

VALID = [
    json.loads(s.payload)
    for s in every_template(StatementBuilder(SETTINGS, now=lambda: NOW)).values()
]

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-3, 3)
    | st.floats(-2, 2, allow_nan=False)
    | st.sampled_from(
        [
            "",
            "x",
            "mailto:a@b.c",
            "https://x.example/y",
            "Agent",
            "Group",
            "StatementRef",
            "SubStatement",
            "Activity",
            "PT1M",
            "P",
            "en",
            "2026-01-01T00:00:00Z",
            "2026-01-01T00:00:00",
            "2026-01-01T00:00:00Z\n",
            "en\n",
            "8140edef-efe3-5415-96a7-91a8d3e85623",
        ]
    ),
    lambda inner: (
        st.lists(inner, max_size=2)
        | st.dictionaries(
            st.sampled_from(
                [
                    "id",
                    "objectType",
                    "account",
                    "homePage",
                    "name",
                    "mbox",
                    "member",
                    "definition",
                    "type",
                    "https://x.example/e",
                    "topic",
                ]
            ),
            inner,
            max_size=3,
        )
    ),
    max_leaves=6,
)


def paths(node: Any, prefix: tuple = ()) -> list[tuple]:
    found = [prefix]
    if isinstance(node, dict):
        for key, value in node.items():
            found += paths(value, (*prefix, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            found += paths(value, (*prefix, index))
    return found


@st.composite
def mutated_statements(draw: st.DrawFn) -> dict[str, Any]:
    statement = copy.deepcopy(draw(st.sampled_from(VALID)))
    for _ in range(draw(st.integers(1, 3))):
        path = draw(st.sampled_from(paths(statement)[1:]))
        parent = statement
        for step in path[:-1]:
            parent = parent[step]
        match draw(st.sampled_from(["replace", "delete", "add"])):
            case "replace":
                parent[path[-1]] = draw(json_values)
            case "delete" if isinstance(parent, dict):
                del parent[path[-1]]
            case "add" if isinstance(parent, dict):
                parent[draw(st.sampled_from(["extra", "mbox", "version", "id"]))] = draw(
                    json_values
                )
            case _:
                pass
    return statement


def fast_says_valid(instance: dict[str, Any], name: str = "xapi/statement") -> bool:
    try:
        schemas._compiled(name)(instance)
    except fastjsonschema.JsonSchemaValueException:
        return False
    return True


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated_statements())
def test_both_engines_agree_on_statements(statement: dict[str, Any]) -> None:
    assert fast_says_valid(statement) == (schemas.problems("xapi/statement", statement) == [])


def test_the_valid_statements_are_valid_to_both() -> None:
    for statement in VALID:
        assert fast_says_valid(statement) and schemas.check("xapi/statement", statement) == []


WEBHOOK_EXAMPLES = Path(__file__).parents[2] / "schemas" / "webhooks" / "examples"


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("id", "evt-1\n"),
        ("source", "outlook-calendar\n"),
        ("occurred_at", "2026-11-03T10:00:00Z\n"),
    ],
)
def test_both_engines_refuse_a_trailing_newline_with_one_message(field: str, value: str) -> None:
    event = json.loads((WEBHOOK_EXAMPLES / "pair.created.json").read_text("utf-8"))
    event[field] = value
    assert not fast_says_valid(event, "webhooks/event")
    explained = schemas.problems("webhooks/event", event)
    assert [path for path, _ in explained] == [f"$.{field}"]
    assert explained[0][1].startswith(f"{json.dumps(value)} is not valid: expected")
    # The fast path reports what the explaining validator says, not its own wording.
    assert schemas.check("webhooks/event", event) == explained


def test_both_engines_refuse_a_trailing_newline_in_event_data() -> None:
    event = json.loads((WEBHOOK_EXAMPLES / "session.completed.json").read_text("utf-8"))
    event["data"]["started_at"] += "\n"
    assert not fast_says_valid(event["data"], "webhooks/session.completed")
    found = schemas.check("webhooks/session.completed", event["data"], root="$.data")
    assert found == schemas.problems("webhooks/session.completed", event["data"], root="$.data")
    assert [path for path, _ in found] == ["$.data.started_at"]
    assert "expected an RFC 3339 date and time" in found[0][1]
