"""The worker's schedule: which job runs when."""

from __future__ import annotations

from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from plugin.config import Config
from plugin.errors import ConfigError
from plugin.jobs.outbox import FlushJob
from plugin.jobs.sync import SyncJob

__all__ = ["build_scheduler"]


def build_scheduler(
    config: Config, *, flush: FlushJob, sync: SyncJob | None = None
) -> BlockingScheduler:
    """A scheduler with every job of the worker, not yet started.

    Each job runs one instance at a time; missed runs collapse into one.
    """
    scheduler = BlockingScheduler(timezone="UTC")
    scheduler.add_job(
        flush,
        IntervalTrigger(seconds=config["outbox"]["flush_interval_seconds"]),
        id="outbox-flush",
        name="deliver queued xAPI statements",
        max_instances=1,
        coalesce=True,
    )
    if sync is not None:
        expression = config["workday"]["schedule"]
        try:
            trigger = CronTrigger.from_crontab(expression, timezone="UTC")
        except ValueError as err:
            raise ConfigError(
                f"workday.schedule = {expression!r}: {err}; expected a "
                'five-field cron expression such as "0 2 * * *"',
                key="workday.schedule",
            ) from err
        scheduler.add_job(
            sync,
            trigger,
            id="workday-sync",
            name="sync the HRIS mirror",
            max_instances=1,
            coalesce=True,
            misfire_grace_time=3600,
        )
    return scheduler
