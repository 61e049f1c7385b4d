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
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from mentorbridge.plugin.mapping.model import (
    SIDES,
    Competency,
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
    "evaluate",
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
    can touch, per side, so a person is evaluated only on the competencies their activity
    reaches (30 competencies x 2 sides per person otherwise).

    Args:
        mapping: the mapping to index (built once per run).
    """

    def __init__(self, mapping: Mapping) -> None:
        self.mapping = mapping
        self.sides: dict[tuple[str, Side], _SideIndex] = {}
        self.by_theme: dict[tuple[Side, str], list[str]] = {}
        self.by_outcome: dict[tuple[Side, str], list[str]] = {}
        for competency in mapping.competencies.values():
            for side in SIDES:
                rule = competency.side(side)
                if rule is None:
                    continue
                themes = {t.lower(): w for t, w in rule.themes.items()}
                self.sides[(competency.key, side)] = _SideIndex(rule, themes)
                for theme in themes:
                    self.by_theme.setdefault((side, theme), []).append(competency.key)
                for outcome in rule.outcomes:
                    self.by_outcome.setdefault((side, outcome), []).append(competency.key)

    def candidates(self, activity: Activity) -> list[tuple[str, Side]]:
        """The (competency key, side) pairs ``activity`` may reach, in mapping order."""
        found: set[tuple[str, Side]] = set()
        for item in (*activity.sessions, *activity.goals):
            themes = item.counted_themes if isinstance(item, SessionActivity) else item.pair_themes
            for theme in themes:
                for key in self.by_theme.get((item.side, theme.lower()), ()):
                    found.add((key, item.side))
        for rating in activity.ratings:
            if rating.released:
                for key in self.by_outcome.get((rating.side, rating.competency), ()):
                    found.add((key, rating.side))
        order = {key: n for n, key in enumerate(self.mapping.competencies)}
        return sorted(found, key=lambda pair: (order[pair[0]], SIDES.index(pair[1])))


def evaluate_person(index: MappingIndex, activity: Activity, now: datetime) -> list[Evidence]:
    """Every competency and side on which ``activity`` reaches a level, in mapping order."""
    found = []
    for key, side in index.candidates(activity):
        competency = index.mapping.competencies[key]
        evidence = evaluate(
            competency, side, index.mapping.rules_for(competency), activity, now, index=index
        )
        if evidence is not None:
            found.append(evidence)
    return found


def evaluate(
    competency: Competency,
    side: Side,
    rules: EvidenceRules,
    activity: Activity,
    now: datetime,
    *,
    index: MappingIndex | None = None,
) -> Evidence | None:
    """The level ``activity`` reaches on ``competency`` for ``side``, or ``None``.

    Args:
        rules: the evidence rules that apply (``mapping.rules_for(competency)``).
        now: when the evaluation happens: the recency window and the decay run back from it.
        index: a :class:`MappingIndex` of the mapping (saves re-indexing the side's themes).
    """
    rule = competency.side(side)
    if rule is None:
        return None
    if index is not None and (competency.key, side) in index.sides:
        themes = index.sides[(competency.key, side)].themes
    else:
        themes = {t.lower(): w for t, w in rule.themes.items()}

    sources: list[Source] = []
    sessions = goals = rated_weight = rated_sum = 0.0
    for item in activity.sessions:
        weight = _theme_weight(item.counted_themes, themes) if item.side == side else 0.0
        decayed = weight * _decay(item.at, now, rules)
        if decayed > 0:
            sessions += decayed
            sources.append(Source("session", item.key, item.at, decayed, None, item.statement_id))
    if rule.goals > 0:
        for goal in activity.goals:
            if goal.side != side or _theme_weight(goal.pair_themes, themes) <= 0:
                continue
            decayed = rule.goals * _decay(goal.at, now, rules)
            if decayed > 0:
                goals += decayed
                sources.append(Source("goal", goal.key, goal.at, decayed, None, goal.statement_id))
    for rating in activity.ratings:
        if rating.side != side or not rating.released:
            continue
        decayed = rule.outcomes.get(rating.competency, 0.0) * _decay(rating.at, now, rules)
        if decayed > 0:
            rated_weight += decayed
            rated_sum += decayed * rating.rating
            sources.append(
                Source(
                    "outcome", rating.key, rating.at, decayed, rating.rating, rating.statement_id
                )
            )
    if not sources:
        return None
    mean = rated_sum / rated_weight if rated_weight > 0 else None
    level = _highest(rules.levels, sessions, goals, mean)
    if level is None or level.level < rules.minimum_level:
        return None
    ordered = tuple(sorted(sources, key=lambda s: (s.at, s.kind, s.key)))
    return Evidence(
        competency_key=competency.key,
        side=side,
        level=level.level,
        level_name=level.name,
        sessions=round(sessions, 6),
        goals=round(goals, 6),
        rating=None if mean is None else round(mean, 6),
        sources=tuple(
            Source(s.kind, s.key, s.at, round(s.weight, 6), s.rating, s.statement_id)
            for s in ordered
        ),
        digest=_digest(level, ordered),
    )


def _theme_weight(themes: Iterable[str], weights: dict[str, float]) -> float:
    return max((weights.get(t.lower(), 0.0) for t in themes), default=0.0)


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
