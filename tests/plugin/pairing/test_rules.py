"""The hard rules: never inside a reporting chain (either direction, or a shared manager),
enough shared working hours across time zones, a shared language when asked."""

from __future__ import annotations

from dataclasses import replace

import pytest

from mentorbridge.plugin.pairing.plan import plan_pairs
from mentorbridge.plugin.pairing.rules import overlap_minutes, utc_offset_minutes
from tests.plugin.pairing.tenant import TODAY, person, pool


def _pairs(plan) -> set[tuple[str, str]]:
    return {(p.mentee, p.mentor) for p in plan.pairs}


@pytest.mark.parametrize(
    ("executive", "junior", "why"),
    [
        # The junior reports, through a manager, to the executive.
        (
            person("E", ancestors=frozenset({"CEO"})),
            person("J", manager="M", ancestors=frozenset({"M", "E", "CEO"})),
            "below",
        ),
        # The executive sits under the junior (data can say so): the other direction.
        (person("E", manager="J", ancestors=frozenset({"J"})), person("J"), "above"),
        # Same direct manager.
        (
            person("E", manager="M", ancestors=frozenset({"M"})),
            person("J", manager="M", ancestors=frozenset({"M"})),
            "shared manager",
        ),
    ],
)
def test_a_reporting_chain_pair_is_never_proposed(executive, junior, why) -> None:
    plan = plan_pairs(pool([executive], [junior]))
    assert plan.pairs == []
    [unpaired] = [u for u in plan.unmatched if u["role"] == "mentee"]
    assert "outside the reporting chain" in unpaired["reason"], why


def test_outside_the_chain_the_same_two_are_paired() -> None:
    plan = plan_pairs(
        pool(
            [person("E", manager="CEO", ancestors=frozenset({"CEO"}))],
            [person("J", manager="M2", ancestors=frozenset({"M2", "CEO"}))],
        )
    )
    assert _pairs(plan) == {("E", "J")}
    assert set(plan.pairs[0].rules) == {"reporting_chain", "working_hours"}


def test_the_chain_rule_picks_the_other_mentor() -> None:
    executive = person("E", ancestors=frozenset({"CEO"}))
    inside = person("J1", manager="E", ancestors=frozenset({"E", "CEO"}), themes=("AI",))
    outside = person("J2", manager="X", ancestors=frozenset({"X", "CEO"}))
    plan = plan_pairs(pool([replace(executive, themes=("AI",))], [inside, outside]))
    assert _pairs(plan) == {("E", "J2")}


def test_capacity_limits_how_many_executives_one_mentor_takes() -> None:
    executives = [person(f"E{k}", themes=("AI",)) for k in range(3)]
    star = person("J", themes=("AI",))
    other = person("K")
    plan = plan_pairs(pool(executives, [star, other]))
    assert sum(1 for p in plan.pairs if p.mentor == "J") == 1
    assert len(plan.pairs) == 2  # one executive waits: two mentors, capacity 1 each

    roomy = replace(star, capacity=2)
    plan = plan_pairs(pool(executives, [roomy, other]))
    assert sum(1 for p in plan.pairs if p.mentor == "J") == 2
    assert len(plan.pairs) == 3


def test_overlap_counts_shared_working_hours_across_zones() -> None:
    day = (9 * 60, 17 * 60)
    london = utc_offset_minutes("Europe/London", TODAY)
    new_york = utc_offset_minutes("America/New_York", TODAY)
    kolkata = utc_offset_minutes("Asia/Kolkata", TODAY)
    los_angeles = utc_offset_minutes("America/Los_Angeles", TODAY)
    assert overlap_minutes(london, london, day) == 8 * 60
    assert overlap_minutes(london, new_york, day) == 3 * 60  # 14:00-17:00 London
    assert overlap_minutes(kolkata, london, day) == 2.5 * 60  # 09:00-11:30 London
    assert overlap_minutes(kolkata, los_angeles, day) == 0
    assert overlap_minutes(None, london, day) == 0


def test_too_few_shared_hours_keeps_a_pair_apart() -> None:
    executive = person("E", time_zone="Asia/Kolkata", themes=("AI",))
    far = person("J1", time_zone="America/Los_Angeles", themes=("AI",))
    near = person("J2", time_zone="Europe/London")
    plan = plan_pairs(pool([executive], [far, near]))
    assert _pairs(plan) == {("E", "J2")}
    plan = plan_pairs(pool([executive], [far]))
    assert plan.pairs == []
    assert "2 h of working day in common" in plan.unmatched[0]["reason"]
    # With 3 hours asked, London (2.5 h from Kolkata) fails too.
    plan = plan_pairs(pool([executive], [far, near], min_overlap_hours=3.0))
    assert plan.pairs == []


def test_a_shared_language_is_required_only_when_configured() -> None:
    executive = person("E", languages=frozenset({"de"}))
    junior = person("J", languages=frozenset({"en"}))
    assert len(plan_pairs(pool([executive], [junior])).pairs) == 1
    assert plan_pairs(pool([executive], [junior], shared_language=True)).pairs == []
    bilingual = person("K", languages=frozenset({"en", "de"}))
    plan = plan_pairs(pool([executive], [junior, bilingual], shared_language=True))
    assert _pairs(plan) == {("E", "K")}
    assert plan.pairs[0].rules["language"] == "both work in de"
