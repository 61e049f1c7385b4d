"""The hard rules every pair must pass, one person pair at a time (the scorer applies the same
rules to whole blocks at once): outside each other's reporting chain and not sharing a direct
manager, enough shared working hours across time zones, a shared language where asked."""

from __future__ import annotations

from datetime import date, datetime, time
from functools import cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from mentorbridge.plugin.pairing.pool import Candidate
from mentorbridge.plugin.pairing.programme import PairingProgramme

__all__ = ["chain_problem", "hard_rules", "overlap_minutes", "utc_offset_minutes"]

_DAY = 24 * 60


@cache
def utc_offset_minutes(time_zone: str | None, on: date) -> int | None:
    """Minutes ahead of UTC at noon on ``on``; ``None`` for no or an unknown zone."""
    if not time_zone:
        return None
    try:
        zone = ZoneInfo(time_zone)
    except (ZoneInfoNotFoundError, ValueError):
        return None
    offset = datetime.combine(on, time(12), zone).utcoffset()
    return None if offset is None else int(offset.total_seconds() // 60)


def overlap_minutes(offset_a: int | None, offset_b: int | None, day: tuple[int, int]) -> int:
    """Minutes of the working ``day`` (local start, end) two zones share; 0 if one is unknown."""
    if offset_a is None or offset_b is None:
        return 0
    start, end = day
    a = (start - offset_a, end - offset_a)
    best = 0
    for shift in (-_DAY, 0, _DAY):  # the other's day may fall across midnight UTC
        b = (start - offset_b + shift, end - offset_b + shift)
        best = max(best, min(a[1], b[1]) - max(a[0], b[0]))
    return best


def chain_problem(mentee: Candidate, mentor: Candidate) -> str | None:
    """Why the two are in one reporting line, ``None`` if they are not."""
    if mentee.employee_id == mentor.employee_id:
        return "the same person"
    if mentee.employee_id in mentor.ancestors:
        return "the mentor reports (directly or not) to the executive"
    if mentor.employee_id in mentee.ancestors:
        return "the executive reports (directly or not) to the mentor"
    if mentee.manager is not None and mentee.manager == mentor.manager:
        return "they share a direct manager"
    return None


def hard_rules(
    programme: PairingProgramme, mentee: Candidate, mentor: Candidate, on: date
) -> tuple[dict[str, str], list[str]]:
    """Each hard rule with what was checked, and the ones the pair breaks."""
    passed: dict[str, str] = {}
    broken: list[str] = []
    problem = chain_problem(mentee, mentor)
    if problem:
        broken.append(f"reporting chain: {problem}")
    else:
        passed["reporting_chain"] = "outside each other's reporting chain; no shared manager"
    minutes = overlap_minutes(
        utc_offset_minutes(mentee.time_zone, on),
        utc_offset_minutes(mentor.time_zone, on),
        programme.working_hours,
    )
    wanted = programme.min_overlap_hours * 60
    zones = f"{mentee.time_zone or 'unknown zone'} / {mentor.time_zone or 'unknown zone'}"
    if minutes >= wanted:
        passed["working_hours"] = f"{minutes / 60:g} h of working day shared ({zones})"
    else:
        broken.append(
            f"working hours: {minutes / 60:g} h shared ({zones}), "
            f"fewer than {programme.min_overlap_hours:g} h"
        )
    if programme.shared_language:
        shared = sorted(mentee.languages & mentor.languages)
        if shared:
            passed["language"] = "both work in " + ", ".join(shared)
        else:
            broken.append("language: no language in common in their intake")
    return passed, broken
