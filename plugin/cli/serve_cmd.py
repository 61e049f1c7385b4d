"""``mentorbridge serve``."""

from __future__ import annotations

import errno
import socket

import click

from mentorbridge.plugin import compose
from mentorbridge.plugin.cli import AppContext, pass_app
from mentorbridge.plugin.config import Config
from mentorbridge.plugin.errors import ListenError
from mentorbridge.plugin.store.keys import keyring_of

__all__ = ["check_can_listen", "client_url_note", "command"]


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
    # Refuse a store that needs migrating, or whose keys cannot be read, before forking.
    with compose.open_store(config) as store:
        keyring_of(store)
    host, port, workers = host or web["host"], port or web["port"], workers or web["workers"]
    check_can_listen(host, port)
    click.echo(
        f"serving on http://{host}:{port} with {workers} worker(s)"
        + (" and the background worker" if with_worker else "")
        + " (Ctrl-C stops it)"
    )
    note = client_url_note(config, host, port)
    if note:
        click.echo(note, err=True)
    serve(config, app.config_path, host=host, port=port, workers=workers, with_worker=with_worker)


def check_can_listen(host: str, port: int) -> None:
    """Bind ``host:port`` once, as gunicorn will, so a busy port fails here in one line
    instead of in gunicorn's retry loop after "serving on …".

    Raises:
        ListenError: naming the address, the cause and the fix.
    """
    fix = "choose another with --port or web.port (MENTORBRIDGE_WEB_PORT)"
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as err:
        raise ListenError(
            f"cannot listen on {host}:{port}: {host!r} is not an address of this machine "
            f"({err.strerror}); set --host or web.host (127.0.0.1, or 0.0.0.0 for every "
            "interface)"
        ) from err
    family, kind, proto, _, address = infos[0]
    try:
        with socket.socket(family, kind, proto) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as gunicorn does
            probe.bind(address)
    except OSError as err:
        match err.errno:
            case errno.EADDRINUSE:
                cause = "the port is in use by another process (another `mentorbridge serve`?)"
                hint = f"stop that process, or {fix}"
            case errno.EACCES:
                cause = "ports below 1024 need privileges"
                hint = f"run behind a reverse proxy and {fix} (8080 is the default)"
            case errno.EADDRNOTAVAIL:
                cause = f"{host} is not an address of this machine"
                hint = "set --host or web.host (127.0.0.1, or 0.0.0.0 for every interface)"
            case _:
                cause, hint = err.strerror or str(err), fix
        raise ListenError(f"cannot listen on {host}:{port}: {cause}; {hint}") from err


def client_url_note(config: Config, host: str, port: int) -> str | None:
    """A line for the admin when the command-line clients (``events send``,
    ``transcript link``) would look for the service somewhere else than where it listens."""
    web = config["web"]
    changed = [
        f"web.{key} = {value!r}"
        for key, value in (("host", host), ("port", port))
        if value != web[key]
    ]
    if web["public_url"] or not changed:
        return None
    return (
        f"note: `events send` and `transcript link` look for the service at "
        f"{compose.service_url(config)} (from web.host and web.port): set "
        + " and ".join(changed)
        + " (or web.public_url) rather than --host/--port, so they find this one"
    )
