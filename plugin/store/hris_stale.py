"""Fields a run could not see: the mirror keeps their stored values and marks them stale.

A report stream leaves a field out of its records (the key is missing, not ``None``) when the
field's column was absent from every row of the run, as Workday does with a column the
integration user may no longer see (:mod:`connectors.workday.columns`). Here such a field is
not written: an updated row keeps its stored value, a candidate or requirement keeps the value
it had, and :class:`~plugin.store.hris_models.StaleField` records which fields of which stream
are stale and since when, until a run carries them again.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import cache
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from mentorbridge.connectors.workday.fields import SENSITIVE_FIELDS, STREAM_FIELDS
from mentorbridge.plugin.store.base import utc_now
from mentorbridge.plugin.store.hris_models import StaleField

__all__ = ["absent_in", "fill_children", "kept_columns", "mark_stale", "stale_fields"]

#: Where a field is stored under another name.
_COLUMN_OF = {
    ("*", "last_updated"): "source_updated_at",
    ("job_profile_competencies", "job_profile"): "name",
}


@cache
def _fields(stream: str) -> tuple[frozenset[str], dict[str, frozenset[str]]]:
    """A stream's fields, and the fields of the items of each of its lists (every source
    writes each of them, ``None`` when empty; only an absent column leaves one out)."""
    fields = STREAM_FIELDS[stream]
    nested = {
        name: frozenset(STREAM_FIELDS[kind[5:]])
        for name, kind in fields.items()
        if kind.startswith("list:")
    }
    return frozenset(fields) - set(SENSITIVE_FIELDS), nested


def absent_in(stream: str, records: Iterable[dict[str, Any]]) -> set[str]:
    """The fields (``list.field`` inside lists) some record of ``stream`` leaves out."""
    if stream not in STREAM_FIELDS:
        return set()
    top, nested = _fields(stream)
    found: set[str] = set()
    for record in records:
        found |= top - record.keys()
        for name, inner in nested.items():
            for item in record.get(name) or ():
                found |= {f"{name}.{f}" for f in inner - item.keys()}
    return found


def kept_columns(stream: str, absent: set[str]) -> set[str]:
    """The table columns an update leaves alone because their field was absent."""
    return {
        _COLUMN_OF.get((stream, f)) or _COLUMN_OF.get(("*", f)) or f for f in absent if "." not in f
    }


def fill_children(
    session: Session,
    model: type,
    parent_column: str,
    item_key: str,
    children: list[dict[str, Any]],
    stale_parents: list[int],
    absent: set[str],
) -> None:
    """Give new child rows the stored values of the fields the run lacked (matched by parent
    and ``item_key``, e.g. a succession candidate's employee id); call before the old rows go."""
    if not absent or not stale_parents or not children:
        return
    wanted = sorted(absent)
    rows = session.execute(
        select(
            getattr(model, parent_column),
            getattr(model, item_key),
            *(getattr(model, f) for f in wanted),
        ).where(getattr(model, parent_column).in_(stale_parents))
    ).all()
    stored = {(row[0], row[1]): dict(zip(wanted, row[2:], strict=True)) for row in rows}
    for child in children:
        old = stored.get((child[parent_column], child[item_key]))
        if old is not None:
            child.update(old)


def mark_stale(
    session: Session, connector: str, stream: str, absent: set[str], run_id: int
) -> None:
    """Record the fields a run of ``stream`` lacked; forget those it carried again."""
    session.execute(
        delete(StaleField).where(
            StaleField.connector == connector,
            StaleField.stream == stream,
            StaleField.field.not_in(absent) if absent else True,
        )
    )
    if not absent:
        return
    known = set(
        session.scalars(
            select(StaleField.field).where(
                StaleField.connector == connector, StaleField.stream == stream
            )
        )
    )
    now = utc_now()
    for field in sorted(absent):
        if field in known:
            session.get(StaleField, (connector, stream, field)).last_run_id = run_id
        else:
            session.add(
                StaleField(
                    connector=connector, stream=stream, field=field, since=now, last_run_id=run_id
                )
            )


def stale_fields(session: Session, connector: str) -> dict[str, dict[str, Any]]:
    """Per ``stream.field``: since when it is stale and the last run that lacked it."""
    rows = session.scalars(
        select(StaleField)
        .where(StaleField.connector == connector)
        .order_by(StaleField.stream, StaleField.field)
    )
    return {
        f"{row.stream}.{row.field}": {"since": row.since, "last_run_id": row.last_run_id}
        for row in rows
    }
