"""A mapper run: bring the evidence tables in step with the activity, in one transaction.

:func:`update_evidence` recomputes the people marked in ``evidence_dirty`` (everyone on the
first run, when asked, or when the mapping or the synced Workday proficiency scales changed
since the last run), a batch of people per query. It writes only what changed: a row whose
digest is unchanged is not touched (no revision, no statement); a changed row gets a new
revision, its sources, a history row and a competency-level statement; evidence that no longer
holds is ``withdrawn`` and its last statement voided. Everything, including clearing the marks
it saw and recording what it computed against, commits together or not at all.

Decay and the recency window run back from the run's ``now``: people nobody touched keep
their levels until a full run (``full=True``) evaluates them again. Erased people
(``Person.active`` false) have no evidence (:mod:`plugin.mapping.forget`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, text, union
from sqlalchemy.orm import Session

from mentorbridge.plugin.mapping import scales
from mentorbridge.plugin.mapping.activity import read_activity
from mentorbridge.plugin.mapping.evidence import Evidence, MappingIndex, evaluate_person
from mentorbridge.plugin.mapping.model import Competency, Mapping
from mentorbridge.plugin.mapping.writes import (
    PlannedStatement,
    PlannedWrites,
    clear_marks,
    write_batch,
)
from mentorbridge.plugin.store.base import utc_now
from mentorbridge.plugin.store.db import Store
from mentorbridge.plugin.store.evidence_models import (
    CompetencyEvidence,
    EvidenceChange,
    EvidenceDirty,
    EvidenceSource,
    MapperState,
)
from mentorbridge.plugin.store.hris_models import Competency as SyncedCompetency
from mentorbridge.plugin.store.models import Pair, Person
from mentorbridge.xapi.statements import Event, StatementBuilder

__all__ = ["STATEMENT_SOURCE", "STATE_NAME", "EvidenceRun", "update_evidence"]

#: The ``mapper_state`` row of the mapper.
STATE_NAME = "default"
#: The ``Event.source`` of the mapper's statements: their ids are uuid5 of it and
#: ``<opaque id>/<competency key>/<side>/<revision>``.
STATEMENT_SOURCE = "mentorbridge-mapper"
#: People per batch: one query per kind of activity per batch.
BATCH = 2000


@dataclass(frozen=True, slots=True)
class EvidenceRun:
    """What a run did.

    Attributes:
        full: everyone was recomputed; ``reason`` says why (``None`` for an incremental run).
        people: how many people were recomputed.
        created, changed, withdrawn: evidence rows new, changed (a new revision), withdrawn.
        statements: statements queued (levels reached and voidings).
    """

    full: bool
    reason: str | None
    people: int
    created: int
    changed: int
    withdrawn: int
    statements: int


@dataclass(slots=True)
class _Counts:
    people: int = 0
    created: int = 0
    changed: int = 0
    withdrawn: int = 0
    statements: int = 0


@dataclass(slots=True)
class _Row:
    """An existing evidence row, as far as a run needs it."""

    id: int
    status: str
    revision: int
    digest: str
    statement_id: str | None
    level: float
    level_name: str


def update_evidence(
    store: Store,
    mapping: Mapping,
    *,
    now: datetime | None = None,
    full: bool = False,
    builder: StatementBuilder | None = None,
    batch_size: int = BATCH,
    full_every: timedelta | None = None,
) -> EvidenceRun:
    """Recompute the evidence of the people marked dirty (or of everyone), in one transaction.

    Args:
        mapping: the mapping to apply.
        now: the time of the run (decay and the recency window run back from it).
        full: recompute everyone, even if the mapping and the scales are unchanged.
        builder: builds the competency-level statements queued in the outbox; ``None``
            queues none (rows then carry no statement id).
        batch_size: people read and written per batch.
        full_every: recompute everyone when the last full run is older than this, so decay
            and the recency window reach people no event touched (the worker's job passes a
            day); ``None``: only as above.

    Returns:
        What the run did.
    """
    now = now or utc_now()
    index = MappingIndex(mapping)
    counts = _Counts()
    with store.transaction() as session:
        synced = _synced_scales(session, mapping)
        scales_digest = scales.scales_digest(
            (workday_id, scale_id, levels) for workday_id, (scale_id, levels) in synced.items()
        )
        state = session.get(MapperState, STATE_NAME)
        reason = _full_reason(full, state, mapping, scales_digest, now, full_every)
        query = select(EvidenceDirty.person_id, EvidenceDirty.marked_at)
        marks = {person: marked_at for person, marked_at in session.execute(query)}
        people = _everyone(session, marks) if reason else sorted(marks)
        levels = _Levels(mapping, synced)
        for batch in _batches(people, batch_size):
            counts.people += len(batch)
            writes = _plan(session, index, levels, batch, now, builder, counts)
            write_batch(session, writes, batch)
        clear_marks(session, marks)
        if state is None:
            state = MapperState(name=STATE_NAME)
            session.add(state)
        state.mapping_digest, state.scales_digest, state.last_run_at = (
            mapping.digest,
            scales_digest,
            now,
        )
        if reason is not None:
            state.last_full_run_at = now
    if reason is not None:
        _refresh_statistics(store)
    return EvidenceRun(
        full=reason is not None,
        reason=reason,
        people=counts.people,
        created=counts.created,
        changed=counts.changed,
        withdrawn=counts.withdrawn,
        statements=counts.statements,
    )


def _full_reason(
    full: bool,
    state: MapperState | None,
    mapping: Mapping,
    scales_digest: str,
    now: datetime,
    full_every: timedelta | None,
) -> str | None:
    if full:
        return "asked for"
    if state is None:
        return "first run"
    if state.mapping_digest != mapping.digest:
        return "the mapping changed"
    if state.scales_digest != scales_digest:
        return "the synced Workday proficiency scales changed"
    if full_every is not None and (
        state.last_full_run_at is None or now - state.last_full_run_at >= full_every
    ):
        return "decay and the recency window since the last full run"
    return None


def _refresh_statistics(store: Store) -> None:
    """After a full run rewrote the evidence tables, let PostgreSQL's planner see their new
    size now rather than at autovacuum's next pass (or never, where it is off): with the
    statistics of an empty table, the reports' joins over these tables pick nested loops and
    take minutes instead of seconds at 100,000 workers."""
    if store.dialect != "postgresql":
        return
    tables = ", ".join(
        table.__tablename__
        for table in (CompetencyEvidence, EvidenceSource, EvidenceChange, EvidenceDirty)
    )
    with store.transaction() as session:
        session.execute(text(f"ANALYZE {tables}"))


def _synced_scales(session: Session, mapping: Mapping) -> dict[str, tuple[str | None, list]]:
    """The synced proficiency scale of every Workday competency the mapping names."""
    ids = sorted({c.workday_id for c in mapping.competencies.values() if c.workday_id})
    if not ids:
        return {}
    rows = session.execute(
        select(
            SyncedCompetency.competency_id, SyncedCompetency.scale_id, SyncedCompetency.levels
        ).where(SyncedCompetency.competency_id.in_(ids))
    )
    return {competency_id: (scale_id, levels or []) for competency_id, scale_id, levels in rows}


def _everyone(session: Session, marks: dict[int, datetime]) -> list[int]:
    """Everyone who may have evidence: members of any pair, and whoever has some already."""
    query = union(
        select(Pair.mentee_id),
        select(Pair.mentor_id),
        select(CompetencyEvidence.person_id),
    )
    return sorted(set(session.scalars(query)) | set(marks))


def _batches(people: Sequence[int], size: int) -> Iterator[Sequence[int]]:
    for start in range(0, len(people), size):
        yield people[start : start + size]


class _Levels:
    """A normalised level as a Workday level id and a Moodle value, per competency."""

    def __init__(self, mapping: Mapping, synced: dict[str, tuple[str | None, list]]) -> None:
        self.mapping, self.synced = mapping, synced

    def workday(self, competency: Competency, level: float) -> str | None:
        if competency.workday_id is None or competency.workday_id not in self.synced:
            return None
        scale_id, levels = self.synced[competency.workday_id]
        scale_map = self.mapping.workday_scales.get(scale_id) if scale_id else None
        reached = scales.workday_level(level, levels, scale_map)
        return None if reached is None else str(reached["level_id"])

    def moodle(self, competency: Competency, level: float) -> int | None:
        if competency.moodle_idnumber is None:
            return None
        return scales.moodle_value(level, self.mapping)


def _plan(
    session: Session,
    index: MappingIndex,
    levels: _Levels,
    batch: Sequence[int],
    now: datetime,
    builder: StatementBuilder | None,
    counts: _Counts,
) -> PlannedWrites:
    """Compare a batch's evidence now with its rows, and plan the writes."""
    activity = read_activity(session, batch)
    existing: dict[tuple[int, str, str], _Row] = {}
    for row in session.execute(
        select(
            CompetencyEvidence.person_id,
            CompetencyEvidence.competency_key,
            CompetencyEvidence.side,
            CompetencyEvidence.id,
            CompetencyEvidence.status,
            CompetencyEvidence.revision,
            CompetencyEvidence.digest,
            CompetencyEvidence.statement_id,
            CompetencyEvidence.level,
            CompetencyEvidence.level_name,
        ).where(CompetencyEvidence.person_id.in_(batch))
    ):
        existing[(row[0], row[1], row[2])] = _Row(*row[3:])
    query = select(Person.id, Person.opaque_id).where(Person.id.in_(batch), Person.active.is_(True))
    opaque = {person: opaque_id for person, opaque_id in session.execute(query)}
    writes = PlannedWrites()
    found: set[tuple[int, str, str]] = set()
    for person in batch:
        if person not in activity or person not in opaque:  # nothing, or erased
            continue
        for evidence in evaluate_person(index, activity[person], now):
            key = (person, evidence.competency_key, evidence.side)
            found.add(key)
            competency = index.mapping.competencies[evidence.competency_key]
            _plan_one(writes, key, evidence, competency, existing.get(key), levels, now, counts)
    for key, row in existing.items():
        if key not in found and row.status == "current":
            _plan_withdrawal(writes, key, row, now, counts)
    if builder is not None:
        _plan_statements(writes, index.mapping, builder, opaque, now, counts)
    return writes


def _row_digest(evidence: Evidence, workday_level_id: str | None, moodle_value: int | None) -> str:
    text = f"{evidence.digest}|{workday_level_id}|{moodle_value}"
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _plan_one(
    writes: PlannedWrites,
    key: tuple[int, str, str],
    evidence: Evidence,
    competency: Competency,
    row: _Row | None,
    levels: _Levels,
    now: datetime,
    counts: _Counts,
) -> None:
    workday_level_id = levels.workday(competency, evidence.level)
    moodle_value = levels.moodle(competency, evidence.level)
    digest = _row_digest(evidence, workday_level_id, moodle_value)
    if row is not None and row.status == "current" and row.digest == digest:
        return
    values = {
        "level": evidence.level,
        "level_name": evidence.level_name,
        "workday_level_id": workday_level_id,
        "moodle_value": moodle_value,
        "sessions": evidence.sessions,
        "goals": evidence.goals,
        "rating": evidence.rating,
        "status": "current",
        "digest": digest,
        # Without a builder no statement is queued: the last one stays the one to void later.
        "statement_id": row.statement_id if row is not None and row.status == "current" else None,
        "changed_at": now,
    }
    sources = [
        {
            "kind": source.kind,
            "ref_key": source.key,
            "statement_id": source.statement_id,
            "occurred_at": source.at,
            "weight": source.weight,
            "rating": source.rating,
        }
        for source in evidence.sources
    ]
    revision = 1 if row is None else row.revision + 1
    history = {
        "revision": revision,
        "level": evidence.level,
        "level_name": evidence.level_name,
        "status": "current",
        "changed_at": now,
    }
    if row is None:
        values.update(
            person_id=key[0],
            competency_key=key[1],
            side=key[2],
            revision=1,
            first_seen_at=now,
        )
        writes.inserts.append((values, sources, history))
        counts.created += 1
    else:
        values.update(id=row.id, revision=revision)
        writes.updates.append((values, sources, history | {"evidence_id": row.id}))
        counts.changed += 1
    writes.statements.append(
        PlannedStatement(key[0], key, revision, values, evidence.level, evidence.level_name)
    )


def _plan_withdrawal(
    writes: PlannedWrites, key: tuple[int, str, str], row: _Row, now: datetime, counts: _Counts
) -> None:
    revision = row.revision + 1
    values = {
        "id": row.id,
        "status": "withdrawn",
        "revision": revision,
        "statement_id": row.statement_id,
        "changed_at": now,
    }
    history = {
        "evidence_id": row.id,
        "revision": revision,
        "level": row.level,
        "level_name": row.level_name,
        "status": "withdrawn",
        "changed_at": now,
    }
    writes.updates.append((values, [], history))
    counts.withdrawn += 1
    if row.statement_id is not None:
        writes.statements.append(
            PlannedStatement(key[0], key, revision, values, voids=row.statement_id)
        )


def _plan_statements(
    writes: PlannedWrites,
    mapping: Mapping,
    builder: StatementBuilder,
    opaque: dict[int, str],
    now: datetime,
    counts: _Counts,
) -> None:
    """Build each planned statement and note its id on its row."""
    for planned in writes.statements:
        _, competency_key, side = planned.key
        subject = opaque[planned.person]
        event = Event(
            source=STATEMENT_SOURCE,
            id=f"{subject}/{competency_key}/{side}/{planned.revision}",
        )
        if planned.voids is not None:
            built = builder.voiding(
                event,
                None,
                target_id=planned.voids,
                voided_at=now,
                registration=builder.evidence_registration(subject, competency_key, side),
            )
        else:
            competency = mapping.competencies[competency_key]
            built = builder.competency_level(
                event,
                subject=subject,
                competency_key=competency_key,
                competency_iri=competency.xapi_iri,
                competency_name=competency.name,
                side=side,
                level=planned.level,
                level_name=planned.level_name,
                reached_at=now,
            )
        planned.row["statement_id"], planned.built = built.id, built
        counts.statements += 1
