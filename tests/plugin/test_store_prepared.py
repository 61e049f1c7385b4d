"""Prepared statements write and read as SQLAlchemy's own statements do, on both stores."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.exc import IntegrityError

from mentorbridge.plugin.store.db import Store
from mentorbridge.plugin.store.prepared import Prepared
from mentorbridge.plugin.store.webhook_models import WebhookEvent

EVENTS = WebhookEvent.__table__
RECEIVED = datetime(2026, 3, 4, 10, 2, 11, 123456, tzinfo=timezone(timedelta(hours=2)))

INSERT = Prepared(
    lambda _dialect: (
        insert(EVENTS)
        .values(
            event_id=bindparam("event_id"),
            type="session.completed",  # written into the statement
            source="test",
            body_sha256="0" * 64,
            status="processed",
            result=bindparam("result"),
            payload=bindparam("payload"),
            received_at=bindparam("received_at"),
        )
        .returning(EVENTS.c.id)
    )
)
SETTLE = Prepared(
    lambda _dialect: (
        update(EVENTS)
        .where(EVENTS.c.id == bindparam("row_id"))
        .values(status=bindparam("status_to"), processed_at=bindparam("at"))
    )
)


def test_values_go_through_the_columns_types_and_read_back_alike(store: Store) -> None:
    result = {"statement_ids": ["a", "b"], "note": "naïve ☕"}
    with store.transaction() as session:
        first = INSERT.scalar(
            session, event_id="e-1", result=result, payload=None, received_at=RECEIVED
        )
        second = INSERT.scalar(
            session, event_id="e-2", result={}, payload={"data": [1]}, received_at=RECEIVED
        )
        SETTLE.run(session, row_id=second, status_to="held", at=RECEIVED + timedelta(hours=1))
    assert second == first + 1
    with store.reading() as session:
        rows = session.execute(
            select(
                WebhookEvent.event_id,
                WebhookEvent.type,
                WebhookEvent.status,
                WebhookEvent.result,
                WebhookEvent.payload,
                WebhookEvent.received_at,
                WebhookEvent.processed_at,
            ).order_by(WebhookEvent.id)
        ).all()
    assert [tuple(row) for row in rows] == [
        ("e-1", "session.completed", "processed", result, None, RECEIVED.astimezone(UTC), None),
        (
            "e-2",
            "session.completed",
            "held",
            {},
            {"data": [1]},
            RECEIVED.astimezone(UTC),
            (RECEIVED + timedelta(hours=1)).astimezone(UTC),
        ),
    ]


def test_a_clash_is_raised_as_sqlalchemy_raises_it_and_undoes_the_transaction(
    store: Store,
) -> None:
    with store.transaction() as session:
        INSERT.scalar(session, event_id="e-1", result={}, payload=None, received_at=RECEIVED)
    with pytest.raises(IntegrityError), store.transaction() as session:
        INSERT.scalar(session, event_id="e-2", result={}, payload=None, received_at=RECEIVED)
        INSERT.scalar(session, event_id="e-1", result={}, payload=None, received_at=RECEIVED)
    with store.reading() as session:
        assert session.scalars(select(WebhookEvent.event_id)).all() == ["e-1"]
