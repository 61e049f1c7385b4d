"""``mentorbridge lrs``: the local trial LRS."""

from __future__ import annotations

from pathlib import Path

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
    lrs.start()
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
    try:
        status = lrs.wait()
    except KeyboardInterrupt:
        lrs.stop()
        status = 0
    raise SystemExit(status)
