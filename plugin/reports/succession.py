"""The succession report: mentoring evidence per competency beside what each succession
plan's position requires, for talent reviews.

Views (each one set-based query, rows streamed): ``candidates`` (the main one: a row per plan
x candidate x competency the position requires or the candidate has evidence for), ``plans``
(a row per plan) and ``workers`` (a row per person x competency with evidence, on a plan or
not). Everyone is keyed by Workday Employee ID and each plan by its position id (Workday keeps
one plan per position). Evidence is the mapper's *current* evidence, which rests only on
completed sessions, achieved goals and released ratings: consent is honoured before a report
ever runs, and unreleased outcomes are never read here.

The trend covers the last ``periods`` quarters: the level the evidence stood at when the
window started (read from its revision history, ``evidence_change``), the change since and a
word for it (new, up, down, steady), how many sessions, goals and released ratings it rests on
fall in the window, and since when the evidence exists.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import (
    CTE,
    Select,
    and_,
    case,
    func,
    or_,
    select,
    true,
)
from sqlalchemy.orm import aliased

from mentorbridge.plugin.mapping.model import Mapping
from mentorbridge.plugin.reports.filters import SuccessionFilters
from mentorbridge.plugin.reports.scope import (
    Scope,
    current_workers,
    in_programme,
    known_plan,
    known_worker,
    mapped_competencies,
    participation,
    resolve_scope,
    scale_levels,
)
from mentorbridge.plugin.reports.sql import in_subtree, organisation_subtree, stream
from mentorbridge.plugin.reports.succession_views import (
    CANDIDATE_COLUMNS,
    PLAN_COLUMNS,
    WORKER_COLUMNS,
    candidate_row,
    charts,
    notes,
    plan_row,
    worker_row,
)
from mentorbridge.plugin.reports.table import Report, View
from mentorbridge.plugin.store.db import Store
from mentorbridge.plugin.store.evidence_models import (
    CompetencyEvidence,
    EvidenceChange,
    EvidenceSource,
)
from mentorbridge.plugin.store.hris_models import (
    JobProfile,
    JobProfileCompetency,
    SuccessionCandidate,
    SuccessionPlan,
)
from mentorbridge.plugin.store.models import Person

__all__ = ["succession_report", "trend_window"]


def trend_window(as_of: date, periods: int) -> datetime:
    """The start (UTC) of the ``periods`` quarters ending with the one ``as_of`` falls in."""
    index = as_of.year * 4 + (as_of.month - 1) // 3 - (periods - 1)
    return datetime(index // 4, (index % 4) * 3 + 1, 1, tzinfo=UTC)


def succession_report(
    store: Store, mapping: Mapping, filters: SuccessionFilters, *, today: date | None = None
) -> Report:
    """Build the succession report; its views' rows are read when a writer consumes them.

    Args:
        store: the store.
        mapping: the competency mapping (which competencies, their Workday ids).
        filters: what to cover.
        today: the day the trend window ends when no ``date_to`` is given (tests fix it).

    Raises:
        ReportFilterError: a malformed filter, or one naming something unknown.
    """
    filters.check()
    with store.reading() as session:
        scope = resolve_scope(
            session,
            mapping,
            organisation=filters.organisation,
            programme=filters.programme,
            date_from=filters.date_from,
            date_to=filters.date_to,
            competency=filters.competency,
        )
        if filters.plan:
            known_plan(session, filters.plan)
        if filters.worker:
            known_worker(session, filters.worker)
        parts = _Parts(session, mapping, scope, filters, today or datetime.now(UTC).date())
    candidates = parts.candidates()
    return Report(
        kind="succession",
        title="Succession report: mentoring evidence against position requirements",
        generated_at=datetime.now(UTC),
        filters=filters.as_strings(),
        views=[
            View(
                "candidates",
                "Candidates x competencies",
                CANDIDATE_COLUMNS,
                stream(store, candidates, candidate_row),
                "One row per succession plan, candidate and competency the position requires "
                "or the candidate has mentoring evidence for.",
            ),
            View(
                "plans",
                "Succession plans",
                PLAN_COLUMNS,
                stream(store, parts.plans(), plan_row),
                "One row per succession plan (position), with its candidates by readiness.",
            ),
            View(
                "workers",
                "Workers x competencies",
                WORKER_COLUMNS,
                stream(store, parts.workers(), worker_row),
                "Mentoring evidence per person and competency, on a succession plan or not, "
                "beside what the person's own job profile requires.",
            ),
        ],
        charts=charts(store, candidates, filters.heatmap_people),
        notes=notes(filters, parts.window_start),
    )


class _Parts:
    """The query pieces of one report, built once (no rows are read here)."""

    def __init__(
        self, session: Any, mapping: Mapping, scope: Scope, filters: SuccessionFilters, today: date
    ) -> None:
        self.scope, self.filters = scope, filters
        self.window_start = trend_window(filters.date_to or today, filters.periods)
        self.mc = mapped_competencies(scope)
        self.scale = scale_levels(session, mapping, scope)
        self.workers_cte = current_workers()
        self.part = participation(scope)
        self.evidence = self._evidence()
        self.recent = self._recent()
        self.then = self._then()
        self.tree = organisation_subtree(scope.organisation) if scope.organisation else None

    def _evidence(self) -> CTE:
        """Each person's current evidence per competency: the higher of their two sides."""
        ce = CompetencyEvidence
        ranked = (
            select(
                ce.id,
                ce.person_id,
                ce.competency_key,
                ce.side,
                ce.level,
                ce.level_name,
                ce.workday_level_id,
                ce.first_seen_at,
                func.row_number()
                .over(
                    partition_by=(ce.person_id, ce.competency_key),
                    order_by=(ce.level.desc(), ce.side),
                )
                .label("rn"),
            )
            .where(ce.status == "current")
            .subquery("ranked_evidence")
        )
        return select(ranked).where(ranked.c.rn == 1).cte("evidence")

    def _recent(self) -> CTE:
        """Per evidence row, its sources inside the trend window."""
        es = EvidenceSource
        conditions = [es.occurred_at >= self.window_start]
        if self.scope.end is not None:
            conditions.append(es.occurred_at < self.scope.end)
        return (
            select(es.evidence_id, func.count().label("recent"))
            .where(*conditions)
            .group_by(es.evidence_id)
            .cte("recent_sources")
        )

    def _then(self) -> CTE:
        """Per evidence row, its level as it stood when the trend window started: its latest
        revision changed before then, if that revision was current (withdrawn, or no revision
        yet, means no evidence then)."""
        change = EvidenceChange
        latest = (
            select(change.evidence_id, func.max(change.revision).label("revision"))
            .where(change.changed_at < self.window_start)
            .group_by(change.evidence_id)
            .subquery("latest_change_then")
        )
        return (
            select(change.evidence_id, change.level, change.level_name)
            .select_from(latest)
            .join(
                change,
                and_(
                    change.evidence_id == latest.c.evidence_id,
                    change.revision == latest.c.revision,
                ),
            )
            .where(change.status == "current")
            .cte("evidence_then")
        )

    def _assessed(
        self, query: Select[Any], person: Any, job_profile: Any, *, evidence_joined: bool = False
    ) -> tuple[Select[Any], Any, Any, Any]:
        """Join what every evidence-bearing row shows: the competency's requirement in a job
        profile, the evidence, both on the Workday scale, participation and the trend."""
        mc, ev, scale = self.mc, self.evidence, self.scale
        required = aliased(scale, name="required_level")
        evidenced = aliased(scale, name="evidence_level")
        jpc = JobProfileCompetency
        query = query.outerjoin(JobProfile, JobProfile.job_profile_id == job_profile).outerjoin(
            jpc, and_(jpc.job_profile_id == JobProfile.id, jpc.competency_id == mc.c.workday_id)
        )
        if not evidence_joined:
            query = query.outerjoin(
                ev, and_(ev.c.person_id == person, ev.c.competency_key == mc.c.key)
            )
        return (
            (
                query.outerjoin(
                    required,
                    and_(
                        required.c.competency_id == mc.c.workday_id,
                        required.c.level_id == jpc.required_level_id,
                    ),
                )
                .outerjoin(
                    evidenced,
                    and_(
                        evidenced.c.competency_id == mc.c.workday_id,
                        evidenced.c.level_id == ev.c.workday_level_id,
                    ),
                )
                .outerjoin(self.part, self.part.c.person_id == person)
                .outerjoin(self.recent, self.recent.c.evidence_id == ev.c.id)
                .outerjoin(self.then, self.then.c.evidence_id == ev.c.id)
            ),
            required,
            evidenced,
            jpc,
        )

    def _measures(self, required: Any, evidenced: Any, jpc: Any) -> list[Any]:
        mc, ev, part, then = self.mc, self.evidence, self.part, self.then
        return [
            mc.c.key.label("competency_key"),
            mc.c.workday_id.label("competency_workday_id"),
            mc.c.name.label("competency"),
            ev.c.side.label("evidence_side"),
            ev.c.level.label("evidence_level"),
            ev.c.level_name.label("evidence_level_name"),
            ev.c.workday_level_id.label("evidence_workday_level_id"),
            evidenced.c.level_name.label("evidence_workday_level"),
            required.c.normalised.label("required_level"),
            jpc.required_level_id.label("required_workday_level_id"),
            func.coalesce(jpc.required_level, required.c.level_name).label(
                "required_workday_level"
            ),
            case(
                (
                    and_(required.c.normalised.is_not(None), ev.c.level.is_not(None)),
                    required.c.normalised - ev.c.level,
                )
            ).label("gap"),
            func.coalesce(part.c.pairs, 0).label("pairs"),
            func.coalesce(part.c.sessions, 0).label("sessions"),
            func.coalesce(part.c.seconds, 0).label("seconds"),
            part.c.last_session,
            ev.c.first_seen_at.label("evidence_since"),
            case((ev.c.id.is_not(None), func.coalesce(self.recent.c.recent, 0))).label(
                "recent_sources"
            ),
            then.c.level.label("level_at_window_start"),
            then.c.level_name.label("level_at_window_start_name"),
            case((ev.c.id.is_not(None), ev.c.level - func.coalesce(then.c.level, 0.0))).label(
                "level_change"
            ),
            case(
                (and_(ev.c.id.is_not(None), then.c.evidence_id.is_(None)), "new"),
                (ev.c.level > then.c.level, "up"),
                (ev.c.level < then.c.level, "down"),
                (ev.c.level == then.c.level, "steady"),
            ).label("trend"),
        ]

    def _plan_conditions(self, incumbent_org: Any) -> list[Any]:
        conditions = []
        if self.filters.plan:
            conditions.append(SuccessionPlan.position_id == self.filters.plan)
        if self.tree is not None:
            conditions.append(in_subtree(incumbent_org, self.tree))
        return conditions

    def candidates(self) -> Select[Any]:
        sp, sc = SuccessionPlan, SuccessionCandidate
        candidate = aliased(Person, name="candidate_person")
        worker = aliased(self.workers_cte, name="candidate_worker")
        incumbent = aliased(self.workers_cte, name="incumbent_worker")
        query = (
            select(sp.position_id)
            .join(sc, sc.plan_id == sp.id)
            .outerjoin(candidate, candidate.worker_id == sc.employee_id)
            .outerjoin(worker, worker.c.person_id == candidate.id)
            .outerjoin(incumbent, incumbent.c.employee_id == sp.incumbent_employee_id)
            .join(self.mc, true())
        )
        query, required, evidenced, jpc = self._assessed(
            query, candidate.id, incumbent.c.job_profile_id
        )
        conditions = [
            or_(jpc.id.is_not(None), self.evidence.c.id.is_not(None)),
            *self._plan_conditions(incumbent.c.organisation_id),
        ]
        if self.filters.worker:
            conditions.append(sc.employee_id == self.filters.worker)
        if self.scope.programme is not None:
            conditions.append(in_programme(candidate.id, self.scope))
        return (
            query.with_only_columns(
                sp.position_id,
                sp.position,
                sc.employee_id.label("worker_id"),
                worker.c.name.label("worker_name"),
                sc.readiness_id,
                sc.readiness,
                sc.top_candidate,
                *self._measures(required, evidenced, jpc),
                maintain_column_froms=True,
            )
            .where(*conditions)
            .order_by(sp.position_id, sc.employee_id, self.mc.c.key)
        )

    def plans(self) -> Select[Any]:
        sp, sc = SuccessionPlan, SuccessionCandidate
        incumbent = aliased(self.workers_cte, name="incumbent_worker")
        candidate = aliased(Person, name="candidate_person")
        keys = [c.key for c in self.scope.competencies]
        evidenced = (
            select(CompetencyEvidence.person_id)
            .where(
                CompetencyEvidence.status == "current",
                CompetencyEvidence.competency_key.in_(keys),
            )
            .distinct()
            .subquery("evidenced_person")
        )
        readiness = func.lower(func.coalesce(sc.readiness, sc.readiness_id, ""))
        now = readiness.like("%now%")
        later = and_(sc.id.is_not(None), ~now, ~readiness.like("%emergency%"), readiness != "")
        conditions = self._plan_conditions(incumbent.c.organisation_id)
        if self.filters.worker:
            conditions.append(
                sp.id.in_(select(sc.plan_id).where(sc.employee_id == self.filters.worker))
            )
        return (
            select(
                sp.position_id,
                sp.position,
                sp.incumbent_employee_id,
                incumbent.c.name,
                incumbent.c.job_profile_id,
                func.count(sc.id),
                func.sum(case((now, 1), else_=0)),
                func.sum(case((later, 1), else_=0)),
                func.count(evidenced.c.person_id),
            )
            .outerjoin(incumbent, incumbent.c.employee_id == sp.incumbent_employee_id)
            .outerjoin(sc, sc.plan_id == sp.id)
            .outerjoin(candidate, candidate.worker_id == sc.employee_id)
            .outerjoin(evidenced, evidenced.c.person_id == candidate.id)
            .where(*conditions)
            .group_by(
                sp.position_id,
                sp.position,
                sp.incumbent_employee_id,
                incumbent.c.name,
                incumbent.c.job_profile_id,
            )
            .order_by(sp.position_id)
        )

    def workers(self) -> Select[Any]:
        person = aliased(Person, name="evidence_person")
        worker = aliased(self.workers_cte, name="evidence_worker")
        plans = (
            select(func.count())
            .where(SuccessionCandidate.employee_id == person.worker_id)
            .scalar_subquery()
        )
        ev = self.evidence
        query = (
            select(person.worker_id)
            .select_from(ev)
            .join(self.mc, self.mc.c.key == ev.c.competency_key)
            .join(person, person.id == ev.c.person_id)
            .outerjoin(worker, worker.c.person_id == person.id)
        )
        query, required, evidenced, jpc = self._assessed(
            query, person.id, worker.c.job_profile_id, evidence_joined=True
        )
        conditions = []
        if self.tree is not None:
            conditions.append(in_subtree(worker.c.organisation_id, self.tree))
        if self.filters.worker:
            conditions.append(person.worker_id == self.filters.worker)
        if self.filters.plan:
            conditions.append(
                person.worker_id.in_(
                    select(SuccessionCandidate.employee_id)
                    .join(SuccessionPlan)
                    .where(SuccessionPlan.position_id == self.filters.plan)
                )
            )
        if self.scope.programme is not None:
            conditions.append(in_programme(person.id, self.scope))
        return (
            query.with_only_columns(
                person.worker_id.label("worker_id"),
                worker.c.name.label("worker_name"),
                worker.c.organisation_id,
                worker.c.job_profile_id,
                *self._measures(required, evidenced, jpc),
                plans.label("plans"),
                maintain_column_froms=True,
            )
            .where(*conditions)
            .order_by(person.worker_id, self.mc.c.key)
        )
