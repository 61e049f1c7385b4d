"""``mentorbridge report succession | impact | pairing | audit``: talent reports to a file,
and who pulled which.

A report is written to a temporary file next to ``--out`` and renamed over it once whole, so a
failed or interrupted run leaves nothing half-written. Every generation (and every failure) is
an audit row naming the local operator (``cli:<login>``).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

import click

from mentorbridge.plugin import compose
from mentorbridge.plugin.cli import AppContext, pass_app
from mentorbridge.plugin.reports.access import audit_log, cli_caller, record
from mentorbridge.plugin.reports.delivery import (
    FILTERS,
    REPORT_KINDS,
    FilterError,
    audited,
    build_report,
    parse_filters,
    write_atomically,
)
from mentorbridge.plugin.reports.formats import FORMATS, FormatUnavailableError, format_for


@click.group("report")
def command() -> None:
    """Talent reports (succession, programme impact, pairing) and their audit."""


def _report_command(kind: str, summary: str) -> Callable[..., Any]:
    """``report <kind>``: its format, output and the filters it takes."""

    @click.option(
        "--format",
        "format_name",
        type=click.Choice(sorted(FORMATS), case_sensitive=False),
        required=True,
        help="The file format.",
    )
    @click.option(
        "--out",
        type=click.Path(dir_okay=False, writable=True, path_type=Path),
        required=True,
        help="Where to write it; replaced whole once written, never left half-written.",
    )
    @pass_app
    def run(app: AppContext, format_name: str, out: Path, **given: str | None) -> None:
        fmt = format_for(format_name)
        try:
            filters = parse_filters(kind, {k.removeprefix("filter_"): v for k, v in given.items()})
        except FilterError as err:
            raise click.BadParameter(str(err), param_hint=f"'--{err.parameter}'") from None
        if not out.parent.is_dir():
            raise click.BadParameter(
                f"the folder {out.parent} does not exist: create it or choose another",
                param_hint="'--out'",
            )
        with compose.open_store(app.config) as store:

            def write(stream: IO[bytes]) -> int:
                report = build_report(
                    store,
                    app.config.mapping_file,
                    kind,
                    filters,
                    pairing_file=app.config.pairing_file,
                )
                return fmt.write(report, stream)

            try:
                rows = audited(
                    store,
                    cli_caller(),
                    kind,
                    filters,
                    fmt.name,
                    lambda: write_atomically(out, write),
                )
            except FilterError as err:
                raise click.BadParameter(str(err), param_hint=f"'--{err.parameter}'") from None
            except FormatUnavailableError as err:
                raise click.UsageError(str(err)) from None
            except PermissionError as err:
                raise click.BadParameter(
                    f"cannot write in {out.parent} ({err.strerror}): choose a folder you can "
                    "write to",
                    param_hint="'--out'",
                ) from None
            except OSError as err:
                click.echo(f"mentorbridge: cannot write {out}: {err.strerror or err}", err=True)
                sys.exit(1)
        click.echo(f"wrote {out} ({fmt.name}, {rows} rows)")

    # Filters a report does not take are hidden, yet accepted, so using one says why not.
    for spec in reversed(FILTERS):
        run = click.option(
            f"--{spec.name}",
            f"filter_{spec.name}",
            metavar="DATE" if spec.is_date else "ID",
            help=spec.help[0].upper() + spec.help[1:] + ".",
            hidden=kind not in spec.kinds,
        )(run)
    run.__doc__ = summary
    return command.command(kind)(run)


_SUMMARIES = {
    "succession": "Evidence per competency beside the level each position needs, per plan "
    "and worker.",
    "impact": "Programme impact: sessions, goals, competency gains, retention (groups under 5 "
    "hidden).",
    "pairing": "A programme's pairing for its sponsor (--programme KEY): coverage, scores, "
    "diversity mix; aggregates only (groups under 5 hidden).",
}
for _kind in REPORT_KINDS:
    _report_command(_kind, _SUMMARIES[_kind])


@command.command("columns")
def columns() -> None:
    """Print every report view's columns, their types and meanings (Markdown)."""
    from mentorbridge.plugin.reports.columns import columns_markdown

    click.echo(columns_markdown())


@command.command("audit")
@click.option(
    "--limit", type=click.IntRange(1, 100_000), default=50, show_default=True, help="How many."
)
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line.")
@pass_app
def audit(app: AppContext, limit: int, as_json: bool) -> None:
    """The newest generations and refusals of reports, newest first."""
    caller = cli_caller()
    with compose.open_store(app.config) as store:
        entries = audit_log(store, limit=limit)
        record(
            store,
            caller,
            "audit",
            filters={"limit": limit},
            outcome="ok",
            format="json" if as_json else "text",
            row_count=len(entries),
        )
    if as_json:
        for entry in entries:
            click.echo(json.dumps(entry.as_json(), ensure_ascii=False))
        return
    if not entries:
        click.echo("no report has been generated or refused yet")
    for e in entries:
        filters = " ".join(f"{k}={v}" for k, v in e.filters.items()) or "-"
        rows = "" if e.row_count is None else f"{e.row_count} rows"
        click.echo(
            f"{e.id:>6}  {e.at:%Y-%m-%d %H:%M:%S}Z  {e.outcome:<7}  {e.report:<10}  "
            f"{e.format or '-':<7}  {rows:<10}  {e.who}  [{filters}]"
            + (f"  {e.detail}" if e.detail else "")
        )
