"""The impact report's charts: cohort progress over the quarters, and participation."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from mentorbridge.plugin.reports.table import LineChart

__all__ = ["PROGRESS_QUARTERS", "participation_chart", "progress_chart", "quarter_end", "quarters"]

#: The most quarters the cohort progress chart draws (the latest).
PROGRESS_QUARTERS = 8


def quarters(cohorts: list[str], as_of: date) -> list[str]:
    """Quarters from the earliest cohort's to ``as_of``'s, the last :data:`PROGRESS_QUARTERS`."""
    last = (as_of.year, (as_of.month - 1) // 3 + 1)
    starts = [(int(c[:4]), int(c[-1])) for c in cohorts if c and c[4:6] == "-Q"]
    if not starts:
        return []
    year, number = min(starts)
    found = []
    while (year, number) <= last:
        found.append(f"{year}-Q{number}")
        year, number = (year + 1, 1) if number == 4 else (year, number + 1)
    return found[-PROGRESS_QUARTERS:]


def quarter_end(period: str) -> datetime:
    """The first moment after the quarter ``2026-Q3`` (UTC)."""
    year, number = int(period[:4]), int(period[-1])
    return datetime(year + number // 4, number % 4 * 3 + 1, 1, tzinfo=UTC)


def progress_chart(
    periods: list[str], progress: dict[str, list[tuple[Any, ...]]], k: int
) -> LineChart:
    """Each cohort's mean evidence level at the end of each quarter; a point with fewer than
    k people with evidence behind it is a gap."""
    series: dict[str, list[float | None]] = {}
    for index, period in enumerate(periods):
        for programme, cohort, total, people in progress[period]:
            line = series.setdefault(f"{programme} {cohort}", [None] * len(periods))
            line[index] = round(float(total) / people, 4) if people >= k else None
    return LineChart(
        title="Cohort progress: mean evidence level",
        x_label="Quarter",
        y_label="Mean evidence level (0-1)",
        periods=periods,
        series=dict(sorted(series.items())),
        caption=(
            "Per cohort (programme and the quarter its pairs started): the mean level of its "
            f"people's current evidence at each quarter's end. Fewer than {k} people with "
            "evidence: a gap."
        ),
    )


def participation_chart(rows: list[tuple[Any, ...]]) -> LineChart:
    totals = [(period, people) for group, period, people in rows if group == "all"]
    periods = [period for period, _ in totals if period != "all"]
    values = dict(totals)
    return LineChart(
        title="People taking part per quarter",
        x_label="Quarter",
        y_label="People with a completed session",
        periods=periods,
        series={
            "all organisations": [
                v if isinstance(v, int) else None for v in map(values.get, periods)
            ]
        },
        caption="Quarters with fewer people than the report's k are gaps.",
    )
