"""Reading an event again: what an import reads a second time equals what was checked."""

from __future__ import annotations

import pytest

from mentorbridge.plugin.webhooks.events import EVENT_TYPES, parse_event, reparse_event
from mentorbridge.plugin.webhooks.sender import encode_event
from tests.plugin.web.conftest import example


@pytest.mark.parametrize("event_type", EVENT_TYPES)
def test_an_event_read_again_equals_the_checked_event(event_type: str) -> None:
    body = encode_event(example(event_type, occurred_at="2026-03-04T11:02:11.5+01:00"))
    checked = parse_event(body)
    again = reparse_event(body, checked.digest)
    assert again == checked
    assert again.occurred_at.utcoffset() is not None  # dates and moments are real values
