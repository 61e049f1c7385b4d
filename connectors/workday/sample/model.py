"""The sample tenant's data model: the :class:`Tenant` with its records, and :class:`Change`.

Records are plain dicts shaped exactly like ``schemas/workday/<stream>.schema.json``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

__all__ = ["STREAMS", "Change", "Record", "Tenant", "is_active"]

Record = dict[str, Any]

STREAMS = (
    "workers",
    "organizations",
    "competencies",
    "competency_assessments",
    "job_profile_competencies",
    "succession_plans",
)


@dataclass(slots=True)
class Change:
    """One HR transaction on a worker: when it was entered and when it takes effect."""

    workday_id: str
    entered_at: datetime
    effective_on: date
    kind: str = "Change Job"


@dataclass(kw_only=True)
class Tenant:
    """A whole tenant: the records of every stream, the change log and earlier versions.

    ``positions`` maps each worker's WID to their primary position id (not part of the
    normalised worker record). ``history`` keeps, per WID, the versions a worker had before
    each change made with :func:`~connectors.workday.sample.tenant.change_workers`,
    ``terminate`` or ``rehire``, as ``(superseded_at, record)`` in entry order (changes are
    expected to be entered in time order).
    ``revision`` counts those changes, so caches built on the tenant know when to rebuild.
    """

    name: str = "acme"
    today: date
    workers: list[Record] = field(default_factory=list)
    organizations: list[Record] = field(default_factory=list)
    competencies: list[Record] = field(default_factory=list)
    competency_assessments: list[Record] = field(default_factory=list)
    job_profile_competencies: list[Record] = field(default_factory=list)
    succession_plans: list[Record] = field(default_factory=list)
    changes: list[Change] = field(default_factory=list)
    positions: dict[str, str] = field(default_factory=dict)
    history: dict[str, list[tuple[datetime, Record]]] = field(default_factory=dict)
    revision: int = 0

    def records(self, stream: str) -> list[Record]:
        """The records of one stream (a name from :data:`STREAMS`)."""
        if stream not in STREAMS:
            raise KeyError(f"unknown stream {stream!r}")
        return getattr(self, stream)

    def find_worker(self, employee_id: str) -> Record:
        """The worker with this Employee ID (or Contingent Worker ID)."""
        for worker in self.workers:
            if worker["employee_id"] == employee_id:
                return worker
        raise KeyError(f"no worker with employee_id {employee_id!r}")

    def worker_as_of(self, worker: Record, as_of: datetime) -> Record:
        """The version of ``worker`` that someone reading at ``as_of`` would have seen.

        Only changes made with the tenant module's functions are undone; the generated state
        is the oldest version there is.
        """
        for superseded_at, version in self.history.get(worker["workday_id"], ()):
            if as_of < superseded_at:
                return version
        return worker


def is_active(termination_date: date | str | None, today: date) -> bool:
    """Whether a worker counts as active: the termination date is their last working day."""
    if termination_date is None:
        return True
    if isinstance(termination_date, str):
        termination_date = date.fromisoformat(termination_date)
    return termination_date >= today
