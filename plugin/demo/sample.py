"""The demo's programme, as the events a programme's tools would post about it.

Each executive is paired with a junior mentor from outside their reporting line; they meet every
four weeks for six sessions. The calendar integration posts each session when it is booked and
again when it took place; both members reflect after every session (privately); each executive
sets a goal at the first session, and most reach it; after the third and the sixth session the
junior mentor rates the executive's progress on a competency of the HRIS's library, releasing
the final rating to the talent team. One session is called off and booked again a week later.

Alongside them come three deliveries a real endpoint sees: an event sent twice, an event whose
body was altered after signing, and an event naming a worker the HRIS does not know.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

__all__ = ["SampleProgramme", "programme_start", "sample_programme"]

PROGRAMME = ("rm-2026", "Reverse mentoring 2026")
SESSIONS_PER_PAIR = 6
CADENCE = timedelta(weeks=4)
THEMES = [
    ["generative AI at work", "Gen Z customers"],
    ["hybrid work", "collaboration tools"],
    ["inclusive leadership", "social media"],
    ["customer communities", "mobile-first service"],
]
#: Competency ids of the sample tenant's library, each with its name.
COMPETENCIES = [
    ("SUCC-DIGI", "Digital Fluency"),
    ("SUCC-INCL", "Inclusive Leadership"),
    ("SUCC-CUST", "Customer Insight"),
    ("SUCC-FORE", "Strategic Foresight"),
]
GOALS = [
    "Run a team retro with a collaborative whiteboard",
    "Draft a quarterly update with an AI assistant and review it critically",
    "Host an open Q&A on the internal social network",
    "Shadow a customer-support shift on the mobile channel",
]
#: Reflection text is private: it stays in Mentorbridge's store and never reaches the LRS.
REFLECTION = "(private reflection text: it stays in Mentorbridge)"


@dataclass
class SampleProgramme:
    """The events to post, in the order they happened, and the three special deliveries."""

    events: list[dict[str, Any]]
    duplicate: dict[str, Any]
    tampered: tuple[dict[str, Any], dict[str, Any]]
    """An event as signed, and as sent: its rating raised on the way."""
    unknown_worker: dict[str, Any]
    learner: str
    """The worker id of the executive whose transcript the demo shows."""


def programme_start(now: datetime | None = None) -> datetime:
    """When the demo's pairs start: six four-weekly sessions (and ten days) before ``now``."""
    now = (now or datetime.now(UTC)).replace(microsecond=0)
    return (now - CADENCE * SESSIONS_PER_PAIR - timedelta(days=10)).replace(
        hour=9, minute=0, second=0
    )


def sample_programme(
    pairs: list[tuple[str, str, str]], *, now: datetime | None = None
) -> SampleProgramme:
    """The programme of ``pairs`` (pair id, executive mentee, junior mentor), created by
    pairing's approval, all of it in the months before ``now``."""
    start = programme_start(now)
    timed: list[tuple[datetime, dict[str, Any]]] = []

    def post(when: datetime, kind: str, data: dict[str, Any]) -> dict[str, Any]:
        event = {
            "id": f"evt-{len(timed) + 1:05d}",
            "type": kind,
            "occurred_at": _iso(when),
            "source": "mentorbridge-demo",
            "data": data,
        }
        timed.append((when, event))
        return event

    for number, (pair, mentee, mentor) in enumerate(pairs):
        themes = THEMES[number % len(THEMES)]
        code, name = COMPETENCIES[number % len(COMPETENCIES)]
        goal = f"goal-{pair}-1"
        for index in range(SESSIONS_PER_PAIR):
            session = f"sess-{pair}-{index + 1:02d}"
            when = start + CADENCE * index + timedelta(hours=number % 8)
            if number == 0 and index == 3:
                # Booked, then called off two days before; booked again a week later.
                post(when - timedelta(days=7), "session.scheduled", _booking(pair, session, when))
                post(
                    when - timedelta(days=2),
                    "session.cancelled",
                    {"session_id": session, "reason": "rescheduled"},
                )
                session, when = session + "b", when + timedelta(weeks=1)
            post(when - timedelta(days=6), "session.scheduled", _booking(pair, session, when))
            ended = when + timedelta(minutes=50)
            post(
                ended,
                "session.completed",
                {
                    "pair_id": pair,
                    "session_id": session,
                    "started_at": _iso(when + timedelta(minutes=2)),
                    "duration_minutes": 45 + 5 * (index % 3),
                    "themes_discussed": themes[index % 2 : index % 2 + 1],
                    "attendees": [mentee, mentor],
                },
            )
            for author, suffix in ((mentee, "e"), (mentor, "m")):
                post(
                    ended + timedelta(hours=2),
                    "reflection.submitted",
                    {
                        "session_id": session,
                        "reflection_id": f"refl-{session}-{suffix}",
                        "author": author,
                        "text": REFLECTION,
                        "visibility": "private",
                    },
                )
            if index == 0:
                post(
                    ended - timedelta(minutes=5),
                    "goal.set",
                    {
                        "pair_id": pair,
                        "goal_id": goal,
                        "owner": mentee,
                        "title": GOALS[number % len(GOALS)],
                        "target_date": (when + timedelta(days=120)).date().isoformat(),
                        "session_id": session,
                    },
                )
            if index == 4 and number % 4 != 3:
                post(ended + timedelta(days=3), "goal.achieved", {"goal_id": goal})
            if index in (2, 5):
                post(
                    ended + timedelta(hours=4),
                    "outcome.rated",
                    {
                        "session_id": session,
                        "outcome_id": f"out-{session}-1",
                        "subject": mentee,
                        "rater": mentor,
                        "competency": {"id": code, "name": name},
                        "rating": 2 + index // 2 + number % 2,
                        "scale": {"min": 1, "max": 5},
                        "released": index == 5,
                    },
                )
    timed.sort(key=lambda pair: pair[0])  # stable: same-moment events keep their order
    events = [event for _, event in timed]
    completed = [e for e in events if e["type"] == "session.completed"]
    rated = next(e for e in events if e["type"] == "outcome.rated")
    return SampleProgramme(
        events=events,
        duplicate=completed[len(completed) // 2],
        tampered=(
            {**rated, "id": "evt-tampered", "data": {**rated["data"], "rating": 2}},
            {**rated, "id": "evt-tampered", "data": {**rated["data"], "rating": 5}},
        ),
        unknown_worker={
            "id": "evt-unknown-worker",
            "type": "pair.created",
            "occurred_at": _iso(start - timedelta(days=7)),
            "source": "mentorbridge-demo",
            "data": {
                "pair_id": "pair-2026-900",
                "programme_id": PROGRAMME[0],
                "programme_name": PROGRAMME[1],
                "mentee": pairs[0][1],
                "mentor": "99999",
                "started_on": start.date().isoformat(),
                "cadence": "monthly",
            },
        },
        learner=pairs[0][1],
    )


def _booking(pair: str, session: str, when: datetime) -> dict[str, Any]:
    return {
        "pair_id": pair,
        "session_id": session,
        "planned_start": _iso(when),
        "planned_minutes": 45,
    }


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
