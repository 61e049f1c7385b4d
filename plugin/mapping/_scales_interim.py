"""Stand-ins for :mod:`plugin.mapping.scales` (same signatures) until it lands."""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Iterable
from typing import Any

from mentorbridge.plugin.mapping.model import Mapping, ScaleMap

__all__ = ["moodle_value", "normalise", "scales_digest", "workday_level"]


def normalise(rating: float, low: float, high: float) -> float:
    return (rating - low) / (high - low)


def workday_level(level: float, levels: list[dict], scale_map: ScaleMap) -> dict | None:
    ranked = sorted(levels, key=lambda lv: lv["rank"])
    if not ranked or level <= 0:
        return None
    if scale_map.thresholds:
        reached = [value for minimum, value in scale_map.thresholds if level >= minimum]
        return next((lv for lv in ranked if reached and lv["level_id"] == reached[-1]), None)
    return ranked[min(math.ceil(level * len(ranked)), len(ranked)) - 1]


def moodle_value(level: float, mapping: Mapping) -> int | None:
    items = len(mapping.moodle_scale)
    if mapping.moodle_map.thresholds:
        reached = [value for minimum, value in mapping.moodle_map.thresholds if level >= minimum]
        return int(reached[-1]) if reached else None
    return max(1, min(math.ceil(level * items), items))


def scales_digest(competencies: Iterable[tuple[str, Any, Any]]) -> str:
    text = json.dumps(sorted(competencies, key=lambda c: c[0]), sort_keys=True, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
