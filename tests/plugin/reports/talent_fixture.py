"""A fixed HRIS mirror, programme and evidence for the talent report tests, inserted directly
(hand-computed totals in the tests rest on exactly these rows)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from mentorbridge.plugin.mapping.model import Competency as Mapped
from mentorbridge.plugin.mapping.model import EvidenceRules, Level, Mapping
from mentorbridge.plugin.store.db import Store
from mentorbridge.plugin.store.evidence_models import (
    CompetencyEvidence,
    EvidenceChange,
    EvidenceSource,
)
from mentorbridge.plugin.store.hris_models import (
    Competency,
    HrisOrganization,
    HrisWorker,
    JobProfile,
    JobProfileCompetency,
    SuccessionCandidate,
    SuccessionPlan,
)
from mentorbridge.plugin.store.models import MentoringSession, Outcome, Pair, Person, Programme

TODAY = date(2026, 12, 5)
MAPPING = Mapping(
    source="test",
    digest="0" * 64,
    competencies={
        c.key: c
        for c in (
            Mapped("ai-literacy", "AI literacy", "exec", None, None, "https://x/ai"),
            Mapped("coaching", "Coaching", "junior", "C-COACH", None, "https://x/coach"),
            Mapped("digital-fluency", "Digital fluency", "exec", "C-DIGI", None, "https://x/dig"),
        )
    },
    rules=EvidenceRules(levels=(Level("Developing", 0.5),)),
)


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def _hash() -> dict[str, Any]:
    return {"record_hash": "h"}


def worker(session: Any, employee_id: str, org: str, profile: str | None, **more: Any) -> int:
    person = Person(worker_id=employee_id, opaque_id=f"op-{employee_id}")
    session.add(person)
    session.flush()
    session.add(
        HrisWorker(
            workday_id=f"wid-{employee_id}",
            employee_id=employee_id,
            person_id=person.id,
            worker_type="employee",
            legal_name=f"Name {employee_id}",
            job_profile_id=profile,
            supervisory_organization_id=org,
            country=more.pop("country", "GB"),
            active=more.pop("active", True),
            hire_date=date(2020, 1, 1),
            **_hash(),
            **more,
        )
    )
    return person.id


def evidence(session: Any, person: int, key: str, side: str, level: float, **more: Any) -> int:
    row = CompetencyEvidence(
        person_id=person,
        competency_key=key,
        side=side,
        level=level,
        level_name=more.pop("level_name", "Developing"),
        sessions=1.0,
        goals=0.0,
        digest="d",
        **more,
    )
    session.add(row)
    session.flush()
    return row.id


def build(store: Store) -> dict[str, int]:
    """The fixture; returns people's ids by worker id."""
    with store.transaction() as s:
        for org, superior in (
            ("ORG-TOP", None),
            ("ORG-A", "ORG-TOP"),
            ("ORG-A1", "ORG-A"),
            ("ORG-B", "ORG-TOP"),
        ):
            s.add(
                HrisOrganization(
                    organization_id=org,
                    name=org,
                    superior_organization_id=superior,
                    inactive=False,
                    **_hash(),
                )
            )
        s.add(
            Competency(
                competency_id="C-DIGI",
                name="Digital",
                levels=[
                    {"level_id": f"D{r}", "name": f"Digital {r}", "rank": r} for r in (1, 2, 3, 4)
                ],
                inactive=False,
                **_hash(),
            )
        )
        s.add(
            Competency(
                competency_id="C-COACH",
                name="Coach",
                levels=[{"level_id": f"K{r}", "name": f"Coach {r}", "rank": r} for r in (1, 2, 3)],
                inactive=False,
                **_hash(),
            )
        )
        for profile, competency, level in (
            ("JP-EXEC", "C-DIGI", "D3"),
            ("JP-LEAD", "C-COACH", "K2"),
        ):
            job = JobProfile(job_profile_id=profile, name=profile, **_hash())
            s.add(job)
            s.flush()
            s.add(
                JobProfileCompetency(
                    job_profile_id=job.id, competency_id=competency, required_level_id=level
                )
            )
        ids = {
            "EXEC-1": worker(s, "EXEC-1", "ORG-A1", "JP-EXEC"),
            "EXEC-2": worker(s, "EXEC-2", "ORG-B", "JP-EXEC", country="FR"),
            "JUN-1": worker(s, "JUN-1", "ORG-A", "JP-JUNIOR"),
            "JUN-2": worker(s, "JUN-2", "ORG-B", "JP-JUNIOR", country="FR"),
            "JUN-3": worker(s, "JUN-3", "ORG-B", "JP-JUNIOR"),
            "INC-1": worker(s, "INC-1", "ORG-A", "JP-EXEC"),
            "INC-2": worker(s, "INC-2", "ORG-B", "JP-LEAD"),
        }
        for position, incumbent, candidates in (
            ("POS-1", "INC-1", (("EXEC-1", "Ready Now"), ("JUN-1", "1-2 Years"))),
            ("POS-2", "INC-2", (("EXEC-2", "Ready Now"), ("JUN-2", "Emergency Cover"))),
        ):
            plan = SuccessionPlan(
                position_id=position,
                position=f"Head of {position}",
                incumbent_employee_id=incumbent,
                **_hash(),
            )
            s.add(plan)
            s.flush()
            for employee, readiness in candidates:
                s.add(
                    SuccessionCandidate(
                        plan_id=plan.id,
                        employee_id=employee,
                        readiness_id=readiness.upper().replace(" ", "_"),
                        readiness=readiness,
                        top_candidate=readiness == "Ready Now",
                        temporary_fill=False,
                    )
                )
        programme = Programme(key="rm-1", name="Programme 1")
        other = Programme(key="rm-2", name="Programme 2")
        s.add_all([programme, other])
        s.flush()
        pairs = {}
        for key, mentee, mentor, started, prog in (
            ("P1", "EXEC-1", "JUN-1", date(2026, 7, 1), programme),
            ("P2", "EXEC-2", "JUN-2", date(2026, 7, 15), programme),
            ("P3", "INC-1", "JUN-3", date(2026, 8, 1), other),
        ):
            pair = Pair(
                key=key,
                programme_id=prog.id,
                mentee_id=ids[mentee],
                mentor_id=ids[mentor],
                registration=f"reg-{key}",
                started_on=started,
            )
            s.add(pair)
            s.flush()
            pairs[key] = pair.id
        sessions = (
            ("P1", "completed", "2026-07-10T10:00:00", 3600),
            ("P1", "completed", "2026-08-10T10:00:00", 3600),
            ("P1", "completed", "2026-10-10T10:00:00", 3600),
            ("P1", "cancelled", "2026-10-20T10:00:00", None),
            ("P2", "completed", "2026-08-12T10:00:00", 1800),
            ("P2", "completed", "2026-11-12T10:00:00", 1800),
            ("P2", "scheduled", "2026-12-20T10:00:00", None),
            ("P3", "completed", "2026-08-20T10:00:00", 2700),
        )
        for n, (pair, status, start, seconds) in enumerate(sessions):
            s.add(
                MentoringSession(
                    key=f"S{n}",
                    pair_id=pairs[pair],
                    sequence=n,
                    status=status,
                    planned_start=at(start),
                    planned_minutes=60,
                    started_at=at(start) if status == "completed" else None,
                    duration_seconds=seconds,
                )
            )
        for released, rating in ((True, 4.0), (False, 1.0)):
            s.add(
                Outcome(
                    key=f"O-{released}",
                    pair_id=pairs["P1"],
                    subject_id=ids["EXEC-1"],
                    rater_id=ids["JUN-1"],
                    competency="SUCC-DIGI",
                    competency_name="Digital",
                    rating=rating,
                    scale_min=1,
                    scale_max=5,
                    released=released,
                    rated_at=at("2026-10-11T10:00:00"),
                )
            )
        digital = evidence(
            s, ids["EXEC-1"], "digital-fluency", "mentee", 0.5, workday_level_id="D2",
            first_seen_at=at("2026-08-11T00:00:00"),
        )  # fmt: skip
        evidence(s, ids["EXEC-1"], "digital-fluency", "mentor", 0.25, level_name="Aware")
        evidence(s, ids["JUN-1"], "coaching", "mentor", 0.6667, workday_level_id="K2")
        evidence(s, ids["EXEC-2"], "digital-fluency", "mentee", 0.75, status="withdrawn")
        evidence(s, ids["EXEC-2"], "ai-literacy", "mentee", 0.4)
        evidence(s, ids["JUN-3"], "coaching", "mentor", 0.3333, workday_level_id="K1")
        for kind, key, when in (
            ("session", "S2", "2026-10-10T10:00:00"),
            ("outcome", "O-True", "2026-10-11T10:00:00"),
            ("session", "S0", "2025-07-10T10:00:00"),
        ):
            s.add(
                EvidenceSource(
                    evidence_id=digital, kind=kind, ref_key=key, occurred_at=at(when), weight=1.0
                )
            )
    return ids


#: Revisions of the fixture's evidence, per (worker, competency, side): (level, name, status,
#: changed at). The default trend window (4 quarters to TODAY) starts on 2026-01-01.
HISTORY = {
    # Rose inside the window: Aware (0.3333) since 2025, Proficient (1.0) in March, back to
    # Developing (0.6667) in May (the current level).
    ("JUN-1", "coaching", "mentor"): (
        (0.3333, "Aware", "current", "2025-09-01"),
        (1.0, "Proficient", "current", "2026-03-01"),
        (0.6667, "Developing", "current", "2026-05-01"),
    ),
    # First seen inside the window; the other (lower, not shown) side is older.
    ("EXEC-1", "digital-fluency", "mentee"): ((0.5, "Developing", "current", "2026-08-11"),),
    ("EXEC-1", "digital-fluency", "mentor"): ((0.25, "Aware", "current", "2025-05-01"),),
    # Unchanged since before the window.
    ("JUN-3", "coaching", "mentor"): ((0.3333, "Aware", "current", "2025-03-01"),),
    # Withdrawn before the window, back inside it.
    ("EXEC-2", "ai-literacy", "mentee"): (
        (0.4, "Developing", "current", "2025-02-01"),
        (0.4, "Developing", "withdrawn", "2025-11-01"),
        (0.4, "Developing", "current", "2026-03-01"),
    ),
}


def history(store: Store, ids: dict[str, int]) -> None:
    """Add :data:`HISTORY` to the evidence :func:`build` made (its revisions follow)."""
    with store.transaction() as s:
        for (employee, key, side), revisions in HISTORY.items():
            row = (
                s.query(CompetencyEvidence)
                .filter_by(person_id=ids[employee], competency_key=key, side=side)
                .one()
            )
            row.revision = len(revisions)
            for revision, (level, name, status, moment) in enumerate(revisions, 1):
                s.add(
                    EvidenceChange(
                        evidence_id=row.id,
                        revision=revision,
                        level=level,
                        level_name=name,
                        status=status,
                        changed_at=at(f"{moment}T09:00:00"),
                    )
                )
