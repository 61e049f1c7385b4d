"""People whose evidence the next mapper run recomputes, marked by the change that touched them.

A mark is written in the transaction of the change itself, so a change and its mark commit
together. Marking again moves ``marked_at`` on: a run clears only the marks it saw, so a
change recorded while it was running is picked up by the next run.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import bindparam
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session
from sqlalchemy.sql import Executable

from mentorbridge.plugin.store.base import utc_now
from mentorbridge.plugin.store.evidence_models import EvidenceDirty
from mentorbridge.plugin.store.prepared import Prepared

__all__ = ["mark_dirty"]


def mark_dirty(session: Session, person_ids: Iterable[int]) -> None:
    """Mark ``person_ids`` (``person.id``) for the next mapper run, in ``session``'s
    transaction (an upsert on SQLite and PostgreSQL alike; in id order, so two transactions
    marking the same people never wait on each other crosswise)."""
    now = utc_now()
    for person_id in sorted(set(person_ids)):
        _MARK.run(session, person_id=person_id, marked_at=now)


def _mark(dialect: str) -> Executable:
    table = EvidenceDirty.__table__
    statement = (postgresql if dialect == "postgresql" else sqlite).insert(table)
    return statement.values(
        person_id=bindparam("person_id"), marked_at=bindparam("marked_at")
    ).on_conflict_do_update(
        index_elements=[table.c.person_id], set_={"marked_at": statement.excluded.marked_at}
    )


_MARK = Prepared(_mark)
