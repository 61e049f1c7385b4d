"""Background jobs, run by ``mentorbridge worker`` on APScheduler (never inside web workers)."""

from plugin.jobs.outbox import FlushJob
from plugin.jobs.scheduler import build_scheduler

__all__ = ["FlushJob", "build_scheduler"]
