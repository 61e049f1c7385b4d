"""``mentorbridge demo``: the whole pipeline on a fresh machine, end to end.

Creates a SQLite store, starts the local LRS, loads the sample Workday tenant into the HRIS
mirror, serves the webhook service on 127.0.0.1 and posts a sample programme to it over HTTP,
signed, as a programme's tools would. Then it flushes the outbox to the LRS, reads the
statements back, and opens one executive's transcript through a signed link. Last, the mapper
turns the programme into competency evidence (its statements flushed too), and the succession
report shows it beside what the plans' positions require, as a summary and as an HTML file,
and the programme is pushed to a local Moodle-shaped site: participants as users, the succession
framework, learning plans with the evidence as ratings, and the milestones completed.
"""

from __future__ import annotations

import secrets
import shutil
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import select

from mentorbridge.connectors.moodle.localsite import LocalMoodleSite
from mentorbridge.connectors.moodle.report import PushReport
from mentorbridge.plugin import compose
from mentorbridge.plugin.config import Config, load_config
from mentorbridge.plugin.demo.delivery import Handled, Progress, post_programme, serving
from mentorbridge.plugin.demo.lms import LearnerPlan, moodle_overrides, read_learner_plan
from mentorbridge.plugin.demo.participants import pair_participants
from mentorbridge.plugin.demo.sample import programme_start, sample_programme
from mentorbridge.plugin.demo.talent import (
    PlanLine,
    map_evidence,
    succession_summary,
    write_report,
)
from mentorbridge.plugin.jobs.moodle import push_moodle
from mentorbridge.plugin.jobs.sync import sync_workday
from mentorbridge.plugin.mapping.file import load_mapping
from mentorbridge.plugin.mapping.run import EvidenceRun
from mentorbridge.plugin.reports.transcript_links import LinkSigner
from mentorbridge.plugin.store.db import Store
from mentorbridge.plugin.store.migrate import upgrade
from mentorbridge.plugin.store.models import Pair
from mentorbridge.plugin.store.outbox import SqlOutbox
from mentorbridge.plugin.web import create_app
from mentorbridge.plugin.webhooks.sender import EventSender
from mentorbridge.xapi import vocab
from mentorbridge.xapi.localrs import LocalLRS
from mentorbridge.xapi.lrs import LRSClient

__all__ = ["DemoResult", "run_demo"]

_MARKER = ".mentorbridge-demo"
_STORE_FILE = "mentorbridge.sqlite3"
PAIRS = 20


@dataclass
class DemoResult:
    """What the demo did and where it left its data."""

    directory: Path
    store: str
    lrs_statements_file: Path
    handled: Handled
    delivered: int
    dead_letters: int
    pending: int
    in_lrs_by_verb: Counter[str]
    transcript_url: str
    transcript: dict[str, Any]
    evidence: EvidenceRun
    plans: list[PlanLine]
    report_file: Path
    report_rows: int
    moodle_url: str
    moodle: PushReport
    learner_plan: LearnerPlan | None


def run_demo(
    directory: Path,
    *,
    config_path: Path | None = None,
    say: Callable[[str], None] = print,
    progress: Progress | None = None,
    then: Callable[[DemoResult], None] = lambda _result: None,
) -> DemoResult:
    """Run the demo in ``directory`` (emptied first if an earlier demo left it there).

    ``progress`` hears how many of the programme's deliveries are done. ``then`` is called
    with the result while the service and the LRS still run (to report, or to keep serving
    until the user stops it).
    """
    _fresh_directory(directory)
    with LocalLRS(directory / "lrs") as lrs, LocalMoodleSite() as moodle_site:
        say(f"local LRS (Ralph, trials only) listening on {lrs.endpoint}")
        say(f"local Moodle-shaped site (trials only) listening on {moodle_site.url}")
        config = _demo_config(directory, lrs, config_path, moodle_overrides(moodle_site, directory))
        with (
            compose.open_store(config, migrated=False, create=True) as store,
            compose.lrs_client(config) as client,
        ):
            upgrade(store)
            say(f"store created: {store.describe()}")
            synced = sync_workday(config, store)
            workers = synced.counts["workers"]
            say(
                f"HRIS mirror loaded from the sample Workday tenant: {workers.created} workers, "
                + ", ".join(
                    f"{c.created} {name.replace('_', ' ')}"
                    for name, c in synced.counts.items()
                    if name != "workers"
                )
            )
            now = datetime.now(UTC)
            paired = pair_participants(
                store,
                compose.event_processor(config, store),
                PAIRS,
                today=now.date(),
                started_on=programme_start(now).date(),
            )
            participants = paired.pairs
            say(
                f"pairing: {paired.proposed} pairs proposed pool-wide from "
                f"{paired.eligible_mentees} executives and {paired.eligible_mentors} junior "
                f"mentors, none inside a reporting line; the best {len(participants)} approved "
                f"(mean score {paired.mean_score:.1f} of 100) as pair.created events"
            )
            programme = sample_programme(participants, now=now)
            app = create_app(config, store=store, lrs=client)
            with serving(app) as service:
                say(f"webhook service listening on {service} (Flask, in this process)")
                say(
                    f"posting {len(programme.events)} signed events for {len(participants)} "
                    "pairs to /webhooks/v1/events …"
                )
                with EventSender(service, [config["web"]["signing_secret"]]) as sender:
                    handled = post_programme(sender, programme, progress=progress)
                report = compose.flusher(config, store, client).flush()
                say(f"flushed: {report.delivered} delivered in {report.requests} request(s)")
                mapping = load_mapping(config.mapping_file)
                evidence = map_evidence(store, mapping, compose.statement_builder(config))
                mapped = compose.flusher(config, store, client).flush()
                say(
                    f"mapper ({mapping.source} mapping): {evidence.created} competency "
                    f"evidence records for {evidence.people} people, {mapped.delivered} "
                    "competency-level statements delivered"
                )
                report_file, report_rows = write_report(store, mapping, directory)
                pushed = push_moodle(config, store)
                say(f"pushed to Moodle: {_pushed(pushed)}")
                with compose.moodle_client(config) as moodle:
                    learner_plan = read_learner_plan(moodle, programme.learner)
                by_verb = _statements_by_verb(client, _registrations(store))
                final = SqlOutbox(store).status(now=datetime.now(UTC))
                signer = LinkSigner(config["web"]["link_secret"], 3600)
                url, _expires = signer.link(service, programme.learner, now=time.time())
                page = httpx.get(url, headers={"Accept": "application/json"})
                page.raise_for_status()
                result = DemoResult(
                    directory=directory,
                    store=str(directory / _STORE_FILE),
                    lrs_statements_file=lrs.statements_file,
                    handled=handled,
                    delivered=final.delivered,
                    dead_letters=final.dead,
                    pending=final.pending,
                    in_lrs_by_verb=by_verb,
                    transcript_url=url,
                    transcript=page.json(),
                    evidence=evidence,
                    plans=succession_summary(store, mapping),
                    report_file=report_file,
                    report_rows=report_rows,
                    moodle_url=moodle_site.url,
                    moodle=pushed,
                    learner_plan=learner_plan,
                )
                then(result)
    return result


def _registrations(store: Store) -> list[str]:
    with store.reading() as session:
        return list(session.scalars(select(Pair.registration)))


def _statements_by_verb(client: LRSClient, registrations: list[str]) -> Counter[str]:
    by_verb: Counter[str] = Counter()
    for registration in registrations:
        for statement in client.statements(registration=registration, limit=100):
            verb = statement["verb"]["id"]
            by_verb[vocab.VERB_DISPLAY.get(verb, verb)] += 1
    return by_verb


def _fresh_directory(directory: Path) -> None:
    if directory.exists():
        if not (directory / _MARKER).exists() and any(directory.iterdir()):
            raise FileExistsError(
                f"{directory} exists and was not made by `mentorbridge demo`; choose another --dir"
            )
        shutil.rmtree(directory)
    directory.mkdir(parents=True)
    (directory / _MARKER).write_text("made by `mentorbridge demo`; safe to delete\n", "utf-8")


def _pushed(report: PushReport) -> str:
    counts = report.counts
    made = ", ".join(
        f"{counts[phase][what]} {label}"
        for phase, what, label in (
            ("users", "created", "users created"),
            ("framework", "competencies_created", "competencies in the framework"),
            ("enrolments", "enrolled", "enrolled in the course"),
            ("plans", "created", "learning plans"),
            ("evidence", "written", "ratings with notes"),
            ("milestones", "completed", "milestones completed"),
        )
    )
    return f"{made} ({sum(report.calls.values())} web service calls)"


def _demo_config(
    directory: Path, lrs: LocalLRS, config_path: Path | None, moodle: dict[str, Any]
) -> Config:
    return load_config(
        config_path,
        overrides={
            **moodle,
            "store.url": f"sqlite:///{directory / _STORE_FILE}",
            "workday.source": "sample",
            "lrs.endpoint": lrs.endpoint,
            "lrs.auth": "basic",
            "lrs.username": lrs.username,
            "lrs.password_file": str(lrs.password_file),
            # Fresh secrets for every demo: the service checks every event's signature.
            "web.signing_secret": secrets.token_urlsafe(32),
            "web.link_secret": secrets.token_urlsafe(32),
        },
    )
