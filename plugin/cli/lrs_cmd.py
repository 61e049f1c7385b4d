"""``mentorbridge lrs``: the local trial LRS."""

from __future__ import annotations

import signal
from pathlib import Path
from types import FrameType

import click

from mentorbridge.plugin.cli import AppContext, pass_app
from mentorbridge.xapi.localrs import LocalLRS


@click.command("lrs")
@click.option("--port", type=click.IntRange(1, 65535), default=8100, show_default=True)
@click.option(
    "--dir",
    "directory",
    type=click.Path(file_okay=False, path_type=Path),
    help="Where it keeps statements and credentials [default: <data_dir>/lrs].",
)
@pass_app
def command(app: AppContext, port: int, directory: Path | None) -> None:
    """Run a local LRS (Ralph) on 127.0.0.1 for trials. NOT a production LRS."""
    lrs = LocalLRS(directory or app.config.data_dir / "lrs", port=port)
    # Stopped by a service manager (SIGTERM), a closed terminal (SIGHUP) or Ctrl-C (SIGINT),
    # it stops its LRS too: the child must not keep listening on its own.
    for stop in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(stop, _interrupt)
    try:
        lrs.start()
        _banner(lrs)
        status = lrs.wait()
    except KeyboardInterrupt:
        status = 0
    finally:
        lrs.stop()
    raise SystemExit(status)


def _interrupt(_signum: int, _frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def _banner(lrs: LocalLRS) -> None:
    click.echo(
        f"Local trial LRS (Ralph, file-system backend) on {lrs.endpoint}\n"
        "This is NOT a production LRS: one JSON-lines file, no version checks, voided statements\n"
        "stay visible. For production, point lrs.endpoint at your organisation's LRS.\n\n"
        "To send Mentorbridge's statements here:\n"
        f"  export MENTORBRIDGE_LRS_ENDPOINT={lrs.endpoint}\n"
        f"  export MENTORBRIDGE_LRS_PASSWORD_FILE={lrs.password_file}\n"
        f"statements are kept in {lrs.statements_file}\n"
        "Ctrl-C stops it."
    )
