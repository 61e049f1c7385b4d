"""``mentorbridge report succession | impact | audit``: talent reports to a file, and who
pulled which.

A report is written to a temporary file next to ``--out`` and renamed over it once whole, so a
failed or interrupted run leaves nothing half-written. Every generation (and every failure) is
an audit row naming the local operator (``cli:<login>``).
"""

from __future__ import annotations

import json

import click

from mentorbridge.plugin import compose
from mentorbridge.plugin.cli import AppContext, pass_app
from mentorbridge.plugin.reports.access import audit_log, cli_caller, record


@click.group("report")
def command() -> None:
    """Talent reports (succession, programme impact) and their audit."""


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
