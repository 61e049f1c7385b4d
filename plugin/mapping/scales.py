"""Scale conversions: a rating to a normalised level, a normalised level to a level of the
tenant's Workday scale or to a Moodle scale value, and back from a Workday level.

A normalised level *reaches* a scale level when it is at least that level's threshold. Without
explicit thresholds a scale of ``n`` levels is spread evenly by rank: the level of rank ``r``
(counted from the lowest, 1) stands for ``r/n`` and is reached from there on, so a level
between two thresholds shows as the lower one: evidence is never shown above what it rests on.
``workday_level(workday_normalised(x))`` is ``x`` for every level ``x`` of the scale.

Workday levels are the synced ones (``Competency.levels`` of the HRIS mirror:
``{level_id, name, rank}``), never a hard-coded scale.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Iterable, Sequence
from collections.abc import Mapping as MappingType
from typing import Any

from mentorbridge.plugin.errors import MappingError
from mentorbridge.plugin.mapping.model import Mapping, ScaleMap

__all__ = ["moodle_value", "normalise", "scales_digest", "workday_level", "workday_normalised"]

#: Normalised levels computed two ways (a sum of weights, ``r/n``) may differ in the last bits.
_EPSILON = 1e-9


def normalise(rating: float, low: float, high: float) -> float:
    """A rating on its own scale ``low``-``high`` as a level from 0 to 1.

    Raises:
        ValueError: the scale is empty or reversed, or the rating is outside it.
    """
    if not all(math.isfinite(v) for v in (rating, low, high)):
        raise ValueError(f"rating {rating:g} on a scale {low:g}-{high:g}: expected finite numbers")
    if high <= low:
        raise ValueError(f"scale {low:g}-{high:g}: its highest rating must be above its lowest")
    if rating < low or rating > high:
        raise ValueError(f"rating {rating:g} is outside its scale {low:g}-{high:g}")
    return (rating - low) / (high - low)


def workday_level(
    level: float, levels: Sequence[MappingType[str, Any]], scale: ScaleMap | None
) -> MappingType[str, Any] | None:
    """The synced Workday level a normalised ``level`` reaches; ``None`` below the lowest.

    Args:
        level: a normalised level, 0 to 1.
        levels: the competency's synced levels (``{level_id, name, rank}``, rank 1 lowest).
        scale: the mapping's map for the competency's scale; ``None`` (or no thresholds):
            evenly by rank.

    Raises:
        ValueError: ``level`` is not within 0-1.
        MappingError: the scale map names a level the synced scale does not have.
    """
    _check_level(level)
    reached = None
    for threshold, found in _thresholds(levels, scale):
        if level + _EPSILON >= threshold:
            reached = found
    return reached


def workday_normalised(
    level_id: str, levels: Sequence[MappingType[str, Any]], scale: ScaleMap | None
) -> float | None:
    """The normalised level a Workday level stands for (such as a job profile's required
    level): rank ``r`` of ``n`` is ``r/n``, or its threshold in ``scale``. ``None`` for a level
    the synced scale (or the scale map) does not have.

    Raises:
        MappingError: the scale map names a level the synced scale does not have.
    """
    for threshold, found in _thresholds(levels, scale):
        if found["level_id"] == level_id:
            return threshold
    return None


def moodle_value(level: float, mapping: Mapping) -> int | None:
    """The 1-based value of the Moodle scale item a normalised ``level`` reaches (through
    ``mapping.moodle_map``, else the items spread evenly); ``None`` below the lowest.

    Raises:
        ValueError: ``level`` is not within 0-1.
    """
    _check_level(level)
    items = mapping.moodle_scale
    if mapping.moodle_map.thresholds:
        steps = [(t, items.index(item) + 1) for t, item in mapping.moodle_map.thresholds]
    else:
        steps = [(rank / len(items), rank) for rank in range(1, len(items) + 1)]
    reached = None
    for threshold, value in steps:
        if level + _EPSILON >= threshold:
            reached = value
    return reached


def scales_digest(competencies: Iterable[tuple[str, str | None, Sequence[MappingType]]]) -> str:
    """SHA-256 of the synced scales: ``(competency id, scale id, levels)`` in any order.

    Equal digests mean every Workday level maps as before; the mapper keeps it in
    ``MapperState.scales_digest`` and recomputes everyone when it changes.
    """
    rows = sorted(
        [
            competency_id,
            scale_id,
            sorted((dict(level) for level in levels), key=lambda lv: (lv["rank"], lv["level_id"])),
        ]
        for competency_id, scale_id, levels in competencies
    )
    text = json.dumps(rows, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _check_level(level: float) -> None:
    if not (0 <= level <= 1):
        raise ValueError(f"level {level!r} is not a normalised level: expected 0 to 1")


def _thresholds(
    levels: Sequence[MappingType[str, Any]], scale: ScaleMap | None
) -> list[tuple[float, MappingType[str, Any]]]:
    """``(threshold, synced level)`` ascending."""
    ordered = sorted(levels, key=lambda lv: lv["rank"])
    if scale is None or not scale.thresholds:
        return [(rank / len(ordered), found) for rank, found in enumerate(ordered, 1)]
    by_id = {found["level_id"]: found for found in ordered}
    missing = [level_id for _, level_id in scale.thresholds if level_id not in by_id]
    if missing:
        raise MappingError(
            "mapping",
            [
                (
                    None,
                    "workday.scales",
                    f"names level {missing[0]!r}, which the synced scale does not have (its "
                    f"levels: {', '.join(by_id)}); run `mentorbridge mapping check`",
                )
            ],
        )
    return [(threshold, by_id[level_id]) for threshold, level_id in scale.thresholds]
