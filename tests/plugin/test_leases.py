"""Job leases: one holder at a time; a lease that ran out, or whose holder died, is taken over."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from datetime import timedelta

import pytest
from sqlalchemy import update

from mentorbridge.plugin.errors import ConflictError
from mentorbridge.plugin.store.base import utc_now
from mentorbridge.plugin.store.db import Store
from mentorbridge.plugin.store.leases import hold_lease
from mentorbridge.plugin.store.sync_models import JobLease


def test_a_held_lease_keeps_others_out_until_released(store: Store) -> None:
    with hold_lease(store, "sync:workday"):
        with (
            pytest.raises(ConflictError, match="sync:workday is already running"),
            hold_lease(store, "sync:workday"),
        ):
            pass
        with hold_lease(store, "sync:other"):  # other jobs are not affected
            pass
    with hold_lease(store, "sync:workday"):  # released: free again
        pass


def test_a_lease_that_ran_out_is_taken_over(store: Store) -> None:
    with hold_lease(store, "sync:workday"):
        with store.transaction() as session:
            session.execute(
                update(JobLease).values(
                    expires_at=utc_now() - timedelta(seconds=1), owner="elsewhere:1:abc"
                )
            )
        with hold_lease(store, "sync:workday"):
            pass


def test_a_lease_left_by_a_dead_local_process_is_taken_over(store: Store) -> None:
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    with store.transaction() as session:
        session.add(
            JobLease(
                name="sync:workday",
                owner=f"{socket.gethostname()}:{dead}:x",
                expires_at=utc_now() + timedelta(hours=1),
            )
        )
    with hold_lease(store, "sync:workday"):
        pass
    with store.transaction() as session:
        session.add(
            JobLease(
                name="sync:workday",
                owner=f"{socket.gethostname()}:{os.getpid()}:y",
                expires_at=utc_now() + timedelta(hours=1),
            )
        )
    with pytest.raises(ConflictError), hold_lease(store, "sync:workday"):  # a live holder
        pass


def test_renewing_pushes_the_end_out(store: Store) -> None:
    with hold_lease(store, "sync:workday", ttl=timedelta(minutes=1)) as lease:
        with store.reading() as session:
            before = session.get(JobLease, "sync:workday").expires_at
        lease.ttl = timedelta(minutes=10)
        lease.renew()
        with store.reading() as session:
            after = session.get(JobLease, "sync:workday").expires_at
    assert after - before > timedelta(minutes=8)
