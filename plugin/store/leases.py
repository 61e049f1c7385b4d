"""Job leases: one process at a time runs a given job, across machines sharing the store."""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta

from sqlalchemy import delete, update
from sqlalchemy.exc import IntegrityError

from mentorbridge.plugin.errors import ConflictError
from mentorbridge.plugin.store.base import utc_now
from mentorbridge.plugin.store.db import Store
from mentorbridge.plugin.store.sync_models import JobLease

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


def _dead_local_owner(owner: str) -> bool:
    """Whether ``owner`` was a process on this machine that no longer runs (a crash)."""
    host, _, rest = owner.partition(":")
    pid = rest.partition(":")[0]
    if host != socket.gethostname() or not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


def _acquire(store: Store, name: str, owner: str, ttl: timedelta, now: datetime) -> bool:
    with store.transaction() as session:
        held = session.get(JobLease, name, with_for_update=True)
        if held is None:
            try:
                with session.begin_nested():
                    session.add(JobLease(name=name, owner=owner, expires_at=now + ttl))
            except IntegrityError:
                return False  # another process took it a moment ago
            return True
        if held.expires_at >= now and not _dead_local_owner(held.owner):
            return False
        held.owner, held.expires_at = owner, now + ttl
        return True


@contextmanager
def hold_lease(
    store: Store, name: str, *, ttl: timedelta = timedelta(minutes=15)
) -> Iterator[Lease]:
    """Hold the lease ``name`` for the duration of the block (renew it as work goes on).

    A lease whose time ran out, or whose holder was a process on this machine that has died,
    is taken over: a crash never blocks the next run for long.

    Raises:
        ConflictError: another live process holds it.
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
