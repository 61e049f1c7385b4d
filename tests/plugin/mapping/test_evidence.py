"""The evidence engine on activity built by hand: each rule, recency, decay, sides, consent."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from mentorbridge.plugin.mapping.evidence import (
    Activity,
    GoalActivity,
    MappingIndex,
    RatingActivity,
    SessionActivity,
    evaluate_person,
)
from tests.plugin.mapping.mappings import DIGITAL, mapping, with_rules

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
AI = "generative AI at work"


def sessions(n: int, *, side: str = "mentee", days_ago: float = 1, theme: str = AI) -> list:
    return [
        SessionActivity(
            key=f"s-{side}-{days_ago}-{i}",
            side=side,
            at=NOW - timedelta(days=days_ago),
            themes=(theme,),
            statement_id=f"st-{i}",
        )
        for i in range(n)
    ]


def rating(value: float, *, released: bool = True, key: str = "o-1", days_ago: float = 1):
    return RatingActivity(
        key=key,
        side="mentee",
        at=NOW - timedelta(days=days_ago),
        competency="SUCC-DIGI",
        rating=value,
        released=released,
        statement_id=f"ev-{key}",
    )


def goal(key: str = "g-1", side: str = "mentee", themes: tuple[str, ...] = (AI,)):
    return GoalActivity(key=key, side=side, at=NOW - timedelta(days=2), pair_themes=themes)


def levels(activity: Activity, chosen=None) -> dict[tuple[str, str], str]:
    found = evaluate_person(MappingIndex(chosen or mapping()), activity, NOW)
    return {(e.competency_key, e.side): e.level_name for e in found}


def digital(activity: Activity, chosen=None):
    found = evaluate_person(MappingIndex(chosen or mapping()), activity, NOW)
    return next((e for e in found if e.competency_key == "digital-fluency"), None)


def test_sessions_alone_reach_developing() -> None:
    assert levels(Activity(sessions=sessions(3))) == {("digital-fluency", "mentee"): "Developing"}


def test_below_the_minimum_level_nothing_is_rated() -> None:
    # One session reaches "Aware" (0.1), under the minimum of 0.25.
    assert levels(Activity(sessions=sessions(1))) == {}
    lower = with_rules(minimum_level=0.0)
    assert levels(Activity(sessions=sessions(1)), lower) == {("digital-fluency", "mentee"): "Aware"}


def test_a_released_rating_at_the_threshold_reaches_proficient() -> None:
    assert digital(Activity(sessions=sessions(3), ratings=[rating(0.5)])).level_name == (
        "Proficient"
    )
    assert digital(Activity(sessions=sessions(3), ratings=[rating(0.49)])).level_name == (
        "Developing"
    )


def test_the_rating_is_the_weighted_mean_of_released_ratings() -> None:
    found = digital(
        Activity(sessions=sessions(3), ratings=[rating(1.0, key="a"), rating(0.0, key="b")])
    )
    assert found.rating == 0.5
    assert {s.key: s.rating for s in found.sources if s.kind == "outcome"} == {"a": 1.0, "b": 0.0}


def test_an_unreleased_rating_never_counts() -> None:
    found = digital(Activity(sessions=sessions(3), ratings=[rating(1.0, released=False)]))
    assert (found.level_name, found.rating) == ("Developing", None)
    assert [s.kind for s in found.sources] == ["session"] * 3


def test_an_achieved_goal_on_a_matching_theme_counts() -> None:
    activity = Activity(sessions=sessions(3), ratings=[rating(0.8)], goals=[goal()])
    assert digital(activity).level_name == "Advanced"
    assert digital(activity).goals == 1.0
    off_theme = Activity(sessions=sessions(3), ratings=[rating(0.8)], goals=[goal(themes=("x",))])
    assert digital(off_theme).level_name == "Proficient"


def test_the_highest_level_whose_conditions_all_hold_wins() -> None:
    # A goal but no rating: Advanced needs the rating too, so Developing it is.
    assert digital(Activity(sessions=sessions(5), goals=[goal()])).level_name == "Developing"


def test_a_sessions_own_themes_come_before_its_pairs() -> None:
    own = SessionActivity("s-1", "mentee", NOW, themes=("finance",), pair_themes=(AI,))
    inherited = SessionActivity("s-2", "mentee", NOW, themes=(), pair_themes=(AI,))
    assert [s.key for s in digital(Activity(sessions=[own, inherited] * 3)).sources] == ["s-2"] * 3


def test_themes_match_case_insensitively_with_their_weight() -> None:
    half = sessions(4, theme="Social Media")  # weight 0.5: 2 sessions' worth
    assert digital(Activity(sessions=half)) is None
    assert digital(Activity(sessions=sessions(6, theme="SOCIAL MEDIA"))).sessions == 3.0


def test_activity_outside_the_recency_window_counts_for_nothing() -> None:
    windowed = with_rules(recency_days=30)
    assert digital(Activity(sessions=sessions(3, days_ago=29)), windowed) is not None
    assert digital(Activity(sessions=sessions(3, days_ago=31)), windowed) is None
    assert digital(Activity(sessions=sessions(3, days_ago=31))) is not None  # no window


def test_weights_halve_every_half_life() -> None:
    decaying = with_rules(half_life_days=10, minimum_level=0.0)
    found = digital(Activity(sessions=sessions(4, days_ago=10)), decaying)
    assert found.sessions == pytest.approx(2.0)
    assert {s.weight for s in found.sources} == {0.5}
    assert found.level_name == "Aware"  # 4 sessions halved: 2, short of Developing's 3
    assert digital(Activity(sessions=sessions(6, days_ago=10)), decaying).level_name == (
        "Developing"
    )


def test_mentor_and_mentee_sides_count_apart() -> None:
    mentor_sessions = sessions(3, side="mentor")
    assert levels(Activity(sessions=mentor_sessions)) == {("coaching", "mentor"): "Developing"}
    both = Activity(sessions=[*mentor_sessions, *sessions(3)])
    assert levels(both) == {
        ("digital-fluency", "mentee"): "Developing",
        ("coaching", "mentor"): "Developing",
    }


def test_a_goal_counts_on_the_side_its_owner_holds() -> None:
    activity = Activity(sessions=sessions(3, side="mentor"), goals=[goal(side="mentor")])
    found = evaluate_person(MappingIndex(mapping()), activity, NOW)
    assert [(e.competency_key, e.goals) for e in found] == [("coaching", 1.0)]


def test_a_competency_without_a_side_rule_earns_nothing_on_that_side() -> None:
    only_digital = mapping(with_rules().rules, DIGITAL)
    assert levels(Activity(sessions=sessions(3, side="mentor")), only_digital) == {}


def test_the_digest_changes_with_the_conclusion_not_with_time() -> None:
    decaying = with_rules(half_life_days=1000)
    activity = Activity(sessions=sessions(4, days_ago=5))
    early = digital(activity, decaying)
    later = evaluate_person(MappingIndex(decaying), activity, NOW + timedelta(days=3))[0]
    assert later.sessions < early.sessions  # the weights decayed ...
    assert later.digest == early.digest  # ... the conclusion and its sources did not
    more = Activity(sessions=sessions(4, days_ago=5) + sessions(1, days_ago=2))
    assert digital(more, decaying).digest != early.digest
    better = Activity(sessions=sessions(4, days_ago=5), ratings=[rating(0.9)])
    assert digital(better, decaying).digest != early.digest
