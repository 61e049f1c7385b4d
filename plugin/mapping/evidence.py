"""The evidence engine: one person's mentoring activity as a level per competency and side.

Pure: no store, no clock. :mod:`plugin.mapping.run` reads the activity of many people at once
and hands each person's here; :func:`evaluate_person` returns what it amounts to, with every
session, goal and rating it rests on (the provenance) and a digest that is equal exactly when
the conclusion is.

What counts, per side of a pair (the executive mentee, the junior mentor):

* a completed session on a matching theme (the session's own themes, else its pair's), weighted
  by the highest weight of its matching themes;
* an achieved goal in a pair with a matching theme, weighted by the side's goal weight;
* a *released* rating of a competency the side lists, normalised 0-1 on its own scale and
  weighted by the side's weight for it (unreleased ratings never count here).

Activity older than the recency window counts for nothing; with a half-life, weights halve
every ``half_life_days``. The level is the highest of the rules' levels whose conditions all
hold; below ``minimum_level`` (or with no activity at all) there is no evidence.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from mentorbridge.plugin.mapping.model import (
    SIDES,
    EvidenceRules,
    Level,
    Mapping,
    Side,
    SideRule,
)

__all__ = [
    "Activity",
    "Evidence",
    "GoalActivity",
    "MappingIndex",
    "RatingActivity",
    "SessionActivity",
    "Source",
    "evaluate_person",
]

#: Decayed counts are compared with this much slack: 3 sessions decayed and summed back may
#: come to 2.9999999999.
_EPSILON = 1e-9
_DAY = 86_400.0


@dataclass(frozen=True, slots=True)
class SessionActivity:
    """A completed session, seen from one side of its pair.

    Attributes:
        themes: the session's own themes; empty: its pair's (``pair_themes``) count.
        statement_id: the side's statement (attended for the mentee, mentored for the mentor).
    """

    key: str
    side: Side
    at: datetime
    themes: tuple[str, ...] = ()
    pair_themes: tuple[str, ...] = ()
    statement_id: str | None = None

    @property
    def counted_themes(self) -> tuple[str, ...]:
        return self.themes or self.pair_themes


@dataclass(frozen=True, slots=True)
class GoalActivity:
    """A goal the person achieved, on the side they own it in a pair with ``pair_themes``."""

    key: str
    side: Side
    at: datetime
    pair_themes: tuple[str, ...] = ()
    statement_id: str | None = None


@dataclass(frozen=True, slots=True)
class RatingActivity:
    """A rating of the person's progress on ``competency`` (as the event named it).

    Attributes:
        rating: normalised 0-1 on the rating's own scale.
        released: whether the person released it; only released ratings count.
        statement_id: its competency-evidence statement (released ratings only).
    """

    key: str
    side: Side
    at: datetime
    competency: str
    rating: float
    released: bool = True
    statement_id: str | None = None


@dataclass(frozen=True, slots=True)
class Activity:
    """Everything one person did that may count, on both sides."""

    sessions: Sequence[SessionActivity] = ()
    goals: Sequence[GoalActivity] = ()
    ratings: Sequence[RatingActivity] = ()


@dataclass(frozen=True, slots=True)
class Source:
    """One piece of activity a level rests on.

    Attributes:
        kind: ``session``, ``goal`` or ``outcome``.
        weight: the mapping's weight times the decay at the time of evaluation.
        rating: a rating normalised 0-1 (outcomes only).
    """

    kind: str
    key: str
    at: datetime
    weight: float
    rating: float | None = None
    statement_id: str | None = None


@dataclass(frozen=True, slots=True)
class Evidence:
    """The level a person's activity reaches on one competency and side, and why.

    Attributes:
        sessions, goals: weighted, decayed counts; ``rating`` the weighted mean released
            rating (0-1), ``None`` without one.
        digest: SHA-256 of the level, its name and the identity of every source (not of the
            decayed weights, which change every day while the conclusion stands).
    """

    competency_key: str
    side: Side
    level: float
    level_name: str
    sessions: float
    goals: float
    rating: float | None
    sources: tuple[Source, ...]
    digest: str = field(default="", compare=False)


@dataclass(frozen=True, slots=True)
class _SideIndex:
    rule: SideRule
    themes: dict[str, float]  # lower-cased


class MappingIndex:
    """A mapping arranged for lookups: which competencies a theme or a rated competency id
    can touch, per side, so a person's activity reaches only the competencies it counts for
    (30 competencies x 2 sides per person otherwise).

    Args:
        mapping: the mapping to index (built once per run).
    """

    def __init__(self, mapping: Mapping) -> None:
        self.mapping = mapping
        self.sides: dict[tuple[str, Side], _SideIndex] = {}
        self.by_theme: dict[tuple[Side, str], dict[str, float]] = {}
        self.by_outcome: dict[tuple[Side, str], list[str]] = {}
        self.rules = {key: mapping.rules_for(c) for key, c in mapping.competencies.items()}
        self.order = {key: n for n, key in enumerate(mapping.competencies)}
        self._theme_weights: dict[tuple[Side, tuple[str, ...]], dict[str, float]] = {}
        for competency in mapping.competencies.values():
            for side in SIDES:
                rule = competency.side(side)
                if rule is None:
                    continue
                themes = {t.lower(): w for t, w in rule.themes.items()}
                self.sides[(competency.key, side)] = _SideIndex(rule, themes)
                for theme, weight in themes.items():
                    self.by_theme.setdefault((side, theme), {})[competency.key] = weight
                for outcome in rule.outcomes:
                    self.by_outcome.setdefault((side, outcome), []).append(competency.key)

    def theme_weights(self, side: Side, themes: tuple[str, ...]) -> dict[str, float]:
        """Per competency these themes reach on ``side``, the highest of their weights
        (remembered per set of themes: a programme uses a handful)."""
        found = self._theme_weights.get((side, themes))
        if found is None:
            found = {}
            for theme in themes:
                for key, weight in self.by_theme.get((side, theme.lower()), {}).items():
                    if weight > found.get(key, 0.0):
                        found[key] = weight
            self._theme_weights[(side, themes)] = found
        return found


def evaluate_person(index: MappingIndex, activity: Activity, now: datetime) -> list[Evidence]:
    """Every competency and side on which ``activity`` reaches a level, in mapping order.

    One pass over the activity: each item adds itself to the competencies its themes or its
    rated competency reach (through the index), with its decay worked out once per rule set;
    then each competency's sum is judged against its levels.
    """
    sums: dict[tuple[str, Side], _Sum] = {}
    decays: dict[tuple[int, datetime], float] = {}

    def decay(key: str, at: datetime) -> float:
        rules = index.rules[key]
        found = decays.get((id(rules), at))
        if found is None:
            found = decays[(id(rules), at)] = _decay(at, now, rules)
        return found

    def add(key: str, side: Side) -> _Sum:
        found = sums.get((key, side))
        if found is None:
            found = sums[(key, side)] = _Sum()
        return found

    for item in activity.sessions:
        for key, weight in index.theme_weights(item.side, item.counted_themes).items():
            decayed = weight * decay(key, item.at)
            if decayed > 0:
                total = add(key, item.side)
                total.sessions += decayed
                total.sources.append(
                    Source("session", item.key, item.at, decayed, None, item.statement_id)
                )
    for goal in activity.goals:
        for key in index.theme_weights(goal.side, goal.pair_themes):
            decayed = index.sides[(key, goal.side)].rule.goals * decay(key, goal.at)
            if decayed > 0:
                total = add(key, goal.side)
                total.goals += decayed
                total.sources.append(
                    Source("goal", goal.key, goal.at, decayed, None, goal.statement_id)
                )
    for rating in activity.ratings:
        if not rating.released:
            continue
        for key in index.by_outcome.get((rating.side, rating.competency), ()):
            weight = index.sides[(key, rating.side)].rule.outcomes[rating.competency]
            decayed = weight * decay(key, rating.at)
            if decayed > 0:
                total = add(key, rating.side)
                total.rated_weight += decayed
                total.rated_sum += decayed * rating.rating
                total.sources.append(
                    Source(
                        "outcome",
                        rating.key,
                        rating.at,
                        decayed,
                        rating.rating,
                        rating.statement_id,
                    )
                )
    found = []
    for key, side in sorted(sums, key=lambda pair: (index.order[pair[0]], SIDES.index(pair[1]))):
        evidence = _conclude(key, side, index.rules[key], sums[(key, side)])
        if evidence is not None:
            found.append(evidence)
    return found


@dataclass(slots=True)
class _Sum:
    """What one competency and side has gathered from a person's activity."""

    sessions: float = 0.0
    goals: float = 0.0
    rated_weight: float = 0.0
    rated_sum: float = 0.0
    sources: list[Source] = field(default_factory=list)


def _conclude(key: str, side: Side, rules: EvidenceRules, total: _Sum) -> Evidence | None:
    """The level ``total`` reaches under ``rules``, or ``None`` below the minimum."""
    mean = total.rated_sum / total.rated_weight if total.rated_weight > 0 else None
    level = _highest(rules.levels, total.sessions, total.goals, mean)
    if level is None or level.level < rules.minimum_level:
        return None
    ordered = sorted(total.sources, key=lambda s: (s.at, s.kind, s.key))
    return Evidence(
        competency_key=key,
        side=side,
        level=level.level,
        level_name=level.name,
        sessions=round(total.sessions, 6),
        goals=round(total.goals, 6),
        rating=None if mean is None else round(mean, 6),
        sources=tuple(
            Source(s.kind, s.key, s.at, round(s.weight, 6), s.rating, s.statement_id)
            for s in ordered
        ),
        digest=_digest(level, ordered),
    )


def _decay(at: datetime, now: datetime, rules: EvidenceRules) -> float:
    """The share of its weight activity at ``at`` keeps at ``now`` (0: outside the window)."""
    age_days = max((now - at).total_seconds(), 0.0) / _DAY
    if rules.recency_days is not None and age_days > rules.recency_days:
        return 0.0
    if rules.half_life_days:
        return 0.5 ** (age_days / rules.half_life_days)
    return 1.0


def _highest(
    levels: Sequence[Level], sessions: float, goals: float, rating: float | None
) -> Level | None:
    reached = None
    for level in sorted(levels, key=lambda lv: lv.level):
        if (
            sessions + _EPSILON >= level.min_sessions
            and goals + _EPSILON >= level.min_goals
            and (
                level.min_rating is None
                or (rating is not None and rating + _EPSILON >= level.min_rating)
            )
        ):
            reached = level
    return reached


def _digest(level: Level, sources: Sequence[Source]) -> str:
    identity = [
        level.level,
        level.name,
        [
            [s.kind, s.key, s.statement_id, None if s.rating is None else round(s.rating, 6)]
            for s in sources
        ],
    ]
    text = json.dumps(identity, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
