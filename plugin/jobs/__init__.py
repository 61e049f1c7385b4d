"""Background jobs, run by ``mentorbridge worker`` on APScheduler (never inside web workers)."""

from mentorbridge.plugin.jobs.evidence import EvidenceJob, run_mapper
from mentorbridge.plugin.jobs.outbox import FlushJob
from mentorbridge.plugin.jobs.scheduler import build_scheduler
from mentorbridge.plugin.jobs.sync import SyncJob, sync_workday

__all__ = [
    "EvidenceJob",
    "FlushJob",
    "SyncJob",
    "build_scheduler",
    "run_mapper",
    "sync_workday",
]
