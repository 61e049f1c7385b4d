"""A generated Workday tenant: normalised records for all six streams, plus its change log.

:func:`generate_tenant` builds a company with a real supervisory hierarchy and the awkward
people every real tenant has (see :mod:`~connectors.workday.sample.people`), plus its talent
data (:mod:`~connectors.workday.sample.talent`). It is deterministic for a seed and linear in
the number of workers. :func:`change_workers`, :func:`terminate` and :func:`rehire` then move
the tenant on, recording each change as a :class:`Change` so incremental reads find it.

Records are plain dicts shaped exactly like ``schemas/workday/<stream>.schema.json``.
"""

from __future__ import annotations

import random
from datetime import UTC, date, datetime

from mentorbridge.connectors.workday.sample import catalogue as cat
from mentorbridge.connectors.workday.sample.model import STREAMS, Change, Record, Tenant, is_active
from mentorbridge.connectors.workday.sample.people import Builder

__all__ = [
    "STREAMS",
    "Change",
    "Tenant",
    "change_workers",
    "generate_tenant",
    "is_active",
    "rehire",
    "terminate",
]


def generate_tenant(
    workers: int = 500, *, seed: int = 7, today: date = date(2026, 11, 1), name: str = "acme"
) -> Tenant:
    """Generate a tenant of ``workers`` workers, the same one every time for a seed."""
    if workers < 1:
        raise ValueError("a tenant needs at least one worker")
    return Builder(workers, seed, today, name).build()


# -- changing a tenant -------------------------------------------------------------------------


def change_workers(
    tenant: Tenant,
    *,
    fraction: float | None = None,
    workday_ids: list[str] | None = None,
    entered_at: datetime,
    seed: int = 1,
) -> list[str]:
    """Give some workers a new business title (every third also moves office).

    Either ``fraction`` of all workers (picked by ``seed``) or the given ``workday_ids``
    change; each gets ``last_updated = entered_at`` and a :class:`Change` effective that day.
    Returns the WIDs changed, in tenant order.
    """
    if (fraction is None) == (workday_ids is None):
        raise ValueError("give either fraction or workday_ids")
    moment = _utc(entered_at)
    rng = random.Random(seed)
    if fraction is not None:
        if not 0 <= fraction <= 1:
            raise ValueError("fraction must lie between 0 and 1")
        count = round(fraction * len(tenant.workers))
        targets = [tenant.workers[i] for i in sorted(rng.sample(range(len(tenant.workers)), count))]
    else:
        by_id = {w["workday_id"]: w for w in tenant.workers}
        wanted = set(workday_ids or ())
        missing = wanted - by_id.keys()
        if missing:
            raise KeyError(f"unknown workday_ids: {sorted(missing)}")
        targets = [w for w in tenant.workers if w["workday_id"] in wanted]
    for number, worker in enumerate(targets):
        _remember(tenant, worker, moment)
        worker["business_title"] = _retitle(worker["business_title"])
        if number % 3 == 2:
            site = rng.choice(cat.LOCATIONS)
            worker |= {"location": site.name, "country": site.country, "time_zone": site.time_zone}
        _touch(tenant, worker, moment, moment.date(), "Change Job")
    tenant.revision += 1
    return [w["workday_id"] for w in targets]


def terminate(tenant: Tenant, employee_id: str, *, on: date, entered_at: datetime) -> None:
    """Terminate a worker ``on`` a date (their last day; it may lie in the future)."""
    worker = tenant.find_worker(employee_id)
    moment = _utc(entered_at)
    _remember(tenant, worker, moment)
    worker["termination_date"] = on.isoformat()
    worker["active"] = is_active(on, tenant.today)
    _touch(tenant, worker, moment, on, "Termination")
    tenant.revision += 1


def rehire(tenant: Tenant, employee_id: str, *, on: date, entered_at: datetime) -> None:
    """Hire a former worker again: same WID and ID, new hire date, original hire date kept."""
    worker = tenant.find_worker(employee_id)
    moment = _utc(entered_at)
    _remember(tenant, worker, moment)
    worker["original_hire_date"] = worker["original_hire_date"] or worker["hire_date"]
    worker["hire_date"] = on.isoformat()
    worker["termination_date"] = None
    worker["active"] = True
    _touch(tenant, worker, moment, on, "Rehire")
    tenant.revision += 1


def _utc(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        raise ValueError("entered_at must be timezone-aware")
    return moment.astimezone(UTC)


def _remember(tenant: Tenant, worker: Record, superseded_at: datetime) -> None:
    version = dict(worker, additional_jobs=[dict(j) for j in worker["additional_jobs"]])
    tenant.history.setdefault(worker["workday_id"], []).append((superseded_at, version))


def _touch(tenant: Tenant, worker: Record, moment: datetime, effective: date, kind: str) -> None:
    worker["last_updated"] = moment.isoformat()
    tenant.changes.append(Change(worker["workday_id"], moment, effective, kind))


def _retitle(title: str | None) -> str:
    if not title:
        return "Acting Team Lead"
    for old, new in (("Senior ", "Lead "), ("Lead ", "Principal "), ("Principal ", "Senior ")):
        if title.startswith(old):
            return new + title.removeprefix(old)
    return "Senior " + title
