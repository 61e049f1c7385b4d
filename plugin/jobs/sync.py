"""HRIS sync as a job: one connector run under a lease, for the CLI and the scheduler alike."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from datetime import datetime

from sqlalchemy import select

from mentorbridge.connectors.base import SyncReport, run_sync
from mentorbridge.plugin import compose
from mentorbridge.plugin.config import Config
from mentorbridge.plugin.errors import ConflictError, MentorbridgeError
from mentorbridge.plugin.jobs.cron import last_firing, workday_schedule
from mentorbridge.plugin.store.base import utc_now
from mentorbridge.plugin.store.db import Store
from mentorbridge.plugin.store.leases import hold_lease
from mentorbridge.plugin.store.sync_models import SyncRun

__all__ = ["SyncJob", "sync_workday"]

log = logging.getLogger(__name__)

#: How often a running sync renews its lease (it lasts 15 minutes): a renewal is a write
#: transaction of its own, too dear to pay once per batch of records.
RENEW_EVERY_SECONDS = 30.0


def sync_workday(
    config: Config,
    store: Store,
    *,
    full: bool = False,
    dry_run: bool = False,
    only: Sequence[str] | None = None,
    on_progress: Callable[[str, int], None] | None = None,
    now: Callable[[], datetime] | None = None,
    unless_run_since: datetime | None = None,
    **connector_options: object,
) -> SyncReport | None:
    """Run the Workday connector once; only one run at a time, across processes. Then
    process the webhook events held for workers this run may have brought in.

    Args:
        unless_run_since: run nothing, and return ``None``, when a sync started at or after
            this moment (checked under the lease, so of several processes asking at once for
            the same firing of a schedule, one runs it).

    Raises:
        ConflictError: another sync holds the lease.
        SyncFailedError: one or more streams failed (the others ran; the run is recorded as
            failed and the error carries its report).
        MentorbridgeError: the store or the configuration failed.
    """
    connector = compose.workday_connector(config, store, **connector_options)
    try:
        with hold_lease(store, "sync:workday") as lease:
            if unless_run_since is not None and _run_since(store, connector.name, unless_run_since):
                return None
            renewed = time.monotonic()

            def progress(stream: str, seen: int) -> None:
                nonlocal renewed
                if time.monotonic() - renewed >= RENEW_EVERY_SECONDS:
                    lease.renew()
                    renewed = time.monotonic()
                if on_progress is not None:
                    on_progress(stream, seen)

            clock = {"now": now} if now is not None else {}
            report = run_sync(
                connector,
                compose.hris_mirror(config, store),
                full=full,
                dry_run=dry_run,
                only=only,
                on_progress=progress,
                max_skipped_share=config["workday"]["max_skipped_share"],
                **clock,
            )
    finally:
        connector.close()
    if not dry_run and (only is None or "workers" in only):
        # Webhook events held for workers the mirror did not know may go through now.
        compose.event_processor(config, store).release_held()
    return report


def _run_since(store: Store, connector: str, moment: datetime) -> bool:
    with store.reading() as session:
        return (
            session.scalar(
                select(SyncRun.id)
                .where(
                    SyncRun.connector == connector,
                    SyncRun.dry_run.is_(False),
                    SyncRun.started_at >= moment,
                )
                .limit(1)
            )
            is not None
        )


class SyncJob:
    """The scheduled incremental sync; failures are logged, the worker goes on.

    Args:
        now: the time (tests pass a fixed one).
    """

    def __init__(
        self, config: Config, store: Store, *, now: Callable[[], datetime] = utc_now
    ) -> None:
        self.config, self.store, self.now = config, store, now

    def scheduled(self) -> SyncReport | None:
        """The run for the latest firing of ``workday.schedule``, unless a sync started since
        that firing: every worker sharing the store fires, one of them runs it."""
        firing = last_firing(workday_schedule(self.config), self.now())
        return self(firing=firing)

    def __call__(self, *, firing: datetime | None = None) -> SyncReport | None:
        """An incremental sync now; with ``firing``, only if no sync started since then."""
        try:
            report = sync_workday(self.config, self.store, unless_run_since=firing)
        except ConflictError as err:
            # Another worker runs this firing (or is still on an earlier one): nothing to do.
            log.info("scheduled Workday sync left to another process: %s", err)
            return None
        except MentorbridgeError as err:
            log.error("scheduled Workday sync failed: %s", err)
            return None
        if report is None:
            log.info(
                "scheduled Workday sync of %s: another process already ran it",
                f"{firing:%Y-%m-%d %H:%M}Z",
            )
            return None
        changes = {
            name: {
                what: getattr(counts, what)
                for what in ("created", "updated", "terminated", "rehired", "skipped")
                if getattr(counts, what)
            }
            for name, counts in report.counts.items()
        }
        changes = {name: counted for name, counted in changes.items() if counted}
        if changes:
            log.info("scheduled Workday sync %s: %s", report.run_id, changes)
        else:  # a night without changes is not news
            seen = sum(counts.seen for counts in report.counts.values())
            log.debug("scheduled Workday sync %s: %d records, none changed", report.run_id, seen)
        return report
