"""``mentorbridge person export | erase``: privacy requests (GDPR articles 15, 17 and 20)."""

from __future__ import annotations

import getpass
import json
import os
from pathlib import Path

import click

from mentorbridge.plugin import compose
from mentorbridge.plugin.cli import AppContext, pass_app
from mentorbridge.plugin.errors import ConfigError
from mentorbridge.plugin.privacy.erase import erase_person
from mentorbridge.plugin.privacy.export import export_person


@click.group("person")
def command() -> None:
    """Privacy requests: export or erase everything held about one person."""


@command.command("export")
@click.argument("worker_id", metavar="WORKER")
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    help="Write the JSON to FILE (readable by you only) [default: standard output].",
)
@pass_app
def export(app: AppContext, worker_id: str, output: Path | None) -> None:
    """Everything held about the worker with Employee ID WORKER, as JSON (access and
    portability requests). Reflections the other participant wrote are not included."""
    with compose.open_store(app.config) as store:
        document = export_person(store, worker_id)
    text = json.dumps(document, indent=2, ensure_ascii=False) + "\n"
    if output is None:
        click.echo(text, nl=False)
        return
    try:
        descriptor = os.open(output, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            handle.write(text)
    except OSError as err:
        raise click.FileError(str(output), hint=err.strerror) from None
    click.echo(f"wrote the export of worker {worker_id!r} to {output}", err=True)


@command.command("erase")
@click.argument("worker_id", metavar="WORKER")
@click.option(
    "--void-statements",
    is_flag=True,
    help="Also void, in the LRS, every statement whose actor is the person (queued through "
    "the outbox).",
)
@click.option(
    "--by",
    "erased_by",
    help="Who asks for the erasure, for the audit trail [default: your login name].",
)
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@pass_app
def erase(
    app: AppContext, worker_id: str, void_statements: bool, erased_by: str | None, yes: bool
) -> None:
    """Erase the worker with Employee ID WORKER (erasure requests): their reflections, goal
    wording and personal HRIS fields, and the link to their opaque id. Their partners'
    records stay intact. This cannot be undone."""
    config = app.config
    builder = compose.statement_builder(config) if void_statements else None
    who = erased_by or _login_name()
    if not yes:
        click.confirm(
            f"Erase everything personal held about worker {worker_id!r}"
            + (" and void their statements in the LRS" if void_statements else "")
            + "? This cannot be undone",
            abort=True,
            err=True,
        )
    with compose.open_store(config) as store:
        report = erase_person(store, worker_id, erased_by=who, builder=builder)
    counts = ", ".join(f"{name.replace('_', ' ')} {n}" for name, n in report.counts.items())
    click.echo(f"erased worker {worker_id!r} (erasure {report.erasure_id}, by {who}): {counts}")
    if report.counts.get("statements_voided"):
        click.echo(
            "the voiding statements are delivered by the outbox flush (`mentorbridge worker` "
            "or `mentorbridge outbox flush`)"
        )


def _login_name() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        raise ConfigError(
            "cannot tell who is erasing (no login name): pass --by NAME", key="--by"
        ) from None
