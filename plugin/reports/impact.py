"""The programme impact report: aggregates only, no group of fewer than k people shown.

Views: ``cohorts`` (the main one: per programme and the quarter its pairs started, with each
programme's total and the grand total), ``participation_by_organisation`` and
``participation_by_region`` (people with a completed session, per quarter, with totals).
Every figure comes from a small aggregate query; the tables are small (programmes x quarters,
organisations x quarters), so suppression runs on them in Python (:mod:`.suppress`).

Totals are the sums of the cells they total (a person in two cohorts counts in both), so a
hidden cell can never be recovered by subtraction. A cohort whose people count is hidden hides
every figure of its row; retention and promotion counts are hidden also when the junior mentors
who were *not* retained (or promoted) are fewer than k.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import (
    Select,
    String,
    and_,
    case,
    exists,
    func,
    literal,
    or_,
    select,
    union_all,
)
from sqlalchemy.orm import aliased

from mentorbridge.plugin.mapping.model import Mapping
from mentorbridge.plugin.reports.filters import ImpactFilters
from mentorbridge.plugin.reports.impact_charts import (
    participation_chart,
    progress_chart,
    quarter_end,
    quarters,
)
from mentorbridge.plugin.reports.impact_tables import (
    COHORT_COLUMNS,
    PARTICIPATION_COLUMNS,
    cohort_rows,
    participation_rows,
)
from mentorbridge.plugin.reports.scope import current_workers, resolve_scope, session_time
from mentorbridge.plugin.reports.sql import (
    add_months,
    day,
    in_subtree,
    organisation_subtree,
    quarter,
)
from mentorbridge.plugin.reports.table import Report, View
from mentorbridge.plugin.store.db import Store
from mentorbridge.plugin.store.evidence_models import CompetencyEvidence, EvidenceChange
from mentorbridge.plugin.store.hris_models import HrisOrganization, HrisWorker, WorkerChange
from mentorbridge.plugin.store.models import Goal, MentoringSession, Pair, Programme

__all__ = ["impact_report"]


def impact_report(
    store: Store, mapping: Mapping, filters: ImpactFilters, *, today: date | None = None
) -> Report:
    """Build the programme impact report.

    Args:
        store: the store.
        mapping: the competency mapping (competency gains count its competencies only).
        filters: what to cover, and ``k``.
        today: the day retention is judged when no ``date_to`` is given (tests fix it).

    Raises:
        ReportFilterError: a malformed filter, or one naming something unknown.
    """
    filters.check()
    as_of = filters.date_to or today or datetime.now(UTC).date()
    dialect = store.dialect
    with store.reading() as session:
        scope = resolve_scope(
            session,
            mapping,
            organisation=filters.organisation,
            programme=filters.programme,
            date_from=filters.date_from,
            date_to=filters.date_to,
        )
        query = _Queries(scope, filters, mapping, dialect, as_of)
        cohorts = {name: session.execute(q).all() for name, q in query.cohorts().items()}
        periods = quarters([cohort for _, cohort, *_ in cohorts["people"]], as_of)
        progress = {
            period: session.execute(query.progress(quarter_end(period))).all() for period in periods
        }
        by_org = session.execute(query.participation(query.organisation_group())).all()
        by_region = session.execute(query.participation(query.worker.c.country)).all()
    k = filters.k
    organisation_rows = list(participation_rows(by_org, k))
    region_rows = list(participation_rows(by_region, k))
    return Report(
        kind="impact",
        title="Programme impact report",
        generated_at=datetime.now(UTC),
        filters=filters.as_strings(),
        views=[
            View(
                "cohorts",
                "Cohorts",
                COHORT_COLUMNS,
                cohort_rows(cohorts, k),
                "Per programme and the quarter its pairs started; 'all' rows are totals.",
            ),
            View(
                "participation_by_organisation",
                "Participation by organisation",
                PARTICIPATION_COLUMNS,
                iter(organisation_rows),
                "People with a completed session per quarter, by organisation.",
            ),
            View(
                "participation_by_region",
                "Participation by region",
                PARTICIPATION_COLUMNS,
                iter(region_rows),
                "People with a completed session per quarter, by country.",
            ),
        ],
        charts=[progress_chart(periods, progress, k), participation_chart(organisation_rows)],
        notes=[
            f"Aggregates only: no group of fewer than {k} people is shown (marked), and cells "
            "are hidden with them so that none can be derived from the totals.",
            "Totals add up their cells: a person in two cohorts, organisations or quarters "
            "counts in each.",
            f"Junior mentors are retained when still employed {filters.retention_months} "
            f"months after their pair started (pairs started by then, judged at {as_of}); "
            "promoted when their management level or job profile changed after it.",
        ],
    )


class _Queries:
    """The report's aggregate queries."""

    def __init__(
        self, scope: Any, filters: ImpactFilters, mapping: Mapping, dialect: str, as_of: date
    ) -> None:
        self.scope, self.filters, self.dialect, self.as_of = scope, filters, dialect, as_of
        self.keys = [c.key for c in scope.competencies]
        self.worker = current_workers()
        self.tree = organisation_subtree(scope.organisation) if scope.organisation else None

    def _pairs(self) -> Select[Any]:
        """Pairs in scope, with their programme key and start quarter."""
        conditions = []
        if self.scope.programme is not None:
            conditions.append(Pair.programme_id == self.scope.programme)
        if self.scope.date_from is not None:
            conditions.append(Pair.started_on >= self.scope.date_from)
        if self.scope.date_to is not None:
            conditions.append(Pair.started_on <= self.scope.date_to)
        return (
            select(
                Pair.id.label("pair_id"),
                Pair.mentee_id,
                Pair.mentor_id,
                Pair.started_on,
                Programme.key.label("programme"),
                quarter(Pair.started_on, self.dialect).label("cohort"),
            )
            .join(Programme, Programme.id == Pair.programme_id)
            .where(*conditions)
        )

    def _members(self) -> Any:
        """Both members of each pair in scope, in the organisation filtered on."""
        pairs = self._pairs().subquery("scoped_pair")
        sides = union_all(
            select(pairs, pairs.c.mentee_id.label("person_id"), _side("mentee")),
            select(pairs, pairs.c.mentor_id.label("person_id"), _side("mentor")),
        ).subquery("member")
        if self.tree is None:
            return select(sides).subquery("scoped_member")
        return (
            select(sides)
            .join(self.worker, self.worker.c.person_id == sides.c.person_id)
            .where(in_subtree(self.worker.c.organisation_id, self.tree))
            .subquery("scoped_member")
        )

    def cohorts(self) -> dict[str, Select[Any]]:
        """Per (programme, cohort): each measure set as its own small grouped query."""
        m = self._members()
        group = (m.c.programme, m.c.cohort)
        ms = MentoringSession
        window = [ms.status == "completed"]
        if self.scope.start is not None:
            window.append(session_time() >= self.scope.start)
        if self.scope.end is not None:
            window.append(session_time() < self.scope.end)
        pairs = select(m.c.pair_id, m.c.programme, m.c.cohort).distinct().subquery("cohort_pair")
        seconds = func.coalesce(ms.duration_seconds, ms.planned_minutes * 60)
        levels = (
            select(CompetencyEvidence.person_id, func.avg(CompetencyEvidence.level).label("level"))
            .where(
                CompetencyEvidence.status == "current",
                CompetencyEvidence.competency_key.in_(self.keys),
            )
            .group_by(CompetencyEvidence.person_id)
            .subquery("person_level")
        )
        mentors = select(m).where(m.c.side == "mentor").subquery("mentor_member")
        worker = aliased(HrisWorker)
        cutoff = add_months(mentors.c.started_on, self.filters.retention_months, self.dialect)
        eligible = cutoff <= self.as_of
        retained = and_(
            eligible,
            exists().where(
                worker.person_id == mentors.c.person_id,
                or_(worker.active, worker.termination_date >= cutoff),
            ),
        )
        promoted = exists().where(
            worker.person_id == mentors.c.person_id,
            WorkerChange.worker_id == worker.id,
            day(WorkerChange.changed_at, self.dialect) > mentors.c.started_on,
            day(WorkerChange.changed_at, self.dialect) <= self.as_of,
        )
        return {
            "people": select(
                *group,
                func.count(func.distinct(m.c.person_id)),
                func.count(func.distinct(m.c.pair_id)),
            ).group_by(*group),
            "sessions": select(
                pairs.c.programme, pairs.c.cohort, func.count(ms.id), func.sum(seconds)
            )
            .join(ms, and_(ms.pair_id == pairs.c.pair_id, *window))
            .group_by(pairs.c.programme, pairs.c.cohort),
            "goals": select(
                pairs.c.programme,
                pairs.c.cohort,
                func.count(Goal.id),
                func.count(Goal.achieved_at),
            )
            .join(Goal, Goal.pair_id == pairs.c.pair_id)
            .group_by(pairs.c.programme, pairs.c.cohort),
            "levels": select(*group, func.sum(levels.c.level), func.count(levels.c.person_id))
            .join(levels, levels.c.person_id == m.c.person_id)
            .group_by(*group),
            "mentors": select(
                mentors.c.programme,
                mentors.c.cohort,
                func.count(func.distinct(_when(eligible, mentors.c.person_id))),
                func.count(func.distinct(_when(retained, mentors.c.person_id))),
                func.count(func.distinct(_when(and_(eligible, promoted), mentors.c.person_id))),
            ).group_by(mentors.c.programme, mentors.c.cohort),
        }

    def progress(self, before: datetime) -> Select[Any]:
        """Per (programme, cohort): the sum and count of its people's mean evidence level as
        the evidence history stood just before ``before``."""
        m = self._members()
        change, evidence = EvidenceChange, CompetencyEvidence
        latest = (
            select(change.evidence_id, func.max(change.revision).label("revision"))
            .where(change.changed_at < before)
            .group_by(change.evidence_id)
            .subquery("latest_change")
        )
        levels = (
            select(evidence.person_id, func.avg(change.level).label("level"))
            .select_from(latest)
            .join(
                change,
                and_(
                    change.evidence_id == latest.c.evidence_id,
                    change.revision == latest.c.revision,
                ),
            )
            .join(evidence, evidence.id == change.evidence_id)
            .where(change.status == "current", evidence.competency_key.in_(self.keys))
            .group_by(evidence.person_id)
            .subquery("person_level_then")
        )
        people = (
            select(m.c.programme, m.c.cohort, m.c.person_id).distinct().subquery("cohort_person")
        )
        return (
            select(
                people.c.programme,
                people.c.cohort,
                func.sum(levels.c.level),
                func.count(levels.c.person_id),
            )
            .join(levels, levels.c.person_id == people.c.person_id)
            .group_by(people.c.programme, people.c.cohort)
        )

    def organisation_group(self) -> Any:
        """The organisation each worker's organisation rolls up to: the one directly below
        the filtered organisation (or below a top-level one), else that organisation."""
        org = HrisOrganization
        if self.scope.organisation is not None:
            is_root = org.id == self.scope.organisation
        else:
            is_root = org.superior_organization_id.is_(None)
        roots = select(org.organization_id, org.workday_id, org.reference_id).where(is_root)
        below_root = or_(
            org.superior_organization_id.in_(roots.with_only_columns(org.organization_id)),
            org.superior_organization_id.in_(roots.with_only_columns(org.workday_id)),
            org.superior_organization_id.in_(roots.with_only_columns(org.reference_id)),
        )
        tree = (
            select(
                org.organization_id,
                org.workday_id,
                org.reference_id,
                org.organization_id.label("group_id"),
                case((is_root, 0), else_=1).label("depth"),
            )
            .where(or_(is_root, below_root))
            .cte("org_group", recursive=True)
        )
        child = aliased(org)
        tree = tree.union(
            select(
                child.organization_id,
                child.workday_id,
                child.reference_id,
                tree.c.group_id,
                tree.c.depth + 1,
            )
            .join(
                tree,
                or_(
                    child.superior_organization_id == tree.c.organization_id,
                    child.superior_organization_id == tree.c.workday_id,
                    child.superior_organization_id == tree.c.reference_id,
                ),
            )
            .where(tree.c.depth >= 1, tree.c.depth < 100)
        )
        oid = self.worker.c.organisation_id
        return (
            select(func.min(tree.c.group_id))
            .where(
                or_(
                    tree.c.organization_id == oid,
                    tree.c.workday_id == oid,
                    tree.c.reference_id == oid,
                )
            )
            .scalar_subquery()
        )

    def participation(self, grouping: Any) -> Select[Any]:
        """People with a completed session, per group and quarter of the session."""
        m = self._members()
        ms = MentoringSession
        when = session_time()
        conditions = [ms.status == "completed"]
        if self.scope.start is not None:
            conditions.append(when >= self.scope.start)
        if self.scope.end is not None:
            conditions.append(when < self.scope.end)
        group = func.coalesce(grouping, "(unknown)")
        period = quarter(when, self.dialect)
        return (
            select(group, period, func.count(func.distinct(m.c.person_id)))
            .select_from(m)
            .join(ms, ms.pair_id == m.c.pair_id)
            .outerjoin(self.worker, self.worker.c.person_id == m.c.person_id)
            .where(*conditions)
            .group_by(group, period)
        )


def _side(name: str) -> Any:
    return literal(name, String()).label("side")


def _when(condition: Any, value: Any) -> Any:
    return case((condition, value))
