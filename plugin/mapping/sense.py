"""What a mapping file's schema cannot say: levels and thresholds rising, ids and names used
once, a side that counts something and can reach a level, Moodle thresholds naming items of the
scale in order.

:func:`sense_problems` reads the parsed TOML (already valid against the schema) and yields
``(key path, message)`` pairs; :mod:`plugin.mapping.file` gives them their lines.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from typing import Any

from mentorbridge.plugin.mapping.model import SIDES

__all__ = ["DEFAULT_MOODLE_SCALE", "sense_problems"]

#: Moodle's default competency scale, used when a mapping names none.
DEFAULT_MOODLE_SCALE = ("Not yet competent", "Competent")

_Found = Iterable[tuple[tuple[str | int, ...], str]]


def sense_problems(data: dict[str, Any]) -> _Found:
    """Every ``(key path, message)`` problem of ``data``, a schema-valid parsed mapping."""
    rules = data["rules"]
    yield from _levels_problems(rules["levels"], ("rules", "levels"))
    yield from _minimum_problems(rules, ("rules",))
    owners: dict[tuple[str, str], str] = {}
    for key, competency in data["competencies"].items():
        here: tuple[str | int, ...] = ("competencies", key)
        for field in ("workday_id", "moodle_idnumber", "xapi_iri"):
            value = competency.get(field)
            if value is None:
                continue
            if (field, value) in owners:
                yield (
                    (*here, field),
                    f"{value!r} is already the {field} of competencies.{owners[field, value]}: "
                    "each competency needs its own",
                )
            owners.setdefault((field, value), key)
        override = competency.get("rules", {})
        merged = {**rules, **override}
        if "levels" in override:
            yield from _levels_problems(override["levels"], (*here, "rules", "levels"))
        if "levels" in override or "minimum_level" in override:
            yield from _minimum_problems(merged, (*here, "rules"))
        sides = [side for side in SIDES if side in competency]
        if not sides:
            yield (
                here,
                f"counts nothing: add a [competencies.{key}.mentee] or "
                f"[competencies.{key}.mentor] table saying which themes, outcomes or goals count",
            )
        for side in sides:
            yield from _side_problems(competency[side], merged, (*here, side))
    yield from _scale_problems(data)


def _levels_problems(levels: list[dict[str, Any]], here: tuple[str | int, ...]) -> _Found:
    names: dict[str, int] = {}
    for index, level in enumerate(levels):
        if index and level["level"] <= levels[index - 1]["level"]:
            yield (
                (*here, index, "level"),
                f"{level['level']:g} ({level['name']}) does not rise above "
                f"{levels[index - 1]['level']:g} ({levels[index - 1]['name']}): list levels "
                "lowest first, each higher than the one before",
            )
        folded = level["name"].casefold()
        if folded in names:
            yield (
                (*here, index, "name"),
                f"{level['name']!r} is already the name of levels[{names[folded]}]: "
                "give each level its own name",
            )
        names.setdefault(folded, index)


def _minimum_problems(rules: dict[str, Any], here: tuple[str | int, ...]) -> _Found:
    top = max(level["level"] for level in rules["levels"])
    minimum = rules.get("minimum_level", 0.0)
    if minimum > top:
        yield (
            (*here, "minimum_level"),
            f"{minimum:g} is above the highest level ({top:g}): nothing could ever be rated; "
            "lower it",
        )


def _side_problems(
    side: dict[str, Any], rules: dict[str, Any], here: tuple[str | int, ...]
) -> _Found:
    themes, outcomes, goals = side.get("themes", {}), side.get("outcomes", {}), side.get("goals", 0)
    if not themes and not outcomes:
        yield (
            here,
            'counts nothing: add themes = { "THEME" = 1.0 } and/or '
            "outcomes = { COMPETENCY-ID = 1.0 }",
        )
        return
    if goals and not themes:
        yield (
            (*here, "goals"),
            "goals count only in pairs on one of the side's themes, and there are none: add "
            "themes or leave goals out",
        )
    seen: dict[str, str] = {}
    for theme in themes:
        folded = theme.casefold().strip()
        if folded in seen:
            yield (
                (*here, "themes", theme),
                f"the same theme as {seen[folded]!r} (themes are compared ignoring case): keep one",
            )
        seen.setdefault(folded, theme)
    minimum = rules.get("minimum_level", 0.0)
    if minimum > max(level["level"] for level in rules["levels"]):
        return  # said once, at minimum_level
    reachable = [
        level
        for level in rules["levels"]
        if level["level"] >= minimum
        and (level.get("min_rating") is None or outcomes)
        and (not level.get("min_goals") or goals)
        and (not level.get("min_sessions") or themes)
    ]
    if not reachable:
        yield (
            here,
            "no evidence level can ever be reached: each one needs a rating, goals or sessions "
            "this side does not count; add outcomes, goals or themes, or give the competency "
            "its own [rules] with levels this side can reach",
        )


def _scale_problems(data: dict[str, Any]) -> _Found:
    for scale_id, scale in data.get("workday", {}).get("scales", {}).items():
        here = ("workday", "scales", scale_id, "thresholds")
        yield from _thresholds_problems(scale["thresholds"], "level_id", here)
    moodle = data.get("moodle", {})
    items = moodle.get("scale", list(DEFAULT_MOODLE_SCALE))
    for index, item in enumerate(items):
        if item in items[:index]:
            yield (("moodle", "scale", index), f"{item!r} is listed twice: keep one")
    thresholds = moodle.get("thresholds", [])
    yield from _thresholds_problems(thresholds, "item", ("moodle", "thresholds"))
    last = 0
    for index, threshold in enumerate(thresholds):
        item = threshold["item"]
        if item not in items:
            close = difflib.get_close_matches(item, items, n=1, cutoff=0.6)
            hint = f"did you mean {close[0]!r}?" if close else f"the items are {items}"
            yield (
                ("moodle", "thresholds", index, "item"),
                f"{item!r} is not an item of moodle.scale: {hint}",
            )
        elif items.index(item) + 1 <= last:
            yield (
                ("moodle", "thresholds", index, "item"),
                f"{item!r} is not above the item of the threshold before it: a higher "
                "min_level must reach a higher item",
            )
        else:
            last = items.index(item) + 1


def _thresholds_problems(
    thresholds: list[dict[str, Any]], name: str, here: tuple[str | int, ...]
) -> _Found:
    for index, threshold in enumerate(thresholds):
        if index and threshold["min_level"] <= thresholds[index - 1]["min_level"]:
            yield (
                (*here, index, "min_level"),
                f"{threshold['min_level']:g} does not rise above "
                f"{thresholds[index - 1]['min_level']:g}: list thresholds lowest first",
            )
        if any(t[name] == threshold[name] for t in thresholds[:index]):
            yield ((*here, index, name), f"{threshold[name]!r} has a threshold already")
