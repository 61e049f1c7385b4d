"""A small sample reverse-mentoring programme, recorded through the real :class:`Recorder`.

Its executives and junior mentors are workers of the HRIS mirror. The pairs meet every two
weeks: each session is scheduled and then held, both members reflect,
each pair sets goals and reaches one, and released ratings become competency evidence. One
session turns out to have been recorded in error and is retracted, which voids what it produced.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from itertools import count

from plugin.recorder import Recorder
from xapi.statements import Event

__all__ = ["SampleSummary", "record_sample_programme"]

PROGRAMME = ("rm-2026", "Reverse mentoring 2026")
THEMES = [
    ["generative AI at work", "Gen Z customers"],
    ["hybrid work", "collaboration tools"],
    ["inclusive leadership", "social media"],
]
COMPETENCIES = [
    ("https://mentorbridge.example/competencies/SUCC-DIGI", "Digital Fluency"),
    ("https://mentorbridge.example/competencies/SUCC-INCL", "Inclusive Leadership"),
]
SESSIONS_PER_PAIR = 4


@dataclass
class SampleSummary:
    """What the sample recorded."""

    pairs: int = 0
    sessions: int = 0
    cancelled: int = 0
    statements: int = 0
    registrations: list[str] = field(default_factory=list)
    by_template: Counter[str] = field(default_factory=Counter)


def record_sample_programme(
    recorder: Recorder, participants: list[tuple[str, str]], *, now: datetime | None = None
) -> SampleSummary:
    """Record the sample programme; all of it lies in the weeks before ``now``.

    Args:
        participants: ``(executive mentee, junior mentor)`` worker ids, one pair each.
    """
    now = now or datetime.now(UTC)
    start = (now - timedelta(days=7 * 2 * SESSIONS_PER_PAIR + 7)).replace(
        hour=9, minute=0, second=0, microsecond=0
    )
    events = (Event(source="demo", id=f"demo-{n}") for n in count(1))
    summary = SampleSummary()

    def note(template: str, statement_ids: tuple[str, ...]) -> None:
        summary.statements += len(statement_ids)
        summary.by_template[template] += len(statement_ids)

    recorder.register_programme(*PROGRAMME)
    pairs = [
        (f"pair-{n + 1}", mentee, mentor, THEMES[n % len(THEMES)])
        for n, (mentee, mentor) in enumerate(participants)
    ]
    for number, (pair, mentee, mentor, themes) in enumerate(pairs):
        summary.registrations.append(
            recorder.create_pair(
                key=pair,
                programme=PROGRAMME[0],
                mentee=mentee,
                mentor=mentor,
                started_on=start.date(),
                cadence="fortnightly",
                themes=themes,
            )
        )
        summary.pairs += 1
        goal = f"{pair}-goal-1"
        for index in range(SESSIONS_PER_PAIR):
            session = f"{pair}-s{index + 1}"
            when = start + timedelta(days=14 * index, hours=number)
            note(
                "session-scheduled",
                recorder.schedule_session(
                    next(events),
                    pair=pair,
                    session_key=session,
                    planned_start=when,
                    planned_minutes=45,
                    scheduled_at=when - timedelta(days=6),
                ).statement_ids,
            )
            note(
                "session-attended+mentored",
                recorder.complete_session(
                    next(events),
                    pair=pair,
                    session_key=session,
                    started_at=when + timedelta(minutes=2),
                    duration_minutes=47 + index,
                    themes=themes[:1],
                ).statement_ids,
            )
            summary.sessions += 1
            for author in (mentee, mentor):
                note(
                    "reflection-submitted",
                    recorder.submit_reflection(
                        next(events),
                        session_key=session,
                        reflection_key=f"{session}-r-{author}",
                        author=author,
                        text="(private reflection text, kept only in Mentorbridge)",
                        visibility="private",
                        submitted_at=when + timedelta(hours=3),
                    ).statement_ids,
                )
            if index == 0:
                note(
                    "goal-planned",
                    recorder.set_goal(
                        next(events),
                        pair=pair,
                        goal_key=goal,
                        owner=mentee,
                        title="Run a team retro with a collaborative whiteboard",
                        target_date=(when + timedelta(days=60)).date(),
                        session_key=session,
                        set_at=when + timedelta(minutes=40),
                    ).statement_ids,
                )
            competency, name = COMPETENCIES[number % len(COMPETENCIES)]
            note(
                "competency-evidence",
                recorder.rate_outcome(
                    next(events),
                    session_key=session,
                    outcome_key=f"{session}-o1",
                    subject=mentee,
                    rater=mentor,
                    competency=competency,
                    competency_name=name,
                    rating=2 + index % 3,
                    scale=(1, 5),
                    released=index % 2 == 1,
                    rated_at=when + timedelta(hours=4),
                ).statement_ids,
            )
        note(
            "goal-achieved",
            recorder.achieve_goal(
                next(events), goal_key=goal, achieved_at=now - timedelta(days=2)
            ).statement_ids,
        )

    # The last session of the first pair was logged against the wrong pair: retract it.
    note(
        "statement-voided",
        recorder.cancel_session(
            next(events),
            session_key=f"{pairs[0][0]}-s{SESSIONS_PER_PAIR}",
            cancelled_at=now - timedelta(days=1),
        ).statement_ids,
    )
    summary.cancelled += 1
    return summary
