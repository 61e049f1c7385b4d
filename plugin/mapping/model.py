"""The mapping: which reverse-mentoring activity counts as evidence for which succession
competency, and how evidence becomes a level.

These are the parsed, validated contents of a mapping file (:mod:`plugin.mapping.file` reads
and checks the TOML; the mapper in :mod:`plugin.mapping.evidence` applies it). Everything here
is immutable and built once per run.

Levels are normalised to 0-1 everywhere inside Mentorbridge. A Workday proficiency level and a
Moodle scale value are derived from a normalised level through :class:`ScaleMap` and the scale
the tenant actually synced (never a hard-coded one).
"""

from __future__ import annotations

from collections.abc import Mapping as MappingType
from dataclasses import dataclass, field

__all__ = [
    "Competency",
    "EvidenceRules",
    "Level",
    "Mapping",
    "ScaleMap",
    "Side",
    "SideRule",
]

#: A side of a pair: the executive mentee, or the junior mentor.
Side = str  # "mentee" | "mentor"
SIDES: tuple[Side, ...] = ("mentee", "mentor")


@dataclass(frozen=True, slots=True)
class SideRule:
    """What counts as evidence for a competency on one side of a pair.

    Attributes:
        themes: programme themes (as pairs and sessions name them, compared case-insensitively)
            and the weight of a completed session on one of them (the highest weight of the
            session's matching themes counts).
        outcomes: competency ids as rated in ``outcome.rated`` events (such as ``SUCC-DIGI``)
            and the weight of each released rating of one.
        goals: the weight of each goal the person achieved in a pair on a matching theme
            (0: goals do not count).
    """

    themes: MappingType[str, float] = field(default_factory=dict)
    outcomes: MappingType[str, float] = field(default_factory=dict)
    goals: float = 0.0


@dataclass(frozen=True, slots=True)
class Level:
    """An evidence rule: the conditions under which evidence reaches a level.

    Attributes:
        name: what people read ("Developing").
        level: the normalised level (0-1) it stands for.
        min_sessions: the weighted (and, with decay, decayed) count of matching sessions.
        min_rating: the weighted mean of released ratings, normalised 0-1; ``None``: no rating
            needed.
        min_goals: the weighted count of achieved goals.
    """

    name: str
    level: float
    min_sessions: float = 0.0
    min_rating: float | None = None
    min_goals: float = 0.0


@dataclass(frozen=True, slots=True)
class EvidenceRules:
    """How activity becomes a level.

    Attributes:
        levels: ascending by ``level``; the highest whose conditions hold is the evidence level.
        recency_days: activity older than this many days counts for nothing (``None``: all).
        half_life_days: activity loses half its weight every this many days (``None``: none).
        minimum_level: below this normalised level nothing is rated (no evidence row).
    """

    levels: tuple[Level, ...]
    recency_days: int | None = None
    half_life_days: float | None = None
    minimum_level: float = 0.0


@dataclass(frozen=True, slots=True)
class ScaleMap:
    """From a normalised level to a level of another scale.

    ``thresholds`` are ``(minimum normalised level, that scale's level id or Moodle item)``
    ascending. Empty: the scale's levels are spread evenly over 0-1 by rank (level ``r`` of
    ``n`` stands for ``r/n`` and is reached from ``r/n`` up to the next; below ``1/n`` none
    is). :mod:`plugin.mapping.scales` applies it.
    """

    thresholds: tuple[tuple[float, str], ...] = ()


@dataclass(frozen=True, slots=True)
class Competency:
    """A succession competency and its identity in every system.

    Attributes:
        key: the mapping's own id for it (``digital-fluency``), stable across systems.
        name, category: what people read.
        workday_id: the Workday competency id (from the HRIS mirror), or ``None``.
        moodle_idnumber: the Moodle competency's idnumber, or ``None``.
        xapi_iri: the xAPI activity IRI statements name it by.
        mentee, mentor: what counts on each side; ``None``: that side earns no evidence.
        rules: this competency's own rules, else the mapping's.
    """

    key: str
    name: str
    category: str
    workday_id: str | None
    moodle_idnumber: str | None
    xapi_iri: str
    mentee: SideRule | None = None
    mentor: SideRule | None = None
    rules: EvidenceRules | None = None

    def side(self, side: Side) -> SideRule | None:
        return self.mentee if side == "mentee" else self.mentor


@dataclass(frozen=True, slots=True)
class Mapping:
    """A whole mapping file, validated.

    Attributes:
        source: where it was read from (a path, or ``"default"``), for messages.
        digest: SHA-256 of its canonical content: a run after the mapping changed recomputes
            everyone.
        competencies: by ``key``, in file order.
        rules: the evidence rules competencies without their own use.
        workday_scales: per Workday proficiency scale id, how normalised levels map onto it
            (scales not listed: evenly by rank, from the synced levels).
        moodle_scale: the Moodle scale's items, lowest first (Moodle values are 1-based), and
            ``moodle_map`` how normalised levels map onto them.
        proficient_level: the normalised level from which Moodle marks a competency proficient.
    """

    source: str
    digest: str
    competencies: MappingType[str, Competency]
    rules: EvidenceRules
    workday_scales: MappingType[str, ScaleMap] = field(default_factory=dict)
    moodle_scale: tuple[str, ...] = ("Not yet competent", "Competent")
    moodle_map: ScaleMap = field(default_factory=ScaleMap)
    proficient_level: float = 0.5

    def rules_for(self, competency: Competency) -> EvidenceRules:
        return competency.rules or self.rules
