"""The outbox flush job: deliver what is due, every few seconds, for as long as the worker runs."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from mentorbridge.plugin.errors import FatalError
from mentorbridge.xapi.outbox import Flusher, FlushReport

__all__ = ["FlushJob"]

log = logging.getLogger(__name__)


class FlushJob:
    """One flush per run; rows in backoff simply wait for a later run.

    After a fatal answer (refused credentials, a wrong endpoint) the job pauses for
    ``pause_seconds`` instead of asking again at every run: it reports, it does not hammer.

    Args:
        flusher: the flusher (its LRS client and connection pool live as long as the job).
        pause_seconds: how long to stay quiet after a fatal error.
    """

    def __init__(self, flusher: Flusher, *, pause_seconds: float) -> None:
        self.flusher = flusher
        self.pause = timedelta(seconds=pause_seconds)
        self.paused_until: datetime | None = None
        self.last_error: str | None = None

    def __call__(self) -> FlushReport | None:
        now = self.flusher.clock.now()
        if self.paused_until is not None and now < self.paused_until:
            return None
        try:
            report = self.flusher.flush()
        except FatalError as err:
            self.paused_until = now + self.pause
            self.last_error = str(err)
            log.error(
                "outbox flush stopped: %s; next attempt at %s",
                err,
                f"{self.paused_until:%H:%M:%S}Z",
            )
            return None
        self.paused_until = self.last_error = None
        if report.delivered or report.parked or report.transient_failures:
            log.info(
                "outbox flush: %d delivered, %d parked, %d transient failures",
                report.delivered,
                report.parked,
                report.transient_failures,
            )
        else:
            log.debug("outbox flush: nothing delivered")
        return report
