"""``mentorbridge mapping check [FILE]``."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click

from mentorbridge.plugin import compose
from mentorbridge.plugin.cli import AppContext, pass_app
from mentorbridge.plugin.errors import MappingError
from mentorbridge.plugin.mapping.check import CheckReport, check_mapping, synced_competencies
from mentorbridge.plugin.mapping.file import parse_mapping, read_mapping_text


@click.group("mapping")
def command() -> None:
    """The competency mapping: which mentoring activity is evidence for which competency."""


@command.command("check")
@click.argument("file", required=False, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@pass_app
def check(app: AppContext, file: Path | None, as_json: bool) -> None:
    """Validate FILE (default: mapping.file, else the shipped default) and check its Workday
    competency, scale and level ids against the ones synced into the store.

    Exit status: 0 all match, 1 mismatches found (or nothing synced to check against),
    2 the file is invalid.
    """
    config = app.config
    path = file if file is not None else config.mapping_file
    try:
        text, source = read_mapping_text(path)
        mapping = parse_mapping(text, source)
    except MappingError as err:
        if as_json:
            problems = [{"line": ln, "key": key, "message": msg} for ln, key, msg in err.problems]
            _echo_json({"source": err.source, "valid": False, "problems": problems})
        else:
            click.echo(f"mentorbridge: {err}", err=True)
        sys.exit(2)
    with compose.open_store(config) as store, store.reading() as session:
        synced = synced_competencies(session)
    report = check_mapping(mapping, synced, text=text)
    if as_json:
        _echo_json(_as_dict(report))
    else:
        _print(report)
    sys.exit(0 if report.ok else 1)


def _print(report: CheckReport) -> None:
    count = f"{report.competencies} competenc{'y' if report.competencies == 1 else 'ies'}"
    click.echo(f"mapping file {report.source} is valid ({count})")
    if not report.synced:
        click.echo(
            "no Workday competencies have been synced yet, so its Workday ids and scales were "
            "not checked: run `mentorbridge sync workday`, then check again"
        )
        return
    if not report.findings:
        click.echo(
            f"every Workday competency, scale and level it names matches the {report.synced} "
            "synced competencies"
        )
        return
    click.echo(
        f"{len(report.findings)} name(s) do not match the {report.synced} synced Workday "
        "competencies:"
    )
    for finding in report.findings:
        where = f"{report.source}:{finding.line}" if finding.line else report.source
        click.echo(f"  {where}: {finding.key}: {finding.message}")


def _as_dict(report: CheckReport) -> dict[str, Any]:
    return {
        "source": report.source,
        "valid": True,
        "competencies": report.competencies,
        "synced_competencies": report.synced,
        "checked": report.synced > 0,
        "ok": report.ok,
        "problems": [finding.as_dict() for finding in report.findings],
    }


def _echo_json(value: dict[str, Any]) -> None:
    click.echo(json.dumps(value, indent=2, ensure_ascii=False))
