"""The Moodle push as a job: one push at a time across instances (a job lease), for the CLI
and for the worker, which pushes after each mapper run."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import timedelta

from mentorbridge.connectors.moodle.push import push
from mentorbridge.connectors.moodle.report import PushReport
from mentorbridge.plugin import compose
from mentorbridge.plugin.config import Config
from mentorbridge.plugin.errors import ConflictError, MentorbridgeError
from mentorbridge.plugin.mapping.file import load_mapping
from mentorbridge.plugin.mapping.run import EvidenceRun
from mentorbridge.plugin.store.db import Store
from mentorbridge.plugin.store.leases import hold_lease

__all__ = ["MoodlePushJob", "push_moodle"]

log = logging.getLogger(__name__)

LEASE = "sync:moodle"
#: Without new evidence, the worker still pushes this often (HRIS changes: joiners, leavers).
QUIET_PUSH_EVERY = timedelta(hours=1)


def push_moodle(
    config: Config,
    store: Store,
    *,
    full: bool = False,
    dry_run: bool = False,
    on_phase: Callable[[str], None] | None = None,
    on_count: Callable[[str, int], None] | None = None,
) -> PushReport:
    """Push to the configured Moodle site once; one push at a time, across processes.

    Raises:
        ConfigError: Moodle is not configured (``moodle.url``, ``moodle.token``) or the mapping
            is invalid.
        ConflictError: another push holds the lease.
        MentorbridgeError: the push had to stop; the run is recorded as failed.
    """
    mapping = load_mapping(config.mapping_file)
    client = compose.moodle_client(config)
    try:
        with hold_lease(store, LEASE) as lease:

            def phase(name: str) -> None:
                lease.renew()
                if on_phase is not None:
                    on_phase(name)

            return push(
                client,
                store,
                compose.moodle_settings(config),
                mapping,
                full=full,
                dry_run=dry_run,
                on_phase=phase,
                on_count=on_count,
            )
    finally:
        client.close()


class MoodlePushJob:
    """The worker's push after a mapper run that changed evidence (and at least hourly);
    failures are logged, the worker goes on (the next push finishes what this one could
    not)."""

    def __init__(self, config: Config, store: Store) -> None:
        self.config, self.store = config, store
        self.last_push: float | None = None

    def after_mapper(self, run: EvidenceRun) -> PushReport | None:
        changed = run.created or run.changed or run.withdrawn
        quiet_for = None if self.last_push is None else time.monotonic() - self.last_push
        if changed or quiet_for is None or quiet_for >= QUIET_PUSH_EVERY.total_seconds():
            return self()
        return None

    def __call__(self) -> PushReport | None:
        self.last_push = time.monotonic()
        try:
            report = push_moodle(self.config, self.store)
        except ConflictError:
            # Another worker sharing the store pushes now: its push carries this evidence.
            log.debug("Moodle push left to the process running one")
            return None
        except MentorbridgeError as err:
            log.error("Moodle push failed: %s", err)
            return None
        written = {phase: dict(c) for phase, c in report.counts.items() if c}
        if report.problems:
            log.warning(
                "Moodle push %s: %d record(s) not written (`mentorbridge sync status`)",
                report.run_id,
                len(report.problems),
            )
        log.info("Moodle push %s: %s", report.run_id, written)
        return report
