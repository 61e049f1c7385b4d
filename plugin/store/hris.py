"""The HRIS mirror as a sync sink: idempotent upserts, bookmarks and sync runs.

Each stream's records are upserted by primary key. A record whose hash matches the stored row
is left untouched (counted unchanged); a changed one is updated; a new one created. Workers are
linked to a :class:`~plugin.store.models.Person` by their Employee ID (the worker id webhooks
use), so a rehire, even one with a new Employee ID, stays the same person. A worker who turns
inactive is counted as terminated and a :class:`WorkerEvent` is left for the steps that end
pairs and suspend LMS users; one who turns active again is a rehire. A known worker whose
management level or job profile changes leaves a :class:`WorkerChange` (the mirror keeps only
current values; reports count promotions from this log).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import delete, insert, select, tuple_, update
from sqlalchemy.orm import Session

from mentorbridge.connectors.base import StreamCounts, SyncReport
from mentorbridge.connectors.workday.fields import SENSITIVE_FIELDS
from mentorbridge.plugin.privacy.markers import ErasedWorkers
from mentorbridge.plugin.store.base import utc_now
from mentorbridge.plugin.store.bulk import insert_rows
from mentorbridge.plugin.store.db import Store
from mentorbridge.plugin.store.hris_merge import merge_duplicates
from mentorbridge.plugin.store.hris_models import (
    Competency,
    CompetencyAssessment,
    HrisOrganization,
    HrisWorker,
    JobProfile,
    JobProfileCompetency,
    SuccessionCandidate,
    SuccessionPlan,
    WorkerChange,
    WorkerEvent,
)
from mentorbridge.plugin.store.hris_orgs import consistency, upsert_organizations
from mentorbridge.plugin.store.hris_stale import (
    absent_in,
    fill_children,
    kept_columns,
    mark_stale,
)
from mentorbridge.plugin.store.keys import keyring_of
from mentorbridge.plugin.store.models import Person
from mentorbridge.plugin.store.sync_models import SyncBookmark, SyncRun

__all__ = ["HrisMirror", "record_hash"]


def record_hash(record: dict[str, Any]) -> str:
    """SHA-256 of a record's canonical JSON: equal records, equal hashes."""
    text = json.dumps(record, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()


def _date(value: str | None) -> date | None:
    return date.fromisoformat(value) if value else None


def _moment(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value).astimezone(UTC) if value else None


@dataclass(frozen=True, slots=True)
class _Spec:
    """How one stream maps onto its table."""

    model: type
    key: tuple[str, ...]
    columns: Callable[[dict[str, Any]], dict[str, Any]]


class HrisMirror:
    """The store's HRIS mirror; satisfies :class:`connectors.base.SyncSink`.

    Args:
        store: the store.
        sensitive_fields: the sensitive worker fields an admin enabled (others are dropped
            before anything is stored or hashed).

    Erased workers are skipped unless rehired (:mod:`plugin.privacy.markers`).
    """

    def __init__(self, store: Store, *, sensitive_fields: Sequence[str] = ()) -> None:
        self.store = store
        self.erased = ErasedWorkers(store)
        self.sensitive_fields = tuple(f for f in SENSITIVE_FIELDS if f in sensitive_fields)
        self._hidden = frozenset(SENSITIVE_FIELDS) - set(self.sensitive_fields)
        self._specs = {
            "workers": _Spec(HrisWorker, ("workday_id",), self._worker_columns),
            "organizations": _Spec(HrisOrganization, ("organization_id",), _organization_columns),
            "competencies": _Spec(Competency, ("competency_id",), _competency_columns),
            "competency_assessments": _Spec(
                CompetencyAssessment,
                ("employee_id", "competency_id", "assessed_on", "source"),
                _assessment_columns,
            ),
            "job_profile_competencies": _Spec(
                JobProfile, ("job_profile_id",), _job_profile_columns
            ),
            "succession_plans": _Spec(SuccessionPlan, ("position_id",), _succession_columns),
        }

    # -- runs and bookmarks -----------------------------------------------------------------

    def start_run(self, connector: str, mode: str, dry_run: bool) -> int:
        """Record a new run; runs of this connector still marked running (the caller holds
        the connector's job lease, so none can be) were interrupted by a crash."""
        with self.store.transaction() as session:
            session.execute(
                update(SyncRun)
                .where(SyncRun.connector == connector, SyncRun.status == "running")
                .values(
                    status="failed",
                    finished_at=utc_now(),
                    message="interrupted: the process stopped before the run finished",
                )
            )
            run = SyncRun(connector=connector, mode=mode, dry_run=dry_run, status="running")
            session.add(run)
            session.flush()
            return run.id

    def finish_run(self, run_id: int, report: SyncReport, *, error: str | None) -> None:
        with self.store.transaction() as session:
            run = session.get(SyncRun, run_id)
            run.status = "failed" if error else "succeeded"
            run.finished_at = utc_now()
            run.counts = {name: _counts_dict(c) for name, c in report.counts.items()}
            run.errors = list(report.skips)
            run.message = error
            if not report.dry_run:
                report.consistency = run.consistency = consistency(session)

    def bookmark(self, connector: str, stream: str) -> datetime | None:
        with self.store.reading() as session:
            row = session.get(SyncBookmark, (connector, stream))
        return datetime.fromisoformat(row.value) if row is not None else None

    # -- records ----------------------------------------------------------------------------

    def write(
        self,
        connector: str,
        stream: str,
        records: list[dict[str, Any]],
        *,
        bookmark: datetime | None,
        run_id: int,
        dry_run: bool,
    ) -> StreamCounts:
        spec = self._specs[stream]
        counts = StreamCounts()
        with self.store.transaction(rollback=dry_run) as session:
            if records:
                # Fields the run could not see keep their stored values (plugin.store.hris_stale).
                absent = absent_in(stream, records)
                self._upsert(session, stream, spec, records, counts, run_id, absent)
                mark_stale(session, connector, stream, absent, run_id)
            if bookmark is not None:
                session.merge(
                    SyncBookmark(
                        connector=connector,
                        stream=stream,
                        value=bookmark.isoformat(),
                        updated_at=utc_now(),
                    )
                )
        return counts

    def _upsert(
        self,
        session: Session,
        stream: str,
        spec: _Spec,
        records: list[dict[str, Any]],
        counts: StreamCounts,
        run_id: int,
        absent: set[str],
    ) -> None:
        records = self.erased.filter(session, stream, records, counts)
        if stream == "organizations":  # one identity across WIDs and reference ids
            upsert_organizations(session, records, counts, now=utc_now(), digest=record_hash)
            return
        if stream == "workers":
            records = [self._visible(r) for r in records]
        batch = merge_duplicates(session, stream, records, lambda r: _key(spec, r), counts)
        existing = _existing(session, spec, list(batch), with_status=stream == "workers")
        now = utc_now()
        kept = kept_columns(stream, absent)
        inserts: list[dict[str, Any]] = []
        updates: list[dict[str, Any]] = []
        changed: list[tuple[dict[str, Any], Any]] = []  # (record, existing row or None)
        for key, record in batch.items():
            digest = record_hash(record)
            row = existing.get(key)
            if row is not None and row.record_hash == digest:
                counts.unchanged += 1
                continue
            values = spec.columns(record) | {"record_hash": digest, "updated_at": now}
            if row is None:
                inserts.append(values | {"first_seen_at": now})
            else:
                updates.append({k: v for k, v in values.items() if k not in kept} | {"id": row.id})
            changed.append((record, row))
        counts.created += len(inserts)
        counts.updated += len(updates)
        if stream == "workers":
            self._people(session, inserts, updates, existing)
            events = _status_events(updates, existing, run_id, counts)
            job_changes = _job_changes(updates, existing, run_id, now)
        ids = _insert(session, spec, inserts, with_ids=stream in _CHILDREN)
        if updates:
            session.execute(update(spec.model), updates)
        if stream == "workers":
            if events:
                session.execute(insert(WorkerEvent), events)
            if job_changes:
                session.execute(insert(WorkerChange), job_changes)
        elif stream in _CHILDREN:
            parents = {key: row.id for key, row in existing.items()} | ids
            _replace_children(session, stream, spec, changed, parents, absent)

    # -- workers ----------------------------------------------------------------------------

    def _visible(self, record: dict[str, Any]) -> dict[str, Any]:
        """The record without the sensitive fields nobody enabled."""
        if self._hidden.isdisjoint(record):
            return record
        return {
            k: v
            for k, v in record.items()
            if k not in SENSITIVE_FIELDS or k in self.sensitive_fields
        }

    def _people(
        self,
        session: Session,
        inserts: list[dict[str, Any]],
        updates: list[dict[str, Any]],
        existing: dict[tuple[str, ...], Any],
    ) -> None:
        """Link workers to people: a new worker to the person with their Employee ID (made if
        need be), and keep a known worker's person in step (a rehire may bring a new ID)."""
        found = {}
        if inserts:
            found = dict(
                session.execute(
                    select(Person.worker_id, Person.id).where(
                        Person.worker_id.in_([w["employee_id"] for w in inserts])
                    )
                ).all()
            )
        missing = [w for w in inserts if w["employee_id"] not in found]
        if missing:
            identity = keyring_of(self.store).identity  # the same id in every store
            insert_rows(
                session,
                Person.__table__,
                [
                    {
                        "worker_id": w["employee_id"],
                        "active": w["active"],
                        "opaque_id": identity.opaque_id_for(w["employee_id"]),
                        "created_at": w["updated_at"],
                    }
                    for w in missing
                ],
            )
            found |= dict(
                session.execute(
                    select(Person.worker_id, Person.id).where(
                        Person.worker_id.in_([w["employee_id"] for w in missing])
                    )
                ).all()
            )
        for worker in inserts:
            worker["person_id"] = found[worker["employee_id"]]
        by_id = {row.id: row for row in existing.values()}
        people = [
            {"id": by_id[w["id"]].person_id, "worker_id": w["employee_id"], "active": w["active"]}
            for w in updates
        ]
        new = {m["employee_id"] for m in missing}
        people += [
            {"id": w["person_id"], "active": w["active"]}
            for w in inserts
            if w["employee_id"] not in new
        ]
        if people:
            session.execute(update(Person), people)

    def _worker_columns(self, record: dict[str, Any]) -> dict[str, Any]:
        sensitive = {f: record[f] for f in self.sensitive_fields if record.get(f)}
        return {
            "workday_id": record["workday_id"],
            "employee_id": record["employee_id"],
            "worker_type": record["worker_type"],
            "legal_name": record["legal_name"],
            "preferred_name": record.get("preferred_name"),
            "work_email": record.get("work_email"),
            "business_title": record.get("business_title"),
            "job_profile_id": record.get("job_profile_id"),
            "job_profile": record.get("job_profile"),
            "management_level": record.get("management_level"),
            "supervisory_organization_id": record.get("supervisory_organization_id"),
            "supervisory_organization": record.get("supervisory_organization"),
            "manager_employee_id": record.get("manager_employee_id"),
            "location": record.get("location"),
            "country": record.get("country"),
            "time_zone": record.get("time_zone"),
            "hire_date": _date(record.get("hire_date")),
            "original_hire_date": _date(record.get("original_hire_date")),
            "active": record["active"],
            "termination_date": _date(record.get("termination_date")),
            "additional_jobs": record.get("additional_jobs") or [],
            "source_updated_at": _moment(record.get("last_updated")),
            "sensitive": sensitive or None,
        }


# -- the other streams ------------------------------------------------------------------------


def _key(spec: _Spec, record: dict[str, Any]) -> tuple[str, ...]:
    return tuple(str(record[k]) for k in spec.key)


def _existing(
    session: Session, spec: _Spec, keys: list[tuple[str, ...]], *, with_status: bool
) -> dict[tuple[str, ...], Any]:
    """The stored rows of a batch's keys: id, hash (and, for workers, status and person)."""
    table = spec.model
    columns = [getattr(table, k) for k in spec.key]
    wanted = [table.id, table.record_hash, *columns]
    if with_status:
        wanted += [table.active, table.person_id, *(getattr(table, f) for f in _JOB_FIELDS)]
    values = [
        tuple(_date(v) if k == "assessed_on" else v for k, v in zip(spec.key, key, strict=True))
        for key in keys
    ]
    condition = (
        tuple_(*columns).in_(values) if len(columns) > 1 else columns[0].in_([v[0] for v in values])
    )
    rows = session.execute(select(*wanted).where(condition)).all()
    return {tuple(str(getattr(row, k)) for k in spec.key): row for row in rows}


def _insert(
    session: Session, spec: _Spec, rows: list[dict[str, Any]], *, with_ids: bool
) -> dict[tuple[str, ...], int]:
    """Insert rows in bulk; with ``with_ids``, their new ids by key (RETURNING is slower)."""
    if not rows:
        return {}
    table = spec.model
    if not with_ids:
        insert_rows(session, table.__table__, rows)
        return {}
    returned = session.execute(
        insert(table).returning(
            table.id, *(getattr(table, k) for k in spec.key), sort_by_parameter_order=True
        ),
        rows,
    ).all()
    return {tuple(str(getattr(row, k)) for k in spec.key): row.id for row in returned}


def _status_events(
    updates: list[dict[str, Any]],
    existing: dict[tuple[str, ...], Any],
    run_id: int,
    counts: StreamCounts,
) -> list[dict[str, Any]]:
    """Terminations and rehires among updated workers, as events for the steps that follow."""
    before = {row.id: row.active for row in existing.values()}
    events = []
    for worker in updates:
        was, now = before[worker["id"]], worker["active"]
        if was and not now:
            counts.terminated += 1
            events.append(
                {
                    "worker_id": worker["id"],
                    "kind": "terminated",
                    "effective_on": worker["termination_date"],
                    "sync_run_id": run_id,
                }
            )
        elif not was and now:
            counts.rehired += 1
            events.append(
                {
                    "worker_id": worker["id"],
                    "kind": "rehired",
                    "effective_on": worker["hire_date"],
                    "sync_run_id": run_id,
                }
            )
    return events


#: The worker fields whose changes the mirror logs (:class:`WorkerChange`).
_JOB_FIELDS = ("management_level", "job_profile_id")


def _job_changes(
    updates: list[dict[str, Any]],
    existing: dict[tuple[str, ...], Any],
    run_id: int,
    now: datetime,
) -> list[dict[str, Any]]:
    """Changes of a known value of the logged fields among updated workers (a field the run
    could not see is not in the update, so it never reads as a change)."""
    before = {row.id: row for row in existing.values()}
    changes = []
    for worker in updates:
        row = before[worker["id"]]
        for field in _JOB_FIELDS:
            old = getattr(row, field)
            if field in worker and old is not None and worker[field] != old:
                changes.append(
                    {
                        "worker_id": worker["id"],
                        "field": field,
                        "old_value": old,
                        "new_value": worker[field],
                        "changed_at": worker.get("source_updated_at") or now,
                        "sync_run_id": run_id,
                    }
                )
    return changes


#: Streams whose records carry child rows, replaced whole when the record changes:
#: (child model, parent column, the record's list, child columns from one item).
_CHILDREN: dict[str, tuple[type, str, str, Any]] = {
    "job_profile_competencies": (
        JobProfileCompetency,
        "job_profile_id",
        "competencies",
        lambda item: {
            "competency_id": item["competency_id"],
            "required_level_id": item.get("required_level_id"),
            "required_level": item.get("required_level"),
        },
    ),
    "succession_plans": (
        SuccessionCandidate,
        "plan_id",
        "candidates",
        lambda item: {
            "employee_id": item["employee_id"],
            "readiness_id": item.get("readiness_id"),
            "readiness": item.get("readiness"),
            "top_candidate": item["top_candidate"],
            "temporary_fill": item["temporary_fill"],
        },
    ),
}


#: What identifies a child row within its parent, so a field the run lacked keeps its value.
_ITEM_KEYS = {"job_profile_competencies": "competency_id", "succession_plans": "employee_id"}


def _replace_children(
    session: Session,
    stream: str,
    spec: _Spec,
    changed: list[tuple[dict[str, Any], Any]],
    parents: dict[tuple[str, ...], int],
    absent: set[str] = frozenset(),
) -> None:
    model, parent_column, items, columns = _CHILDREN[stream]
    stale = [row.id for _, row in changed if row is not None]
    children = [
        {parent_column: parents[_key(spec, record)], **columns(item)}
        for record, _ in changed
        for item in record[items]
    ]
    inner = {f.split(".", 1)[1] for f in absent if f.startswith(items + ".")}
    fill_children(session, model, parent_column, _ITEM_KEYS[stream], children, stale, inner)
    if stale:
        session.execute(delete(model).where(getattr(model, parent_column).in_(stale)))
    if children:
        session.execute(insert(model), children)


def _organization_columns(record: dict[str, Any]) -> dict[str, Any]:
    return {
        k: record.get(k)
        for k in (
            "organization_id",
            "name",
            "type",
            "superior_organization_id",
            "manager_employee_id",
        )
    } | {"inactive": record["inactive"]}


def _competency_columns(record: dict[str, Any]) -> dict[str, Any]:
    return {
        "competency_id": record["competency_id"],
        "name": record["name"],
        "category": record.get("category"),
        "scale_id": record.get("scale_id"),
        "levels": sorted(record["levels"], key=lambda level: level["rank"]),
        "inactive": record["inactive"],
    }


def _assessment_columns(record: dict[str, Any]) -> dict[str, Any]:
    return {
        "employee_id": record["employee_id"],
        "competency_id": record["competency_id"],
        "level_id": record["level_id"],
        "level": record.get("level"),
        "assessed_on": _date(record["assessed_on"]),
        "source": record["source"],
        "source_updated_at": _moment(record.get("last_updated")),
    }


def _job_profile_columns(record: dict[str, Any]) -> dict[str, Any]:
    return {"job_profile_id": record["job_profile_id"], "name": record.get("job_profile")}


def _succession_columns(record: dict[str, Any]) -> dict[str, Any]:
    return {
        "position_id": record["position_id"],
        "position": record.get("position"),
        "incumbent_employee_id": record.get("incumbent_employee_id"),
        "source_updated_at": _moment(record.get("last_updated")),
    }


def _counts_dict(counts: StreamCounts) -> dict[str, int]:
    return {name: getattr(counts, name) for name in counts.__slots__}
