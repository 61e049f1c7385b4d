"""``mentorbridge evidence update [--full]`` and ``mentorbridge evidence explain``."""

from __future__ import annotations

import json
import sys

import click

from mentorbridge.plugin import compose
from mentorbridge.plugin.cli import AppContext, pass_app
from mentorbridge.plugin.errors import UnknownReferenceError
from mentorbridge.plugin.jobs.evidence import run_mapper
from mentorbridge.plugin.mapping.explain import explain, explain_text
from mentorbridge.plugin.mapping.file import load_mapping


@click.group("evidence")
def command() -> None:
    """Competency evidence from mentoring activity: update it, explain it."""


@command.command("update")
@click.option(
    "--full",
    is_flag=True,
    help="Recompute everyone, not only the people events touched since the last run.",
)
@pass_app
def update(app: AppContext, full: bool) -> None:
    """Recompute the evidence of the people events touched since the last run (everyone on
    the first run, with --full, or when the mapping or the synced scales changed), and queue
    a statement for each change. Nothing changes for unchanged activity.

    Exit status: 0 done, 1 the run failed (nothing was written), 2 invalid mapping or config.
    """
    config = app.config
    with compose.open_store(config) as store:
        result = run_mapper(config, store, full=full)
    how = f"everyone ({result.reason})" if result.full else "the people events touched"
    click.echo(f"recomputed {result.people} people: {how}")
    click.echo(
        f"evidence rows: {result.created} created, {result.changed} changed, "
        f"{result.withdrawn} withdrawn; {result.statements} statements queued"
    )


@command.command("explain")
@click.argument("worker")
@click.argument("competency")
@click.option("--json", "as_json", is_flag=True, help="Print it as JSON.")
@pass_app
def explain_command(app: AppContext, worker: str, competency: str, as_json: bool) -> None:
    """Why WORKER (a Workday worker id) has the evidence they have on COMPETENCY (the
    mapping's key, name or Workday id): per side, the level and every session, goal and
    released rating it rests on, with their xAPI statement ids.

    Exit status: 0 shown, 2 unknown worker or competency, or an invalid mapping.
    """
    config = app.config
    mapping = load_mapping(config.mapping_file)
    with compose.open_store(config) as store:
        try:
            if as_json:
                found = explain(store, mapping, worker, competency)
                click.echo(json.dumps(found, indent=2, ensure_ascii=False))
            else:
                click.echo(explain_text(store, mapping, worker, competency), nl=False)
        except UnknownReferenceError as err:
            click.echo(f"mentorbridge: {err}", err=True)
            sys.exit(2)
