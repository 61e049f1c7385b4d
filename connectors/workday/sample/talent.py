"""The talent half of the sample tenant: competencies, assessments, job profile requirements and
succession plans, generated for workers that already exist.

Digital competencies run against seniority (juniors rate high, executives low): that gap is
what reverse mentoring is about, so the demo data shows it.
"""

from __future__ import annotations

import random
from datetime import date, timedelta
from typing import Any

from mentorbridge.connectors.workday.sample import catalogue as cat

__all__ = ["assessments", "competency_library", "job_profile_requirements", "succession_plans"]

Record = dict[str, Any]

#: Competencies where the young know more than the senior.
_INVERTED = frozenset({"SUCC-DIGI", "TECH-GENAI", "TECH-DATA"})
_SOURCES = ("Manager", "Manager", "Self", "Talent Review")


def competency_library(tenant: str) -> list[Record]:
    """The tenant's competencies with the levels of their proficiency scale."""
    scales = cat.scales(tenant)
    prefix = tenant.upper()
    return [
        {
            "competency_id": competency_id,
            "name": name,
            "category": category,
            "scale_id": f"{prefix}_{scale}",
            "levels": [dict(level) for level in scales[f"{prefix}_{scale}"]],
            "inactive": inactive,
        }
        for competency_id, name, category, scale, inactive in cat.COMPETENCIES
    ]


def _assessable(competencies: list[Record]) -> list[Record]:
    return [
        c
        for c in competencies
        if not c["inactive"] and c["competency_id"] not in cat.NEW_COMPETENCIES
    ]


def _level_index(count: int, management_level: int, competency_id: str, jitter: int) -> int:
    """An index into a scale of ``count`` levels, from seniority (1 = CEO ... 6 = contributor)."""
    seniority = (6 - management_level) / 5  # 1.0 for the CEO, 0.0 for a contributor
    if competency_id in _INVERTED:
        seniority = 1 - seniority
    return min(count - 1, max(0, round(seniority * (count - 1)) + jitter))


def assessments(
    rng: random.Random,
    workers: list[Record],
    levels: list[int],
    competencies: list[Record],
    today: date,
) -> list[Record]:
    """Two to four assessments on distinct competencies for about nine workers in ten."""
    active = _assessable(competencies)
    earliest = today - timedelta(days=3 * 365)
    rows: list[Record] = []
    for worker, level in zip(workers, levels, strict=True):
        if rng.random() < 0.1:
            continue
        start = max(date.fromisoformat(worker["hire_date"]), earliest)
        end = today - timedelta(days=1)
        if worker["termination_date"] and worker["termination_date"] < end.isoformat():
            end = date.fromisoformat(worker["termination_date"])
        start = min(start, end)
        span = (end - start).days
        for competency in rng.sample(active, rng.randint(2, 4)):
            scale = competency["levels"]
            chosen = scale[
                _level_index(len(scale), level, competency["competency_id"], rng.choice((-1, 0, 1)))
            ]
            assessed_on = start + timedelta(days=rng.randint(0, span))
            minute = rng.randrange(60)
            rows.append(
                {
                    "employee_id": worker["employee_id"],
                    "competency_id": competency["competency_id"],
                    "level_id": chosen["level_id"],
                    "level": chosen["name"],
                    "assessed_on": assessed_on.isoformat(),
                    "source": rng.choice(_SOURCES),
                    "last_updated": f"{assessed_on.isoformat()}T16:{minute:02d}:00+00:00",
                }
            )
    return rows


def job_profile_requirements(
    rng: random.Random, profiles: dict[str, tuple[str, int]], competencies: list[Record]
) -> list[Record]:
    """Two to four required competencies (and levels) for each job profile.

    ``profiles`` maps a job profile id to its name and management level (1 to 6).
    """
    active = _assessable(competencies)
    rows: list[Record] = []
    for profile_id in sorted(profiles):
        name, level = profiles[profile_id]
        required = []
        for competency in rng.sample(active, rng.randint(2, 4)):
            scale = competency["levels"]
            # Profiles ask for the level their holders should reach, never inverted.
            target = scale[_level_index(len(scale), level, "", rng.choice((0, 0, 1)))]
            required.append(
                {
                    "competency_id": competency["competency_id"],
                    "required_level_id": target["level_id"],
                    "required_level": target["name"],
                }
            )
        rows.append({"job_profile_id": profile_id, "job_profile": name, "competencies": required})
    return rows


def succession_plans(
    rng: random.Random,
    workers: list[Record],
    levels: list[int],
    positions: dict[str, str],
    next_position: int,
    today: date,
) -> list[Record]:
    """Plans for the most senior positions: about one per fifty workers, one of them vacant.

    ``positions`` maps a worker's WID to their primary position id; ``next_position`` is the
    first free position number (for the vacant position).
    """
    count = max(1, round(len(workers) / 50))
    eligible = [
        i
        for i, worker in enumerate(workers)
        if worker["active"]
        and worker["worker_type"] == "employee"
        and not worker["termination_date"]
    ]
    seniors = [i for i in eligible if levels[i] <= 3]
    pool = [i for i in eligible if 3 <= levels[i] <= 5] or eligible
    vacant = count >= 3
    incumbents: list[int | None] = list(seniors[: count - 1 if vacant else count])
    if vacant:
        incumbents.insert(min(2, len(incumbents)), None)
    plans: list[Record] = []
    for number, incumbent in enumerate(incumbents):
        if incumbent is None:
            position_id, title = f"P-{next_position:05d}", "Vice President, Strategy"
        else:
            worker = workers[incumbent]
            position_id, title = positions[worker["workday_id"]], worker["business_title"]
        picks = [i for i in rng.sample(pool, min(len(pool), 5)) if i != incumbent]
        candidates = []
        for rank, i in enumerate(picks[: rng.randint(2, 4)]):
            readiness_id, readiness = cat.READINESS[
                rng.choice((0, 1)) if rank == 0 else rng.randrange(len(cat.READINESS))
            ]
            candidates.append(
                {
                    "employee_id": workers[i]["employee_id"],
                    "readiness_id": readiness_id,
                    "readiness": readiness,
                    "top_candidate": rank == 0,
                    "temporary_fill": readiness_id == "EMER" or (number % 4 == 0 and rank == 1),
                }
            )
        updated = today - timedelta(days=rng.randint(3, 300))
        plans.append(
            {
                "position_id": position_id,
                "position": title,
                "incumbent_employee_id": None
                if incumbent is None
                else workers[incumbent]["employee_id"],
                "last_updated": f"{updated.isoformat()}T11:{rng.randrange(60):02d}:00+00:00",
                "candidates": candidates,
            }
        )
    return plans
