"""The impact report's tables: columns, and the suppressed rows built from aggregates."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from mentorbridge.plugin.reports.suppress import Suppression, suppress
from mentorbridge.plugin.reports.table import SUPPRESSED, Column

__all__ = ["COHORT_COLUMNS", "PARTICIPATION_COLUMNS", "cohort_rows", "participation_rows"]

ALL = "all"

COHORT_COLUMNS = (
    Column("programme", "Programme", "str", "The programme's key; 'all': every programme."),
    Column("cohort", "Cohort", "str", "The quarter its pairs started; 'all': the total."),
    Column("people", "People", "int", "Participants (either side) of the cohort's pairs."),
    Column("pairs", "Pairs", "int"),
    Column("sessions", "Sessions", "int", "Completed sessions."),
    Column("hours", "Hours", "float", "Their length in hours."),
    Column("goals_set", "Goals set", "int"),
    Column("goals_achieved", "Goals achieved", "int"),
    Column(
        "mean_level",
        "Mean evidence level",
        "level",
        "Competency gain: the mean current evidence level of its people with evidence (none "
        "before mentoring), normalised 0-1.",
    ),
    Column(
        "mentors_eligible",
        "Junior mentors eligible",
        "int",
        "Junior mentors paired at least the retention period ago (12 months by default).",
    ),
    Column(
        "mentors_retained",
        "Junior mentors retained",
        "int",
        "Of the eligible, those still employed at the end of the retention period.",
    ),
    Column(
        "mentors_promoted",
        "Junior mentors promoted",
        "int",
        "Of the eligible, those whose management level or job profile changed after pairing.",
    ),
)

PARTICIPATION_COLUMNS = (
    Column("group", "Group", "str", "The organisation or country; 'all': the total."),
    Column("period", "Quarter", "str", "The quarter; 'all': the total over quarters."),
    Column("people", "People", "int", "People with a completed session."),
)


def _matrix(
    values: dict[tuple[str, str], int], rows: Sequence[str], columns: Sequence[str]
) -> list[list[int]]:
    return [[int(values.get((r, c), 0)) for c in columns] for r in rows]


def participation_rows(found: Sequence[Any], k: int) -> Iterator[tuple[Any, ...]]:
    """Group x quarter people counts with totals, suppressed."""
    values = {(str(g), str(p)): int(n) for g, p, n in found}
    groups = sorted({g for g, _ in values})
    periods = sorted({p for _, p in values})
    if not groups:
        return
    cells = _matrix(values, groups, periods)
    hidden = suppress(cells, k)
    for i, group in enumerate(groups):
        for j, period in enumerate(periods):
            yield group, period, SUPPRESSED if (i, j) in hidden.cells else cells[i][j]
        yield group, ALL, SUPPRESSED if i in hidden.row_totals else sum(cells[i])
    for j, period in enumerate(periods):
        total = sum(row[j] for row in cells)
        yield ALL, period, SUPPRESSED if j in hidden.column_totals else total
    yield ALL, ALL, SUPPRESSED if hidden.grand_total else sum(map(sum, cells))


def cohort_rows(found: dict[str, Sequence[Any]], k: int) -> Iterator[tuple[Any, ...]]:
    """Programme x cohort rows, each programme's total and the grand total, suppressed."""
    measures: dict[tuple[str, str], dict[str, float]] = {}
    names = {
        "people": ("people", "pairs"),
        "sessions": ("sessions", "seconds"),
        "goals": ("goals_set", "goals_achieved"),
        "levels": ("level_sum", "level_people"),
        "mentors": ("eligible", "retained", "promoted"),
    }
    for query, columns in names.items():
        for programme, cohort, *values in found[query]:
            row = measures.setdefault((programme, cohort), {})
            row.update({c: float(v or 0) for c, v in zip(columns, values, strict=True)})
    programmes = sorted({p for p, _ in measures})
    cohorts = sorted({c for _, c in measures})
    if not programmes:
        return

    def table(name: str) -> list[list[int]]:
        return [[int(measures.get((p, c), {}).get(name, 0)) for c in cohorts] for p in programmes]

    margins = {"row_totals": True, "column_totals": False, "grand_total": True}
    people = suppress(table("people"), k, **margins)
    eligible_cells = table("eligible")
    eligible = suppress(eligible_cells, k, primary=people.cells, **margins)
    hidden = {"people": people, "eligible": eligible}
    for name in ("retained", "promoted"):
        cells = table(name)
        small_rest = {
            (i, j)
            for i, row in enumerate(cells)
            for j, value in enumerate(row)
            if 0 < eligible_cells[i][j] - value < k
        }
        hidden[name] = suppress(
            cells, k, primary=people.cells | eligible.cells | small_rest, **margins
        )
    for i, programme in enumerate(programmes):
        for j, cohort in enumerate(cohorts):
            if (programme, cohort) in measures:
                yield _row(programme, cohort, [measures[(programme, cohort)]], hidden, (i, j))
        yield _row(programme, ALL, [measures.get((programme, c), {}) for c in cohorts], hidden, i)
    yield _row(ALL, ALL, list(measures.values()), hidden, None)


def _row(
    programme: str,
    cohort: str,
    parts: list[dict[str, float]],
    hidden: dict[str, Suppression],
    where: tuple[int, int] | int | None,
) -> tuple[Any, ...]:
    def total(name: str) -> float:
        return sum(part.get(name, 0) for part in parts)

    def is_hidden(suppression: Suppression) -> bool:
        if where is None:
            return suppression.grand_total
        if isinstance(where, int):
            return where in suppression.row_totals
        return where in suppression.cells

    if is_hidden(hidden["people"]):
        return (programme, cohort, *[SUPPRESSED] * (len(COHORT_COLUMNS) - 2))
    level_people = total("level_people")
    mentors = [
        SUPPRESSED if is_hidden(hidden[name]) else int(total(name))
        for name in ("eligible", "retained", "promoted")
    ]
    return (
        programme,
        cohort,
        int(total("people")),
        int(total("pairs")),
        int(total("sessions")),
        round(total("seconds") / 3600, 2),
        int(total("goals_set")),
        int(total("goals_achieved")),
        round(total("level_sum") / level_people, 4) if level_people else None,
        *mentors,
    )
