"""The mapper as a job: one evidence run under a lease, for the CLI and the scheduler alike."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from mentorbridge.plugin import compose
from mentorbridge.plugin.config import Config
from mentorbridge.plugin.errors import ConflictError, MentorbridgeError
from mentorbridge.plugin.mapping.file import load_mapping
from mentorbridge.plugin.mapping.run import EvidenceRun, update_evidence
from mentorbridge.plugin.store.db import Store
from mentorbridge.plugin.store.leases import hold_lease

__all__ = ["EvidenceJob", "run_mapper"]

log = logging.getLogger(__name__)

#: The lease two mapper runs never hold at once (their writes would collide).
LEASE = "mapper:evidence"
#: How often the scheduled job recomputes everyone.
FULL_EVERY = timedelta(days=1)


def run_mapper(
    config: Config,
    store: Store,
    *,
    full: bool = False,
    now: datetime | None = None,
    full_every: timedelta | None = None,
) -> EvidenceRun:
    """Update the evidence with the configured mapping (``mapping.file``, else the shipped
    default), queueing its statements; one run at a time, across processes. ``full_every``:
    see :func:`~plugin.mapping.run.update_evidence`.

    Raises:
        MappingError: the mapping file is invalid (a :class:`ConfigError`).
        ConflictError: another run holds the lease.
    """
    mapping = load_mapping(config.mapping_file)
    builder = compose.statement_builder(config)
    with hold_lease(store, LEASE):
        return update_evidence(
            store, mapping, now=now, full=full, builder=builder, full_every=full_every
        )


class EvidenceJob:
    """The scheduled run: recomputes whoever events touched since the last one, and everyone
    once a day (so decay and the recency window reach people no event touched). Failures are
    logged; the worker goes on (the marks wait for the next run)."""

    def __init__(
        self,
        config: Config,
        store: Store,
        *,
        after: Callable[[EvidenceRun], object] | None = None,
    ) -> None:
        self.config, self.store = config, store
        self.after = after  # what follows each run (the Moodle push)

    def __call__(self) -> EvidenceRun | None:
        try:
            result = run_mapper(self.config, self.store, full_every=FULL_EVERY)
        except ConflictError:
            # Another worker sharing the store runs it now: its run covers these events.
            log.debug("evidence update left to the process running one")
            return None
        except MentorbridgeError as err:
            log.error("evidence update failed: %s", err)
            return None
        if self.after is not None:
            self.after(result)
        if result.created or result.changed or result.withdrawn:
            log.info(
                "evidence update: %d people, %d created, %d changed, %d withdrawn, "
                "%d statements queued",
                result.people,
                result.created,
                result.changed,
                result.withdrawn,
                result.statements,
            )
        return result
