"""What both talent reports start from: filters resolved against the store, the mapping's
competencies and the synced proficiency scales as small tables, each worker's current HRIS
row, and per-person participation. All are query pieces; nothing here reads people."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import (
    CTE,
    ColumnElement,
    Float,
    String,
    and_,
    func,
    or_,
    select,
    union_all,
)
from sqlalchemy.orm import Session

from mentorbridge.plugin.mapping.model import Competency as MappedCompetency
from mentorbridge.plugin.mapping.model import Mapping, ScaleMap
from mentorbridge.plugin.reports.filters import unknown
from mentorbridge.plugin.reports.sql import literal_table, resolve, resolve_organisation
from mentorbridge.plugin.store.hris_models import Competency, HrisWorker, SuccessionPlan
from mentorbridge.plugin.store.models import MentoringSession, Pair, Person, Programme

__all__ = [
    "Scope",
    "current_workers",
    "mapped_competencies",
    "normalised_levels",
    "participation",
    "scale_levels",
    "session_time",
]


@dataclass(frozen=True, slots=True)
class Scope:
    """Filters resolved to store keys.

    Attributes:
        organisation: the organisation's row id, or ``None``.
        programme: the programme's row id, or ``None``.
        competencies: the mapping's competencies the report covers.
        start, end: the half-open UTC range of sessions counted (``None``: unbounded).
        date_from, date_to: the filter's dates.
    """

    organisation: int | None
    programme: int | None
    competencies: tuple[MappedCompetency, ...]
    start: datetime | None
    end: datetime | None
    date_from: date | None
    date_to: date | None


def resolve_scope(
    session: Session,
    mapping: Mapping,
    *,
    organisation: str | None,
    programme: str | None,
    date_from: date | None,
    date_to: date | None,
    competency: str | None = None,
) -> Scope:
    """Check each filter value against the store and the mapping.

    Raises:
        ReportFilterError: a value that names nothing known, with the closest one.
    """
    org = resolve_organisation(session, organisation) if organisation else None
    prog = (
        resolve(session, "programme", "programme", Programme.key, programme, Programme.id)
        if programme
        else None
    )
    competencies = tuple(mapping.competencies.values())
    if competency:
        chosen = [c for c in competencies if competency in (c.key, c.workday_id)]
        if not chosen:
            names = [c.key for c in competencies] + [c.workday_id or "" for c in competencies]
            raise unknown("competency", "competency of the mapping", competency, names)
        competencies = tuple(chosen)
    return Scope(
        organisation=org,
        programme=prog,
        competencies=competencies,
        start=datetime.combine(date_from, time(), UTC) if date_from else None,
        end=datetime.combine(date_to + timedelta(days=1), time(), UTC) if date_to else None,
        date_from=date_from,
        date_to=date_to,
    )


def known_plan(session: Session, position_id: str) -> None:
    resolve(
        session, "plan", "succession plan (position id)", SuccessionPlan.position_id, position_id
    )


def known_worker(session: Session, worker_id: str) -> None:
    resolve(session, "worker", "worker", Person.worker_id, worker_id)


def mapped_competencies(scope: Scope) -> CTE:
    """The covered competencies: mapping key, Workday id, name."""
    return literal_table(
        "mapped_competency",
        [("key", String()), ("workday_id", String()), ("name", String())],
        [(c.key, c.workday_id, c.name) for c in scope.competencies],
    )


def normalised_levels(levels: list[dict[str, Any]], scale: ScaleMap | None) -> dict[str, float]:
    """The normalised level each Workday level id of a synced scale stands for: rank ``r`` of
    ``n`` is ``r/n``; a scale the mapping maps with thresholds starts at its threshold."""
    if scale is not None and scale.thresholds:
        return {level_id: minimum for minimum, level_id in scale.thresholds}
    ordered = sorted(levels, key=lambda level: level["rank"])
    return {level["level_id"]: (n + 1) / len(ordered) for n, level in enumerate(ordered)}


def scale_levels(session: Session, mapping: Mapping, scope: Scope) -> CTE:
    """The synced proficiency levels of the covered competencies (a few rows each): Workday
    competency id, level id, level name, normalised level."""
    ids = [c.workday_id for c in scope.competencies if c.workday_id]
    rows = []
    found = session.execute(
        select(Competency.competency_id, Competency.scale_id, Competency.levels).where(
            Competency.competency_id.in_(ids)
        )
    )
    for competency_id, scale_id, levels in found:
        names = {level["level_id"]: level.get("name") for level in levels}
        scale = mapping.workday_scales.get(scale_id) if scale_id else None
        for level_id, normalised in normalised_levels(levels, scale).items():
            rows.append((competency_id, level_id, names.get(level_id), round(normalised, 6)))
    return literal_table(
        "scale_level",
        [
            ("competency_id", String()),
            ("level_id", String()),
            ("level_name", String()),
            ("normalised", Float()),
        ],
        rows,
    )


def current_workers() -> CTE:
    """One HRIS row per person (the active one first, else the latest): Employee ID, name,
    job profile, organisation, country, status."""
    w = HrisWorker
    ranked = select(
        w.person_id,
        w.employee_id,
        func.coalesce(w.preferred_name, w.legal_name).label("name"),
        w.job_profile_id,
        w.supervisory_organization_id.label("organisation_id"),
        w.country,
        w.active,
        w.termination_date,
        func.row_number()
        .over(partition_by=w.person_id, order_by=(w.active.desc(), w.id.desc()))
        .label("rn"),
    ).subquery("ranked_worker")
    return select(ranked).where(ranked.c.rn == 1).cte("current_worker")


def session_time() -> ColumnElement[Any]:
    """When a session took place: its start, else its planned start."""
    return func.coalesce(MentoringSession.started_at, MentoringSession.planned_start)


def pair_conditions(scope: Scope) -> list[ColumnElement[bool]]:
    """Pairs in the programme, overlapping the date range."""
    conditions: list[ColumnElement[bool]] = []
    if scope.programme is not None:
        conditions.append(Pair.programme_id == scope.programme)
    if scope.date_to is not None:
        conditions.append(Pair.started_on <= scope.date_to)
    if scope.date_from is not None:
        conditions.append(or_(Pair.ended_on.is_(None), Pair.ended_on >= scope.date_from))
    return conditions


def session_conditions(scope: Scope) -> list[ColumnElement[bool]]:
    """Completed sessions in the date range."""
    conditions = [MentoringSession.status == "completed"]
    if scope.start is not None:
        conditions.append(session_time() >= scope.start)
    if scope.end is not None:
        conditions.append(session_time() < scope.end)
    return conditions


def pair_members(scope: Scope) -> Any:
    """``(pair_id, person_id, side)`` of both members of each pair in scope."""
    conditions = pair_conditions(scope)
    return union_all(
        select(Pair.id.label("pair_id"), Pair.mentee_id.label("person_id")).where(*conditions),
        select(Pair.id, Pair.mentor_id).where(*conditions),
    ).subquery("pair_member")


def participation(scope: Scope) -> CTE:
    """Per person: pairs, completed sessions, their seconds, and the last one's time."""
    members = pair_members(scope)
    ms = MentoringSession
    seconds = func.coalesce(ms.duration_seconds, ms.planned_minutes * 60)
    return (
        select(
            members.c.person_id,
            func.count(func.distinct(members.c.pair_id)).label("pairs"),
            func.count(func.distinct(ms.id)).label("sessions"),
            func.coalesce(func.sum(seconds), 0).label("seconds"),
            func.max(session_time()).label("last_session"),
        )
        .select_from(members)
        .outerjoin(ms, and_(ms.pair_id == members.c.pair_id, *session_conditions(scope)))
        .group_by(members.c.person_id)
        .cte("participation")
    )


def in_programme(person: ColumnElement[int], scope: Scope) -> ColumnElement[bool]:
    """Whether the person has a pair in the programme filtered on."""
    members = pair_members(scope)
    return person.in_(select(members.c.person_id))
