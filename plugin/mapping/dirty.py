"""People whose evidence the next mapper run recomputes, marked by the change that touched them.

A mark is written in the transaction of the change itself, so a change and its mark commit
together. Marking again moves ``marked_at`` on: a run clears only the marks it saw, so a
change recorded while it was running is picked up by the next run.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from mentorbridge.plugin.store.base import utc_now
from mentorbridge.plugin.store.evidence_models import EvidenceDirty

__all__ = ["mark_dirty"]


def mark_dirty(session: Session, person_ids: Iterable[int]) -> None:
    """Mark ``person_ids`` (``person.id``) for the next mapper run, in ``session``'s
    transaction (an upsert on SQLite and PostgreSQL alike)."""
    ids = sorted(set(person_ids))
    if not ids:
        return
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    now = utc_now()
    statement = dialect.insert(EvidenceDirty).values(
        [{"person_id": person_id, "marked_at": now} for person_id in ids]
    )
    session.execute(
        statement.on_conflict_do_update(
            index_elements=[EvidenceDirty.person_id],
            set_={"marked_at": statement.excluded.marked_at},
        )
    )
