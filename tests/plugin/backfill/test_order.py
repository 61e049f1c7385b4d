"""Dependency order: what happened first goes first, but never before what it rests on."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from mentorbridge.plugin.backfill import Candidate, dependency_order
from mentorbridge.plugin.webhooks.events import parse_event

T0 = datetime(2026, 10, 1, tzinfo=UTC)


def _candidate(line: int, event_type: str, minute: int, data: dict) -> Candidate:
    document = {
        "id": f"e{line}",
        "type": event_type,
        "occurred_at": f"2026-10-01T09:{minute:02d}:00Z",
        "data": data,
    }
    body = json.dumps(document).encode()
    return Candidate.of(line, parse_event(body), body)


def test_dependents_wait_for_what_they_rest_on_even_when_their_clocks_say_earlier() -> None:
    pair = {
        "pair_id": "p",
        "programme_id": "rm",
        "mentee": "E",
        "mentor": "J",
        "started_on": "2026-10-01",
    }
    done = {
        "pair_id": "p",
        "session_id": "s",
        "started_at": "2026-10-01T08:00:00Z",
        "duration_minutes": 30,
        "attendees": ["E", "J"],
    }
    rated = {
        "session_id": "s",
        "outcome_id": "o",
        "subject": "E",
        "rater": "J",
        "competency": {"id": "C", "name": "C"},
        "rating": 3,
        "scale": {"min": 1, "max": 5},
        "released": False,
    }
    candidates = [
        _candidate(1, "pair.ended", 0, {"pair_id": "p", "ended_on": "2026-10-02"}),
        _candidate(2, "outcome.release_changed", 1, {"outcome_id": "o", "released": True}),
        _candidate(3, "outcome.rated", 2, rated),
        _candidate(4, "session.completed", 3, done),
        _candidate(5, "session.scheduled", 9, {**_scheduled(), "session_id": "other"}),
        _candidate(6, "session.scheduled", 4, _scheduled()),
        _candidate(7, "pair.created", 5, pair),
        _candidate(8, "pair.ended", 0, {"pair_id": "unrelated", "ended_on": "2026-10-02"}),
    ]

    ordered = [c.line for c in dependency_order(candidates)]

    # Line 8 rests on nothing in the file and happened first; the pair comes before its
    # sessions, the scheduling before the completion, the rating before its release, and the
    # pair's end after every session it had.
    assert ordered == [8, 7, 6, 4, 3, 2, 5, 1]


def _scheduled() -> dict:
    return {"pair_id": "p", "session_id": "s", "planned_start": "2026-10-01T08:00:00Z"}


def test_independent_events_keep_the_order_they_happened_in_then_the_file_order() -> None:
    scheduled = [
        _candidate(n, "session.scheduled", minute, {**_scheduled(), "session_id": f"s{n}"})
        for n, minute in ((1, 5), (2, 1), (3, 5), (4, 0))
    ]
    assert [c.line for c in dependency_order(scheduled)] == [4, 2, 1, 3]
