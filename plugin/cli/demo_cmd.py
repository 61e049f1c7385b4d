"""``mentorbridge demo``."""

from __future__ import annotations

from pathlib import Path

import click

from plugin.cli import AppContext, pass_app
from plugin.demo.run import run_demo


@click.command("demo")
@click.option(
    "--dir",
    "directory",
    type=click.Path(file_okay=False, path_type=Path),
    help="Where the demo keeps its store and LRS [default: <data_dir>/demo].",
)
@pass_app
def command(app: AppContext, directory: Path | None) -> None:
    """Record a sample programme and deliver it to a local LRS, end to end."""
    directory = directory or app.config.data_dir / "demo"
    try:
        result = run_demo(directory, config_path=app.config_path, say=click.echo)
    except FileExistsError as err:
        raise click.UsageError(str(err)) from err
    click.echo("\nstatements in the LRS, per verb:")
    for verb, number in sorted(result.in_lrs_by_verb.items()):
        click.echo(f"  {verb:<12} {number}")
    click.echo(f"  {'total':<12} {sum(result.in_lrs_by_verb.values())}")
    click.echo(
        f"\ndelivered: {result.delivered}   pending: {result.pending}   "
        f"dead letters: {result.dead_letters}"
    )
    click.echo("\nwhere the data lives:")
    click.echo(f"  store (SQLite):         {result.store}")
    click.echo(f"  LRS statements (JSONL): {result.lrs_statements_file}")
    click.echo(
        "  reflection text and goal wording stay in the store; the LRS holds only "
        "opaque ids and references"
    )
    if result.pending or result.dead_letters:
        raise SystemExit(1)
