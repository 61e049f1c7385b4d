"""From scores to pairs: each executive's best candidate mentors, then the exact assignment.

Candidates: each executive keeps the ``per_person`` best-scoring mentors who pass every hard
rule. Keeping that many cannot lower the optimum while fewer than ``per_person`` of an
executive's top mentors could be taken by others (always so when ``per_person`` is at least the
number of executive places), and it keeps a 5,000 x 50,000 pool to a million edges or so.

Assignment: a bipartite b-matching (each person at most their capacity) as a linear programme,
solved by HiGHS's dual simplex through SciPy. Its constraint matrix is totally unimodular, so
the simplex's optimal vertex is a matching: exact, not a heuristic. ``best`` maximises the total
score (then adds whatever pairs still fit between people left with room: none of them can lower
it); ``most`` first finds the most pairs the rules allow, then the best total among them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from scipy.optimize import linprog

from mentorbridge.plugin.pairing.programme import Objective
from mentorbridge.plugin.pairing.score import Scorer

__all__ = ["Candidates", "SolverError", "assign", "candidates"]

_BLOCK_CELLS = 4_000_000  # executives per block x mentors: ~32 MB per score matrix


class SolverError(RuntimeError):
    """HiGHS did not return an optimal integral matching (a bug, never bad input)."""


@dataclass(slots=True)
class Candidates:
    """Candidate pairs as parallel arrays, and what explains the people left out."""

    mentee: np.ndarray
    mentor: np.ndarray
    score: np.ndarray
    #: Per executive: mentors sharing enough working hours; mentors passing every rule.
    shared_hours: np.ndarray
    feasible: np.ndarray
    #: Per mentor: executives they pass every rule with.
    mentor_feasible: np.ndarray
    #: An upper bound on any assignment's total: each executive with their best mentors.
    bound: float
    #: Whether the candidates provably contain an optimal assignment.
    complete: bool


def candidates(scorer: Scorer, *, per_person: int) -> Candidates:
    """The ``per_person`` best mentors of every executive who pass every hard rule."""
    pool = scorer.pool
    n, m = len(pool.mentees), len(pool.mentors)
    keep = min(per_person, m)
    capacities = np.array([p.capacity for p in pool.mentees], dtype=int)
    rows = max(1, _BLOCK_CELLS // max(m, 1))
    mentees, mentors, scores = [], [], []
    shared_hours = np.zeros(n, dtype=int)
    feasible = np.zeros(n, dtype=int)
    mentor_feasible = np.zeros(m, dtype=int)
    bound = 0.0
    for start in range(0, n, rows) if m else ():
        block = scorer.block(start, min(start + rows, n))
        shared_hours[start : start + len(block.feasible)] = block.shared_hours
        feasible[start : start + len(block.feasible)] = block.feasible
        finite = np.isfinite(block.scores)
        mentor_feasible += finite.sum(axis=0)
        if keep < m:
            top = np.argpartition(-block.scores, keep - 1, axis=1)[:, :keep]
        else:
            top = np.broadcast_to(np.arange(m), (block.scores.shape[0], m))
        picked = np.take_along_axis(block.scores, top, axis=1)
        ok = np.isfinite(picked)
        row_index = np.broadcast_to(np.arange(start, start + len(top))[:, None], top.shape)
        mentees.append(row_index[ok])
        mentors.append(top[ok])
        scores.append(picked[ok])
        ordered = -np.sort(-np.where(ok, picked, 0.0), axis=1)
        for offset, capacity in enumerate(capacities[start : start + len(top)]):
            bound += float(ordered[offset, :capacity].sum())
    total_places = int(capacities.sum())
    return Candidates(
        mentee=np.concatenate(mentees) if mentees else np.zeros(0, dtype=int),
        mentor=np.concatenate(mentors) if mentors else np.zeros(0, dtype=int),
        score=np.concatenate(scores) if scores else np.zeros(0),
        shared_hours=shared_hours,
        feasible=feasible,
        mentor_feasible=mentor_feasible,
        bound=bound,
        complete=keep >= m or keep >= total_places,
    )


def assign(
    found: Candidates,
    mentee_capacity: np.ndarray,
    mentor_capacity: np.ndarray,
    objective: Objective,
) -> np.ndarray:
    """Indexes into ``found`` of the chosen pairs: optimal for ``objective``."""
    edges = len(found.score)
    if edges == 0:
        return np.zeros(0, dtype=int)
    used_mentors, mentor_row = np.unique(found.mentor, return_inverse=True)
    n = len(mentee_capacity)
    columns = np.arange(edges)
    incidence = sp.vstack(
        [
            sp.csr_matrix((np.ones(edges), (found.mentee, columns)), shape=(n, edges)),
            sp.csr_matrix(
                (np.ones(edges), (mentor_row, columns)), shape=(len(used_mentors), edges)
            ),
        ]
    ).tocsr()
    limits = np.concatenate([mentee_capacity, mentor_capacity[used_mentors]]).astype(float)
    if objective == "most":
        most = _solve(-np.ones(edges), incidence, limits)
        pairs = round(float(most.sum()))
        # Keep that many pairs (a cardinality row keeps the matrix totally unimodular).
        incidence = sp.vstack([incidence, -sp.csr_matrix(np.ones((1, edges)))]).tocsr()
        limits = np.append(limits, -pairs)
    chosen = np.flatnonzero(_solve(-found.score, incidence, limits) > 0.5)
    if objective == "best":
        chosen = _fill(found, chosen, mentee_capacity, mentor_capacity)
    return chosen


def _fill(
    found: Candidates,
    chosen: np.ndarray,
    mentee_capacity: np.ndarray,
    mentor_capacity: np.ndarray,
) -> np.ndarray:
    """Add as many pairs as fit between people left with room: scores are never negative, so
    the total stays optimal, and a pair scoring 0 is still a pair (the best total alone is
    indifferent to it)."""
    mentee_room = mentee_capacity - np.bincount(
        found.mentee[chosen], minlength=len(mentee_capacity)
    )
    mentor_room = mentor_capacity - np.bincount(
        found.mentor[chosen], minlength=len(mentor_capacity)
    )
    spare = np.flatnonzero((mentee_room[found.mentee] > 0) & (mentor_room[found.mentor] > 0))
    if not len(spare):
        return chosen
    rest = Candidates(
        mentee=found.mentee[spare],
        mentor=found.mentor[spare],
        score=np.ones(len(spare)),
        shared_hours=found.shared_hours,
        feasible=found.feasible,
        mentor_feasible=found.mentor_feasible,
        bound=0.0,
        complete=found.complete,
    )
    added = assign(rest, mentee_room, mentor_room, "most")
    return np.sort(np.concatenate([chosen, spare[added]]))


def _solve(costs: np.ndarray, incidence: sp.csr_matrix, limits: np.ndarray) -> np.ndarray:
    result = linprog(costs, A_ub=incidence, b_ub=limits, bounds=(0, 1), method="highs-ds")
    if result.status != 0:
        raise SolverError(f"the assignment solver stopped: {result.message}")
    x = result.x
    if np.any((x > 1e-6) & (x < 1 - 1e-6)):
        raise SolverError("the assignment solver returned a fractional matching")
    return x
