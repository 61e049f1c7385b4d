"""Picking the demo's pairs from the HRIS mirror: executives mentored by early-career staff.

As in real reverse-mentoring programmes, a junior mentor is never in their executive's
reporting line.
"""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select

from mentorbridge.plugin.store.db import Store
from mentorbridge.plugin.store.hris_models import HrisWorker

__all__ = ["pick_pairs"]

#: Senior executives, then vice presidents (management levels "2 Senior Executive" and
#: "3 Vice President"). Not the chief executive: everyone is in the CEO's reporting line, so
#: the rule below would leave the CEO no mentor.
EXECUTIVE_LEVELS = ("2", "3")
JUNIOR_LEVEL = "6"  # "6 Individual Contributor"
JUNIOR_TENURE = timedelta(days=2 * 365)


def pick_pairs(store: Store, count: int, *, today: date) -> list[tuple[str, str]]:
    """``count`` pairs of (executive, junior) Employee IDs, deterministic for a given mirror."""
    with store.reading() as session:
        workers = session.scalars(
            select(HrisWorker).where(
                HrisWorker.active.is_(True), HrisWorker.worker_type == "employee"
            )
        ).all()
    managers = {w.employee_id: w.manager_employee_id for w in workers}
    executives = sorted(
        (w for w in workers if (w.management_level or "")[:1] in EXECUTIVE_LEVELS),
        key=lambda w: (w.management_level, w.employee_id),
    )
    juniors = sorted(
        (
            w
            for w in workers
            if (w.management_level or "")[:1] == JUNIOR_LEVEL
            and w.hire_date is not None
            and w.hire_date >= today - JUNIOR_TENURE
        ),
        key=lambda w: (w.hire_date, w.employee_id),
        reverse=True,
    )
    pairs: list[tuple[str, str]] = []
    taken: set[str] = set()
    for executive in executives[:count]:
        junior = next(
            (
                j
                for j in juniors
                if j.employee_id not in taken
                and executive.employee_id not in _chain(j.employee_id, managers)
            ),
            None,
        )
        if junior is not None:
            taken.add(junior.employee_id)
            pairs.append((executive.employee_id, junior.employee_id))
    return pairs


def _chain(employee_id: str, managers: dict[str, str | None]) -> set[str]:
    """Everyone above a worker, up to the top (cycles in HRIS data are cut)."""
    above: set[str] = set()
    current = managers.get(employee_id)
    while current is not None and current not in above:
        above.add(current)
        current = managers.get(current)
    return above
