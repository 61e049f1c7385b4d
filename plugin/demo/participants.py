"""The demo's pairs, as a programme would get them: intake from both sides, a pool-wide
proposal by :mod:`plugin.pairing` (never inside a reporting line), and the best ``count``
proposals approved, which records their ``pair.created`` events through the event processor.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select

from mentorbridge.plugin.pairing.file import load_programmes
from mentorbridge.plugin.pairing.pool import load_pool
from mentorbridge.plugin.pairing.review import approve, current, propose
from mentorbridge.plugin.store.db import Store
from mentorbridge.plugin.store.hris_models import HrisWorker
from mentorbridge.plugin.store.pairing_models import PairingIntake
from mentorbridge.plugin.webhooks.processor import EventProcessor

__all__ = ["DemoPairing", "pair_participants"]

PROGRAMME = "rm-2026"


@dataclass(frozen=True, slots=True)
class DemoPairing:
    """What pairing did for the demo."""

    pairs: list[tuple[str, str, str]]  # pair id, mentee, mentor
    eligible_mentees: int
    eligible_mentors: int
    proposed: int
    mean_score: float


def pair_participants(
    store: Store, processor: EventProcessor, count: int, *, today: date, started_on: date
) -> DemoPairing:
    """Intake, propose and approve the ``count`` best pairs of the shipped programme."""
    programme = load_programmes(None)[PROGRAMME]
    with store.reading() as session:
        pool = load_pool(session, programme, today=today)
    with store.transaction() as session:
        for role, people in (("mentee", pool.mentees), ("mentor", pool.mentors)):
            for person in people:
                session.add(
                    PairingIntake(
                        programme_key=programme.key,
                        employee_id=person.employee_id,
                        role=role,
                        themes=_themes(programme.themes, person.employee_id, role),
                        languages=["en"],
                        source="mentorbridge-demo",
                    )
                )
    run, plan = propose(store, programme, today=today)
    _, proposals = current(store, programme.key)
    with store.reading() as session:
        # The demo's LMS creates accounts by work email: pairs it can enrol, best first.
        reachable = set(
            session.scalars(
                select(HrisWorker.employee_id).where(HrisWorker.work_email.is_not(None))
            )
        )
    proposals = [p for p in proposals if p.mentee in reachable and p.mentor in reachable]
    chosen = [row.id for row in proposals[:count]]
    done = approve(store, processor, programme, chosen, today=today, started_on=started_on)
    by_key = {f"{programme.key}-pair-{row.id}": row for row in proposals}
    pairs = [(key, by_key[key].mentee, by_key[key].mentor) for key in done.created]
    scores = [row.score for row in proposals[:count]]
    return DemoPairing(
        pairs=pairs,
        eligible_mentees=run.mentees,
        eligible_mentors=run.mentors,
        proposed=len(plan.pairs),
        mean_score=sum(scores) / len(scores) if scores else 0.0,
    )


def _themes(themes: tuple[str, ...], employee_id: str, role: str) -> list[str]:
    """Three of the programme's themes, the same for a person on every run."""
    digest = hashlib.sha256(f"{role}:{employee_id}".encode()).digest()
    ranked = sorted(themes, key=lambda t: hashlib.sha256(digest + t.encode()).digest())
    return ranked[:3]
