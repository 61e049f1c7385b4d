"""Bulk inserts through the driver read back exactly as rows written through SQLAlchemy do."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from sqlalchemy import func, insert, select
from sqlalchemy.exc import IntegrityError

from mentorbridge.plugin.store.bulk import insert_rows
from mentorbridge.plugin.store.db import Store
from mentorbridge.plugin.store.models import Pair, Person, Programme

CREATED = datetime(2026, 3, 4, 10, 2, 11, 123456, tzinfo=timezone(timedelta(hours=2)))


def test_rows_read_back_like_rows_inserted_through_sqlalchemy(store: Store) -> None:
    people = [
        {"worker_id": f"W{n}", "opaque_id": f"p-{n}", "active": n == 1, "created_at": CREATED}
        for n in range(1, 5)
    ]
    with store.transaction() as session:
        session.execute(insert(Person.__table__), people[:2])
        insert_rows(session, Person.__table__, people[2:])
        session.add(Programme(key="rm", name="Reverse mentoring", created_at=CREATED))
    with store.transaction() as session:
        programme = session.scalar(select(Programme.id))
        ids = dict(session.execute(select(Person.worker_id, Person.id)).all())
        pairs = [
            {
                "key": f"pair-{n}",
                "programme_id": programme,
                "mentee_id": ids[f"W{n}"],
                "mentor_id": ids[f"W{n + 1}"],
                "registration": f"00000000-0000-4000-8000-00000000000{n}",
                "status": "active",
                "started_on": date(2026, 1, n),
                "ended_on": None,
                "cadence": None,
                "themes": ["AI", "Gen Z customers"] if n == 1 else [],
                "created_at": CREATED,
            }
            for n in (1, 3)
        ]
        session.execute(insert(Pair.__table__), pairs[:1])
        insert_rows(session, Pair.__table__, pairs[1:])
    with store.transaction() as session:
        read = session.execute(
            select(Person.worker_id, Person.active, Person.created_at).order_by(Person.id)
        ).all()
        stored = session.execute(
            select(Pair.key, Pair.started_on, Pair.themes, Pair.created_at).order_by(Pair.id)
        ).all()
    assert [tuple(row) for row in read] == [
        (f"W{n}", n == 1, CREATED.astimezone(UTC)) for n in range(1, 5)
    ]
    assert [tuple(row) for row in stored] == [
        ("pair-1", date(2026, 1, 1), ["AI", "Gen Z customers"], CREATED.astimezone(UTC)),
        ("pair-3", date(2026, 1, 3), [], CREATED.astimezone(UTC)),
    ]


def test_a_column_sqlalchemy_would_default_must_be_given(store: Store) -> None:
    with store.transaction() as session, pytest.raises(ValueError, match="active, created_at"):
        insert_rows(session, Person.__table__, [{"worker_id": "W1", "opaque_id": "p-1"}])


def test_naive_timestamps_are_refused(store: Store) -> None:
    row = {
        "worker_id": "W1",
        "opaque_id": "p-1",
        "active": True,
        "created_at": datetime(2026, 1, 1),
    }
    with store.transaction() as session, pytest.raises(ValueError, match="naive"):
        insert_rows(session, Person.__table__, [row])


@pytest.mark.parametrize("rows", [2, 120], ids=["executemany", "bulk path (COPY on PostgreSQL)"])
def test_a_clash_is_an_integrity_error_and_many_rows_read_back_alike(
    store: Store, rows: int
) -> None:
    people = [
        {"worker_id": f"W{n}", "opaque_id": f"p-{n}", "active": True, "created_at": CREATED}
        for n in range(rows)
    ]
    with store.transaction() as session:
        insert_rows(session, Person.__table__, people)
    with store.reading() as session:
        read = session.execute(select(Person.worker_id, Person.created_at).order_by(Person.id))
        assert [tuple(row) for row in read] == [
            (f"W{n}", CREATED.astimezone(UTC)) for n in range(rows)
        ]
    clash = [{**people[-1], "worker_id": "W-new"}]  # the same opaque id
    with pytest.raises(IntegrityError), store.transaction() as session:
        insert_rows(session, Person.__table__, clash + _fresh(rows))
    with store.reading() as session:
        assert session.scalar(select(func.count()).select_from(Person)) == rows


def _fresh(rows: int) -> list[dict]:
    """Rows enough to take the same path as the first insert did."""
    return [
        {"worker_id": f"X{n}", "opaque_id": f"x-{n}", "active": True, "created_at": CREATED}
        for n in range(rows - 1)
    ]
