"""The worker's schedule: which job runs when."""

from __future__ import annotations

import re

from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from mentorbridge.plugin.config import Config
from mentorbridge.plugin.errors import ConfigError
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
        expression = config["workday"]["schedule"]
        try:
            trigger = crontab_trigger(expression)
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


_WEEKDAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")


def crontab_trigger(expression: str) -> CronTrigger:
    """A trigger for a standard five-field crontab expression, in UTC.

    APScheduler 3 counts weekdays from Monday = 0 where crontab has Sunday = 0 (or 7), so
    numeric weekdays are translated to names first: ``1-5`` stays Monday to Friday.

    Raises:
        ValueError: the expression is not a valid crontab expression.
    """
    fields = expression.split()
    if len(fields) != 5:
        raise ValueError(f"it has {len(fields)} fields, a crontab expression has 5")
    minute, hour, day, month, weekday = fields
    return CronTrigger(
        minute=minute,
        hour=hour,
        day=day,
        month=month,
        day_of_week=_crontab_weekdays(weekday),
        timezone="UTC",
    )


def _crontab_weekdays(field: str) -> str:
    if field == "*" or not re.fullmatch(r"[0-7*,/-]+", field):
        return field  # names (mon-fri) mean the same to both
    days: set[int] = set()
    for part in field.split(","):
        span, _, step = part.partition("/")
        if span == "*":
            start, end = 0, 6
        elif "-" in span:
            start, end = (int(n) for n in span.split("-", 1))
        else:
            start = int(span)
            end = 6 if step else start
        days.update(d % 7 for d in range(start, end + 1, int(step) if step else 1))
    return ",".join(_WEEKDAYS[d] for d in sorted(days))
