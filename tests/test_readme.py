"""The README states the two commands and a configuration reference that matches the schema."""

from __future__ import annotations

import re
from pathlib import Path

from mentorbridge.connectors.moodle.functions import CAPABILITIES, FUNCTIONS
from mentorbridge.plugin.cli.config_cmd import reference_markdown
from mentorbridge.plugin.reports.columns import columns_markdown

README = Path(__file__).resolve().parents[1] / "README.md"
CI = Path(__file__).resolve().parents[1] / ".ci" / "run"


def commands(text: str) -> list[str]:
    return re.findall(r"```sh\n(.+?)\n```", text)


def test_the_readme_opens_with_the_setup_and_test_commands() -> None:
    setup, test = commands(README.read_text())[:2]
    assert setup.endswith("mentorbridge demo") and "pip install" in setup
    assert test.endswith("pytest")


def test_ci_runs_exactly_the_readme_test_command() -> None:
    test = commands(README.read_text())[1]
    assert test in CI.read_text().splitlines()


def test_the_configuration_reference_is_generated_from_the_schema() -> None:
    text = README.read_text()
    section = text.split("<!-- config-reference:start -->\n")[1].split(
        "\n<!-- config-reference:end -->"
    )[0]
    assert section == reference_markdown(), (
        "README's configuration reference is stale: paste `mentorbridge config reference`"
    )


def test_the_report_columns_are_generated_from_the_reports() -> None:
    text = README.read_text()
    section = text.split("<!-- report-columns:start -->\n")[1].split(
        "\n<!-- report-columns:end -->"
    )[0]
    assert section == columns_markdown(), (
        "README's report columns are stale: paste `mentorbridge report columns`"
    )


def listed_between(text: str, marker: str) -> list[str]:
    block = text.split(f"<!-- {marker}:start -->")[1].split(f"<!-- {marker}:end -->")[0]
    return re.findall(r"`([^`]+)`", block)


def test_the_moodle_guide_lists_exactly_the_functions_and_capabilities_the_push_needs() -> None:
    text = README.read_text(encoding="utf-8")
    assert listed_between(text, "moodle-functions") == list(FUNCTIONS)
    assert listed_between(text, "moodle-capabilities") == list(CAPABILITIES)
