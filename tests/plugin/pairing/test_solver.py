"""The solver is exact: on small random pools it finds what trying every assignment finds;
"most" and "best" differ where they should; every score is explained to the point."""

from __future__ import annotations

import itertools
import math
import random
from dataclasses import replace

import pytest

from mentorbridge.plugin.pairing.plan import plan_pairs
from mentorbridge.plugin.pairing.programme import COMPONENTS, Weights
from mentorbridge.plugin.pairing.rules import chain_problem, hard_rules
from mentorbridge.plugin.pairing.score import Scorer
from tests.plugin.pairing.tenant import THEMES, TODAY, person, pool

ZONES = ("Europe/London", "America/New_York", "Asia/Kolkata", "America/Los_Angeles")


def _random_pool(seed: int, **changes):
    rnd = random.Random(seed)
    managers = ["M1", "M2", "M3"]

    def someone(employee_id: str):
        manager = rnd.choice([*managers, None])
        return person(
            employee_id,
            organisation=rnd.choice(["O1", "O2", None]),
            function=rnd.choice(["F1", "F2"]),
            region=rnd.choice(["EU", "US"]),
            time_zone=rnd.choice(ZONES),
            manager=manager,
            ancestors=frozenset({manager}) if manager else frozenset(),
            themes=tuple(rnd.sample(THEMES, rnd.randint(0, 3))),
            mentoring=rnd.random() < 0.3,
        )

    mentees = [someone(f"E{k}") for k in range(rnd.randint(1, 5))]
    mentors = [someone(f"J{k}") for k in range(rnd.randint(1, 6))]
    return pool(mentees, mentors, **changes)


def _brute_force(p) -> tuple[int, float, float]:
    """(most pairs, best total, best total among the most pairs), trying every assignment."""
    scorer = Scorer(p)
    edges = {}
    for i, mentee in enumerate(p.mentees):
        for j, mentor in enumerate(p.mentors):
            if not hard_rules(p.programme, mentee, mentor, p.today)[1]:
                edges[(i, j)] = scorer.explain(i, j)[0]
    best, most, best_of_most = 0.0, 0, 0.0
    for r in range(len(edges) + 1):
        for chosen in itertools.combinations(edges, r):
            mentees = [i for i, _ in chosen]
            mentors = [j for _, j in chosen]
            if len(set(mentees)) < r or len(set(mentors)) < r:
                continue
            total = sum(edges[e] for e in chosen)
            best = max(best, total)
            if r > most:
                most, best_of_most = r, total
            elif r == most:
                best_of_most = max(best_of_most, total)
    return most, best, best_of_most


@pytest.mark.parametrize("seed", range(40))
def test_the_solver_matches_brute_force_on_small_pools(seed: int) -> None:
    p = _random_pool(seed)
    most, best, best_of_most = _brute_force(p)
    plan = plan_pairs(p, objective="best")
    assert plan.total == pytest.approx(best, abs=1e-9)
    plan = plan_pairs(p, objective="most")
    assert len(plan.pairs) == most
    assert plan.total == pytest.approx(best_of_most, abs=1e-9)


def test_most_pairs_and_best_pairs_differ_where_they_should() -> None:
    # A and X are a perfect match; B can only take X. Best: A-X alone (60 + diversity).
    # Most: A-Y and B-X, two weaker pairs.
    a = person("A", themes=("AI",))
    b = person("B", themes=("digital",))
    x = person("X", themes=("AI",))
    y = person("Y", manager="Q", ancestors=frozenset({"Q"}))
    b = replace(b, manager="Q", ancestors=frozenset({"Q"}))  # B shares Y's manager
    p = pool([a, b], [x, y])
    best = plan_pairs(p, objective="best")
    most = plan_pairs(p, objective="most")
    assert {(q.mentee, q.mentor) for q in best.pairs} == {("A", "X")}
    assert {(q.mentee, q.mentor) for q in most.pairs} == {("A", "Y"), ("B", "X")}
    assert best.total > most.total
    [waiting] = [u for u in best.unmatched if u["employee_id"] == "B"]
    assert "would lower the total" in waiting["reason"]


@pytest.mark.parametrize("seed", range(10))
def test_every_score_is_the_sum_of_its_explained_points(seed: int) -> None:
    p = _random_pool(seed, weights=Weights(50, 7.5, 12.5, 10, 20, 0))
    plan = plan_pairs(p)
    for pair in plan.pairs:
        assert list(pair.breakdown) == list(COMPONENTS)
        points = [pair.breakdown[c]["points"] for c in COMPONENTS]
        assert sum(points) == pair.score  # exact: the same sums in the same order
        for c in COMPONENTS:
            part = pair.breakdown[c]
            assert part["points"] == part["weight"] * part["value"]
            assert 0.0 <= part["value"] <= 1.0
    assert math.isclose(plan.total, sum(p.score for p in plan.pairs))


def test_theme_alignment_weighs_the_first_priority_most() -> None:
    executive = person("E", themes=("AI", "digital", "customer"))
    covers_first = person("J1", themes=("AI",))
    covers_last = person("J2", themes=("customer",))
    p = pool([executive], [covers_first, covers_last])
    scorer = Scorer(p)
    first = scorer.explain(0, 0)[1]["themes"]
    last = scorer.explain(0, 1)[1]["themes"]
    assert first["value"] == 3 / 6 and last["value"] == 1 / 6
    assert first["shared"] == ["AI"]
    assert plan_pairs(p).pairs[0].mentor == "J1"


def test_protected_attributes_count_only_with_consent_and_when_weighted() -> None:
    executive = person("E", protected={"birth_generation": "Gen X"})
    consented = person("J1", protected={"birth_generation": "Gen Z"})
    silent = person("J2")  # no consent: nothing known
    p = pool(
        [executive],
        [consented, silent],
        protected_attributes=("birth_generation",),
        weights=Weights(60, 0, 0, 0, 0, 40),
    )
    scorer = Scorer(p)
    assert scorer.explain(0, 0)[1]["protected"]["points"] == 40.0
    assert scorer.explain(0, 1)[1]["protected"]["points"] == 0.0


def test_rejected_pairs_are_never_proposed_again() -> None:
    p = pool([person("E", themes=("AI",))], [person("J1", themes=("AI",)), person("J2")])
    assert plan_pairs(p).pairs[0].mentor == "J1"
    p.rejected.add(("E", "J1"))
    assert plan_pairs(p).pairs[0].mentor == "J2"


def test_candidates_at_least_the_places_keep_the_optimum() -> None:
    rnd = random.Random(1)
    mentors = [
        person(f"J{k}", themes=tuple(rnd.sample(THEMES, 2)), time_zone="Europe/London")
        for k in range(40)
    ]
    mentees = [person(f"E{k}", themes=tuple(rnd.sample(THEMES, 3))) for k in range(10)]
    full = plan_pairs(pool(mentees, mentors, candidates=1000))
    enough = plan_pairs(pool(mentees, mentors, candidates=10))  # 10 executive places
    pruned = plan_pairs(pool(mentees, mentors, candidates=1))
    assert full.complete and enough.complete and not pruned.complete
    assert enough.total == pytest.approx(full.total)
    assert pruned.total <= full.total <= full.bound
    # With one candidate each, executives whose candidate was taken get the free mentors.
    assert len(pruned.pairs) == len(full.pairs) == 10


def test_chain_problem_names_the_direction() -> None:
    boss, report = person("B"), person("R", manager="B", ancestors=frozenset({"B"}))
    assert "reports" in chain_problem(boss, report)
    assert chain_problem(report, boss) == "the executive reports (directly or not) to the mentor"
    assert chain_problem(boss, boss) == "the same person"
    assert TODAY.year == 2026
