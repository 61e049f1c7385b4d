"""``mentorbridge worker``: the background jobs."""

from __future__ import annotations

import signal

import click

from mentorbridge.plugin import compose
from mentorbridge.plugin.cli import AppContext, pass_app
from mentorbridge.plugin.jobs import EvidenceJob, FlushJob, SyncJob, build_scheduler
from mentorbridge.plugin.jobs.lti import LtiScoresJob
from mentorbridge.plugin.jobs.moodle import MoodlePushJob
from mentorbridge.plugin.logs import configure_from
from mentorbridge.plugin.mapping.run import EvidenceRun
from mentorbridge.plugin.store.keys import keyring_of


@click.command("worker")
@pass_app
def command(app: AppContext) -> None:
    """Run the background jobs (outbox flush every outbox.flush_interval_seconds) until stopped."""
    config = app.config
    configure_from(config, service=True)
    with compose.lrs_client(config) as lrs, compose.open_store(config) as store:
        keyring_of(store)  # the sync gives new people their opaque ids: keys must be readable
        job = FlushJob(
            compose.flusher(config, store, lrs),
            pause_seconds=config["outbox"]["backoff_max_seconds"],
        )
        followers = [LtiScoresJob(config, store)]
        if config["moodle"]["url"]:
            followers.append(MoodlePushJob(config, store))

        def after_mapper(run: EvidenceRun) -> None:
            for follower in followers:
                follower.after_mapper(run)

        evidence = EvidenceJob(config, store, after=after_mapper)
        scheduler = build_scheduler(
            config, flush=job, sync=SyncJob(config, store), evidence=evidence
        )
        signal.signal(signal.SIGTERM, lambda *_: scheduler.shutdown(wait=False))
        click.echo(
            f"worker running: outbox flush every "
            f"{config['outbox']['flush_interval_seconds']:g}s to {lrs.endpoint}, "
            f"Workday sync on '{config['workday']['schedule']}' (UTC), evidence update every "
            f"{config['mapping']['update_interval_seconds']:g}s "
            "(Ctrl-C or SIGTERM stops it)"
        )
        job()  # at once, not only after the first interval
        try:
            scheduler.start()
        except KeyboardInterrupt:
            scheduler.shutdown(wait=False)
