"""Duplicates a tenant sends within one record or one batch, merged before the upsert.

Real tenants list the same required competency twice on a job profile, the same candidate
twice on a succession plan, or the same record twice in a report. Stored as they come, they
hit the mirror's unique keys; here they are merged, and each merge is counted in
:attr:`~connectors.base.StreamCounts.merged` so the run report can say so.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from mentorbridge.connectors.base import StreamCounts
from mentorbridge.plugin.store.hris_models import Competency

__all__ = ["merge_duplicates"]

Record = dict[str, Any]


def merge_duplicates(
    session: Session,
    stream: str,
    records: list[Record],
    key_of: Callable[[Record], Hashable],
    counts: StreamCounts,
) -> dict[Hashable, Record]:
    """A batch by key, duplicates merged and counted in ``counts.merged``.

    Within a record: a job profile requiring the same competency twice keeps the highest
    required level (by the competency's scale in the mirror, else the last listed); a
    candidate listed twice on a plan keeps the last listing. Within a batch: a record whose
    key comes twice keeps the latest by last-updated, else the last read.
    """
    if stream == "job_profile_competencies":
        records = _merge_requirements(session, records, counts)
    elif stream == "succession_plans":
        records = [_merge_items(r, "candidates", "employee_id", counts) for r in records]
    batch: dict[Hashable, Record] = {}
    for record in records:
        key = key_of(record)
        kept = batch.get(key)
        if kept is not None:
            counts.merged += 1
            if _updated_after(kept, record):
                continue
        batch[key] = record
    return batch


def _moment(record: Record) -> datetime | None:
    value = record.get("last_updated")
    return datetime.fromisoformat(value).astimezone(UTC) if value else None


def _updated_after(one: Record, other: Record) -> bool:
    """Whether ``one`` was updated after ``other`` (a record without a date: not known)."""
    first, second = _moment(one), _moment(other)
    return first is not None and (second is None or first > second)


def _merge_items(
    record: Record,
    items: str,
    key: str,
    counts: StreamCounts,
    better: Callable[[Record, Record], bool] = lambda new, old: True,
) -> Record:
    """The record with one item per ``key`` in its ``items`` list; ``better(new, old)`` says
    whether a later duplicate replaces the one kept."""
    kept: dict[Any, Record] = {}
    for item in record[items]:
        old = kept.get(item[key])
        if old is not None:
            counts.merged += 1
            if not better(item, old):
                continue
        kept[item[key]] = item
    if len(kept) == len(record[items]):
        return record
    return record | {items: list(kept.values())}


def _merge_requirements(
    session: Session, records: list[Record], counts: StreamCounts
) -> list[Record]:
    """Job profiles with each required competency once, at the highest level required."""
    repeated: set[str] = set()
    for record in records:
        ids = [item["competency_id"] for item in record["competencies"]]
        repeated |= {i for i in ids if ids.count(i) > 1}
    if not repeated:
        return records
    rows = session.execute(
        select(Competency.competency_id, Competency.levels).where(
            Competency.competency_id.in_(repeated)
        )
    )
    scales = {cid: {lv["level_id"]: lv["rank"] for lv in levels or []} for cid, levels in rows}

    def higher(new: Record, old: Record) -> bool:
        ranks = scales.get(new["competency_id"], {})
        new_rank = ranks.get(new.get("required_level_id"))
        old_rank = ranks.get(old.get("required_level_id"))
        if new_rank is None or old_rank is None:
            return old_rank is None  # a level on the scale beats one that is not; else the last
        return new_rank > old_rank

    return [_merge_items(r, "competencies", "competency_id", counts, higher) for r in records]
