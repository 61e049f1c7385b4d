"""The HRIS mirror as a sync sink: idempotent upserts, bookmarks and sync runs.

Each stream's records are upserted by primary key. A record whose hash matches the stored row
is left untouched (counted unchanged); a changed one is updated; a new one created. Workers are
linked to a :class:`~plugin.store.models.Person` by their Employee ID (the worker id webhooks
use), so a rehire, even one with a new Employee ID, stays the same person. A worker who turns
inactive is counted as terminated and a :class:`WorkerEvent` is left for the steps that end
pairs and suspend LMS users; one who turns active again is a rehire.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import select, tuple_
from sqlalchemy.orm import Session, selectinload

from connectors.base import StreamCounts, SyncReport
from plugin.store.base import utc_now
from plugin.store.db import Store
from plugin.store.hris_models import (
    Competency,
    CompetencyAssessment,
    HrisOrganization,
    HrisWorker,
    JobProfile,
    JobProfileCompetency,
    SuccessionCandidate,
    SuccessionPlan,
    WorkerEvent,
)
from plugin.store.models import Person
from plugin.store.sync_models import SyncBookmark, SyncRun

__all__ = ["SENSITIVE_FIELDS", "HrisMirror", "record_hash"]

SENSITIVE_FIELDS = ("birth_generation", "gender", "ethnicity")


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
    """

    def __init__(self, store: Store, *, sensitive_fields: Sequence[str] = ()) -> None:
        self.store = store
        self.sensitive_fields = tuple(f for f in SENSITIVE_FIELDS if f in sensitive_fields)
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
        with self.store.transaction() as session:
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
                self._upsert(session, stream, spec, records, counts, run_id)
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
    ) -> None:
        records = [self._visible(r) for r in records] if stream == "workers" else records
        keys = [tuple(r[k] for k in spec.key) for r in records]
        key_columns = [getattr(spec.model, k) for k in spec.key]
        lookup_keys = [_key_values(spec, k) for k in keys]
        query = select(spec.model).where(
            tuple_(*key_columns).in_(lookup_keys)
            if len(spec.key) > 1
            else key_columns[0].in_([k[0] for k in lookup_keys])
        )
        if stream == "workers":
            query = query.options(selectinload(HrisWorker.person))
        existing = {
            tuple(str(getattr(row, k)) for k in spec.key): row for row in session.scalars(query)
        }
        people = self._people(session, records) if stream == "workers" else {}
        for record, key in zip(records, keys, strict=True):
            digest = record_hash(record)
            row = existing.get(tuple(str(v) for v in key))
            if row is not None and row.record_hash == digest:
                counts.unchanged += 1
                continue
            columns = spec.columns(record)
            if row is None:
                row = spec.model(record_hash=digest, **columns)
                session.add(row)
                existing[tuple(str(v) for v in key)] = row
                counts.created += 1
                was_active = None
            else:
                was_active = getattr(row, "active", None)
                for name, value in columns.items():
                    setattr(row, name, value)
                row.record_hash, row.updated_at = digest, utc_now()
                counts.updated += 1
            if stream == "workers":
                self._link_person(session, row, people)
                self._note_status_change(session, row, was_active, counts, run_id)
            elif stream == "job_profile_competencies":
                _replace_requirements(session, row, record)
            elif stream == "succession_plans":
                _replace_candidates(session, row, record)

    # -- workers ----------------------------------------------------------------------------

    def _visible(self, record: dict[str, Any]) -> dict[str, Any]:
        """The record without the sensitive fields nobody enabled."""
        return {
            k: v
            for k, v in record.items()
            if k not in SENSITIVE_FIELDS or k in self.sensitive_fields
        }

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
            "hire_date": _date(record["hire_date"]),
            "original_hire_date": _date(record.get("original_hire_date")),
            "active": record["active"],
            "termination_date": _date(record.get("termination_date")),
            "additional_jobs": record.get("additional_jobs") or [],
            "source_updated_at": _moment(record.get("last_updated")),
            "sensitive": sensitive or None,
        }

    def _people(self, session: Session, records: list[dict[str, Any]]) -> dict[str, Person]:
        ids = {r["employee_id"] for r in records}
        return {
            p.worker_id: p for p in session.scalars(select(Person).where(Person.worker_id.in_(ids)))
        }

    def _link_person(self, session: Session, row: HrisWorker, people: dict[str, Person]) -> None:
        person = row.person if row.person_id is not None else people.get(row.employee_id)
        if person is None:
            person = Person(worker_id=row.employee_id, opaque_id=f"p-{secrets.token_hex(10)}")
            session.add(person)
            people[row.employee_id] = person
        person.worker_id = row.employee_id  # a rehire may bring a new Employee ID
        person.active = row.active
        row.person = person

    def _note_status_change(
        self,
        session: Session,
        row: HrisWorker,
        was_active: bool | None,
        counts: StreamCounts,
        run_id: int,
    ) -> None:
        if was_active is True and not row.active:
            counts.terminated += 1
            session.add(
                WorkerEvent(
                    worker_id=row.id,
                    kind="terminated",
                    effective_on=row.termination_date,
                    sync_run_id=run_id,
                )
            )
        elif was_active is False and row.active:
            counts.rehired += 1
            session.add(
                WorkerEvent(
                    worker_id=row.id, kind="rehired", effective_on=row.hire_date, sync_run_id=run_id
                )
            )


# -- the other streams ------------------------------------------------------------------------


def _key_values(spec: _Spec, key: tuple[Any, ...]) -> tuple[Any, ...]:
    """Key values as the columns hold them (dates for date columns)."""
    return tuple(
        _date(v) if name == "assessed_on" else v for name, v in zip(spec.key, key, strict=True)
    )


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


def _replace_requirements(session: Session, profile: JobProfile, record: dict[str, Any]) -> None:
    session.flush()
    for old in session.scalars(
        select(JobProfileCompetency).where(JobProfileCompetency.job_profile_id == profile.id)
    ):
        session.delete(old)
    session.flush()
    for item in record["competencies"]:
        session.add(
            JobProfileCompetency(
                job_profile_id=profile.id,
                competency_id=item["competency_id"],
                required_level_id=item.get("required_level_id"),
                required_level=item.get("required_level"),
            )
        )


def _replace_candidates(session: Session, plan: SuccessionPlan, record: dict[str, Any]) -> None:
    session.flush()
    for old in session.scalars(
        select(SuccessionCandidate).where(SuccessionCandidate.plan_id == plan.id)
    ):
        session.delete(old)
    session.flush()
    for item in record["candidates"]:
        session.add(
            SuccessionCandidate(
                plan_id=plan.id,
                employee_id=item["employee_id"],
                readiness_id=item.get("readiness_id"),
                readiness=item.get("readiness"),
                top_candidate=item["top_candidate"],
                temporary_fill=item["temporary_fill"],
            )
        )


def _counts_dict(counts: StreamCounts) -> dict[str, int]:
    return {name: getattr(counts, name) for name in counts.__slots__}
