"""Evidence: each change of the mapper's evidence becomes a rating with a note on the
person's learning plan (``core_competency_grade_competency_in_plan``).

The note says what, when and on which sessions the level rests, never any confidential text,
and ends with a stable reference (``[mentorbridge evidence 12 r3]``): the evidence row and its
revision. Every write is journalled in ``moodle_evidence_push``: committed ``pending`` before
the call, ``done`` after it. A ``pending`` row left by a crash is settled by reading the
user's competency back (``tool_lp_data_for_user_competency_summary``) and looking for its
reference: a source is never written twice. Moodle keeps every rating (the latest wins), so a
rating withdrawn upstream is superseded by the scale's lowest item with a note saying why.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping as MappingType
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, func, select

from mentorbridge.connectors.moodle.batches import chunks, in_parallel
from mentorbridge.connectors.moodle.client import MoodleClient
from mentorbridge.connectors.moodle.provision import KnownUser
from mentorbridge.connectors.moodle.report import PushReport
from mentorbridge.connectors.moodle.settings import MoodleSettings
from mentorbridge.plugin.mapping.model import Mapping
from mentorbridge.plugin.store.base import utc_now
from mentorbridge.plugin.store.bulk import insert_rows
from mentorbridge.plugin.store.db import Store
from mentorbridge.plugin.store.evidence_models import CompetencyEvidence, EvidenceSource
from mentorbridge.plugin.store.lms_models import MoodleEvidencePush

__all__ = ["Rating", "push_evidence", "reference"]

PHASE = "evidence"
#: Pushes journalled (and committed) together before their calls.
JOURNAL_CHUNK = 500
WITHDRAWN = 0  # the grade recorded for a withdrawal


@dataclass(frozen=True, slots=True)
class Rating:
    """One rating to write: which evidence revision, where, what, and the note."""

    evidence_id: int
    revision: int
    moodle_user: int
    plan_id: int
    competency_id: int
    grade: int
    recorded_grade: int
    note: str


def reference(evidence_id: int, revision: int) -> str:
    """The stable reference a note carries, found again when reading Moodle back."""
    return f"[mentorbridge evidence {evidence_id} r{revision}]"


def push_evidence(
    client: MoodleClient,
    store: Store,
    settings: MoodleSettings,
    mapping: Mapping,
    competency_ids: MappingType[str, int],
    users: MappingType[int, KnownUser],
    plans: MappingType[int, int],
    report: PushReport,
) -> None:
    """Write every evidence revision Moodle has not had yet."""
    ratings, uncertain = _ratings(store, mapping, competency_ids, users, plans, report)
    if report.dry_run:
        report.count(PHASE, "written", len(ratings) + len(uncertain))
        return
    if uncertain:
        ratings = _settle(client, store, uncertain, report) + ratings
    for chunk in chunks(ratings, JOURNAL_CHUNK):
        _journal(store, chunk)
        finished: list[tuple[Rating, int | None]] = []
        refused: list[Rating] = []
        for rating, answer, error in in_parallel(
            lambda r: _write(client, r), chunk, settings.concurrency
        ):
            if error is not None:
                refused.append(rating)
                report.problem(
                    PHASE,
                    f"evidence {rating.evidence_id} r{rating.revision} (Moodle user "
                    f"{rating.moodle_user})",
                    str(error),
                )
                continue
            finished.append((rating, int(answer["id"]) if isinstance(answer, dict) else None))
            report.count(PHASE, "superseded" if rating.recorded_grade == WITHDRAWN else "written")
        _settled(store, finished, refused)


def _ratings(
    store: Store,
    mapping: Mapping,
    competency_ids: MappingType[str, int],
    users: MappingType[int, KnownUser],
    plans: MappingType[int, int],
    report: PushReport,
) -> tuple[list[Rating], list[Rating]]:
    """What to write, and what a crash left uncertain (journalled ``pending``)."""
    people = [pid for pid in plans if pid in users]
    ce, push = CompetencyEvidence, MoodleEvidencePush
    rows: list[Any] = []
    with store.reading() as session:
        for batch in chunks(people, 500):
            rows.extend(
                session.execute(
                    select(
                        ce.id,
                        ce.person_id,
                        ce.competency_key,
                        ce.level_name,
                        ce.moodle_value,
                        ce.status,
                        ce.revision,
                        ce.changed_at,
                    ).where(ce.person_id.in_(batch), ce.competency_key.in_(list(competency_ids)))
                )
            )
        last: dict[int, tuple[int, int]] = {}
        pending: dict[int, int] = {}
        for evidence_id, revision, state, grade in session.execute(
            select(push.evidence_id, push.revision, push.state, push.grade)
        ):
            if state == "pending":
                pending[evidence_id] = revision
            elif evidence_id not in last or revision > last[evidence_id][0]:
                last[evidence_id] = (revision, grade)
        todo = [r for r in rows if r.revision > last.get(r.id, (0, 0))[0]]
        sources = _sources(session, [r.id for r in todo])
    ratings, uncertain, unchanged = [], [], []
    for row in todo:
        previous = last.get(row.id, (0, WITHDRAWN))[1]
        wanted = row.moodle_value if row.status == "current" and row.moodle_value else WITHDRAWN
        if wanted == previous and row.id not in pending:
            unchanged.append((row.id, row.revision, wanted))
            continue
        competency = mapping.competencies[row.competency_key]
        rating = Rating(
            evidence_id=row.id,
            revision=row.revision,
            moodle_user=users[row.person_id].moodle_id,
            plan_id=plans[row.person_id],
            competency_id=competency_ids[row.competency_key],
            grade=wanted or 1,  # a withdrawal is written as the scale's lowest item
            recorded_grade=wanted,
            note=_note(competency.name, row, wanted, sources.get(row.id)),
        )
        (uncertain if pending.get(row.id) == row.revision else ratings).append(rating)
    _skip(store, unchanged, report)
    return ratings, uncertain


def _sources(session: Any, evidence_ids: Sequence[int]) -> dict[int, dict[str, Any]]:
    """Per evidence: how many sessions, goals and ratings, and the latest session."""
    found: dict[int, dict[str, Any]] = defaultdict(lambda: {"session": 0, "goal": 0, "outcome": 0})
    src = EvidenceSource
    for batch in chunks(list(evidence_ids), 500):
        for evidence_id, kind, count, latest in session.execute(
            select(src.evidence_id, src.kind, func.count(), func.max(src.occurred_at))
            .where(src.evidence_id.in_(batch))
            .group_by(src.evidence_id, src.kind)
        ):
            found[evidence_id][kind] = count
            if kind == "session":
                found[evidence_id]["latest"] = latest
    return found


def _note(name: str, row: Any, grade: int, sources: dict[str, Any] | None) -> str:
    ref = reference(row.id, row.revision)
    if grade == WITHDRAWN:
        return (
            f"Reverse mentoring: the earlier rating of {name} is withdrawn because the "
            f"mentoring evidence it rested on was retracted or cancelled "
            f"({row.changed_at:%Y-%m-%d}). {ref}"
        )
    counts = sources or {"session": 0, "goal": 0, "outcome": 0}
    latest: datetime | None = counts.get("latest")
    since = f", latest session {latest:%Y-%m-%d}" if latest else ""
    return (
        f"Reverse mentoring: {name} evidenced at '{row.level_name}' on "
        f"{row.changed_at:%Y-%m-%d} from {_many(counts['session'], 'completed session')}, "
        f"{_many(counts['goal'], 'goal')} achieved and "
        f"{_many(counts['outcome'], 'released rating')}{since}. {ref}"
    )


def _many(n: int, thing: str) -> str:
    return f"{n} {thing}" if n == 1 else f"{n} {thing}s"


def _write(client: MoodleClient, rating: Rating) -> Any:
    return client.call(
        "core_competency_grade_competency_in_plan",
        planid=rating.plan_id,
        competencyid=rating.competency_id,
        grade=rating.grade,
        note=rating.note,
    )


def _settle(
    client: MoodleClient, store: Store, uncertain: list[Rating], report: PushReport
) -> list[Rating]:
    """Read back the user competencies a crash left uncertain; the ratings not found there
    are returned to be written, the others are marked done."""
    by_place: dict[tuple[int, int], list[Rating]] = defaultdict(list)
    for rating in uncertain:
        by_place[(rating.moodle_user, rating.competency_id)].append(rating)
    again: list[Rating] = []
    found: list[tuple[Rating, int | None]] = []
    for (user_id, competency_id), ratings in by_place.items():
        summary = client.call(
            "tool_lp_data_for_user_competency_summary", userid=user_id, competencyid=competency_id
        )
        notes = {e.get("id"): e.get("note") or "" for e in summary.get("evidence", [])}
        for rating in ratings:
            ref = reference(rating.evidence_id, rating.revision)
            written = next((eid for eid, note in notes.items() if ref in note), None)
            if written is None:
                again.append(rating)
            else:
                found.append((rating, written))
                report.count(PHASE, "found_already_written")
    _settled(store, found, [])
    return again


def _journal(store: Store, ratings: Sequence[Rating]) -> None:
    """Journal a chunk as ``pending`` before any of it is sent: one query for the rows a
    crash left, one bulk insert for the rest."""
    push = MoodleEvidencePush
    with store.transaction() as session:
        held = {
            (evidence_id, revision)
            for evidence_id, revision in session.execute(
                select(push.evidence_id, push.revision).where(
                    push.evidence_id.in_({r.evidence_id for r in ratings})
                )
            )
        }
        now = utc_now()
        insert_rows(
            session,
            push.__table__,
            [
                {
                    "evidence_id": r.evidence_id,
                    "revision": r.revision,
                    "state": "pending",
                    "grade": r.recorded_grade,
                    "moodle_evidence_id": None,
                    "pushed_at": now,
                }
                for r in ratings
                if (r.evidence_id, r.revision) not in held
            ],
        )


def _settled(
    store: Store, finished: Sequence[tuple[Rating, int | None]], refused: Sequence[Rating]
) -> None:
    """Mark written ratings done; drop the journal rows of refused ones (Moodle wrote
    nothing, so the next run tries them again). One executemany each."""
    table = MoodleEvidencePush.__table__
    key = (table.c.evidence_id == bindparam("k_evidence"), table.c.revision == bindparam("k_rev"))
    with store.transaction() as session:
        now = utc_now()
        if finished:
            session.execute(
                table.update()
                .where(*key)
                .values(state="done", moodle_evidence_id=bindparam("k_moodle"), pushed_at=now),
                [
                    {"k_evidence": r.evidence_id, "k_rev": r.revision, "k_moodle": moodle_id}
                    for r, moodle_id in finished
                ],
            )
        if refused:
            session.execute(
                table.delete().where(*key),
                [{"k_evidence": r.evidence_id, "k_rev": r.revision} for r in refused],
            )


def _skip(store: Store, unchanged: Sequence[tuple[int, int, int]], report: PushReport) -> None:
    """Revisions that change nothing in Moodle (the same scale item, or the withdrawal of a
    rating Moodle never had): journalled as done without a call."""
    report.count(PHASE, "unchanged_in_moodle", len(unchanged))
    if report.dry_run or not unchanged:
        return
    with store.transaction() as session:
        session.add_all(
            MoodleEvidencePush(evidence_id=eid, revision=revision, state="done", grade=grade)
            for eid, revision, grade in unchanged
        )
