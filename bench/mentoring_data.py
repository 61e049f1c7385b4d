"""A large programme history written straight into a store, for the mapper and report benchmark.

Workers, organisations, a competency library with proficiency scales, job-profile requirements
and succession plans as a Workday sync would leave them, and pairs, sessions, goals and outcomes
as the webhook service records them: bulk Core inserts, seeded, so every run builds the same
history. Nothing here goes through the recorder: the benchmark measures the mapper and the
reports, not the event path (``bench.webhook_bench`` does that).
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import insert

from mentorbridge.plugin.store.db import Store
from mentorbridge.plugin.store.hris_models import (
    Competency,
    HrisOrganization,
    HrisWorker,
    JobProfile,
    JobProfileCompetency,
    SuccessionCandidate,
    SuccessionPlan,
)
from mentorbridge.plugin.store.models import (
    Goal,
    MentoringSession,
    Outcome,
    Pair,
    Person,
    Programme,
)

__all__ = ["THEMES", "History", "add_events", "write_history"]

THEMES = [
    "generative AI at work",
    "Gen Z customers",
    "hybrid work",
    "collaboration tools",
    "inclusive leadership",
    "social media",
    "customer communities",
    "mobile-first service",
    "sustainability",
    "data literacy",
    "creator economy",
    "accessibility",
]
SCALES = {
    "BENCH_PROF_4": ["AWARE", "PRACTISING", "SKILLED", "EXPERT"],
    "BENCH_TECH_3": ["BASIC", "INTERMEDIATE", "ADVANCED"],
}
BATCH = 10_000
SESSIONS_PER_PAIR = 8


@dataclass(frozen=True, slots=True)
class History:
    """What was written: sizes, and the competency ids (``BENCH-C01`` ...)."""

    workers: int
    pairs: int
    sessions: int
    goals: int
    outcomes: int
    competencies: tuple[str, ...]
    now: datetime


def write_history(
    store: Store,
    *,
    workers: int = 100_000,
    competencies: int = 30,
    outcomes: int = 1_000_000,
    seed: int = 7,
    now: datetime | None = None,
) -> History:
    """Write a programme history: half the workers in pairs (an executive and a junior mentor
    each), eight sessions a pair over the last year, a goal per executive, and ``outcomes``
    ratings spread over the completed sessions (most of the executive, a few of the mentor;
    seven in ten released)."""
    rng = random.Random(seed)
    now = now or datetime(2026, 12, 1, tzinfo=UTC)
    ids = tuple(f"BENCH-C{n:02d}" for n in range(1, competencies + 1))
    pairs = workers // 4
    with store.engine.begin() as connection:
        _hris(connection, rng, workers, ids)
        connection.execute(insert(Programme), [{"id": 1, "key": "bench", "name": "Bench"}])
        connection.execute(
            insert(Programme), [{"id": 2, "key": "bench-2", "name": "Bench, second cohort"}]
        )
        sessions = _pairs_and_sessions(connection, rng, pairs, now)
        goals = _goals(connection, rng, pairs, now)
        written = _outcomes(connection, rng, sessions, outcomes, ids, now)
    return History(workers, pairs, len(sessions), goals, written, ids, now)


def add_events(store: Store, history: History, *, share: float = 0.01, seed: int = 11) -> int:
    """A week of new activity for ``share`` of the pairs: one more completed session each with
    two released ratings, the way the recorder writes them (it marks the people touched).
    Returns the number of people touched."""
    from mentorbridge.plugin.mapping.dirty import mark_dirty

    rng = random.Random(seed)
    when = history.now + timedelta(days=7)
    chosen = rng.sample(range(1, history.pairs + 1), max(1, int(history.pairs * share)))
    first_session = history.sessions + 1_000_000
    with store.transaction() as session:
        rows, ratings, touched = [], [], set()
        for n, pair in enumerate(chosen):
            mentee, mentor = _members(pair)
            sid = first_session + n
            rows.append(_session_row(sid, pair, SESSIONS_PER_PAIR + 1, when, rng, "completed"))
            for k in range(2):
                ratings.append(
                    _outcome_row(f"new-{sid}-{k}", pair, sid, mentee, mentor, rng, history, when)
                )
            touched.update((mentee, mentor))
        session.execute(insert(MentoringSession), rows)
        session.execute(insert(Outcome), ratings)
        mark_dirty(session, touched)
    return len(touched)


# -- the HRIS mirror --------------------------------------------------------------------------


def _hris(connection: Any, rng: random.Random, workers: int, ids: Sequence[str]) -> None:
    organizations = max(10, workers // 200)
    connection.execute(
        insert(HrisOrganization),
        [
            {
                "organization_id": f"SUP_{n}",
                "reference_id": f"SUP_{n}",
                "name": f"Organisation {n}",
                "type": "Supervisory",
                "superior_organization_id": None if n == 0 else f"SUP_{(n - 1) // 8}",
                "manager_employee_id": None,
                "inactive": False,
                "record_hash": "bench",
            }
            for n in range(organizations)
        ],
    )
    scale_ids = list(SCALES)
    connection.execute(
        insert(Competency),
        [
            {
                "competency_id": competency,
                "name": f"Bench competency {n + 1}",
                "category": "Leadership" if n % 2 else "Technical",
                "scale_id": scale_ids[n % 2],
                "levels": [
                    {"level_id": level, "name": level.title(), "rank": rank}
                    for rank, level in enumerate(SCALES[scale_ids[n % 2]], start=1)
                ],
                "inactive": False,
                "record_hash": "bench",
            }
            for n, competency in enumerate(ids)
        ],
    )
    profiles = 200
    connection.execute(
        insert(JobProfile),
        [
            {"id": n, "job_profile_id": f"JP_{n}", "name": f"Job profile {n}", "record_hash": "b"}
            for n in range(1, profiles + 1)
        ],
    )
    requirements = []
    for n in range(1, profiles + 1):
        for n_competency, competency in enumerate(rng.sample(list(ids), 8)):
            levels = SCALES[scale_ids[ids.index(competency) % 2]]
            requirements.append(
                {
                    "job_profile_id": n,
                    "competency_id": competency,
                    "required_level_id": levels[min(len(levels) - 1, 1 + n_competency % 3)],
                    "required_level": None,
                }
            )
    connection.execute(insert(JobProfileCompetency), requirements)
    countries = ["GB", "US", "DE", "FR", "IN", "SG", "BR", "ZA"]
    for start in range(1, workers + 1, BATCH):
        block = range(start, min(workers, start + BATCH - 1) + 1)
        connection.execute(
            insert(Person),
            [
                {"id": n, "worker_id": f"W{n:06d}", "opaque_id": f"p-{n:020x}", "active": True}
                for n in block
            ],
        )
        connection.execute(
            insert(HrisWorker),
            [
                {
                    "workday_id": f"wid-{n}",
                    "employee_id": f"W{n:06d}",
                    "person_id": n,
                    "worker_type": "employee",
                    "legal_name": f"Worker {n}",
                    "job_profile_id": f"JP_{1 + n % profiles}",
                    "management_level": "Executive" if n % 4 == 1 else "Individual Contributor",
                    "supervisory_organization_id": f"SUP_{n % organizations}",
                    "country": countries[n % len(countries)],
                    "hire_date": date(2015, 1, 1) + timedelta(days=n % 3000),
                    "active": n % 50 != 0,
                    "additional_jobs": [],
                    "record_hash": "bench",
                }
                for n in block
            ],
        )
    plans = max(10, workers // 50)
    connection.execute(
        insert(SuccessionPlan),
        [
            {
                "id": n,
                "position_id": f"POS_{n}",
                "position": f"Position {n}",
                "incumbent_employee_id": f"W{4 * n + 1:06d}",
                "record_hash": "bench",
            }
            for n in range(1, plans + 1)
        ],
    )
    readiness = ["READY_NOW", "READY_1_2", "READY_3_5"]
    connection.execute(
        insert(SuccessionCandidate),
        [
            {
                "plan_id": n,
                "employee_id": f"W{rng.randrange(1, workers + 1):06d}",
                "readiness_id": readiness[k],
                "readiness": readiness[k].replace("_", " ").title(),
                "top_candidate": k == 0,
                "temporary_fill": False,
            }
            for n in range(1, plans + 1)
            for k in range(3)
        ],
    )


# -- the mentoring record ---------------------------------------------------------------------


def _members(pair: int) -> tuple[int, int]:
    """Executive mentee and junior mentor of a pair (people 4p-3 and 4p-1)."""
    return 4 * pair - 3, 4 * pair - 1


def _pairs_and_sessions(
    connection: Any, rng: random.Random, pairs: int, now: datetime
) -> list[tuple[int, int, datetime]]:
    sessions: list[tuple[int, int, datetime]] = []
    for start in range(1, pairs + 1, BATCH):
        block = range(start, min(pairs, start + BATCH - 1) + 1)
        pair_rows, session_rows = [], []
        for pair in block:
            mentee, mentor = _members(pair)
            began = now - timedelta(days=rng.randrange(200, 400))
            pair_rows.append(
                {
                    "id": pair,
                    "key": f"pair-{pair}",
                    "programme_id": 1 + pair % 2,
                    "mentee_id": mentee,
                    "mentor_id": mentor,
                    "registration": str(uuid.UUID(int=pair)),
                    "status": "active",
                    "started_on": began.date(),
                    "themes": rng.sample(THEMES, 2),
                }
            )
            for sequence in range(1, SESSIONS_PER_PAIR + 1):
                sid = (pair - 1) * SESSIONS_PER_PAIR + sequence
                when = began + timedelta(days=28 * sequence)
                status = "cancelled" if rng.random() < 0.05 else "completed"
                session_rows.append(_session_row(sid, pair, sequence, when, rng, status))
                if status == "completed":
                    sessions.append((sid, pair, when))
        connection.execute(insert(Pair), pair_rows)
        connection.execute(insert(MentoringSession), session_rows)
    return sessions


def _session_row(
    sid: int, pair: int, sequence: int, when: datetime, rng: random.Random, status: str
) -> dict[str, Any]:
    return {
        "id": sid,
        "key": f"session-{sid}",
        "pair_id": pair,
        "sequence": sequence,
        "status": status,
        "started_at": when,
        "duration_seconds": 3600,
        "themes": rng.sample(THEMES, 1) if rng.random() < 0.5 else [],
        "attended_statement_id": str(uuid.UUID(int=2 * sid)),
        "mentored_statement_id": str(uuid.UUID(int=2 * sid + 1)),
    }


def _goals(connection: Any, rng: random.Random, pairs: int, now: datetime) -> int:
    rows = []
    for pair in range(1, pairs + 1):
        mentee, _ = _members(pair)
        achieved = rng.random() < 0.7
        planned = now - timedelta(days=rng.randrange(150, 300))
        rows.append(
            {
                "key": f"goal-{pair}",
                "pair_id": pair,
                "owner_id": mentee,
                "title": "(private goal wording)",
                "status": "achieved" if achieved else "planned",
                "planned_at": planned,
                "achieved_at": planned + timedelta(days=90) if achieved else None,
                "planned_statement_id": str(uuid.uuid5(uuid.NAMESPACE_URL, f"g{pair}")),
                "achieved_statement_id": (
                    str(uuid.uuid5(uuid.NAMESPACE_URL, f"a{pair}")) if achieved else None
                ),
            }
        )
    for chunk in _chunks(rows):
        connection.execute(insert(Goal), chunk)
    return len(rows)


def _outcomes(
    connection: Any,
    rng: random.Random,
    sessions: list[tuple[int, int, datetime]],
    total: int,
    ids: Sequence[str],
    now: datetime,
) -> int:
    history = History(0, 0, 0, 0, 0, tuple(ids), now)
    written = 0
    rows: list[dict[str, Any]] = []
    while written < total:
        sid, pair, when = sessions[written % len(sessions)]
        mentee, mentor = _members(pair)
        rows.append(_outcome_row(f"o-{written}", pair, sid, mentee, mentor, rng, history, when))
        written += 1
        if len(rows) == BATCH:
            connection.execute(insert(Outcome), rows)
            rows = []
    if rows:
        connection.execute(insert(Outcome), rows)
    return written


def _outcome_row(
    key: str,
    pair: int,
    sid: int,
    mentee: int,
    mentor: int,
    rng: random.Random,
    history: History,
    when: datetime,
) -> dict[str, Any]:
    of_mentee = rng.random() < 0.8
    competency = rng.choice(history.competencies)
    released = rng.random() < 0.7
    return {
        "key": key,
        "pair_id": pair,
        "session_id": sid,
        "subject_id": mentee if of_mentee else mentor,
        "rater_id": mentor if of_mentee else mentee,
        "competency": competency,
        "competency_name": competency,
        "rating": float(rng.randint(1, 5)),
        "scale_min": 1.0,
        "scale_max": 5.0,
        "released": released,
        "rated_at": when + timedelta(hours=2),
        "evidence_statement_id": str(uuid.uuid5(uuid.NAMESPACE_URL, key)) if released else None,
    }


def _chunks(rows: list[dict[str, Any]]) -> Iterator[list[dict[str, Any]]]:
    for start in range(0, len(rows), BATCH):
        yield rows[start : start + BATCH]


def mapping_text(history: History) -> str:
    """A mapping file for the history: every competency with three themes on the executive
    side (and its own rated id), every third one on the mentor side too; the default rules."""
    lines = [
        "[rules]",
        "recency_days = 730",
        "half_life_days = 365",
        "minimum_level = 0.25",
    ]
    for name, level, sessions, rating, goals in (
        ("Emerging", 0.25, 2, None, 0),
        ("Developing", 0.5, 3, 0.5, 0),
        ("Proficient", 0.75, 4, 0.75, 1),
        ("Advanced", 1.0, 8, 0.9, 2),
    ):
        lines += ["[[rules.levels]]", f'name = "{name}"', f"level = {level}"]
        lines.append(f"min_sessions = {sessions}")
        if rating is not None:
            lines.append(f"min_rating = {rating}")
        if goals:
            lines.append(f"min_goals = {goals}")
    for n, competency in enumerate(history.competencies):
        key = competency.lower()
        themes = ", ".join(f'"{THEMES[(n + k) % len(THEMES)]}" = 1.0' for k in range(3))
        lines += [
            f"[competencies.{key}]",
            f'name = "Bench competency {n + 1}"',
            'category = "Leadership"',
            f'workday_id = "{competency}"',
            f'moodle_idnumber = "{competency}"',
            f'xapi_iri = "https://bench.example/competencies/{competency}"',
            f"[competencies.{key}.mentee]",
            f"themes = {{ {themes} }}",
            f'outcomes = {{ "{competency}" = 1.0 }}',
            "goals = 1.0",
        ]
        if n % 3 == 0:
            lines += [
                f"[competencies.{key}.mentor]",
                f"themes = {{ {themes} }}",
                f'outcomes = {{ "{competency}" = 1.0 }}',
            ]
    return "\n".join(lines) + "\n"
