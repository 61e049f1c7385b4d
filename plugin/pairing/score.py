"""Scores and hard rules for whole blocks of executives at once, and each pair's explanation.

A pair's score is the sum, over the soft rules in :data:`~plugin.pairing.programme.COMPONENTS`
order, of the rule's weight times how well it is met (0 to 1):

- ``themes``: the share of the executive's priorities the mentor's strengths cover, the first
  priority counting most (of n priorities, the r-th weighs n - r + 1);
- ``organisation``, ``function``, ``region``: 1 when the two differ (unknown counts as same);
- ``first_time_mentor``: 1 when the mentor mentors no one yet;
- ``protected``: the share of the programme's protected attributes on which they differ, for
  two people who both consented (else 0).

:meth:`Scorer.block` and :meth:`Scorer.explain` compute the same numbers in the same order, so
an explanation's points add up to exactly the score the solver maximised.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any

import numpy as np

from mentorbridge.plugin.pairing.pool import Candidate, Pool
from mentorbridge.plugin.pairing.programme import COMPONENTS
from mentorbridge.plugin.pairing.rules import hard_rules, overlap_minutes, utc_offset_minutes

__all__ = ["Block", "Scorer"]


@dataclass(slots=True)
class Block:
    """Scores of executives ``start:stop`` against every mentor (``-inf`` where a hard rule
    fails), with how many mentors passed each rule, for explaining who stays unpaired."""

    start: int
    scores: np.ndarray
    shared_hours: np.ndarray  # per executive: mentors sharing enough working hours
    feasible: np.ndarray  # per executive: mentors passing every hard rule


class Scorer:
    """The pool's people as arrays, ready to score blocks of executives against all mentors."""

    def __init__(self, pool: Pool) -> None:
        self.pool = pool
        programme = pool.programme
        mentees, mentors = pool.mentees, pool.mentors
        self.weights = np.array([programme.weights.of(c) for c in COMPONENTS])
        themes = {t: k for k, t in enumerate(programme.themes)}
        self.priorities = np.zeros((len(mentees), len(themes)))
        for i, person in enumerate(mentees):
            ranked = [themes[t] for t in person.themes if t in themes]
            for rank, k in enumerate(ranked):
                self.priorities[i, k] = len(ranked) - rank
        self.priority_totals = self.priorities.sum(axis=1)
        self.strengths = np.zeros((len(mentors), len(themes)))
        for j, person in enumerate(mentors):
            for t in person.themes:
                if t in themes:
                    self.strengths[j, themes[t]] = 1.0
        interned: dict[str, int] = {}
        self.codes = {
            name: (_codes(mentees, name, interned), _codes(mentors, name, interned))
            for name in ("organisation", "function", "region")
        }
        self.protected = [
            (
                _codes(mentees, name, interned, protected=True),
                _codes(mentors, name, interned, protected=True),
            )
            for name in programme.protected_attributes
        ]
        self.first_time = np.array([1.0 if p.mentoring == 0 else 0.0 for p in mentors])
        self._zones(pool)
        self._languages(mentees, mentors)
        self._exclusions(pool)

    # -- setup ----------------------------------------------------------------------------------

    def _zones(self, pool: Pool) -> None:
        offsets = sorted(
            {utc_offset_minutes(p.time_zone, pool.today) for p in pool.mentees + pool.mentors},
            key=lambda o: (o is None, o or 0),
        )
        index = {offset: k for k, offset in enumerate(offsets)}
        day = pool.programme.working_hours
        wanted = pool.programme.min_overlap_hours * 60
        self.zone_ok = np.array(
            [[overlap_minutes(a, b, day) >= wanted for b in offsets] for a in offsets], dtype=bool
        ).reshape(len(offsets), len(offsets))
        self.mentee_zone = np.array(
            [index[utc_offset_minutes(p.time_zone, pool.today)] for p in pool.mentees], dtype=int
        )
        self.mentor_zone = np.array(
            [index[utc_offset_minutes(p.time_zone, pool.today)] for p in pool.mentors], dtype=int
        )

    def _languages(self, mentees: list[Candidate], mentors: list[Candidate]) -> None:
        """Who speaks what, as 0/1 matrices: their product counts shared languages."""
        spoken = {
            lang: k
            for k, lang in enumerate(sorted({x for p in mentees + mentors for x in p.languages}))
        }
        self.mentee_languages = _indicator(mentees, spoken)
        self.mentor_languages = _indicator(mentors, spoken)

    def _exclusions(self, pool: Pool) -> None:
        """Per executive, the mentors they may never be paired with."""
        mentor_index = {p.employee_id: j for j, p in enumerate(pool.mentors)}
        under: dict[str, list[int]] = defaultdict(list)
        by_manager: dict[str, list[int]] = defaultdict(list)
        for j, person in enumerate(pool.mentors):
            for boss in person.ancestors:
                under[boss].append(j)
            if person.manager is not None:
                by_manager[person.manager].append(j)
        rejected: dict[str, list[int]] = defaultdict(list)
        for mentee, mentor in pool.rejected:
            if mentor in mentor_index:
                rejected[mentee].append(mentor_index[mentor])
        self.excluded: list[np.ndarray] = []
        for person in pool.mentees:
            ids = list(under.get(person.employee_id, ()))
            ids += [mentor_index[a] for a in person.ancestors if a in mentor_index]
            if person.manager is not None:
                ids += by_manager.get(person.manager, [])
            if person.employee_id in mentor_index:
                ids.append(mentor_index[person.employee_id])
            ids += rejected.get(person.employee_id, [])
            self.excluded.append(np.array(sorted(set(ids)), dtype=int))

    # -- scores ---------------------------------------------------------------------------------

    def block(self, start: int, stop: int) -> Block:
        """Executives ``start:stop`` against every mentor."""
        rows = slice(start, stop)
        totals = self.priority_totals[rows, None]
        covered = self.priorities[rows] @ self.strengths.T
        values = [np.divide(covered, totals, out=np.zeros_like(covered), where=totals > 0)]
        for name in ("organisation", "function", "region"):
            mine, theirs = self.codes[name]
            values.append(_differ(mine[rows, None], theirs[None, :]))
        values.append(np.broadcast_to(self.first_time[None, :], covered.shape))
        values.append(self._protected_values(rows, covered.shape))
        scores = np.zeros(covered.shape)
        for weight, value in zip(self.weights, values, strict=True):
            scores = scores + weight * value
        ok = self.zone_ok[self.mentee_zone[rows]][:, self.mentor_zone]
        shared_hours = ok.sum(axis=1)
        if self.pool.programme.shared_language:
            ok &= (self.mentee_languages[rows] @ self.mentor_languages.T) > 0
        for offset, excluded in enumerate(self.excluded[rows]):
            ok[offset, excluded] = False
        scores[~ok] = -np.inf
        return Block(start, scores, shared_hours, ok.sum(axis=1))

    def _protected_values(self, rows: slice, shape: tuple[int, int]) -> np.ndarray:
        if not self.protected:
            return np.zeros(shape)
        differ = np.zeros(shape)
        for mine, theirs in self.protected:
            a, b = mine[rows, None], theirs[None, :]
            differ = differ + ((a >= 0) & (b >= 0) & (a != b))
        return differ / len(self.protected)

    def explain(self, i: int, j: int) -> tuple[float, dict[str, dict[str, Any]], dict[str, str]]:
        """Executive ``i`` with mentor ``j``: the score, each soft rule's share of it, and the
        hard rules passed (``ValueError`` if one fails: such a pair is never proposed)."""
        mentee, mentor = self.pool.mentees[i], self.pool.mentors[j]
        passed, broken = hard_rules(self.pool.programme, mentee, mentor, self.pool.today)
        if broken:
            raise ValueError("; ".join(broken))
        total = self.priority_totals[i]
        covered = float(self.priorities[i] @ self.strengths[j])
        values = [covered / float(total) if total > 0 else 0.0]
        for name in ("organisation", "function", "region"):
            mine, theirs = self.codes[name]
            values.append(float(_differ(mine[i], theirs[j])))
        values.append(float(self.first_time[j]))
        if self.protected:
            differ = sum(
                float((a[i] >= 0) & (b[j] >= 0) & (a[i] != b[j])) for a, b in self.protected
            )
            values.append(differ / len(self.protected))
        else:
            values.append(0.0)
        score = 0.0
        breakdown: dict[str, dict[str, Any]] = {}
        for component, weight, value in zip(COMPONENTS, self.weights, values, strict=True):
            points = float(weight * value)
            score = score + points
            breakdown[component] = {"value": value, "weight": float(weight), "points": points}
        strengths = set(mentor.themes)
        breakdown["themes"]["shared"] = [t for t in mentee.themes if t in strengths]
        return score, breakdown, passed


def _codes(
    people: list[Candidate], name: str, interned: dict[str, int], *, protected: bool = False
) -> np.ndarray:
    """A small integer per distinct value, the same on both sides (``interned``), ``-1`` for
    unknown."""
    values = [(p.protected.get(name) if protected else getattr(p, name)) for p in people]
    return np.array(
        [-1 if v is None else interned.setdefault(v, len(interned)) for v in values],
        dtype=np.int64,
    )


def _indicator(people: list[Candidate], index: dict[str, int]) -> np.ndarray:
    matrix = np.zeros((len(people), len(index)))
    for row, person in enumerate(people):
        matrix[row, [index[lang] for lang in person.languages]] = 1.0
    return matrix


def _differ(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """1.0 where both are known and different."""
    return ((a >= 0) & (b >= 0) & (a != b)).astype(float)
