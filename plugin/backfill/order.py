"""Dependency order: events are recorded in the order they happened, except that nothing is
recorded before what it rests on when both are in the file.

What an event rests on, by type (``rank`` in brackets):

* a pair (``pair.created``, 1): ``session.scheduled`` (2), ``session.completed`` (3) and
  ``goal.set`` (4) of that pair;
* a session (``session.scheduled`` 2, ``session.completed`` 3): its ``session.completed``,
  ``reflection.submitted`` (4), ``outcome.rated`` (4), ``goal.set`` naming it and
  ``session.cancelled`` (5);
* a goal (``goal.set``): its ``goal.achieved`` (5); an outcome (``outcome.rated``): its
  ``outcome.release_changed`` (5);
* ``pair.ended`` (6) comes after everything that needs the pair active: its sessions booked
  and held, its goals set.

An event only waits for events of a lower rank, so the order always exists (two events
claiming the same session wait for nothing from each other: the store refuses the second).
Among events free to go, the earliest ``occurred_at`` goes first, then the lower rank, then
the earlier line. ``intake.submitted`` (0) rests on nothing.
"""

from __future__ import annotations

import heapq
from collections import defaultdict
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mentorbridge.plugin.backfill.lines import Candidate

__all__ = ["RANK", "dependency_order", "references"]

RANK = {
    "intake.submitted": 0,
    "pair.created": 1,
    "session.scheduled": 2,
    "session.completed": 3,
    "goal.set": 4,
    "reflection.submitted": 4,
    "outcome.rated": 4,
    "session.cancelled": 5,
    "goal.achieved": 5,
    "outcome.release_changed": 5,
    "pair.ended": 6,
}

Refs = tuple[tuple[str, str], ...]


def references(event_type: str, data: dict[str, Any]) -> tuple[Refs, Refs]:
    """What an event of ``event_type`` makes and what it needs, as ``(kind, key)`` pairs.

    ``("active pair", key)`` is made by what needs the pair ``key`` active, and needed by its
    ``pair.ended``.
    """
    match event_type:
        case "pair.created":
            return (("pair", data["pair_id"]),), ()
        case "pair.ended":
            return (), (("pair", data["pair_id"]), ("active pair", data["pair_id"]))
        case "session.scheduled" | "session.completed":
            pair, session = data["pair_id"], data["session_id"]
            return (("session", session), ("active pair", pair)), (
                ("pair", pair),
                ("session", session),
            )
        case "goal.set":
            needs = [("pair", data["pair_id"])]
            if data.get("session_id"):
                needs.append(("session", data["session_id"]))
            return (("goal", data["goal_id"]), ("active pair", data["pair_id"])), tuple(needs)
        case "goal.achieved":
            return (), (("goal", data["goal_id"]),)
        case "outcome.rated":
            return (("outcome", data["outcome_id"]),), (("session", data["session_id"]),)
        case "outcome.release_changed":
            return (), (("outcome", data["outcome_id"]),)
        case "session.cancelled" | "reflection.submitted":
            return (), (("session", data["session_id"]),)
    return (), ()


def dependency_order(candidates: Sequence[Candidate]) -> list[Candidate]:
    """``candidates`` in the order to record them (see the module's description)."""
    makers: dict[tuple[str, str], list[int]] = defaultdict(list)
    for index, candidate in enumerate(candidates):
        for made in candidate.makes:
            makers[made].append(index)
    waiting = [0] * len(candidates)
    followers: list[list[int]] = [[] for _ in candidates]
    for index, candidate in enumerate(candidates):
        rank = RANK[candidate.type]
        before = {
            maker
            for needed in candidate.needs
            for maker in makers.get(needed, ())
            if RANK[candidates[maker].type] < rank
        }
        waiting[index] = len(before)
        for maker in before:
            followers[maker].append(index)
    ready = [_key(candidates, i) for i, count in enumerate(waiting) if count == 0]
    heapq.heapify(ready)
    ordered: list[Candidate] = []
    while ready:
        *_, index = heapq.heappop(ready)
        ordered.append(candidates[index])
        for follower in followers[index]:
            waiting[follower] -= 1
            if waiting[follower] == 0:
                heapq.heappush(ready, _key(candidates, follower))
    return ordered


def _key(candidates: Sequence[Candidate], index: int) -> tuple[Any, ...]:
    candidate = candidates[index]
    return (candidate.occurred_at, RANK[candidate.type], candidate.line, index)
