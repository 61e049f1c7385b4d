"""The programme impact report: hand-computed cohort totals, and no group under k = 5 shown
nor derivable from the totals (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from mentorbridge.plugin.reports.filters import ImpactFilters, ReportFilterError
from mentorbridge.plugin.reports.impact import impact_report
from mentorbridge.plugin.reports.suppress import Suppression
from mentorbridge.plugin.reports.table import SUPPRESSED, LineChart, Report
from mentorbridge.plugin.store.db import Store
from mentorbridge.plugin.store.evidence_models import EvidenceChange
from mentorbridge.plugin.store.hris_models import HrisWorker, WorkerChange
from mentorbridge.plugin.store.models import Goal, MentoringSession, Pair, Programme
from tests.plugin.reports.talent_fixture import MAPPING, TODAY, at, build, evidence, worker
from tests.plugin.reports.test_suppress import derivable, unknowns


@pytest.fixture
def fixture_store(store: Store) -> Store:
    build(store)
    with store.transaction() as s:
        programme = s.query(Programme).filter_by(key="rm-1").one()
        for n in range(10):
            mentee = worker(s, f"X-EXEC-{n}", "ORG-A", "JP-EXEC")
            mentor = worker(
                s,
                f"X-JUN-{n}",
                "ORG-B",
                "JP-JUNIOR",
                active=n >= 5,
                termination_date=date(2025, 6, 1) if n < 5 else None,
            )
            pair = Pair(
                key=f"X{n}",
                programme_id=programme.id,
                mentee_id=mentee,
                mentor_id=mentor,
                registration=f"reg-X{n}",
                started_on=date(2025, 1, 15),
            )
            s.add(pair)
            s.flush()
            s.add(
                MentoringSession(
                    key=f"XS{n}",
                    pair_id=pair.id,
                    sequence=1,
                    status="completed",
                    started_at=at("2025-02-10T10:00:00"),
                    duration_seconds=3600,
                )
            )
            s.add(
                Goal(
                    key=f"XG{n}",
                    pair_id=pair.id,
                    owner_id=mentee,
                    title="private",
                    status="achieved" if n < 8 else "planned",
                    planned_at=at("2025-02-10T10:00:00"),
                    achieved_at=at("2025-03-10T10:00:00") if n < 8 else None,
                    planned_statement_id=f"st-{n}",
                )
            )
            if n % 2 == 0:
                worker_id = s.query(HrisWorker.id).filter_by(person_id=mentor).scalar()
                s.add(
                    WorkerChange(
                        worker_id=worker_id,
                        field="management_level",
                        old_value="7",
                        new_value="6",
                        changed_at=at("2025-09-01T00:00:00"),
                    )
                )
    return store


def rows(result: Report, view: str) -> list[tuple[Any, ...]]:
    return list(next(v for v in result.views if v.name == view).rows)


def test_cohort_totals_equal_hand_computed_values(fixture_store: Store) -> None:
    filters = ImpactFilters(
        programme="rm-1",
        date_from=date(2025, 1, 1),
        date_to=date(2025, 12, 31),
        retention_months=6,
    )
    result = impact_report(fixture_store, MAPPING, filters, today=TODAY)
    # 10 pairs, 20 people, one hour each, 10 goals of which 8 achieved; 10 junior mentors
    # paired 6 months before the end of 2025, 5 still employed then, 5 promoted after.
    expected = (20, 10, 10, 10.0, 10, 8, None, 10, 5, 5)
    assert rows(result, "cohorts") == [
        ("rm-1", "2025-Q1", *expected),
        ("rm-1", "all", *expected),
        ("all", "all", *expected),
    ]
    assert rows(result, "participation_by_region") == [
        ("GB", "2025-Q1", 20),
        ("GB", "all", 20),
        ("all", "2025-Q1", 20),
        ("all", "all", 20),
    ]


def test_a_complement_group_under_k_hides_the_count(fixture_store: Store) -> None:
    filters = ImpactFilters(programme="rm-1", date_from=date(2025, 1, 1), date_to=date(2026, 1, 20))
    result = impact_report(fixture_store, MAPPING, filters, today=TODAY)
    cohort = rows(result, "cohorts")[0]
    # 12 months after 2025-01-15 only the 5 active mentors remain: 10 - 5 >= 5, shown;
    # promoted 5 of 10: shown. Now narrow to a retention judged before anyone left:
    assert cohort[-3:] == (10, 5, 5)
    early = impact_report(
        fixture_store,
        MAPPING,
        ImpactFilters(programme="rm-1", date_to=date(2025, 5, 31), retention_months=3),
        today=TODAY,
    )
    # All 10 retained at 3 months (nobody left before June): the not-retained group is 0.
    assert rows(early, "cohorts")[0][-3:] == (10, 10, 0)


def _participation_table(found: list[tuple[Any, ...]]) -> tuple[list[list[Any]], Suppression]:
    groups = sorted({g for g, _, _ in found if g != "all"})
    periods = sorted({p for _, p, _ in found if p != "all"})
    value = {(g, p): n for g, p, n in found}
    cells = [[value[(g, p)] for p in periods] for g in groups]
    hidden = Suppression(
        cells=frozenset(
            (i, j) for i, row in enumerate(cells) for j, v in enumerate(row) if v == SUPPRESSED
        ),
        row_totals=frozenset(i for i, g in enumerate(groups) if value[(g, "all")] == SUPPRESSED),
        column_totals=frozenset(
            j for j, p in enumerate(periods) if value[("all", p)] == SUPPRESSED
        ),
        grand_total=value[("all", "all")] == SUPPRESSED,
    )
    return cells, hidden


@pytest.mark.parametrize("view", ["participation_by_organisation", "participation_by_region"])
def test_no_participation_cell_under_k_shows_or_is_derivable(
    fixture_store: Store, view: str
) -> None:
    result = impact_report(fixture_store, MAPPING, ImpactFilters(), today=TODAY)
    found = rows(result, view)
    assert any(n == SUPPRESSED for _, _, n in found)
    assert all(n == SUPPRESSED or n == 0 or n >= 5 for _, _, n in found)
    shown, hidden = _participation_table(found)
    # Hidden values are unknowns: whether one is derivable depends only on what is published
    # and which entries are hidden, so zeros stand in for them.
    truth = [[0 if v == SUPPRESSED else v for v in row] for row in shown]
    unknown = unknowns(truth, hidden, (True, True, True))
    secret = unknown - unknowns(
        truth, Suppression(frozenset(), frozenset(), frozenset(), False), (True, True, True)
    )
    assert secret and not secret & derivable(truth, unknown)


def test_no_cohort_group_under_k_shows(fixture_store: Store) -> None:
    result = impact_report(fixture_store, MAPPING, ImpactFilters(), today=TODAY)
    cohorts = rows(result, "cohorts")
    assert ("rm-2", "2026-Q3", *[SUPPRESSED] * 10) in cohorts
    for row in cohorts:
        for value in (row[2], *row[-3:]):
            assert value == SUPPRESSED or value == 0 or value >= 5
    chart = result.charts[0]
    assert isinstance(chart, LineChart) and chart.periods


def test_the_organisation_filter_and_unknown_values(fixture_store: Store) -> None:
    result = impact_report(fixture_store, MAPPING, ImpactFilters(organisation="ORG-A"), today=TODAY)
    groups = {g for g, _, _ in rows(result, "participation_by_organisation")}
    assert groups == {"ORG-A", "ORG-A1", "all"}
    with pytest.raises(ReportFilterError) as caught:
        impact_report(fixture_store, MAPPING, ImpactFilters(programme="rm-9"), today=TODAY)
    assert caught.value.filter == "programme" and "closest is 'rm-" in str(caught.value)
    with pytest.raises(ReportFilterError) as caught:
        ImpactFilters.from_strings({"k": "3"})
    assert caught.value.filter == "k"


def _history(store: Store, mentees: int) -> None:
    """The first ``mentees`` executives of the 2025-Q1 cohort reach Emerging (0.25) on
    2025-03-01 and Developing (0.5) on 2025-08-01."""
    with store.transaction() as s:
        for n in range(mentees):
            person = s.query(HrisWorker.person_id).filter_by(employee_id=f"X-EXEC-{n}").scalar()
            row = evidence(s, person, "digital-fluency", "mentee", 0.5, revision=2)
            for revision, level, moment in ((1, 0.25, "2025-03-01"), (2, 0.5, "2025-08-01")):
                s.add(
                    EvidenceChange(
                        evidence_id=row,
                        revision=revision,
                        level=level,
                        level_name="Emerging" if level < 0.5 else "Developing",
                        status="current",
                        changed_at=at(f"{moment}T09:00:00"),
                    )
                )


def test_cohort_progress_is_the_mean_level_at_each_quarters_end(fixture_store: Store) -> None:
    _history(fixture_store, 6)
    result = impact_report(fixture_store, MAPPING, ImpactFilters(), today=TODAY)
    chart = result.charts[0]
    assert isinstance(chart, LineChart) and chart.title.startswith("Cohort progress")
    assert chart.periods[0] == "2025-Q1" and chart.periods[-1] == "2026-Q4"
    line = dict(zip(chart.periods, chart.series["rm-1 2025-Q1"], strict=True))
    assert line["2025-Q1"] == 0.25 and line["2025-Q2"] == 0.25
    assert line["2025-Q3"] == 0.5 and line["2026-Q4"] == 0.5


def test_cohort_progress_hides_a_point_with_fewer_than_k_people(fixture_store: Store) -> None:
    _history(fixture_store, 4)
    result = impact_report(fixture_store, MAPPING, ImpactFilters(), today=TODAY)
    line = result.charts[0].series.get("rm-1 2025-Q1")
    assert line is not None and set(line) == {None}
