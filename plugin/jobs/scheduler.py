"""The worker's schedule: which job runs when."""

from __future__ import annotations

from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.interval import IntervalTrigger

from plugin.config import Config
from plugin.jobs.outbox import FlushJob

__all__ = ["build_scheduler"]


def build_scheduler(config: Config, *, flush: FlushJob) -> BlockingScheduler:
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
    return scheduler
