"""``mentorbridge transcript link``."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import click

from mentorbridge.plugin import compose
from mentorbridge.plugin.cli import AppContext, pass_app
from mentorbridge.plugin.errors import ConfigError
from mentorbridge.plugin.reports.transcript_links import LinkSigner


@click.group("transcript")
def command() -> None:
    """Learner transcripts."""


@command.command("link")
@click.argument("worker_id")
@click.option(
    "--ttl",
    type=click.IntRange(60, 2_592_000),
    help="Seconds the link works [default: web.link_ttl_seconds].",
)
@pass_app
def link(app: AppContext, worker_id: str, ttl: int | None) -> None:
    """Print a signed link that opens WORKER_ID's own transcript, for an LMS page to embed."""
    web = app.config["web"]
    if not web.get("link_secret"):
        raise ConfigError(
            "web.link_secret is not set: set MENTORBRIDGE_WEB_LINK_SECRET or "
            "web.link_secret_file (at least 16 random characters)",
            key="web.link_secret",
        )
    signer = LinkSigner(web["link_secret"], ttl or web["link_ttl_seconds"])
    url, expires = signer.link(compose.service_url(app.config), worker_id, now=time.time())
    click.echo(url)
    click.echo(f"works until {datetime.fromtimestamp(expires, UTC):%Y-%m-%d %H:%M} UTC", err=True)
