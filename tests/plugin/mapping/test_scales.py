"""Scale conversions: ratings to 0-1, and 0-1 to and from the synced Workday and Moodle scales."""

from __future__ import annotations

import math

import pytest

from mentorbridge.plugin.errors import MappingError
from mentorbridge.plugin.mapping.file import parse_mapping
from mentorbridge.plugin.mapping.model import ScaleMap
from mentorbridge.plugin.mapping.scales import (
    moodle_value,
    normalise,
    scales_digest,
    workday_level,
    workday_normalised,
)
from tests.plugin.mapping.texts import MINIMAL


def scale(*ids: str) -> list[dict[str, object]]:
    """Synced levels as the HRIS mirror keeps them, given lowest first (listed shuffled)."""
    levels = [{"level_id": i, "name": i.title(), "rank": r} for r, i in enumerate(ids, 1)]
    return levels[1::2] + levels[0::2]  # the order they arrive in must not matter


PROF_4 = scale("AWARE", "PRACTISING", "SKILLED", "EXPERT")
TECH_3 = scale("FOUNDATION", "PROFICIENT", "MASTERY")


@pytest.mark.parametrize(
    ("rating", "low", "high", "expected"),
    [(3, 1, 5, 0.5), (1, 1, 5, 0.0), (5, 1, 5, 1.0), (4, 0, 10, 0.4), (-1, -2, 2, 0.25)],
)
def test_normalise_puts_a_rating_on_0_to_1(
    rating: float, low: float, high: float, expected: float
) -> None:
    assert normalise(rating, low, high) == pytest.approx(expected)


@pytest.mark.parametrize(
    ("rating", "low", "high", "message"),
    [
        (6, 1, 5, "rating 6 is outside its scale 1-5"),
        (0.5, 1, 5, "rating 0.5 is outside its scale 1-5"),
        (3, 5, 1, "scale 5-1: its highest rating must be above its lowest"),
        (3, 3, 3, "scale 3-3: its highest rating must be above its lowest"),
        (math.nan, 1, 5, "expected finite numbers"),
    ],
)
def test_normalise_refuses_a_rating_outside_its_scale(
    rating: float, low: float, high: float, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        normalise(rating, low, high)


@pytest.mark.parametrize(
    ("level", "four", "three"),
    [
        (0.0, None, None),
        (0.2, None, None),
        (0.25, "AWARE", None),
        (0.3, "AWARE", None),
        (1 / 3, "AWARE", "FOUNDATION"),
        (0.5, "PRACTISING", "FOUNDATION"),
        (0.6, "PRACTISING", "FOUNDATION"),
        (2 / 3, "PRACTISING", "PROFICIENT"),
        (0.74, "PRACTISING", "PROFICIENT"),
        (0.75, "SKILLED", "PROFICIENT"),
        (0.99, "SKILLED", "PROFICIENT"),
        (1.0, "EXPERT", "MASTERY"),
    ],
)
def test_without_thresholds_levels_are_spread_evenly_by_rank(
    level: float, four: str | None, three: str | None
) -> None:
    reached = [workday_level(level, levels, None) for levels in (PROF_4, TECH_3)]
    assert [found and found["level_id"] for found in reached] == [four, three]


def test_a_level_reached_is_the_synced_level_itself() -> None:
    assert workday_level(0.5, PROF_4, ScaleMap()) == {
        "level_id": "PRACTISING",
        "name": "Practising",
        "rank": 2,
    }


def test_a_level_a_hair_below_its_threshold_by_arithmetic_still_reaches_it() -> None:
    summed = sum([0.1] * 10) * 0.75  # 0.7499999999999999
    assert summed < 0.75
    assert workday_level(summed, PROF_4, None)["level_id"] == "SKILLED"


THRESHOLDS = ScaleMap(((0.2, "AWARE"), (0.4, "PRACTISING"), (0.6, "SKILLED"), (0.9, "EXPERT")))


@pytest.mark.parametrize(
    ("level", "expected"),
    [(0.1, None), (0.2, "AWARE"), (0.45, "PRACTISING"), (0.75, "SKILLED"), (0.9, "EXPERT")],
)
def test_explicit_thresholds_decide_the_level_reached(level: float, expected: str | None) -> None:
    found = workday_level(level, PROF_4, THRESHOLDS)
    assert (found and found["level_id"]) == expected


def test_a_workday_level_stands_for_rank_over_count_or_its_threshold() -> None:
    assert [workday_normalised(i, PROF_4, None) for i in ("AWARE", "SKILLED", "EXPERT")] == [
        0.25,
        0.75,
        1.0,
    ]
    assert workday_normalised("PROFICIENT", TECH_3, None) == pytest.approx(2 / 3)
    assert workday_normalised("PRACTISING", PROF_4, THRESHOLDS) == 0.4
    assert workday_normalised("GURU", PROF_4, None) is None
    partial = ScaleMap(((0.5, "AWARE"), (1.0, "EXPERT")))
    assert workday_normalised("SKILLED", PROF_4, partial) is None  # no threshold: no level
    assert workday_level(0.8, PROF_4, partial)["level_id"] == "AWARE"


@pytest.mark.parametrize("levels", [PROF_4, TECH_3])
@pytest.mark.parametrize("scale_map", [None, "thresholds"])
def test_each_workday_level_maps_back_to_itself(
    levels: list[dict[str, object]], scale_map: str | None
) -> None:
    ordered = sorted(levels, key=lambda lv: lv["rank"])
    mapped = (
        ScaleMap(tuple((0.1 + 0.2 * i, lv["level_id"]) for i, lv in enumerate(ordered)))
        if scale_map
        else None
    )
    for level in ordered:
        normalised = workday_normalised(level["level_id"], levels, mapped)
        assert workday_level(normalised, levels, mapped) == level


def test_a_scale_map_naming_a_level_not_synced_is_a_mapping_error() -> None:
    wrong = ScaleMap(((0.25, "AWARE"), (0.5, "PRACTICING")))
    with pytest.raises(MappingError, match="names level 'PRACTICING', which the synced scale"):
        workday_level(0.6, PROF_4, wrong)
    with pytest.raises(MappingError, match="run `mentorbridge mapping check`"):
        workday_normalised("AWARE", PROF_4, wrong)


@pytest.mark.parametrize("level", [-0.01, 1.01, math.nan])
def test_a_level_outside_0_to_1_is_refused(level: float) -> None:
    mapping = parse_mapping(MINIMAL, "m.toml")
    with pytest.raises(ValueError, match="is not a normalised level: expected 0 to 1"):
        workday_level(level, PROF_4, None)
    with pytest.raises(ValueError, match="is not a normalised level"):
        moodle_value(level, mapping)


def test_no_synced_levels_reach_nothing() -> None:
    assert workday_level(1.0, [], None) is None
    assert workday_normalised("AWARE", [], None) is None


@pytest.mark.parametrize(
    ("moodle", "expected"),
    [
        ("", [None, None, 1, 1, 2]),  # two items, evenly: 0.5 and 1
        (
            '[moodle]\nscale = ["Not yet", "Partly", "Competent"]\n',
            [None, None, 1, 2, 3],  # 1/3, 2/3, 1
        ),
        (
            '[moodle]\nscale = ["Not yet", "Partly", "Competent"]\nthresholds = [\n'
            '    { min_level = 0.2, item = "Not yet" },\n'
            '    { min_level = 0.75, item = "Competent" },\n]\n',
            [None, 1, 1, 3, 3],
        ),
    ],
)
def test_moodle_values_are_1_based_and_follow_the_mapping(
    moodle: str, expected: list[int | None]
) -> None:
    mapping = parse_mapping(MINIMAL + "\n" + moodle, "m.toml")
    assert [moodle_value(level, mapping) for level in (0.0, 0.25, 0.5, 0.75, 1.0)] == expected


def test_the_scales_digest_changes_with_the_scales_not_their_order() -> None:
    synced = [("SUCC-DIGI", "ACME_PROF_4", PROF_4), ("TECH-GENAI", "ACME_TECH_3", TECH_3)]
    digest = scales_digest(synced)
    assert len(digest) == 64
    reordered = [(cid, sid, list(reversed(levels))) for cid, sid, levels in reversed(synced)]
    assert scales_digest(reordered) == digest
    renamed = [*synced[:1], ("TECH-GENAI", "ACME_TECH_3", scale("BASIC", "PROFICIENT", "MASTERY"))]
    assert scales_digest(renamed) != digest
    grown = [*synced[:1], ("TECH-GENAI", "ACME_TECH_3", scale("F", "P", "M", "X"))]
    assert scales_digest(grown) != digest
    moved = [*synced[:1], ("TECH-GENAI", "ACME_PROF_4", TECH_3)]
    assert scales_digest(moved) != digest
    assert scales_digest([]) != digest
