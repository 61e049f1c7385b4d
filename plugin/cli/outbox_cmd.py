"""``mentorbridge outbox status | flush | dead-letters | retry``."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from mentorbridge.plugin import compose
from mentorbridge.plugin.cli import AppContext, pass_app
from mentorbridge.plugin.store.outbox import SqlOutbox
from mentorbridge.xapi.outbox import FlushReport


@click.group("outbox")
def command() -> None:
    """The queue of xAPI statements on their way to the LRS."""


@command.command("status")
@pass_app
def status(app: AppContext) -> None:
    """Counts per state, backoff and the oldest waiting statement."""
    now = datetime.now(UTC)
    with compose.open_store(app.config) as store:
        state = SqlOutbox(store).status(now=now)
    click.echo(f"pending:      {state.pending}")
    if state.waiting:
        click.echo(
            f"  backing off: {state.waiting} (next attempt {state.next_attempt:%Y-%m-%d %H:%M:%S}Z)"
        )
    if state.oldest_pending:
        age = (now - state.oldest_pending).total_seconds()
        click.echo(f"  oldest:      {age:.0f}s old")
    click.echo(f"delivered:    {state.delivered}")
    click.echo(
        f"dead letters: {state.dead}"
        + ("  (see `mentorbridge outbox dead-letters`)" if state.dead else "")
    )
    if state.last_error:
        # Outages, refused credentials, a wrong endpoint: kept until a delivery succeeds.
        click.echo(f"last LRS error: {state.last_error}")


@command.command("flush")
@click.option(
    "--wait", is_flag=True, help="Keep retrying through LRS outages until the queue is empty."
)
@click.option(
    "--max-wait",
    type=click.FloatRange(min=0),
    default=None,
    help="With --wait: give up after this many seconds.",
)
@pass_app
def flush(app: AppContext, wait: bool, max_wait: float | None) -> None:
    """Send every due statement to the LRS now.

    Exits 1 if a statement was parked as a dead letter or is left waiting to retry.
    """
    config = app.config
    with compose.lrs_client(config) as lrs, compose.open_store(config) as store:
        outbox = SqlOutbox(store)
        total = outbox.status(now=datetime.now(UTC)).pending
        with _progress(total) as on_progress:
            report = compose.flusher(config, store, lrs, on_progress=on_progress).flush(
                wait=wait or max_wait is not None, max_wait=max_wait
            )
        left = outbox.status(now=datetime.now(UTC))
    click.echo(
        f"delivered {report.delivered}, parked {report.parked} as dead letters, "
        f"{report.requests} requests; {left.pending} pending ({left.waiting} waiting to "
        f"retry), {left.dead} dead letters"
    )
    if report.last_error:
        click.echo(f"last LRS error: {report.last_error}", err=True)
    if left.waiting or report.parked:
        raise SystemExit(1)


@contextmanager
def _progress(total: int) -> Iterator[Callable[[FlushReport], None]]:
    """A progress bar on stderr for long flushes; yields the flusher's progress callback."""
    progress = Progress(
        TextColumn("flushing"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=Console(stderr=True),
        transient=True,
        disable=total < 1000,
    )
    with progress:
        task = progress.add_task("flush", total=total)
        yield lambda report: progress.update(task, completed=report.delivered + report.parked)


@command.command("dead-letters")
@click.option("--id", "row_id", type=int, help="Show one dead letter in full.")
@click.option("--limit", type=click.IntRange(min=1), default=50, show_default=True)
@pass_app
def dead_letters(app: AppContext, row_id: int | None, limit: int) -> None:
    """List statements the LRS refused, with its answer."""
    with compose.open_store(app.config) as store:
        letters = SqlOutbox(store).dead_letters(limit=10_000 if row_id else limit)
    if row_id is not None:
        letter = next((d for d in letters if d.row_id == row_id), None)
        if letter is None:
            raise click.ClickException(f"no dead letter with id {row_id}")
        click.echo(f"id {letter.row_id}  statement {letter.statement_id}  ({letter.template})")
        click.echo(f"attempts: {letter.attempts}\nerror: {letter.error}")
        click.echo(f"LRS status: {letter.lrs_status}\nLRS answer: {letter.lrs_response}")
        click.echo(f"statement: {letter.payload.decode()}")
        return
    if not letters:
        click.echo("no dead letters")
        return
    click.echo("id\tstatement\ttemplate\tLRS status\terror")
    for letter in letters:
        click.echo(
            f"{letter.row_id}\t{letter.statement_id}\t{letter.template}\t"
            f"{letter.lrs_status or '-'}\t{(letter.error or '')[:100]}"
        )
    click.echo("retry with `mentorbridge outbox retry --id ID` (or --all) once the cause is fixed")


@command.command("retry")
@click.option(
    "--id", "row_ids", type=int, multiple=True, help="A dead letter to retry (repeatable)."
)
@click.option("--all", "retry_all", is_flag=True, help="Retry every dead letter.")
@pass_app
def retry(app: AppContext, row_ids: tuple[int, ...], retry_all: bool) -> None:
    """Put dead letters back in the queue (they are sent on the next flush)."""
    if bool(row_ids) == retry_all:
        raise click.UsageError("give --id ID (repeatable) or --all")
    with compose.open_store(app.config) as store:
        outbox = SqlOutbox(store)
        problems = _not_dead_letters(outbox, row_ids)
        count = outbox.retry(None if retry_all else list(row_ids))
    click.echo(f"{count} dead letter(s) queued again")
    for problem in problems:
        click.echo(problem, err=True)
    if problems:
        raise SystemExit(1)


def _not_dead_letters(outbox: SqlOutbox, row_ids: tuple[int, ...]) -> list[str]:
    """Why each of ``row_ids`` that is not a dead letter cannot be retried."""
    if not row_ids:
        return []
    states = outbox.states(row_ids)
    problems = []
    for row_id in dict.fromkeys(row_ids):
        state = states.get(row_id)
        if state is None:
            problems.append(
                f"no outbox statement has id {row_id}: "
                "`mentorbridge outbox dead-letters` lists the ids of dead letters"
            )
        elif state != "dead":
            problems.append(f"outbox statement {row_id} is {state}, not a dead letter")
    return problems
