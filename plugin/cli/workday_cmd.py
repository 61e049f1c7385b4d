"""``mentorbridge workday check``."""

from __future__ import annotations

import click

from mentorbridge.plugin import compose
from mentorbridge.plugin.cli import AppContext, pass_app


@click.group("workday")
def command() -> None:
    """The Workday connector."""


@command.command("check")
@pass_app
def check(app: AppContext) -> None:
    """Try every configured Workday source and explain what fails (exit 1 if any does)."""
    config = app.config
    with compose.open_store(config) as store:
        connector = compose.workday_connector(config, store)
        try:
            results = connector.check()
        finally:
            connector.close()
    click.echo(f"Workday source: {config['workday']['source']}")
    for result in results:
        click.echo(f"  {'ok  ' if result.ok else 'FAIL'} {result.source}: {result.detail}")
        for warning in result.warnings:
            click.echo(f"       warning: {warning}")
    if not all(r.ok for r in results):
        raise SystemExit(1)
