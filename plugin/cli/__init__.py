"""``mentorbridge``: the command line. One module per command group.

Exit status: 0 success, 1 a failure an operator must look at, 2 invalid configuration or usage.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import click
from sqlalchemy.exc import DBAPIError

from mentorbridge.plugin.config import Config, default_config_path, load_config
from mentorbridge.plugin.errors import ConfigError, MentorbridgeError
from mentorbridge.plugin.logs import configure_from
from mentorbridge.plugin.store.connect import is_store_failure, store_failure

__all__ = ["AppContext", "cli", "main", "pass_app"]


class AppContext:
    """What every command gets: the configuration, loaded on first use."""

    def __init__(self, config_path: Path | None) -> None:
        self.config_path = config_path
        self._config: Config | None = None

    @property
    def config(self) -> Config:
        if self._config is None:
            self._config = load_config(self.config_path)
            configure_from(self._config)
        return self._config


pass_app = click.make_pass_decorator(AppContext)


class _Group(click.Group):
    """Turns our errors into one clear line on stderr and the right exit status."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except ConfigError as err:
            click.echo(f"mentorbridge: configuration error: {err}", err=True)
            sys.exit(2)
        except MentorbridgeError as err:
            click.echo(f"mentorbridge: {err}", err=True)
            sys.exit(1)
        except DBAPIError as err:  # the store failed mid-command
            app = ctx.find_object(AppContext)
            if app is None or not is_store_failure(err):
                raise
            click.echo(f"mentorbridge: {store_failure(err, app.config.store_url)}", err=True)
            sys.exit(1)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help=f"TOML config file [default: $MENTORBRIDGE_CONFIG or {default_config_path()}, "
    "if it exists; else embedded defaults]",
)
@click.version_option(package_name="mentorbridge")
@click.pass_context
def cli(ctx: click.Context, config_path: Path | None) -> None:
    """Mentorbridge: reverse-mentoring programmes in your L&D and talent systems."""
    ctx.obj = AppContext(config_path)


#: One module per command group, each with a ``command``.
_COMMAND_MODULES = (
    "config_cmd",
    "db_cmd",
    "demo_cmd",
    "events_cmd",
    "evidence_cmd",
    "keys_cmd",
    "lrs_cmd",
    "lti_cmd",
    "mapping_cmd",
    "moodle_cmd",
    "outbox_cmd",
    "pairing_cmd",
    "person_cmd",
    "report_cmd",
    "serve_cmd",
    "sync_cmd",
    "token_cmd",
    "transcript_cmd",
    "webhook_cmd",
    "worker_cmd",
    "workday_cmd",
    "xapi_cmd",
)


def _register() -> None:
    for name in _COMMAND_MODULES:
        cli.add_command(importlib.import_module(f"mentorbridge.plugin.cli.{name}").command)


_register()


def main(argv: Sequence[str] | None = None) -> None:
    """Console-script entry point."""
    cli.main(args=list(argv) if argv is not None else None, prog_name="mentorbridge")
