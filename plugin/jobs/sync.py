"""HRIS sync as a job: one connector run under a lease, for the CLI and the scheduler alike."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from datetime import datetime

from mentorbridge.connectors.base import SyncReport, run_sync
from mentorbridge.plugin import compose
from mentorbridge.plugin.config import Config
from mentorbridge.plugin.errors import MentorbridgeError
from mentorbridge.plugin.store.db import Store
from mentorbridge.plugin.store.leases import hold_lease

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
    **connector_options: object,
) -> SyncReport:
    """Run the Workday connector once; only one run at a time, across processes. Then
    process the webhook events held for workers this run may have brought in.

    Raises:
        ConflictError: another sync holds the lease.
        SyncFailedError: one or more streams failed (the others ran; the run is recorded as
            failed and the error carries its report).
        MentorbridgeError: the store or the configuration failed.
    """
    connector = compose.workday_connector(config, store, **connector_options)
    try:
        with hold_lease(store, "sync:workday") as lease:
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


class SyncJob:
    """The scheduled incremental sync; failures are logged, the worker goes on."""

    def __init__(self, config: Config, store: Store) -> None:
        self.config, self.store = config, store

    def __call__(self) -> SyncReport | None:
        try:
            report = sync_workday(self.config, self.store)
        except MentorbridgeError as err:
            log.error("scheduled Workday sync failed: %s", err)
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
