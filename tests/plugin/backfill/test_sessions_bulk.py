"""Plain ``session.completed`` events written in bulk leave exactly the rows the event processor
leaves for the same events one by one; anything else goes the usual way."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session, aliased

from mentorbridge.plugin import compose
from mentorbridge.plugin.backfill import dependency_order, import_events, read_jsonl
from mentorbridge.plugin.config import load_config
from mentorbridge.plugin.errors import RejectedError
from mentorbridge.plugin.store.db import Store
from mentorbridge.plugin.store.evidence_models import EvidenceDirty
from mentorbridge.plugin.store.models import (
    MentoringSession,
    OutboxPayload,
    OutboxStatement,
    Pair,
)
from mentorbridge.plugin.store.webhook_models import WebhookEvent
from mentorbridge.plugin.webhooks.events import IncomingEvent, parse_event
from mentorbridge.plugin.webhooks.processor import Accepted, EventProcessor
from tests.plugin.backfill.conftest import completed, write_jsonl


class CountingProcessor(EventProcessor):
    """The event processor, counting the events recorded the usual way."""

    usual: list[str]

    def process_within(self, session: Session, event: IncomingEvent) -> Accepted:
        self.usual.append(event.id)
        return super().process_within(session, event)


def _processor(store: Store, store_url: str) -> CountingProcessor:
    config = load_config(
        None,
        environ={"XDG_CONFIG_HOME": "/nonexistent"},
        overrides={"store.url": store_url, "lrs.auth": "none"},
    )
    usual = compose.event_processor(config, store)
    counting = CountingProcessor(
        usual.recorder, unknown_people=usual.unknown_people, intake=usual.intake
    )
    counting.usual = []
    return counting


def _history() -> list[dict[str, Any]]:
    """Sessions of two pairs, with what the bulk way must leave to the usual one in between:
    a session scheduled then completed, a repeated event, an unknown pair, wrong attendees."""
    events = [completed(n, pair=f"pair-{1 + n % 2}", members=_members(n)) for n in range(10)]
    events[3]["data"]["themes_discussed"] = ["generative AI at work", "Gen Z customers"]
    scheduled = {
        "id": "evt-booked",
        "type": "session.scheduled",
        "occurred_at": "2026-10-01T10:30:00Z",
        "data": {
            "pair_id": "pair-1",
            "session_id": "sess-booked",
            "planned_start": "2026-10-01T11:00:00Z",
            "planned_minutes": 30,
        },
    }
    held = {**completed(20), "id": "evt-booked-done", "occurred_at": "2026-10-01T11:40:00Z"}
    held["data"] = {**held["data"], "session_id": "sess-booked"}
    unknown = completed(21, pair="pair-404")
    strangers = completed(22, members=("EXEC-1", "JUN-2"))
    return [*events[:5], scheduled, held, events[2], unknown, strangers, *events[5:]]


def _members(n: int) -> tuple[str, str]:
    return ("EXEC-2", "JUN-2") if n % 2 else ("EXEC-1", "JUN-1")


def _rows(store: Store) -> dict[str, Any]:
    """What the events left, without row ids and times of writing."""
    pair = aliased(Pair)
    with store.reading() as session:
        sessions = session.execute(
            select(
                MentoringSession.key,
                pair.key,
                MentoringSession.sequence,
                MentoringSession.status,
                MentoringSession.planned_start,
                MentoringSession.planned_minutes,
                MentoringSession.started_at,
                MentoringSession.duration_seconds,
                MentoringSession.themes,
                MentoringSession.attended_statement_id,
                MentoringSession.mentored_statement_id,
            )
            .join(pair, MentoringSession.pair_id == pair.id)
            .order_by(MentoringSession.key)
        ).all()
        outbox = session.execute(
            select(
                OutboxStatement.statement_id,
                OutboxStatement.template,
                OutboxStatement.verb,
                OutboxStatement.registration,
                MentoringSession.key,
                OutboxStatement.voids_statement_id,
                OutboxStatement.state,
                OutboxPayload.payload,
            )
            .join(OutboxPayload, OutboxPayload.outbox_id == OutboxStatement.id)
            .outerjoin(MentoringSession, OutboxStatement.session_id == MentoringSession.id)
            .order_by(OutboxStatement.id)
        ).all()
        events = session.execute(
            select(
                WebhookEvent.event_id,
                WebhookEvent.type,
                WebhookEvent.source,
                WebhookEvent.body_sha256,
                WebhookEvent.status,
                WebhookEvent.result,
                WebhookEvent.payload,
            ).order_by(WebhookEvent.id)
        ).all()
        dirty = set(session.scalars(select(EvidenceDirty.person_id)))
    return {
        "sessions": [tuple(r) for r in sessions],
        "outbox": [tuple(r) for r in outbox],
        "events": [tuple(r) for r in events],
        "dirty": dirty,
    }


def _forget_the_events(store: Store) -> None:
    with store.transaction() as session:
        for model in (OutboxPayload, OutboxStatement, WebhookEvent, MentoringSession):
            session.execute(delete(model))
        session.execute(delete(EvidenceDirty))


def test_bulk_sessions_leave_the_same_rows_as_the_event_processor_one_by_one(
    pairs: Store, store_url: str, tmp_path: Path
) -> None:
    processor = _processor(pairs, store_url)
    ordered = dependency_order(
        list(read_jsonl(write_jsonl(tmp_path / "h.jsonl", _history()), secrets=tuple))
    )

    report = import_events(processor, ordered, batch_size=8)
    bulk = _rows(pairs)
    # Only what is not plain went the usual way: the booking and its completion, the
    # repeat, the unknown pair, the wrong attendees.
    assert sorted(processor.usual) == sorted(
        ["evt-booked", "evt-booked-done", "evt-done-2", "evt-done-21", "evt-done-22"]
    )
    _forget_the_events(pairs)
    answers = []
    for candidate in ordered:
        try:
            answers.append(processor.process(parse_event(candidate.body)).redelivery)
        except RejectedError as err:  # the refusals are compared below
            answers.append(type(err).__name__)
    one_by_one = _rows(pairs)

    assert bulk == one_by_one
    assert len(bulk["sessions"]) == 11 and len(bulk["outbox"]) == 23
    assert (report.imported, report.already_present) == (12, 1)
    assert sorted(r.event_id for r in report.rejects) == ["evt-done-21", "evt-done-22"]
    assert answers.count(True) == 1
    assert sorted(a for a in answers if isinstance(a, str)) == [
        "ConflictError",
        "UnknownReferenceError",
    ]
    reasons = {r.event_id: r.reason for r in report.rejects}
    assert "pair 'pair-404' is not known" in reasons["evt-done-21"]
    assert "must be its executive mentee and its junior mentor" in reasons["evt-done-22"]
    themes = {row[0]: row[8] for row in bulk["sessions"]}
    assert themes["sess-3"] == ["generative AI at work", "Gen Z customers"]
    assert json.loads(bulk["outbox"][0][7])["context"]["registration"] == bulk["outbox"][0][3]
