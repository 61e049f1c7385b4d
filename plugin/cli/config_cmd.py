"""``mentorbridge config show | check | reference``."""

from __future__ import annotations

import json
from typing import Any

import click

from mentorbridge import schemas
from mentorbridge.plugin.cli import AppContext, pass_app
from mentorbridge.plugin.config import env_name, redacted, setting_paths


@click.group("config")
def command() -> None:
    """Inspect the effective configuration."""


@command.command("show")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of TOML.")
@pass_app
def show(app: AppContext, as_json: bool) -> None:
    """Print the effective configuration, secrets masked, with where each value came from."""
    config = app.config
    values = redacted(config)
    if as_json:
        click.echo(json.dumps(values, indent=2))
        return
    origin = str(config.path) if config.path else "no file: embedded defaults"
    click.echo(f"# effective configuration ({origin}); secrets are masked")
    top = {k: v for k, v in values.items() if not isinstance(v, dict)}
    for key, value in top.items():
        click.echo(_line(key, value, config.sources.get(key)))
    for section, table in values.items():
        if isinstance(table, dict):
            click.echo(f"\n[{section}]")
            for key, value in table.items():
                click.echo(_line(key, value, config.sources.get(f"{section}.{key}")))


def _line(key: str, value: Any, source: str | None) -> str:
    text = f"{key} = {json.dumps(value)}"
    return f"{text}  # from {source}" if source else text


@command.command("check")
@pass_app
def check(app: AppContext) -> None:
    """Validate the configuration; exit 2 naming the key if it is invalid."""
    config = app.config
    click.echo(f"configuration is valid ({config.path or 'embedded defaults'})")


@command.command("reference")
def reference() -> None:
    """Print the configuration reference (Markdown), generated from the schema."""
    click.echo(reference_markdown())


def reference_markdown() -> str:
    """Every setting: key, environment variable, default and what is expected."""
    lines = [
        "| key | environment variable | default | expected |",
        "|---|---|---|---|",
    ]
    grouped = _grouped_sections()
    shown: set[tuple[str, ...]] = set()
    for setting in setting_paths():
        section = setting.path[:-1]
        if any(section[: len(g)] == g for g in grouped):
            if section not in shown:
                shown.add(section)
                lines.append(_group_row(section))
            continue
        schema = setting.schema
        if setting.secret:
            default = "*(secret: no default)*"
        elif "default" in schema:
            default = f"`{json.dumps(schema['default'])}`"
        else:
            default = "*(unset)*"
        expected = schema.get("description", "").replace("|", "\\|").replace("<", "&lt;")
        lines.append(f"| `{setting.key}` | `{env_name(setting)}` | {default} | {expected} |")
    return "\n".join(lines)


def _grouped_sections() -> list[tuple[str, ...]]:
    """Sections marked ``"x-reference": "grouped"``: one row per subsection, not per key."""
    found: list[tuple[str, ...]] = []

    def walk(node: dict[str, Any], path: tuple[str, ...]) -> None:
        for name, child in node.get("properties", {}).items():
            if child.get("type") == "object":
                if child.get("x-reference") == "grouped":
                    found.append((*path, name))
                else:
                    walk(child, (*path, name))

    walk(schemas.load("config"), ())
    return found


def _group_row(section: tuple[str, ...]) -> str:
    node = schemas.load("config")
    for part in section:
        node = node["properties"][part]
    key = ".".join(section)
    env = "MENTORBRIDGE_" + "_".join(section).upper() + "_*"
    described = node.get("description", "").replace("|", "\\|")
    return (
        f"| `{key}.*` | `{env}` | one per field: see connectors/workday/README.md | {described} |"
    )
