"""One pairing computation, without touching the store: score the pool, keep each executive's
best candidates, solve exactly, and explain every pair and every person left unpaired."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from mentorbridge.plugin.pairing.pool import Pool
from mentorbridge.plugin.pairing.programme import Objective
from mentorbridge.plugin.pairing.score import Scorer
from mentorbridge.plugin.pairing.solve import Candidates, assign, candidates

__all__ = ["PairingPlan", "ProposedPair", "plan_pairs"]

#: Rounds of adding free mentors for executives whose kept candidates were all taken.
_RESCUES = 3


@dataclass(frozen=True, slots=True)
class ProposedPair:
    """A pair the solver chose, with its score's breakdown (points add up to ``score``)."""

    mentee: str
    mentor: str
    score: float
    breakdown: dict[str, dict[str, Any]]
    rules: dict[str, str]


@dataclass(slots=True)
class PairingPlan:
    """What a run proposes: the pairs, who stays unpaired and why, and how good it is.

    Attributes:
        total: the sum of the pairs' scores.
        bound: no assignment can score more (each executive with their best mentors).
        complete: the candidates provably held an optimal assignment.
    """

    objective: Objective
    pairs: list[ProposedPair]
    unmatched: list[dict[str, str]]
    total: float
    bound: float
    complete: bool
    candidates: Candidates = field(repr=False)


def plan_pairs(pool: Pool, *, objective: Objective | None = None) -> PairingPlan:
    """The optimal pairs of ``pool`` for ``objective`` (the programme's unless given)."""
    programme = pool.programme
    objective = objective or programme.objective
    scorer = Scorer(pool)
    found = candidates(scorer, per_person=programme.candidates)
    mentee_capacity = np.array([p.capacity for p in pool.mentees], dtype=int)
    mentor_capacity = np.array([p.capacity for p in pool.mentors], dtype=int)
    chosen = assign(found, mentee_capacity, mentor_capacity, objective)
    for _ in range(_RESCUES):
        if not _rescue(
            scorer, programme.candidates, found, chosen, mentee_capacity, mentor_capacity
        ):
            break
        chosen = assign(found, mentee_capacity, mentor_capacity, objective)
    pairs = []
    for edge in chosen:
        i, j = int(found.mentee[edge]), int(found.mentor[edge])
        score, breakdown, rules = scorer.explain(i, j)
        pairs.append(
            ProposedPair(
                pool.mentees[i].employee_id, pool.mentors[j].employee_id, score, breakdown, rules
            )
        )
    pairs.sort(key=lambda p: (-p.score, p.mentee, p.mentor))
    return PairingPlan(
        objective=objective,
        pairs=pairs,
        unmatched=_unmatched(pool, found, chosen, objective) + list(pool.left_out),
        total=sum(p.score for p in pairs),
        bound=found.bound,
        complete=found.complete,
        candidates=found,
    )


def _rescue(
    scorer: Scorer,
    per_person: int,
    found: Candidates,
    chosen: np.ndarray,
    mentee_capacity: np.ndarray,
    mentor_capacity: np.ndarray,
) -> bool:
    """Give executives left with room, whose kept candidates were all taken, their best
    ``per_person`` mentors who still have room and pass the rules; ``True`` if that added
    candidates (solve again)."""
    taken = np.bincount(found.mentor[chosen], minlength=len(mentor_capacity))
    paired = np.bincount(found.mentee[chosen], minlength=len(mentee_capacity))
    kept = np.bincount(found.mentee, minlength=len(mentee_capacity))
    waiting = np.flatnonzero((paired < mentee_capacity) & (found.feasible > kept))
    free = taken < mentor_capacity
    if not len(waiting) or not free.any():
        return False
    by_mentee = found.mentor[np.argsort(found.mentee, kind="stable")]
    starts = np.concatenate([[0], np.cumsum(kept)])
    extra_mentee, extra_mentor, extra_score = [], [], []
    for i in waiting:
        scores = scorer.block(int(i), int(i) + 1).scores[0]
        usable = np.isfinite(scores) & free
        usable[by_mentee[starts[i] : starts[i + 1]]] = False  # already candidates
        mentors = np.flatnonzero(usable)
        if len(mentors) > per_person:  # their best free mentors, as many as first kept
            mentors = mentors[np.argpartition(-scores[mentors], per_person - 1)[:per_person]]
        extra_mentee.append(np.full(len(mentors), i))
        extra_mentor.append(mentors)
        extra_score.append(scores[mentors])
    if not extra_mentee or not sum(len(m) for m in extra_mentor):
        return False
    found.mentee = np.concatenate([found.mentee, *extra_mentee])
    found.mentor = np.concatenate([found.mentor, *extra_mentor])
    found.score = np.concatenate([found.score, *extra_score])
    return True


def _unmatched(
    pool: Pool, found: Candidates, chosen: np.ndarray, objective: Objective
) -> list[dict[str, str]]:
    programme = pool.programme
    hours = f"{programme.min_overlap_hours:g} h"
    language = " and a shared language" if programme.shared_language else ""
    paired_mentees = np.bincount(found.mentee[chosen], minlength=len(pool.mentees))
    paired_mentors = np.bincount(found.mentor[chosen], minlength=len(pool.mentors))
    out: list[dict[str, Any]] = []
    for i, person in enumerate(pool.mentees):
        if paired_mentees[i] > 0:
            continue
        m = len(pool.mentors)
        if found.feasible[i] == 0:
            reason = (
                f"no mentor with {hours} of working day in common{language} outside the "
                f"reporting chain ({found.shared_hours[i]} of {m} eligible mentors share "
                f"{hours}; none of them passes every rule)"
                if m
                else "the programme has no eligible mentors: widen mentors in the pairing file"
            )
        elif objective == "best":
            reason = (
                f"the {found.feasible[i]} mentors who pass every rule score higher with other "
                "executives, and pairing them here would lower the total; lock a pair by hand "
                'or use objective = "most"'
            )
        else:
            reason = (
                f"the {found.feasible[i]} mentors who pass every rule are needed by executives "
                "who have no other match; add mentors or raise mentors.capacity"
            )
        out.append({"employee_id": person.employee_id, "role": "mentee", "reason": reason})
    places = int(sum(p.capacity for p in pool.mentees))
    for j, person in enumerate(pool.mentors):
        if paired_mentors[j] > 0:
            continue
        if found.mentor_feasible[j] == 0:
            reason = (
                f"no executive with {hours} of working day in common{language} outside the "
                "reporting chain"
            )
        else:
            reason = (
                f"more mentors than executive places ({len(pool.mentors)} mentors, {places} "
                "places): the executives they could mentor score higher with others"
            )
        out.append({"employee_id": person.employee_id, "role": "mentor", "reason": reason})
    return out
