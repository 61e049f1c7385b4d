"""Cron schedules: crontab expressions as APScheduler triggers, and which firing is due.

Several workers may share one store, each with the same schedule: every one of them fires, and
:func:`last_firing` names the firing a run answers, so that only one of them runs it (see
:meth:`plugin.jobs.sync.SyncJob.scheduled`).
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from apscheduler.triggers.cron import CronTrigger

from mentorbridge.plugin.config import Config
from mentorbridge.plugin.errors import ConfigError

__all__ = ["MISFIRE_GRACE_SECONDS", "crontab_trigger", "last_firing", "workday_schedule"]

#: How late a scheduled run may still start (a worker that was busy or asleep).
MISFIRE_GRACE_SECONDS = 3600


def workday_schedule(config: Config) -> CronTrigger:
    """The trigger of ``workday.schedule``.

    Raises:
        ConfigError: naming the key, when it is not a five-field crontab expression.
    """
    expression = config["workday"]["schedule"]
    try:
        return crontab_trigger(expression)
    except ValueError as err:
        raise ConfigError(
            f"workday.schedule = {expression!r}: {err}; expected a "
            'five-field cron expression such as "0 2 * * *"',
            key="workday.schedule",
        ) from err


def last_firing(trigger: CronTrigger, now: datetime) -> datetime:
    """The latest moment, at or before ``now``, at which ``trigger`` fired: the firing a run
    started now answers (the scheduler coalesces missed firings into the latest). ``now``
    itself when it fired none within the misfire grace."""
    moment = now - timedelta(seconds=MISFIRE_GRACE_SECONDS)
    latest = now
    # Passing a previous fire time makes the trigger search from it, not from its start date.
    while (fired := trigger.get_next_fire_time(moment, moment)) is not None and fired <= now:
        latest = moment = fired
    return latest


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
