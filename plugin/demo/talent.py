"""The demo's talent step: the mapper turns the recorded programme into competency evidence,
and the succession report shows it beside what the plans' positions require.

The summary reads the succession report's main view (one row per plan x candidate x
competency) as a talent team would, and keeps the plans whose candidates have evidence.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from mentorbridge.plugin.mapping.model import Mapping
from mentorbridge.plugin.mapping.run import EvidenceRun, update_evidence
from mentorbridge.plugin.reports.filters import SuccessionFilters
from mentorbridge.plugin.reports.formats import format_for
from mentorbridge.plugin.reports.succession import succession_report
from mentorbridge.plugin.store.db import Store
from mentorbridge.xapi.statements import StatementBuilder

__all__ = ["CandidateLine", "PlanLine", "map_evidence", "succession_summary", "write_report"]

#: Where the demo leaves the succession report, in its directory.
REPORT_FILE = "succession-report.html"


@dataclass
class CandidateLine:
    """A candidate on a plan: their readiness, and per competency the evidence level beside
    the level the position requires (``None``: none, or none required)."""

    worker_id: str
    name: str | None
    readiness: str | None
    competencies: list[tuple[str, str | None, str | None]] = field(default_factory=list)

    @property
    def has_evidence(self) -> bool:
        return any(evidence for _, evidence, _ in self.competencies)


@dataclass
class PlanLine:
    position_id: str
    position: str | None
    candidates: list[CandidateLine] = field(default_factory=list)


def map_evidence(store: Store, mapping: Mapping, builder: StatementBuilder) -> EvidenceRun:
    """Run the mapper over everyone (the demo's store is new)."""
    return update_evidence(store, mapping, builder=builder)


def succession_summary(store: Store, mapping: Mapping, *, plans: int = 3) -> list[PlanLine]:
    """Up to ``plans`` succession plans with the most candidates who have mentoring evidence,
    each with all its candidates."""
    report = succession_report(store, mapping, SuccessionFilters.from_strings({}))
    view = report.views[0]
    keys = [column.key for column in view.columns]
    found: dict[str, PlanLine] = {}
    people: dict[tuple[str, str], CandidateLine] = {}
    for values in view.rows:
        row = dict(zip(keys, values, strict=True))
        plan = found.setdefault(row["position_id"], PlanLine(row["position_id"], row["position"]))
        person_key = (row["position_id"], row["worker_id"])
        if person_key not in people:
            people[person_key] = CandidateLine(
                row["worker_id"], row["worker_name"], row["readiness"]
            )
            plan.candidates.append(people[person_key])
        if row["competency"] is not None:
            people[person_key].competencies.append(
                (
                    row["competency"],
                    _evidence(row["evidence_level_name"], row["evidence_workday_level"]),
                    row["required_workday_level"],
                )
            )
    evidenced: defaultdict[str, int] = defaultdict(int)
    for plan in found.values():
        evidenced[plan.position_id] = sum(c.has_evidence for c in plan.candidates)
    chosen = sorted(
        (plan for plan in found.values() if evidenced[plan.position_id]),
        key=lambda plan: (-evidenced[plan.position_id], plan.position_id),
    )
    return chosen[:plans]


def write_report(store: Store, mapping: Mapping, directory: Path) -> tuple[Path, int]:
    """The succession report as one self-contained HTML file; its path and row count."""
    path = directory / REPORT_FILE
    report = succession_report(store, mapping, SuccessionFilters.from_strings({}))
    with path.open("wb") as out:
        rows = format_for("html").write(report, out)
    return path, rows


def _evidence(name: str | None, workday_level: str | None) -> str | None:
    if name is None:
        return None
    return f"{name} ({workday_level})" if workday_level else name
