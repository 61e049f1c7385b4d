"""``mentorbridge db upgrade | status``."""

from __future__ import annotations

import click

from mentorbridge.plugin.cli import AppContext, pass_app
from mentorbridge.plugin.compose import open_store
from mentorbridge.plugin.store.migrate import current_revision, head_revision, upgrade


@click.group("db")
def command() -> None:
    """Create or migrate the store."""


@command.command("upgrade")
@pass_app
def upgrade_command(app: AppContext) -> None:
    """Apply every pending migration (creates the store if it does not exist)."""
    with open_store(app.config, migrated=False) as store:
        before = current_revision(store)
        upgrade(store)
        after = current_revision(store)
    if before == after:
        click.echo(f"{store.describe()} is already at revision {after}")
    else:
        click.echo(f"{store.describe()}: revision {before or '(empty)'} → {after}")


@command.command("status")
@pass_app
def status(app: AppContext) -> None:
    """Show the store's revision and the one this version needs; exit 1 if they differ."""
    with open_store(app.config, migrated=False) as store:
        found, needed = current_revision(store), head_revision()
    click.echo(f"store:    {store.describe()}\nrevision: {found or '(empty)'}\nneeded:   {needed}")
    if found != needed:
        raise SystemExit(1)
