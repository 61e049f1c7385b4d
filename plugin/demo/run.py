"""``mentorbridge demo``: the whole pipeline on a fresh machine, end to end.

Creates a SQLite store, starts the local LRS, records the sample programme, flushes the outbox,
reads the statements back from the LRS and summarises what arrived.
"""

from __future__ import annotations

import shutil
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from plugin import compose
from plugin.config import Config, load_config
from plugin.demo.participants import pick_pairs
from plugin.demo.sample import SampleSummary, record_sample_programme
from plugin.jobs.sync import sync_workday
from plugin.store.migrate import upgrade
from plugin.store.outbox import SqlOutbox
from xapi import vocab
from xapi.localrs import LocalLRS

__all__ = ["DemoResult", "run_demo"]

_MARKER = ".mentorbridge-demo"
PAIRS = 3


@dataclass
class DemoResult:
    """What the demo did and where it left its data."""

    directory: Path
    store: str
    lrs_statements_file: Path
    recorded: SampleSummary
    delivered: int
    dead_letters: int
    pending: int
    in_lrs_by_verb: Counter[str]


def run_demo(
    directory: Path,
    *,
    config_path: Path | None = None,
    say: Callable[[str], None] = print,
) -> DemoResult:
    """Run the demo in ``directory`` (emptied first if an earlier demo left it there)."""
    _fresh_directory(directory)
    with LocalLRS(directory / "lrs") as lrs:
        say(f"local LRS (Ralph, trials only) listening on {lrs.endpoint}")
        config = _demo_config(directory, lrs, config_path)
        with (
            compose.open_store(config, migrated=False) as store,
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
            participants = pick_pairs(store, PAIRS, today=datetime.now(UTC).date())
            recorded = record_sample_programme(compose.recorder(config, store), participants)
            say(
                f"recorded {recorded.pairs} pairs, {recorded.sessions} sessions "
                f"({recorded.cancelled} retracted), {recorded.statements} statements queued"
            )
            report = compose.flusher(config, store, client).flush()
            say(f"flushed: {report.delivered} delivered in {report.requests} request(s)")
            by_verb: Counter[str] = Counter()
            for registration in recorded.registrations:
                for statement in client.statements(registration=registration, limit=100):
                    verb = statement["verb"]["id"]
                    by_verb[vocab.VERB_DISPLAY.get(verb, verb)] += 1
            final = SqlOutbox(store).status(now=datetime.now(UTC))
    return DemoResult(
        directory=directory,
        store=str(directory / "mentorbridge.sqlite3"),
        lrs_statements_file=lrs.statements_file,
        recorded=recorded,
        delivered=final.delivered,
        dead_letters=final.dead,
        pending=final.pending,
        in_lrs_by_verb=by_verb,
    )


def _fresh_directory(directory: Path) -> None:
    if directory.exists():
        if not (directory / _MARKER).exists() and any(directory.iterdir()):
            raise FileExistsError(
                f"{directory} exists and was not made by `mentorbridge demo`; choose another --dir"
            )
        shutil.rmtree(directory)
    directory.mkdir(parents=True)
    (directory / _MARKER).write_text("made by `mentorbridge demo`; safe to delete\n", "utf-8")


def _demo_config(directory: Path, lrs: LocalLRS, config_path: Path | None) -> Config:
    return load_config(
        config_path,
        overrides={
            "store.url": f"sqlite:///{directory / 'mentorbridge.sqlite3'}",
            "workday.source": "sample",
            "lrs.endpoint": lrs.endpoint,
            "lrs.auth": "basic",
            "lrs.username": lrs.username,
            "lrs.password_file": str(lrs.password_file),
        },
    )
