"""``mentorbridge demo``."""

from __future__ import annotations

import sys
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from mentorbridge.plugin.cli import AppContext, pass_app

if TYPE_CHECKING:
    from mentorbridge.plugin.demo.run import DemoResult


@click.command("demo")
@click.option(
    "--dir",
    "directory",
    type=click.Path(file_okay=False, path_type=Path),
    help="Where the demo keeps its store and LRS [default: <data_dir>/demo].",
)
@click.option(
    "--keep-serving",
    is_flag=True,
    help="Keep the service and the local LRS running at the end, so the transcript link "
    "opens in a browser; Ctrl-C stops them.",
)
@pass_app
def command(app: AppContext, directory: Path | None, keep_serving: bool) -> None:
    """Serve the webhook service, post a sample programme to it, deliver it to a local LRS."""
    # Imported here: the demo builds the web app, and `mentorbridge serve` must choose
    # prometheus_client's multiprocess mode before anything imports it.
    from mentorbridge.plugin.demo.run import run_demo

    config = app.config  # checked, and logging set up, before anything starts
    directory = directory or config.data_dir / "demo"

    def report(result: DemoResult) -> None:
        _report(result)
        if keep_serving:
            click.echo("\nserving until Ctrl-C …")
            try:
                threading.Event().wait()
            except KeyboardInterrupt:
                click.echo("stopped")

    try:
        result = run_demo(
            directory,
            config_path=app.config_path,
            say=click.echo,
            progress=_Counter(),
            then=report,
        )
    except FileExistsError as err:
        raise click.UsageError(str(err)) from err
    if result.pending or result.dead_letters:
        raise SystemExit(1)


class _Counter:
    """Deliveries posted so far: a live progress bar on a terminal, one line at the end
    when the output goes to a file or a pipe."""

    def __init__(self) -> None:
        self.started = time.monotonic()
        self.bar: Any = None
        self.task: Any = None

    def __call__(self, done: int, total: int) -> None:
        if not sys.stdout.isatty():
            if done == total:
                elapsed = time.monotonic() - self.started
                click.echo(f"posted {total} deliveries in {elapsed:.1f}s")
            return
        if self.bar is None:
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

            self.bar = Progress(
                "posting",
                BarColumn(),
                MofNCompleteColumn(),
                "deliveries",
                TimeElapsedColumn(),
            )
            self.task = self.bar.add_task("posting", total=total)
            self.bar.start()
        self.bar.update(self.task, completed=done)
        if done == total:
            self.bar.stop()


def _report(result: DemoResult) -> None:
    handled = result.handled
    click.echo("\nhow the service answered:")
    for event_type, number in handled.by_type.items():
        click.echo(f"  {event_type:<22} {number:>4} x 202 accepted")
    click.echo(f"  {'statements queued':<22} {handled.statements:>4}")
    for what, sent in handled.special:
        if sent.body.get("redelivery"):
            answer = (
                f"the first delivery's answer again ({len(sent.body['statement_ids'])} "
                "statement ids), nothing new recorded"
            )
        else:
            answer = sent.body.get("message", "")
        click.echo(f"  {what}\n      → {sent.status}: {answer}")
    click.echo("\nstatements in the LRS, per verb:")
    for verb, number in sorted(result.in_lrs_by_verb.items()):
        click.echo(f"  {verb:<12} {number}")
    click.echo(f"  {'total':<12} {sum(result.in_lrs_by_verb.values())}")
    click.echo(
        f"\ndelivered: {result.delivered}   pending: {result.pending}   "
        f"dead letters: {result.dead_letters}"
    )
    summary = result.transcript["summary"]
    lines = [s["delivery"] for s in result.transcript["sessions"] if s["delivery"]]
    click.echo(
        "\none executive's transcript (a signed link, as an LMS page would embed it; "
        "it works while the demo serves, see --keep-serving):"
    )
    click.echo(f"  {result.transcript_url}")
    click.echo(
        "  " + ", ".join(f"{key.replace('_', ' ')}: {value}" for key, value in summary.items())
    )
    confirmed = sum(line["in_lrs"] is True for line in lines)
    click.echo(f"  {confirmed} of its {len(lines)} session lines confirmed in the LRS")
    _succession(result)
    _learner_plan(result)
    click.echo("\nwhere the data lives:")
    click.echo(f"  store (SQLite):         {result.store}")
    click.echo(f"  LRS statements (JSONL): {result.lrs_statements_file}")
    click.echo(f"  succession report:      {result.report_file}")
    click.echo(f"  Moodle (in memory):     {result.moodle_url} (while the demo serves)")
    click.echo(
        "  reflection text and goal wording stay in the store; the LRS holds only "
        "opaque ids and references"
    )


def _succession(result: DemoResult) -> None:
    click.echo(
        "\nsuccession summary: mentoring evidence beside the level each position requires "
        f"(all of it in {result.report_file.name}, {result.report_rows} rows):"
    )
    if not result.plans:
        click.echo("  no plan has a candidate with mentoring evidence yet")
    for plan in result.plans:
        click.echo(f"  {plan.position_id}  {plan.position or '(position without a title)'}")
        others = []
        for candidate in plan.candidates:
            who = f"{candidate.worker_id} {candidate.name or ''} ({candidate.readiness or '-'})"
            if not candidate.has_evidence:
                others.append(who)
                continue
            click.echo(f"    {who}")
            for competency, evidence, required in candidate.competencies:
                click.echo(
                    f"      {competency:<24} evidence {evidence or 'none yet':<24} "
                    f"required {required or '-'}"
                )
        if others:
            click.echo(f"    without mentoring evidence: {'; '.join(others)}")


def _learner_plan(result: DemoResult) -> None:
    plan = result.learner_plan
    click.echo(
        "\nthe same executive in Moodle, read back over its web services as Profile > Learning "
        "plans shows it:"
    )
    if plan is None:
        click.echo("  no learning plan (see `mentorbridge sync status`)")
        return
    click.echo(f"  {plan.name}")
    for competency, rating, note in plan.competencies:
        if rating:
            click.echo(f"    {competency:<24} {rating}")
            click.echo(f"      note: {note or '-'}")
    unrated = [competency for competency, rating, _ in plan.competencies if not rating]
    if unrated:
        click.echo(f"    not rated yet: {', '.join(unrated)}")
    click.echo(
        f"  programme course: {plan.milestones_completed} of {plan.milestones} milestone "
        "activities complete"
    )
