"""The default report layout is one thing: the config defaults, the shipped sample tenant and
the connector's README all agree."""

from __future__ import annotations

from pathlib import Path

from mentorbridge.connectors.workday.columns import ROWS_UNDER
from mentorbridge.connectors.workday.fields import STREAM_FIELDS
from mentorbridge.connectors.workday.sample.reports import NESTED_ALIASES, REPORT_ALIASES
from mentorbridge.plugin.config import load_config

README = Path(__file__).resolve().parents[3] / "connectors" / "workday" / "README.md"


def defaults() -> dict[str, dict[str, str]]:
    """The default aliases, less each stream's layout key (``rows_under``, default "")."""
    fields = load_config(environ={"XDG_CONFIG_HOME": "/nonexistent"})["workday"]["fields"]
    return {
        stream: {k: v for k, v in aliases.items() if k != ROWS_UNDER}
        for stream, aliases in fields.items()
    }


def test_every_report_stream_defaults_to_one_row_per_item() -> None:
    fields = load_config(environ={"XDG_CONFIG_HOME": "/nonexistent"})["workday"]["fields"]
    assert {
        stream: aliases[ROWS_UNDER] for stream, aliases in fields.items() if ROWS_UNDER in aliases
    } == {stream: "" for stream in REPORT_ALIASES}


def test_config_defaults_are_the_sample_tenants_aliases() -> None:
    fields = defaults()
    for stream, aliases in REPORT_ALIASES.items():
        assert fields[stream] == aliases, stream
    nested_sections = {
        "additional_jobs",
        "competency_levels",
        "required_competencies",
        "succession_candidates",
    }
    rendered = {
        name: aliases
        for per_stream in NESTED_ALIASES.values()
        for aliases in per_stream.values()
        for name in [_section(aliases)]
    }
    assert set(rendered) == nested_sections
    for section, aliases in rendered.items():
        assert fields[section] == aliases, section


def _section(aliases: dict[str, str]) -> str:
    for name in (
        "additional_jobs",
        "competency_levels",
        "required_competencies",
        "succession_candidates",
    ):
        if set(aliases) == set(STREAM_FIELDS[name]):
            return name
    raise AssertionError(f"no nested section reads {sorted(aliases)}")


def test_every_field_the_connector_reads_has_a_configurable_alias() -> None:
    fields = defaults()
    for stream, readers in STREAM_FIELDS.items():
        assert set(fields[stream]) == set(readers), stream


def test_the_readme_documents_every_default_workers_alias() -> None:
    text = README.read_text()
    for field, alias in defaults()["workers"].items():
        assert f"| {field} | `{alias}` |" in text, field
