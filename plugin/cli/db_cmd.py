"""``mentorbridge db upgrade | status``."""

from __future__ import annotations

import click
from sqlalchemy.engine import make_url

from mentorbridge.plugin.cli import AppContext, pass_app
from mentorbridge.plugin.compose import open_store
from mentorbridge.plugin.errors import StoreMissingError
from mentorbridge.plugin.store.connect import create_database, masked_url
from mentorbridge.plugin.store.db import Store
from mentorbridge.plugin.store.keys import PreparedKeys
from mentorbridge.plugin.store.migrate import current_revision, head_revision, upgrade


@click.group("db")
def command() -> None:
    """Create or migrate the store."""


@command.command("upgrade")
@pass_app
def upgrade_command(app: AppContext) -> None:
    """Create the store if it does not exist, then apply every pending migration.

    SQLite: creates the file (and its folder). PostgreSQL: creates the database through the
    maintenance database `postgres` when the role may (CREATE DATABASE); otherwise it prints
    the `createdb` line to run as a role that may.
    """
    with _open_or_create(app) as store:
        before = current_revision(store)
        prepared = upgrade(store)
        after = current_revision(store)
    if before == after:
        click.echo(f"{store.describe()} is already at revision {after}")
    else:
        click.echo(f"{store.describe()}: revision {before or '(empty)'} → {after}")
    if prepared is not None:
        _report_keys(prepared)


def _report_keys(prepared: PreparedKeys) -> None:
    if prepared.created is not None:
        click.echo(
            f"created the key file {prepared.created}: back it up with the store (without it "
            "stored secrets cannot be read); see `mentorbridge keys status`"
        )
    if prepared.encrypted:
        click.echo(f"encrypted {prepared.encrypted} secret(s) stored before encryption")
    if prepared.plaintext_left:
        click.echo(
            f"warning: {prepared.plaintext_left} secret(s) are stored in plain text and no keys "
            "are configured: set secrets.key_file (`mentorbridge keys init`) or "
            "MENTORBRIDGE_SECRETS_KEYS and MENTORBRIDGE_SECRETS_IDENTITY_KEY, then run "
            "`mentorbridge db upgrade` again",
            err=True,
        )


def _open_or_create(app: AppContext) -> Store:
    config = app.config
    try:
        return open_store(config, migrated=False, create=True)
    except StoreMissingError:
        url = make_url(config.store_url)
        if url.get_backend_name() != "postgresql":
            raise
    create_database(url)
    click.echo(f"created database {url.database} ({masked_url(url)})")
    return open_store(config, migrated=False, create=True)


@command.command("status")
@pass_app
def status(app: AppContext) -> None:
    """Show the store's revision and the one this version needs; exit 1 if they differ."""
    with open_store(app.config, migrated=False) as store:
        found, needed = current_revision(store), head_revision()
    click.echo(f"store:    {store.describe()}")
    if found is None:
        click.echo(f"empty store: run `mentorbridge db upgrade` (this version needs {needed})")
        raise SystemExit(1)
    click.echo(f"revision: {found}\nneeded:   {needed}")
    if found != needed:
        click.echo("run `mentorbridge db upgrade`")
        raise SystemExit(1)
