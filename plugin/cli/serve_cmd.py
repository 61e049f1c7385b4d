"""``mentorbridge serve``."""

from __future__ import annotations

import click

from mentorbridge.plugin import compose
from mentorbridge.plugin.cli import AppContext, pass_app


@click.command("serve")
@click.option("--host", help="Address to listen on [default: web.host].")
@click.option("--port", type=click.IntRange(1, 65535), help="Port [default: web.port].")
@click.option(
    "--workers", type=click.IntRange(1, 64), help="Worker processes [default: web.workers]."
)
@click.option(
    "--with-worker",
    is_flag=True,
    help="Also run `mentorbridge worker` (outbox flush, HRIS sync) beside it: one machine.",
)
@pass_app
def command(
    app: AppContext, host: str | None, port: int | None, workers: int | None, with_worker: bool
) -> None:
    """Serve the webhook endpoint, learner transcripts, /metrics and health under gunicorn."""
    from mentorbridge.plugin.server import serve

    config = app.config
    web = config["web"]
    with compose.open_store(config):  # refuse a store that needs migrating, before forking
        pass
    host, port, workers = host or web["host"], port or web["port"], workers or web["workers"]
    click.echo(
        f"serving on http://{host}:{port} with {workers} worker(s)"
        + (" and the background worker" if with_worker else "")
        + " (Ctrl-C stops it)"
    )
    serve(config, app.config_path, host=host, port=port, workers=workers, with_worker=with_worker)
