"""Background jobs, run by ``mentorbridge worker`` on APScheduler (never inside web workers)."""

from plugin.jobs.outbox import FlushJob
from plugin.jobs.scheduler import build_scheduler
from plugin.jobs.sync import SyncJob, sync_workday

__all__ = ["FlushJob", "SyncJob", "build_scheduler", "sync_workday"]
