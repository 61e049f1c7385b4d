"""Erasure markers: an erased worker's identifiers kept only as keyed hashes, so the HRIS sync
recognises them without the store holding who they were.

The hash is HMAC-SHA256 under the installation identity key (:mod:`plugin.keyring`, the key
behind opaque ids) with a label of its own, so a marker is never equal to the worker's opaque
id and cannot be recomputed from the store alone.

The HRIS sink (:class:`~plugin.store.hris.HrisMirror`) passes every batch of the streams
that name workers through :meth:`ErasedWorkers.filter`: an erased worker's record is skipped,
with their competency assessments and succession candidacies, unless the record's hire date
lies after the erasure — a rehire, who then comes back as a new person (and the marker is
dropped).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import date, datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from mentorbridge.connectors.base import StreamCounts
from mentorbridge.plugin.privacy.models import ErasureMarker
from mentorbridge.plugin.store.db import Store

__all__ = ["ErasedWorkers", "marker_hash", "marker_key"]

_LABEL = b"mentorbridge/erasure-marker/v1"


def marker_key(store: Store) -> bytes:
    """The installation identity key of ``store``, as bytes.

    Raises:
        KeyringError: no keys are configured (a :class:`~plugin.errors.ConfigError`).
    """
    # Imported on first use: a sync that meets no erasure never reads the keys.
    from mentorbridge.plugin.store.keys import keyring_of

    return base64.urlsafe_b64decode(keyring_of(store).identity_key.encode("ascii"))


def marker_hash(key: bytes, kind: str, identifier: str) -> str:
    """The keyed hash of one of a worker's identifiers (``kind``: ``employee`` or ``workday``)."""
    message = _LABEL + b"\x00" + kind.encode() + b"\x00" + identifier.encode("utf-8")
    return hmac.new(key, message, hashlib.sha256).hexdigest()


class ErasedWorkers:
    """Keeps erased workers' records out of the HRIS mirror.

    Args:
        store: the store; its identity key is read only once somebody has been erased.
    """

    def __init__(self, store: Store) -> None:
        self.store = store
        self.key = b""

    def filter(
        self,
        session: Session,
        stream: str,
        records: list[dict[str, Any]],
        counts: StreamCounts,
    ) -> list[dict[str, Any]]:
        """``records`` without what belongs to an erased worker (counted as skipped)."""
        if stream not in _STREAMS or not records:
            return records
        rows = session.execute(
            select(ErasureMarker.employee_hash, ErasureMarker.workday_hash, ErasureMarker.erased_at)
        ).all()
        if not rows:
            return records
        self.key = self.key or marker_key(self.store)
        markers = {row.employee_hash: row.erased_at for row in rows}
        if stream == "workers":
            by_workday = {row.workday_hash: row for row in rows if row.workday_hash}
            kept = self._workers(session, records, markers, by_workday)
        elif stream == "competency_assessments":
            kept = [r for r in records if self._employee(r["employee_id"]) not in markers]
        else:  # succession plans: drop erased candidates, keep the plan
            kept = [self._plan(record, markers) for record in records]
        counts.skipped += len(records) - len(kept)
        return kept

    def _employee(self, employee_id: str | None) -> str | None:
        return marker_hash(self.key, "employee", employee_id) if employee_id else None

    def _workers(
        self,
        session: Session,
        records: list[dict[str, Any]],
        markers: dict[str, datetime],
        by_workday: dict[str, Any],
    ) -> list[dict[str, Any]]:
        """Erased workers are known by Employee ID, or by Workday ID should that change."""
        kept, rehired = [], []
        for record in records:
            digest = self._employee(record["employee_id"])
            erased_at = markers.get(digest)
            if erased_at is None:
                found = by_workday.get(marker_hash(self.key, "workday", record["workday_id"]))
                if found is not None:
                    digest, erased_at = found.employee_hash, found.erased_at
            if erased_at is None:
                kept.append(record)
            elif record.get("hire_date") and date.fromisoformat(record["hire_date"]) > (
                erased_at.date()
            ):
                kept.append(record)  # rehired after the erasure: a new person from now on
                rehired.append(digest)
        if rehired:
            session.execute(delete(ErasureMarker).where(ErasureMarker.employee_hash.in_(rehired)))
        return kept

    def _plan(self, record: dict[str, Any], markers: dict[str, datetime]) -> dict[str, Any]:
        candidates = [
            c for c in record["candidates"] if self._employee(c["employee_id"]) not in markers
        ]
        if len(candidates) == len(record["candidates"]):
            return record
        return record | {"candidates": candidates}


#: The streams whose records name a worker by Employee ID.
_STREAMS = frozenset({"workers", "competency_assessments", "succession_plans"})
