"""``mentorbridge xapi profile``."""

from __future__ import annotations

import json

import click

from mentorbridge.plugin.cli import AppContext, pass_app
from mentorbridge.xapi.profile import load_profile


@click.group("xapi")
def command() -> None:
    """The reverse-mentoring xAPI profile."""


@command.command("profile")
@pass_app
def profile(app: AppContext) -> None:
    """Print the profile (JSON-LD) under the configured xapi.profile_iri, to publish it."""
    click.echo(
        json.dumps(load_profile(app.config["xapi"]["profile_iri"]), indent=2, ensure_ascii=False)
    )
