"""``mentorbridge events import FILE``: a file of past events, recorded as the webhook would."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from mentorbridge.plugin import compose
from mentorbridge.plugin.backfill import (
    Candidate,
    ImportReport,
    Reject,
    dependency_order,
    import_events,
    read_jsonl,
    read_sessions_csv,
    write_rejects,
)
from mentorbridge.plugin.backfill.importer import BATCH_SIZE
from mentorbridge.plugin.backfill.sessions_csv import pairs_in_store
from mentorbridge.plugin.cli import AppContext, pass_app
from mentorbridge.plugin.config import Config
from mentorbridge.plugin.errors import ValidationError
from mentorbridge.plugin.store.db import Store
from mentorbridge.plugin.webhooks.signing_secrets import SigningSecrets

__all__ = ["import_cmd"]


@click.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--format",
    "file_format",
    type=click.Choice(["jsonl", "csv"]),
    help="jsonl: one event per line, plain or signed; csv: sessions exported from another "
    "platform [default: csv for a .csv file, else jsonl].",
)
@click.option(
    "--column",
    "columns",
    multiple=True,
    metavar="NAME=HEADER",
    help="CSV: the export's header for one of the columns (session_id, pair_id, mentee, "
    "mentor, started_at, duration_minutes, themes, status, occurred_at, event_id); repeatable.",
)
@click.option(
    "--source",
    default="import",
    show_default=True,
    help="CSV: the events' source, part of their ids and statement ids.",
)
@click.option("--timezone", help="CSV: the zone of times written without one (Europe/Berlin).")
@click.option(
    "--rejects",
    "rejects_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Where to list rejected lines (CSV: line, event_id, reason) [default: FILE.rejects.csv].",
)
@click.option(
    "--batch-size",
    type=click.IntRange(1, 100_000),
    default=BATCH_SIZE,
    show_default=True,
    help="Events per transaction.",
)
@click.option(
    "--strict", is_flag=True, help="Store nothing unless every event is accepted (one transaction)."
)
@click.option("--signed-only", is_flag=True, help="JSON Lines: reject lines that are not signed.")
@pass_app
def import_cmd(
    app: AppContext,
    file: Path,
    file_format: str | None,
    columns: tuple[str, ...],
    source: str,
    timezone: str | None,
    rejects_path: Path | None,
    batch_size: int,
    strict: bool,
    signed_only: bool,
) -> None:
    """Import a FILE of past events: JSON Lines of webhook events, or CSV of sessions.

    Every line is checked as the webhook checks an event; the valid ones are recorded in
    dependency order (pairs before their sessions, sessions before what rests on them) in
    batches that each commit whole. Events already recorded are counted, not recorded again,
    so running it again after a crash continues where it stopped. Rejected lines are listed
    with their reasons in the reject file; the command then exits 1.
    """
    file_format = file_format or ("csv" if file.suffix.lower() == ".csv" else "jsonl")
    named = _named_columns(columns)
    zone = _zone(timezone)
    rejects_path = rejects_path or file.with_name(file.name + ".rejects.csv")
    config = app.config
    with compose.open_store(config) as store:
        lines = _lines(config, store, file, file_format, named, source, zone, signed_only)
        candidates, rejects = _checked(lines, file)
        if strict and rejects:
            _finish(ImportReport(rejects=rejects, rolled_back=True), rejects_path)
        processor = compose.event_processor(config, store)
        with _progress("importing", len(candidates)) as tick:
            try:
                report = import_events(
                    processor,
                    dependency_order(candidates),
                    batch_size=batch_size,
                    strict=strict,
                    progress=tick,
                )
            except BaseException:
                click.echo(
                    "mentorbridge: the import stopped; the batches committed before it are kept: "
                    "run the same command again to continue",
                    err=True,
                )
                raise
    report.rejects[:0] = rejects
    _finish(report, rejects_path)


def _named_columns(columns: Iterable[str]) -> dict[str, str]:
    named = {}
    for choice in columns:
        column, sep, header = choice.partition("=")
        if not sep or not column.strip() or not header.strip():
            raise click.BadParameter(
                f"{choice!r}: give NAME=HEADER, such as started_at='Start time'",
                param_hint="--column",
            )
        named[column.strip()] = header.strip()
    return named


def _zone(name: str | None) -> ZoneInfo | None:
    if name is None:
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise click.BadParameter(
            f"{name!r} is not a time zone: give an IANA name such as Europe/Berlin or UTC",
            param_hint="--timezone",
        ) from None


def _lines(
    config: Config,
    store: Store,
    file: Path,
    file_format: str,
    named: dict[str, str],
    source: str,
    zone: ZoneInfo | None,
    signed_only: bool,
) -> Iterator[Candidate | Reject]:
    if file_format == "csv":
        with store.reading() as session:
            pairs = pairs_in_store(session)
        return read_sessions_csv(file, pairs=pairs, named=named, source=source, timezone=zone)
    secrets = SigningSecrets(store, config["web"].get("signing_secret"))
    return read_jsonl(file, secrets=secrets.active, signed_only=signed_only)


def _checked(
    lines: Iterator[Candidate | Reject], file: Path
) -> tuple[list[Candidate], list[Reject]]:
    """Every line read and checked, before anything is stored."""
    candidates: list[Candidate] = []
    rejects: list[Reject] = []
    try:
        with _progress("checking", None) as tick:
            for read in lines:
                (candidates if isinstance(read, Candidate) else rejects).append(read)
                tick(len(candidates) + len(rejects))
    except ValidationError as err:
        raise click.BadParameter(str(err), param_hint="FILE") from None
    except (OSError, UnicodeDecodeError) as err:
        reason = getattr(err, "strerror", None) or str(err)
        raise click.BadParameter(
            f"cannot read {file} ({reason}): give a readable UTF-8 file", param_hint="FILE"
        ) from None
    return candidates, rejects


@contextmanager
def _progress(what: str, total: int | None) -> Iterator[Callable[[int], None]]:
    """A progress bar on a terminal's stderr; nothing otherwise."""
    console = Console(stderr=True)
    progress = Progress(
        TextColumn(what),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
        disable=not (console.is_terminal and sys.stderr.isatty()),
    )
    if progress.disable:  # nothing to show: not even the bookkeeping, once per event
        yield lambda _done: None
        return
    with progress:
        task = progress.add_task(what, total=total)
        yield lambda done: progress.update(task, completed=done)


def _finish(report: ImportReport, rejects_path: Path) -> None:
    """Say what happened, list the rejects, and exit 1 if anything was rejected."""
    if report.rolled_back:
        click.echo(
            f"nothing imported: {len(report.rejects)} lines rejected and --strict stores "
            "nothing unless every event is accepted"
        )
    else:
        click.echo(
            f"{report.imported} imported, {report.already_present} already present, "
            f"{report.held} held, {len(report.rejects)} rejected"
        )
    if report.held:
        click.echo(
            f"{report.held} events name workers the HRIS mirror does not know yet: they are "
            "processed after the next HRIS sync (`mentorbridge events held` lists them)"
        )
    if not report.rejects:
        rejects_path.unlink(missing_ok=True)  # a list from an earlier run no longer holds
        return
    write_rejects(rejects_path, report.rejects)
    first = min(report.rejects, key=lambda r: r.line)
    click.echo(
        f"rejected lines are listed in {rejects_path}; the first, line {first.line}: "
        f"{first.reason}",
        err=True,
    )
    raise SystemExit(1)
