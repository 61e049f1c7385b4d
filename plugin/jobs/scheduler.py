"""The worker's schedule: which job runs when."""

from __future__ import annotations

from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.interval import IntervalTrigger

from mentorbridge.plugin.config import Config
from mentorbridge.plugin.jobs.cron import MISFIRE_GRACE_SECONDS, crontab_trigger, workday_schedule
from mentorbridge.plugin.jobs.evidence import EvidenceJob
from mentorbridge.plugin.jobs.outbox import FlushJob
from mentorbridge.plugin.jobs.sync import SyncJob

__all__ = ["build_scheduler", "crontab_trigger"]


def build_scheduler(
    config: Config,
    *,
    flush: FlushJob,
    sync: SyncJob | None = None,
    evidence: EvidenceJob | None = None,
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
    if evidence is not None:
        scheduler.add_job(
            evidence,
            IntervalTrigger(seconds=config["mapping"]["update_interval_seconds"]),
            id="evidence-update",
            name="update competency evidence for the people events touched",
            max_instances=1,
            coalesce=True,
        )
    if sync is not None:
        trigger = workday_schedule(config)
        scheduler.add_job(
            sync.scheduled,
            trigger,
            id="workday-sync",
            name="sync the HRIS mirror",
            max_instances=1,
            coalesce=True,
            misfire_grace_time=MISFIRE_GRACE_SECONDS,
        )
    return scheduler
