"""The succession report on a fixed fixture: totals equal hand-computed values, filters narrow
it, unknown filter values are refused naming the closest (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from mentorbridge.plugin.reports.filters import ReportFilterError, SuccessionFilters
from mentorbridge.plugin.reports.succession import succession_report, trend_window
from mentorbridge.plugin.reports.table import Heatmap, Report, ScatterChart
from mentorbridge.plugin.store.db import Store
from tests.plugin.reports.talent_fixture import MAPPING, TODAY, build, history


@pytest.fixture
def fixture_store(store: Store) -> Store:
    build(store)
    return store


def report(store: Store, **filters: Any) -> Report:
    return succession_report(store, MAPPING, SuccessionFilters(**filters), today=TODAY)


def rows(result: Report, view: str) -> list[dict[str, Any]]:
    """A view's rows as dicts (read once: later calls get the same list)."""
    chosen = next(v for v in result.views if v.name == view)
    if not isinstance(chosen.rows, list):
        keys = [c.key for c in chosen.columns]
        chosen.rows = [dict(zip(keys, row, strict=True)) for row in chosen.rows]
    return chosen.rows


def keyed(result: Report) -> list[tuple[str, str, str]]:
    return [
        (r["position_id"], r["worker_id"], r["competency_key"]) for r in rows(result, "candidates")
    ]


def test_candidates_rows_are_required_or_evidenced_competencies_with_hand_computed_values(
    fixture_store: Store,
) -> None:
    result = report(fixture_store)
    assert result.views[0].name == "candidates"
    assert keyed(result) == [
        ("POS-1", "EXEC-1", "digital-fluency"),
        ("POS-1", "JUN-1", "coaching"),
        ("POS-1", "JUN-1", "digital-fluency"),
        ("POS-2", "EXEC-2", "ai-literacy"),  # its withdrawn digital evidence is not shown
        ("POS-2", "EXEC-2", "coaching"),
        ("POS-2", "JUN-2", "coaching"),
    ]
    first = rows(result, "candidates")[0]
    assert first["evidence_side"] == "mentee"  # the higher of the two sides
    assert (first["evidence_level"], first["evidence_workday_level"]) == (0.5, "Digital 2")
    # The incumbent's job profile requires level D3 of 4: 3/4.
    assert (first["required_level"], first["required_workday_level_id"], first["gap"]) == (
        0.75,
        "D3",
        0.25,
    )
    assert (first["pairs"], first["sessions"], first["hours"]) == (1, 3, 3.0)
    assert first["last_session"].isoformat() == "2026-10-10T10:00:00+00:00"
    assert first["recent_sources"] == 2  # the 2025 session is before the trend window
    junior = rows(result, "candidates")[5]
    assert (junior["required_level"], junior["evidence_level"], junior["gap"]) == (
        0.6667,
        None,
        None,
    )
    assert (junior["sessions"], junior["hours"]) == (2, 1.0)


def test_plans_count_candidates_by_the_tenants_readiness(fixture_store: Store) -> None:
    assert [tuple(r.values()) for r in rows(report(fixture_store), "plans")] == [
        ("POS-1", "Head of POS-1", "INC-1", "Name INC-1", "JP-EXEC", 2, 1, 1, 2),
        ("POS-2", "Head of POS-2", "INC-2", "Name INC-2", "JP-LEAD", 2, 1, 0, 1),
    ]


def test_workers_include_people_on_no_plan(fixture_store: Store) -> None:
    workers = rows(report(fixture_store), "workers")
    assert [(r["worker_id"], r["competency_key"], r["plans"]) for r in workers] == [
        ("EXEC-1", "digital-fluency", 1),
        ("EXEC-2", "ai-literacy", 1),
        ("JUN-1", "coaching", 1),
        ("JUN-3", "coaching", 0),
    ]
    assert workers[3]["hours"] == 0.75


def test_the_organisation_filter_takes_the_whole_subtree(fixture_store: Store) -> None:
    top = report(fixture_store, organisation="ORG-TOP")
    assert {p for p, _, _ in keyed(top)} == {"POS-1", "POS-2"}
    branch = report(fixture_store, organisation="ORG-A")
    assert {p for p, _, _ in keyed(branch)} == {"POS-1"}
    assert [r["worker_id"] for r in rows(branch, "workers")] == ["EXEC-1", "JUN-1"]
    assert keyed(report(fixture_store, organisation="ORG-A1")) == []


def test_plan_competency_worker_and_programme_filters(fixture_store: Store) -> None:
    assert {p for p, _, _ in keyed(report(fixture_store, plan="POS-2"))} == {"POS-2"}
    by_workday_id = keyed(report(fixture_store, competency="C-COACH"))
    assert by_workday_id == keyed(report(fixture_store, competency="coaching"))
    assert by_workday_id == [
        ("POS-1", "JUN-1", "coaching"),
        ("POS-2", "EXEC-2", "coaching"),
        ("POS-2", "JUN-2", "coaching"),
    ]
    assert {w for _, w, _ in keyed(report(fixture_store, worker="JUN-1"))} == {"JUN-1"}
    other = report(fixture_store, programme="rm-2")
    assert keyed(other) == []
    assert [r["worker_id"] for r in rows(other, "workers")] == ["JUN-3"]


def test_the_date_range_counts_only_sessions_inside_it(fixture_store: Store) -> None:
    result = report(fixture_store, date_from=date(2026, 9, 1), date_to=date(2026, 10, 31))
    first, last = rows(result, "candidates")[0], rows(result, "candidates")[5]
    assert (first["sessions"], first["hours"]) == (1, 1.0)
    assert (last["sessions"], last["hours"]) == (0, 0.0)


def trend(row: dict[str, Any]) -> tuple[Any, ...]:
    return (
        row["level_at_window_start"],
        row["level_at_window_start_name"],
        row["level_change"],
        row["trend"],
    )


def test_the_trend_compares_the_level_at_the_windows_start_with_the_current_one(
    store: Store,
) -> None:
    history(store, build(store))
    result = report(store)  # the window: 2026-01-01 to TODAY
    candidates = {
        (r["worker_id"], r["competency_key"]): trend(r) for r in rows(result, "candidates")
    }
    # Rose: Aware (0.3333) when the window started, Developing (0.6667) now.
    assert candidates["JUN-1", "coaching"] == (0.3333, "Aware", 0.3334, "up")
    # First seen in August: nothing at the start, the whole level is the change (the older
    # mentor side is not the evidence shown).
    assert candidates["EXEC-1", "digital-fluency"] == (None, None, 0.5, "new")
    # Withdrawn in November 2025, back in March: no evidence when the window started.
    assert candidates["EXEC-2", "ai-literacy"] == (None, None, 0.4, "new")
    # No evidence at all: no trend.
    assert candidates["JUN-1", "digital-fluency"] == (None, None, None, None)
    assert candidates["JUN-2", "coaching"] == (None, None, None, None)
    workers = {(r["worker_id"], r["competency_key"]): trend(r) for r in rows(result, "workers")}
    # Aware since March 2025, unchanged.
    assert workers["JUN-3", "coaching"] == (0.3333, "Aware", 0.0, "steady")
    assert workers["JUN-1", "coaching"] == (0.3333, "Aware", 0.3334, "up")
    assert workers["EXEC-2", "ai-literacy"] == (None, None, 0.4, "new")


def test_the_trend_window_ends_at_date_to(store: Store) -> None:
    history(store, build(store))
    # One quarter to 2026-04-30 starts on 2026-04-01: Proficient (1.0) then, Developing now.
    result = report(store, date_to=date(2026, 4, 30), periods=1)
    workers = {(r["worker_id"], r["competency_key"]): trend(r) for r in rows(result, "workers")}
    assert workers["JUN-1", "coaching"] == (1.0, "Proficient", -0.3333, "down")
    assert workers["EXEC-2", "ai-literacy"] == (0.4, "Developing", 0.0, "steady")
    assert workers["EXEC-1", "digital-fluency"] == (None, None, 0.5, "new")
    assert workers["JUN-3", "coaching"] == (0.3333, "Aware", 0.0, "steady")


def test_evidence_without_history_is_new(fixture_store: Store) -> None:
    workers = rows(report(fixture_store), "workers")
    assert {trend(r) for r in workers if r["worker_id"] == "JUN-3"} == {(None, None, 0.3333, "new")}


def test_charts_show_candidates_evidence_and_readiness(fixture_store: Store) -> None:
    heatmap, scatter = report(fixture_store).charts
    assert isinstance(heatmap, Heatmap) and isinstance(scatter, ScatterChart)
    assert heatmap.row_labels == ["AI literacy", "Coaching", "Digital fluency"]
    assert heatmap.column_labels[0] == "Name EXEC-1 (EXEC-1)"
    assert heatmap.values[2][0] == 0.5 and heatmap.values[1][1] == 0.6667
    assert ("EXEC-1 / POS-1", 0.5, 0.75, "Ready Now") in scatter.points
    capped = report(fixture_store, heatmap_people=2).charts[0]
    assert len(capped.column_labels) == 2


@pytest.mark.parametrize(
    ("filters", "named", "closest"),
    [
        ({"worker": "EXEC-11"}, "worker", "EXEC-1"),
        ({"organisation": "ORG-AA"}, "organisation", "ORG-A"),
        ({"plan": "POS-9"}, "plan", "POS-"),
        ({"competency": "coachin"}, "competency", "coaching"),
        ({"programme": "rm-3"}, "programme", "rm-"),
    ],
)
def test_unknown_filter_values_are_refused_naming_the_closest(
    fixture_store: Store, filters: dict[str, str], named: str, closest: str
) -> None:
    with pytest.raises(ReportFilterError) as caught:
        report(fixture_store, **filters)
    assert caught.value.filter == named
    assert f"the closest is '{closest}" in str(caught.value)


def test_filters_from_text_are_checked() -> None:
    parsed = SuccessionFilters.from_strings({"date_from": "2026-01-01", "periods": "2"})
    assert parsed.as_strings() == {
        "date_from": "2026-01-01",
        "periods": "2",
        "heatmap_people": "30",
    }
    for bad, named in (
        ({"date_to": "31/12/2026"}, "date_to"),
        ({"date_from": "2026-02-01", "date_to": "2026-01-01"}, "date_from"),
        ({"region": "GB"}, "region"),
        ({"periods": "0"}, "periods"),
    ):
        with pytest.raises(ReportFilterError) as caught:
            SuccessionFilters.from_strings(bad)
        assert caught.value.filter == named


def test_the_trend_window_starts_periods_quarters_back() -> None:
    assert trend_window(date(2026, 12, 5), 4).date() == date(2026, 1, 1)
    assert trend_window(date(2026, 2, 1), 2).date() == date(2025, 10, 1)
