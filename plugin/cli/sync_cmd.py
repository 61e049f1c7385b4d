"""``mentorbridge sync workday | moodle | status``."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import click
from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from sqlalchemy import select

from mentorbridge.connectors.moodle.client import is_read_function
from mentorbridge.connectors.workday.connector import STREAM_ORDER
from mentorbridge.plugin import compose
from mentorbridge.plugin.cli import AppContext, pass_app
from mentorbridge.plugin.errors import SyncFailedError
from mentorbridge.plugin.jobs.moodle import push_moodle
from mentorbridge.plugin.jobs.sync import sync_workday
from mentorbridge.plugin.store.hris_stale import stale_fields
from mentorbridge.plugin.store.sync_models import SyncRun

COUNT_NAMES = ("created", "updated", "unchanged", "terminated", "rehired", "skipped")


@click.group("sync")
def command() -> None:
    """Mirror the HRIS into the store; push to the LMS."""


@command.command("workday")
@click.option("--full", is_flag=True, help="Read everything, not only what changed.")
@click.option("--dry-run", is_flag=True, help="Count what would change; write nothing.")
@click.option(
    "--stream",
    "streams",
    multiple=True,
    type=click.Choice(STREAM_ORDER),
    help="Sync only this stream (repeatable).",
)
@pass_app
def workday(app: AppContext, full: bool, dry_run: bool, streams: tuple[str, ...]) -> None:
    """Sync workers, organisations, competencies and succession plans from Workday.

    Every stream runs even when one fails; the run then exits 1 naming the failed streams.
    """
    config = app.config
    failure: SyncFailedError | None = None
    with compose.open_store(config) as store, _progress() as on_progress:
        try:
            report = sync_workday(
                config,
                store,
                full=full,
                dry_run=dry_run,
                only=list(streams) or None,
                on_progress=on_progress,
            )
        except SyncFailedError as err:  # the report still says what every stream did
            failure, report = err, err.report
        with store.reading() as session:
            stale = stale_fields(session, "workday")
    title = "dry run: nothing written" if dry_run else f"sync run {report.run_id}"
    click.echo(f"{title} ({report.mode})")
    _print_counts({name: vars_of(c) for name, c in report.counts.items()})
    for skip in report.skips[:20]:
        click.echo(f"  skipped {skip['stream']} {skip['key']}: {skip['reason']}")
    if len(report.skips) > 20:
        click.echo(f"  … {len(report.skips) - 20} more in `mentorbridge sync status`")
    for stream in report.reasons:
        click.echo(f"  {stream} skipped, by reason: {report.reasons_text(stream, limit=10)}")
    for note in report.notes:
        click.echo(f"  note: {note}")
    for stream, why in report.failed.items():
        click.echo(f"  FAILED {stream}: {why}")
    if failure is not None:
        raise failure  # one line on stderr, exit 1
    _print_consistency(report.consistency)
    _print_stale(stale)


@command.command("moodle")
@click.option("--full", is_flag=True, help="Read everything back from Moodle and repair it.")
@click.option("--dry-run", is_flag=True, help="Count what would be written; write nothing.")
@pass_app
def moodle(app: AppContext, full: bool, dry_run: bool) -> None:
    """Push participants, the competency framework, plans, evidence and milestones to Moodle.

    Exits 1 when records could not be written (each listed with the fix); a re-run finishes
    what a failed push left, without writing anything twice.
    """
    config = app.config
    with compose.open_store(config) as store, _progress() as on_progress:
        report = push_moodle(
            config,
            store,
            full=full,
            dry_run=dry_run,
            on_phase=lambda p: on_progress(p, 0),
            on_count=on_progress,
        )
    title = "dry run: nothing written" if dry_run else f"sync run {report.run_id}"
    click.echo(f"{title} ({'full' if full else 'incremental'})")
    _print_push_counts({**report.counts_dict(), "calls": dict(report.calls)})
    for warning in report.warnings[:10]:
        click.echo(f"  Moodle warning: {warning}")
    for problem in report.problems[:20]:
        click.echo(f"  NOT WRITTEN {problem.phase} {problem.record}: {problem.message}")
    if len(report.problems) > 20:
        click.echo(f"  … {len(report.problems) - 20} more in `mentorbridge sync status`")
    if report.problems:
        raise SystemExit(1)


def _print_push_counts(counts: dict[str, dict[str, int]]) -> None:
    """A Moodle push's counts per phase, and its HTTP calls as reads and writes."""
    for phase, counted in counts.items():
        if phase != "calls":
            listed = ", ".join(f"{what} {n:,}" for what, n in sorted(counted.items()))
            click.echo(f"  {phase:<11} {listed}")
    calls = counts.get("calls", {})
    writes = sum(n for name, n in calls.items() if not is_read_function(name))
    click.echo(f"  calls       {sum(calls.values()) - writes:,} reads, {writes:,} writes")


def vars_of(counts: object) -> dict[str, int]:
    return {name: getattr(counts, name) for name in COUNT_NAMES}


@contextmanager
def _progress() -> Iterator[Callable[[str, int], None]]:
    progress = Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        TimeElapsedColumn(),
        console=Console(stderr=True),
        transient=True,
    )
    tasks: dict[str, int] = {}
    with progress:

        def update(stream: str, seen: int) -> None:
            if stream not in tasks:
                tasks[stream] = progress.add_task(stream)
            progress.update(tasks[stream], description=f"{stream}: {seen:,} records")

        yield update


def _print_counts(counts: dict[str, dict[str, int]]) -> None:
    click.echo(f"  {'stream':<26}" + "".join(f"{name:>11}" for name in COUNT_NAMES))
    for stream, values in counts.items():
        click.echo(f"  {stream:<26}" + "".join(f"{values.get(n, 0):>11,}" for n in COUNT_NAMES))


#: What the consistency check found, how to say it, and what to do about it.
_UNRESOLVED = (
    (
        "unknown_organization",
        "active worker(s) point at an organisation the mirror does not know",
        "sync organisations from a source that names them as the workers do (reports and SOAP "
        "use reference ids such as SUP_…, REST uses Workday IDs), or add the other id's column "
        "to the organisations report",
    ),
    (
        "unknown_manager",
        "active worker(s) name a manager who is not in the mirror",
        "check that the integration user can see every worker, then run `mentorbridge sync "
        "workday --full`",
    ),
    (
        "unknown_superior",
        "organisation(s) name a superior organisation the mirror does not know",
        "sync organisations from a source that lists every organisation",
    ),
)


def _print_consistency(found: dict[str, Any]) -> None:
    """One warning line per kind of reference the mirror could not resolve."""
    for key, what, fix in _UNRESOLVED:
        problem = found.get(key) or {}
        if not problem.get("count"):
            continue
        listed = ", ".join(problem["first"])
        more = " …" if problem["count"] > len(problem["first"]) else ""
        click.echo(f"  warning: {problem['count']:,} {what} ({listed}{more}); {fix}")


def _print_stale(stale: dict[str, dict[str, Any]]) -> None:
    """One warning naming the fields whose column the last runs lacked (values kept)."""
    if not stale:
        return
    listed = ", ".join(f"{name} since {found['since']:%Y-%m-%d}" for name, found in stale.items())
    click.echo(
        f"  warning: {len(stale)} field(s) stale, their report column absent from every row "
        f"since (stored values kept): {listed}; grant the integration user the domain that "
        "secures them, or put the columns back in the report"
    )


@command.command("status")
@click.option("--limit", type=click.IntRange(1, 100), default=5, show_default=True)
@pass_app
def status(app: AppContext, limit: int) -> None:
    """The latest sync runs: when, how, what they did, what they skipped or failed on."""
    with compose.open_store(app.config) as store, store.reading() as session:
        runs = session.scalars(select(SyncRun).order_by(SyncRun.id.desc()).limit(limit)).all()
        stale = stale_fields(session, "workday")
    if not runs:
        click.echo("no sync has run yet: `mentorbridge sync workday`, `mentorbridge sync moodle`")
        return
    for run in runs:
        ended = f"{run.finished_at:%Y-%m-%d %H:%M:%S}Z" if run.finished_at else "still running"
        dry = ", dry run" if run.dry_run else ""
        click.echo(
            f"run {run.id}: {run.connector} {run.mode}{dry}, {run.status}, started "
            f"{run.started_at:%Y-%m-%d %H:%M:%S}Z, ended {ended}"
        )
        if run.message:
            click.echo(f"  error: {run.message}")
        if run.connector == "moodle":
            _print_push_counts(run.counts)
        else:
            _print_counts(run.counts)
        for skip in run.errors[:5]:
            click.echo(f"  skipped {skip['stream']} {skip['key']}: {skip['reason']}")
        if len(run.errors) > 5:
            click.echo(f"  … and {len(run.errors) - 5} more skipped records")
        _print_consistency(run.consistency or {})
    _print_stale(stale)
