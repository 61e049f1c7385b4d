"""The succession report's columns, how its rows are typed, its charts and notes."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Select, func, select

from mentorbridge.plugin.reports.filters import SuccessionFilters
from mentorbridge.plugin.reports.table import Chart, Column, Heatmap, ScatterChart
from mentorbridge.plugin.store.db import Store

__all__ = [
    "CANDIDATE_COLUMNS",
    "PLAN_COLUMNS",
    "WORKER_COLUMNS",
    "candidate_row",
    "charts",
    "notes",
    "plan_row",
    "worker_row",
]

#: The most points the readiness scatter chart draws.
SCATTER_POINTS = 500

_WORKER = Column("worker_id", "Worker ID", "str", "The Workday Employee ID.")
_ASSESSED = (
    Column("competency_key", "Competency key", "str", "The mapping's id of the competency."),
    Column("competency_workday_id", "Workday competency ID", "str"),
    Column("competency", "Competency", "str"),
    Column(
        "evidence_side",
        "Evidence side",
        "str",
        "mentee or mentor: the side of the person's pairs the evidence comes from (the higher "
        "level where both have some).",
    ),
    Column("evidence_level", "Evidence level", "level", "Mentoring evidence, normalised 0-1."),
    Column("evidence_level_name", "Evidence level name", "str", "The mapping's name for it."),
    Column("evidence_workday_level_id", "Evidence Workday level ID", "str"),
    Column(
        "evidence_workday_level",
        "Evidence Workday level",
        "str",
        "The evidence level on the competency's Workday proficiency scale.",
    ),
    Column(
        "required_level",
        "Required level",
        "level",
        "What the job profile requires, normalised 0-1 through the competency's synced scale.",
    ),
    Column("required_workday_level_id", "Required Workday level ID", "str"),
    Column("required_workday_level", "Required Workday level", "str"),
    Column(
        "gap",
        "Gap",
        "level",
        "Required level minus evidence level (empty without both); above 0: short of it.",
    ),
    Column("pairs", "Pairs", "int", "Mentoring pairs the person is in (either side)."),
    Column("sessions", "Sessions", "int", "Completed sessions of those pairs."),
    Column("hours", "Hours", "float", "Their length in hours."),
    Column("last_session", "Last session", "datetime", "When the last completed one was held."),
    Column("evidence_since", "Evidence since", "datetime", "When the evidence first existed."),
    Column(
        "recent_sources",
        "Recent sources",
        "int",
        "Sessions, goals and released ratings behind the evidence in the trend window.",
    ),
    Column(
        "level_at_window_start",
        "Level at window start",
        "level",
        "The evidence level (same side) as it stood when the trend window started; empty: "
        "no evidence then (none yet, or withdrawn).",
    ),
    Column(
        "level_at_window_start_name",
        "Level at window start name",
        "str",
        "The mapping's name for it.",
    ),
    Column(
        "level_change",
        "Level change",
        "level",
        "Evidence level minus the level at window start (0 where there was none); empty "
        "without evidence.",
    ),
    Column(
        "trend",
        "Trend",
        "str",
        "Over the trend window: new (no evidence at its start), up, down or steady.",
    ),
)

CANDIDATE_COLUMNS = (
    Column("position_id", "Position ID", "str", "The position: the succession plan's key."),
    Column("position", "Position", "str"),
    _WORKER,
    Column("worker_name", "Name", "str"),
    Column("readiness_id", "Readiness ID", "str", "The tenant's readiness value, as synced."),
    Column("readiness", "Readiness", "str"),
    Column("top_candidate", "Top candidate", "bool"),
    *_ASSESSED,
)

PLAN_COLUMNS = (
    Column("position_id", "Position ID", "str", "The position: the succession plan's key."),
    Column("position", "Position", "str"),
    Column("incumbent_worker_id", "Incumbent worker ID", "str"),
    Column("incumbent_name", "Incumbent", "str"),
    Column("job_profile_id", "Job profile ID", "str", "The incumbent's: what is required."),
    Column("candidates", "Candidates", "int"),
    Column("ready_now", "Ready now", "int", "Candidates whose readiness reads 'now'."),
    Column(
        "ready_later",
        "Ready later",
        "int",
        "Candidates with any other readiness but emergency cover.",
    ),
    Column(
        "candidates_with_evidence",
        "Candidates with evidence",
        "int",
        "Candidates with current mentoring evidence for a covered competency.",
    ),
)

WORKER_COLUMNS = (
    _WORKER,
    Column("worker_name", "Name", "str"),
    Column("organisation_id", "Organisation ID", "str", "The supervisory organisation."),
    Column("job_profile_id", "Job profile ID", "str", "The person's own; what is required."),
    *_ASSESSED,
    Column("plans", "Plans", "int", "Succession plans the person is a candidate on."),
)


def _round(value: float | None) -> float | None:
    return None if value is None else round(float(value), 4)


_SHARED = len(_ASSESSED)


def _assessed(values: tuple[Any, ...]) -> tuple[Any, ...]:
    """Type the shared columns (levels rounded, seconds as hours)."""
    (
        key, workday_id, name, side, level, level_name, level_id, level_workday,
        required, required_id, required_name, gap, pairs, sessions, seconds, last, since, recent,
        then, then_name, change, trend,
    ) = values  # fmt: skip
    return (
        key, workday_id, name, side, _round(level), level_name, level_id, level_workday,
        _round(required), required_id, required_name, _round(gap), int(pairs), int(sessions),
        round(int(seconds) / 3600, 2), last, since, None if recent is None else int(recent),
        _round(then), then_name, _round(change), trend,
    )  # fmt: skip


def candidate_row(row: Any) -> tuple[Any, ...]:
    values = tuple(row)
    return (*values[:6], bool(values[6]), *_assessed(values[7 : 7 + _SHARED]))


def plan_row(row: Any) -> tuple[Any, ...]:
    values = tuple(row)
    return (*values[:5], *(int(v or 0) for v in values[5:]))


def worker_row(row: Any) -> tuple[Any, ...]:
    values = tuple(row)
    return (*values[:4], *_assessed(values[4 : 4 + _SHARED]), int(values[4 + _SHARED]))


def charts(store: Store, candidates: Select[Any], people: int) -> list[Chart]:
    """The competency x person heatmap of plan candidates (the first ``people`` of them) and
    the readiness scatter, from small aggregate queries over the candidates view."""
    rows = candidates.order_by(None).subquery("candidate_rows")
    with store.reading() as session:
        shown = session.execute(
            select(rows.c.worker_id, func.min(rows.c.worker_name))
            .group_by(rows.c.worker_id)
            .order_by(func.min(rows.c.position_id), rows.c.worker_id)
            .limit(people)
        ).all()
        ids = [worker_id for worker_id, _ in shown]
        competencies = session.execute(
            select(rows.c.competency_key, func.min(rows.c.competency))
            .where(rows.c.worker_id.in_(ids))
            .group_by(rows.c.competency_key)
            .order_by(rows.c.competency_key)
        ).all()
        levels = {
            (worker_id, key): level
            for worker_id, key, level in session.execute(
                select(rows.c.worker_id, rows.c.competency_key, func.max(rows.c.evidence_level))
                .where(rows.c.worker_id.in_(ids), rows.c.evidence_level.is_not(None))
                .group_by(rows.c.worker_id, rows.c.competency_key)
            )
        }
        points = session.execute(
            select(
                rows.c.position_id,
                rows.c.worker_id,
                func.coalesce(rows.c.readiness, rows.c.readiness_id, "no readiness"),
                func.avg(func.coalesce(rows.c.evidence_level, 0.0)),
                func.avg(rows.c.required_level),
            )
            .where(rows.c.required_level.is_not(None))
            .group_by(rows.c.position_id, rows.c.worker_id, rows.c.readiness, rows.c.readiness_id)
            .order_by(rows.c.position_id, rows.c.worker_id)
            .limit(SCATTER_POINTS)
        ).all()
    heatmap = Heatmap(
        title="Mentoring evidence of succession candidates",
        row_labels=[name for _, name in competencies],
        column_labels=[f"{name or worker_id} ({worker_id})" for worker_id, name in shown],
        values=[[_round(levels.get((w, key))) for w, _ in shown] for key, _ in competencies],
        caption=f"Normalised evidence level (0-1); empty: no evidence. At most {people} people.",
    )
    scatter = ScatterChart(
        title="Readiness against evidence and requirement",
        x_label="Mean evidence level over the required competencies",
        y_label="Mean required level",
        points=[
            (f"{worker} / {position}", round(float(x), 4), round(float(y), 4), group)
            for position, worker, group, x, y in points
        ],
        caption="One point per plan and candidate, grouped by the tenant's readiness; ready "
        "now with little evidence (left) is worth a second look.",
    )
    return [heatmap, scatter]


def notes(filters: SuccessionFilters, window_start: datetime) -> list[str]:
    return [
        "Evidence rests only on completed sessions, achieved goals and ratings their authors "
        "released; unreleased ratings never reach this report.",
        "People are keyed by Workday Employee ID, plans by position id; the report is for "
        "talent teams and names the people on each slate.",
        f"The trend window is {filters.periods} quarter(s) from "
        f"{window_start.date().isoformat()}: recent sources fall inside it; the level at "
        "window start is the evidence as it stood then, and the trend (new, up, down, steady) "
        "compares it with the current level.",
    ]
