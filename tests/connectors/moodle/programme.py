"""A small programme in the store for the push tests: workers, pairs, sessions, goals and the
mapper's evidence, inserted directly so each test knows exactly what Moodle should get."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import select

from mentorbridge.connectors.moodle.settings import MoodleSettings
from mentorbridge.plugin.store.db import Store
from mentorbridge.plugin.store.evidence_models import CompetencyEvidence, EvidenceChange
from mentorbridge.plugin.store.hris_models import HrisWorker
from mentorbridge.plugin.store.models import (
    Goal,
    MentoringSession,
    Pair,
    Person,
    Programme,
)

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


@dataclass
class Built:
    """People's ids by Employee ID, and evidence ids by (Employee ID, competency key)."""

    people: dict[str, int] = field(default_factory=dict)
    evidence: dict[tuple[str, str], int] = field(default_factory=dict)


def settings(url: str, token: str, **more: Any) -> MoodleSettings:
    values: dict[str, Any] = {
        "url": url,
        "token": token,
        "scale_id": 2,
        "course": "RMP",
        "milestones": {"first_session": 2, "sessions": 3, "goal": 4},
        "sessions_count": 3,
        "concurrency": 2,
        "batch_size": 2,
    }
    values.update(more)
    return MoodleSettings(**values)


def add_worker(
    session: Any, employee_id: str, name: str, email: str | None, *, active: bool = True
) -> int:
    person = Person(worker_id=employee_id, opaque_id=f"op-{employee_id}")
    session.add(person)
    session.flush()
    session.add(
        HrisWorker(
            workday_id=f"wid-{employee_id}",
            employee_id=employee_id,
            person_id=person.id,
            worker_type="employee",
            legal_name=name,
            work_email=email,
            active=active,
            hire_date=date(2020, 1, 1),
            record_hash="h",
        )
    )
    return person.id


def build(store: Store, *, pairs: int = 3) -> Built:
    """``pairs`` pairs of an executive (E-n) and a junior mentor (J-n); every pair held three
    sessions and the executive achieved a goal; each executive has Digital Fluency evidence
    at Moodle item 2 and each mentor Coaching at item 1."""
    built = Built()
    with store.transaction() as s:
        programme = Programme(key="rm-2026", name="Reverse mentoring 2026")
        s.add(programme)
        s.flush()
        for n in range(1, pairs + 1):
            exec_id, junior_id = f"E-{n}", f"J-{n}"
            built.people[exec_id] = add_worker(
                s, exec_id, f"Executive Number{n}", f"exec{n}@example.com"
            )
            built.people[junior_id] = add_worker(
                s, junior_id, f"Junior Mentor{n}", f"junior{n}@example.com"
            )
            pair = Pair(
                key=f"pair-{n}",
                programme_id=programme.id,
                mentee_id=built.people[exec_id],
                mentor_id=built.people[junior_id],
                registration=f"00000000-0000-4000-8000-{n:012d}",
                started_on=T0.date(),
                themes=["generative AI at work"],
            )
            s.add(pair)
            s.flush()
            for i in range(1, 4):
                s.add(
                    MentoringSession(
                        key=f"pair-{n}-s{i}",
                        pair_id=pair.id,
                        sequence=i,
                        status="completed",
                        started_at=T0 + timedelta(days=i),
                        duration_seconds=2700,
                        themes=["generative AI at work"],
                    )
                )
            s.add(
                Goal(
                    key=f"pair-{n}-g1",
                    pair_id=pair.id,
                    owner_id=built.people[exec_id],
                    title="Use an AI assistant weekly",
                    status="achieved",
                    planned_at=T0,
                    achieved_at=T0 + timedelta(days=5),
                    planned_statement_id=f"00000000-0000-4000-9000-{n:012d}",
                )
            )
            built.evidence[(exec_id, "digital-fluency")] = add_evidence(
                s, built.people[exec_id], "digital-fluency", "mentee", 0.75, 2, "Proficient"
            )
            built.evidence[(junior_id, "coaching")] = add_evidence(
                s, built.people[junior_id], "coaching", "mentor", 0.25, 1, "Emerging"
            )
    return built


def add_evidence(
    session: Any, person: int, key: str, side: str, level: float, value: int | None, name: str
) -> int:
    row = CompetencyEvidence(
        person_id=person,
        competency_key=key,
        side=side,
        level=level,
        level_name=name,
        moodle_value=value,
        sessions=3.0,
        goals=1.0,
        digest="d",
        revision=1,
        changed_at=T0 + timedelta(days=6),
    )
    session.add(row)
    session.flush()
    session.add(
        EvidenceChange(
            evidence_id=row.id,
            revision=1,
            level=level,
            level_name=name,
            status="current",
            changed_at=row.changed_at,
        )
    )
    return row.id


def change_evidence(
    store: Store, evidence_id: int, *, value: int | None, name: str, status: str = "current"
) -> None:
    """What the mapper does when a level changes (or is withdrawn): a new revision."""
    with store.transaction() as s:
        row = s.get(CompetencyEvidence, evidence_id)
        assert row is not None
        row.revision += 1
        row.moodle_value, row.level_name, row.status = value, name, status
        row.changed_at = row.changed_at + timedelta(days=1)
        s.add(
            EvidenceChange(
                evidence_id=row.id,
                revision=row.revision,
                level=row.level,
                level_name=name,
                status=status,
                changed_at=row.changed_at,
            )
        )


def terminate(store: Store, employee_id: str, *, active: bool = False) -> None:
    with store.transaction() as s:
        worker = s.scalars(select(HrisWorker).where(HrisWorker.employee_id == employee_id)).one()
        worker.active = active
        worker.termination_date = None if active else date(2026, 12, 1)
