"""People whose evidence the next mapper run recomputes, marked by the change that touched them.

A mark is written in the transaction of the change itself, so a change and its mark commit
together. Marking again moves ``marked_at`` on: a run clears only the marks it saw, so a
change recorded while it was running is picked up by the next run.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache

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
    ids = sorted(set(person_ids))
    if ids:
        values = {f"person_id_{n}": person_id for n, person_id in enumerate(ids)}
        _marks(len(ids)).run(session, marked_at=utc_now(), **values)


@lru_cache(maxsize=16)
def _marks(count: int) -> Prepared:
    """The upsert of ``count`` marks (parameters ``person_id_<n>`` and ``marked_at``)."""
    table = EvidenceDirty.__table__

    def build(dialect: str) -> Executable:
        statement = (postgresql if dialect == "postgresql" else sqlite).insert(table)
        marked_at = bindparam("marked_at", type_=table.c.marked_at.type)
        rows = [
            {
                "person_id": bindparam(f"person_id_{n}", type_=table.c.person_id.type),
                "marked_at": marked_at,
            }
            for n in range(count)
        ]
        return statement.values(rows).on_conflict_do_update(
            index_elements=[table.c.person_id], set_={"marked_at": statement.excluded.marked_at}
        )

    return Prepared(build)
