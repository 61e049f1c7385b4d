"""Job leases: one process at a time runs a given job, across machines sharing the store."""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta

from sqlalchemy import delete, insert, update
from sqlalchemy.exc import IntegrityError

from plugin.errors import ConflictError
from plugin.store.base import utc_now
from plugin.store.db import Store
from plugin.store.sync_models import JobLease

__all__ = ["Lease", "hold_lease"]


class Lease:
    """A held lease; :meth:`renew` pushes its end further out."""

    def __init__(self, store: Store, name: str, owner: str, ttl: timedelta) -> None:
        self.store, self.name, self.owner, self.ttl = store, name, owner, ttl

    def renew(self) -> None:
        with self.store.transaction() as session:
            session.execute(
                update(JobLease)
                .where(JobLease.name == self.name, JobLease.owner == self.owner)
                .values(expires_at=utc_now() + self.ttl)
            )


def _acquire(store: Store, name: str, owner: str, ttl: timedelta, now: datetime) -> bool:
    with store.transaction() as session:
        taken = session.execute(
            update(JobLease)
            .where(JobLease.name == name, JobLease.expires_at < now)
            .values(owner=owner, expires_at=now + ttl)
        ).rowcount
        if taken:
            return True
        try:
            with session.begin_nested():
                session.execute(
                    insert(JobLease).values(name=name, owner=owner, expires_at=now + ttl)
                )
        except IntegrityError:
            return False
        return True


@contextmanager
def hold_lease(store: Store, name: str, *, ttl: timedelta = timedelta(hours=1)) -> Iterator[Lease]:
    """Hold the lease ``name`` for the duration of the block.

    Raises:
        ConflictError: another process holds it (and its lease has not run out).
    """
    owner = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
    if not _acquire(store, name, owner, ttl, utc_now()):
        with store.reading() as session:
            held = session.get(JobLease, name)
        until = f" until {held.expires_at:%Y-%m-%d %H:%M:%S}Z" if held else ""
        raise ConflictError(
            f"{name} is already running ({held.owner if held else '?'}"
            f"{until}); wait for it to finish"
        )
    try:
        yield Lease(store, name, owner, ttl)
    finally:
        with store.transaction() as session:
            session.execute(delete(JobLease).where(JobLease.name == name, JobLease.owner == owner))
