"""Every statement template built with varied inputs: the cases of the golden-bytes test.

``python -m tests.xapi.statement_cases`` rewrites ``golden_statements.json`` from the builder as
it is; do that only for a deliberate change of the statements' bytes (an LRS holds the old ones,
and a redelivery must repeat them exactly).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from mentorbridge.xapi.statements import BuiltStatement, Event, PairContext, StatementBuilder
from tests.conftest import SETTINGS
from tests.fakes import NOW

GOLDEN = Path(__file__).with_name("golden_statements.json")
WHEN = datetime(2026, 11, 3, 10, 2, 11, 123456, tzinfo=UTC)


def cases(builder: StatementBuilder) -> Iterator[tuple[str, BuiltStatement]]:
    """(case name, statement) for every template, with and without its optional parts."""
    event = Event(source="test", id="event-1")
    for label, pair in _pairs(builder):
        yield from _pair_cases(builder, event, label, pair)
    yield (
        "voiding outside a pair",
        builder.voiding(
            event,
            None,
            target_id="0f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f9",
            voided_at=WHEN,
            registration=builder.evidence_registration("p-mentee", "digital", "mentee"),
        ),
    )


def _pairs(builder: StatementBuilder) -> Iterator[tuple[str, PairContext]]:
    yield "plain", _pair(builder, "pair-1", "rm-2026", "Reverse mentoring 2026")
    # Keys and names needing escapes: spaces, slashes, non-ASCII, quotes.
    yield "odd keys", _pair(builder, "pair/ü 2", "rm 2026/é", 'Mentorat "inversé" 2026')


def _pair(builder: StatementBuilder, key: str, programme: str, name: str) -> PairContext:
    return PairContext(
        key=key,
        registration=builder.registration(key),
        programme=programme,
        programme_name=name,
        mentee="p-mentee",
        mentor="p-mentor",
    )


def _pair_cases(
    builder: StatementBuilder, event: Event, label: str, pair: PairContext
) -> Iterator[tuple[str, BuiltStatement]]:
    for duration in (timedelta(minutes=45), None):
        yield (
            f"{label}: scheduled, duration {duration}",
            builder.session_scheduled(
                event,
                pair,
                session="s-1",
                sequence=3,
                planned_start=WHEN + timedelta(days=2),
                planned_duration=duration,
                scheduled_at=WHEN,
            ),
        )
    for length in (timedelta(minutes=47), timedelta(hours=1, seconds=30.5)):
        yield (
            f"{label}: attended {length}",
            builder.session_attended(
                event, pair, session="s-1", sequence=2, started_at=WHEN, duration=length
            ),
        )
        yield (
            f"{label}: mentored {length}",
            builder.session_mentored(
                event, pair, session="s-1", sequence=2, started_at=WHEN, duration=length
            ),
        )
    for visibility in ("pair", "private"):
        yield (
            f"{label}: reflection {visibility}",
            builder.reflection_submitted(
                event,
                pair,
                session="s-1",
                reflection="r-1",
                author="p-mentor",
                visibility=visibility,
                submitted_at=WHEN,
            ),
        )
    for target, session in ((date(2026, 12, 31), "s-1"), (None, None)):
        planned = builder.goal_planned(
            event,
            pair,
            goal="g-1",
            owner="p-mentee",
            target_date=target,
            session=session,
            planned_at=WHEN,
        )
        yield f"{label}: goal planned {target} {session}", planned
    yield (
        f"{label}: goal achieved",
        builder.goal_achieved(
            event,
            pair,
            goal="g-1",
            owner="p-mentee",
            planned_statement_id=planned.id,
            achieved_at=WHEN,
        ),
    )
    for subject, rater, score in (
        ("p-mentee", "p-mentor", (4, 1, 5)),
        ("p-mentor", "p-mentor", (2.5, 0, 10)),
    ):
        yield (
            f"{label}: evidence of {subject} by {rater}",
            builder.competency_evidence(
                event,
                pair,
                session="s-1",
                competency_id="https://hr.example.com/competencies/digital",
                competency_name="Digital fluency",
                subject=subject,
                rater=rater,
                score=score,
                evidence_statement_id=planned.id,
                rated_at=WHEN,
            ),
        )
    yield (
        f"{label}: evidence on an HRIS code",
        builder.competency_evidence(
            event,
            pair,
            session="s-1",
            competency_id="SUCC-DIGI",
            competency_name="Digitale Kompetenz",
            subject="p-mentee",
            rater="p-mentor",
            score=(3, 1, 5),
            evidence_statement_id=planned.id,
            rated_at=WHEN,
        ),
    )
    yield (
        f"{label}: voiding",
        builder.voiding(event, pair, target_id=planned.id, voided_at=WHEN),
    )


def payloads(builder: StatementBuilder) -> dict[str, str]:
    return {name: built.payload.decode("utf-8") for name, built in cases(builder)}


if __name__ == "__main__":
    written = payloads(StatementBuilder(SETTINGS, now=lambda: NOW))
    GOLDEN.write_text(json.dumps(written, indent=1, ensure_ascii=False) + "\n")
    print(f"{len(written)} statements written to {GOLDEN}")
