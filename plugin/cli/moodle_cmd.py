"""``mentorbridge moodle check``."""

from __future__ import annotations

import click

from mentorbridge.connectors.moodle.check import check_site
from mentorbridge.plugin import compose
from mentorbridge.plugin.cli import AppContext, pass_app
from mentorbridge.plugin.errors import StoreError
from mentorbridge.plugin.mapping.file import load_mapping

_MARK = {"ok": "ok     ", "warning": "warning", "problem": "PROBLEM"}


@click.group("moodle")
def command() -> None:
    """The Moodle site: is it ready for the push?"""


@command.command("check")
@pass_app
def check(app: AppContext) -> None:
    """Check the site, the token's service, the scale, the course and its milestone
    activities, and which user fields Moodle shows; exit 1 if the push would fail or skip
    data. Each problem comes with the admin step that fixes it."""
    config = app.config
    settings = compose.moodle_settings(config)
    mapping = load_mapping(config.mapping_file)
    client = compose.moodle_client(config)
    client.http.retry_connection_failures = False  # a check answers in seconds:
    client.http.max_retries = 0  # what fails now is reported now (a push does retry)
    try:
        try:
            store = compose.open_store(config)
        except StoreError:
            store = None  # the check still says what it can without the store
        try:
            findings = check_site(client, settings, mapping, store)
        finally:
            if store is not None:
                store.dispose()
    finally:
        client.close()
    for finding in findings:
        click.echo(f"{_MARK[finding.status]}  {finding.what}")
        if finding.fix:
            click.echo(f"         fix: {finding.fix}")
    problems = sum(1 for f in findings if f.status == "problem")
    if problems:
        click.echo(f"{problems} problem(s): the push would fail or skip data until they are fixed")
        raise SystemExit(1)
    click.echo("ready: `mentorbridge sync moodle` pushes to this site")
