"""``mentorbridge pairing check|propose|show|lock|reject|approve|intake``: executive-mentor
pairs proposed pool-wide, reviewed by an admin, and created only when approved."""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click

from mentorbridge.plugin import compose
from mentorbridge.plugin.cli import AppContext, pass_app
from mentorbridge.plugin.errors import PairingFileError
from mentorbridge.plugin.pairing.file import load_programmes, programme_named
from mentorbridge.plugin.pairing.intake import IntakeDesk, import_intake
from mentorbridge.plugin.pairing.programme import PairingProgramme
from mentorbridge.plugin.pairing.review import (
    approve,
    current,
    describe,
    lock,
    lock_pair,
    propose,
    reject,
)

__all__ = ["command"]


@click.group("pairing")
def command() -> None:
    """Propose, review and approve executive-mentor pairs (pairing.file names the programmes)."""


def _programme(app: AppContext, key: str) -> PairingProgramme:
    return programme_named(load_programmes(app.config.pairing_file), key)


def _today() -> Any:
    return datetime.now(UTC).date()


@command.command("check")
@pass_app
def check(app: AppContext) -> None:
    """Validate the pairing file (pairing.file, else the shipped default). Exit 2 if invalid."""
    try:
        programmes = load_programmes(app.config.pairing_file)
    except PairingFileError as err:
        click.echo(f"mentorbridge: {err}", err=True)
        sys.exit(2)
    source = app.config.pairing_file or "default"
    click.echo(f"pairing file {source} is valid ({len(programmes)} programme(s))")
    for programme in programmes.values():
        click.echo(
            f"  {programme.key}: {programme.name}; {len(programme.themes)} themes, "
            f"objective {programme.objective}, at least {programme.min_overlap_hours:g} h "
            "of working day in common"
        )


@command.command("propose")
@click.argument("programme")
@click.option(
    "--objective",
    type=click.Choice(["best", "most"]),
    help="best: highest total score; most: most pairs, then the highest total "
    "[default: the programme's]",
)
@click.option("--re-pair", is_flag=True, help="Pair again people already paired in it.")
@click.option("--json", "as_json", is_flag=True, help="Print the run as JSON.")
@pass_app
def propose_cmd(
    app: AppContext, programme: str, objective: str | None, re_pair: bool, as_json: bool
) -> None:
    """Propose pairs for PROGRAMME, replacing its earlier drafts and keeping locked pairs."""
    spec = _programme(app, programme)
    with compose.open_store(app.config) as store:
        run, plan = propose(store, spec, today=_today(), objective=objective, re_pair=re_pair)
    summary = {
        "run": run.id,
        "programme": spec.key,
        "objective": plan.objective,
        "eligible_mentees": run.mentees,
        "eligible_mentors": run.mentors,
        "proposed": len(plan.pairs),
        "total_score": round(plan.total, 2),
        "upper_bound": round(plan.bound, 2),
        "unpaired_mentees": sum(1 for u in plan.unmatched if u["role"] == "mentee"),
    }
    if as_json:
        click.echo(json.dumps(summary, indent=2))
        return
    click.echo(
        f"run {run.id}: {len(plan.pairs)} pair(s) proposed for {spec.key} ({plan.objective} "
        f"pairs) from {run.mentees} executive(s) and {run.mentors} mentor(s); total score "
        f"{plan.total:.1f} (no assignment can exceed {plan.bound:.1f})"
    )
    for person in plan.unmatched:
        if person["role"] == "mentee":
            click.echo(f"  unpaired executive {person['employee_id']}: {person['reason']}")
    click.echo(f"review with `mentorbridge pairing show {spec.key}`")


@command.command("show")
@click.argument("programme")
@click.option("--explain", is_flag=True, help="Break every score down by rule.")
@click.option("--json", "as_json", is_flag=True, help="Print the pairs as JSON.")
@pass_app
def show(app: AppContext, programme: str, explain: bool, as_json: bool) -> None:
    """The current pairs of PROGRAMME (proposed, locked, approved) and who is unpaired."""
    spec = _programme(app, programme)
    with compose.open_store(app.config) as store:
        run, proposals = current(store, spec.key)
    if as_json:
        click.echo(json.dumps(describe(run, proposals), indent=2))
        return
    if run is None and not proposals:
        click.echo(f"no pairs for {spec.key} yet: run `mentorbridge pairing propose {spec.key}`")
        return
    for row in proposals:
        click.echo(
            f"{row.id:>6}  {row.status:<8}  {row.mentee} <- {row.mentor}  score {row.score:.1f}"
            + (f"  pair {row.pair_key}" if row.pair_key else "")
        )
        if explain:
            for name, part in row.breakdown.items():
                click.echo(
                    f"          {name}: {part['points']:.1f} of {part['weight']:g} "
                    f"(met {part['value']:.0%})"
                )
            for name, text in row.rules.items():
                click.echo(f"          passed {name}: {text}")
    if run is not None:
        unpaired = [u for u in run.unmatched if u["role"] == "mentee"]
        for person in unpaired:
            click.echo(f"unpaired executive {person['employee_id']}: {person['reason']}")
        mentors = len(run.unmatched) - len(unpaired)
        click.echo(f"run {run.id}: {mentors} eligible mentor(s) left unpaired (see --json)")


@command.command("lock")
@click.argument("programme")
@click.argument("proposal", required=False, type=int)
@click.option("--mentee", help="Pair this executive by hand (with --mentor) instead.")
@click.option("--mentor", help="The junior mentor to pair them with.")
@pass_app
def lock_cmd(
    app: AppContext, programme: str, proposal: int | None, mentee: str | None, mentor: str | None
) -> None:
    """Keep PROPOSAL through every re-run, or pair --mentee with --mentor by hand (a swap)."""
    spec = _programme(app, programme)
    by_hand = (mentee, mentor) if mentee is not None and mentor is not None else None
    if (proposal is None) == (by_hand is None):
        raise click.UsageError("give a PROPOSAL id, or --mentee and --mentor (not both)")
    with compose.open_store(app.config) as store:
        if by_hand is not None:
            row = lock_pair(store, spec, *by_hand, today=_today())
        else:
            row = lock(store, spec.key, proposal)
    click.echo(f"locked {row.id}: {row.mentee} <- {row.mentor} (score {row.score:.1f})")


@command.command("reject")
@click.argument("programme")
@click.argument("proposal", type=int)
@pass_app
def reject_cmd(app: AppContext, programme: str, proposal: int) -> None:
    """Never propose PROPOSAL's pair again."""
    spec = _programme(app, programme)
    with compose.open_store(app.config) as store:
        row = reject(store, spec.key, proposal)
    click.echo(f"rejected {row.id}: {row.mentee} <- {row.mentor}")


@command.command("approve")
@click.argument("programme")
@click.argument("proposals", nargs=-1, type=int)
@click.option("--all", "everything", is_flag=True, help="Approve every proposed and locked pair.")
@pass_app
def approve_cmd(
    app: AppContext, programme: str, proposals: tuple[int, ...], everything: bool
) -> None:
    """Create the pairs of PROPOSALS (or --all) as pair.created events, exactly once."""
    spec = _programme(app, programme)
    if bool(proposals) == everything:
        raise click.UsageError("give PROPOSALS ids, or --all (not both)")
    with compose.open_store(app.config) as store:
        processor = compose.event_processor(app.config, store)
        done = approve(
            store, processor, spec, None if everything else list(proposals), today=_today()
        )
    click.echo(f"approved {len(done.created)} pair(s): {', '.join(done.created) or 'none new'}")
    if done.already:
        click.echo(f"already approved before: {', '.join(done.already)}")


@command.command("intake")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@pass_app
def intake_cmd(app: AppContext, file: Path) -> None:
    """Import intake (themes, languages, consent) from a CSV or JSON Lines FILE: every row is
    checked first, and nothing is stored unless all are valid."""
    desk = IntakeDesk(load_programmes(app.config.pairing_file))
    with compose.open_store(app.config) as store:
        done = import_intake(store, desk, file)
    click.echo(f"intake imported from {file}: {done.created} new, {done.updated} updated")
