"""`mentorbridge mapping check`: the file, then its Workday names against a synced store."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from mentorbridge.connectors.workday.sample.tenant import generate_tenant
from mentorbridge.plugin.cli import cli
from mentorbridge.plugin.mapping.check import SyncedCompetency, check_mapping
from mentorbridge.plugin.mapping.file import default_text, parse_mapping
from tests.conftest import keys_env
from tests.plugin.mapping.texts import MINIMAL, changed, line
from tests.workday_server import WorkdayServer


def run(env: dict[str, str], *args: str) -> Result:
    return CliRunner().invoke(cli, list(args), env=env)


@pytest.fixture
def env(tmp_path: Path, store_url: str) -> dict[str, str]:
    return {
        "XDG_CONFIG_HOME": str(tmp_path / "cfg"),
        "MENTORBRIDGE_STORE_URL": store_url,
        **keys_env(store_url),
    }


@pytest.fixture
def synced(env: dict[str, str]) -> Iterator[dict[str, str]]:
    """``env`` with the competency library of a tenant on the test Workday server synced."""
    with WorkdayServer(generate_tenant(40, seed=3)) as server:
        api = {
            **env,
            "MENTORBRIDGE_WORKDAY_SOURCE": "api",
            "MENTORBRIDGE_WORKDAY_HOST": server.url,
            "MENTORBRIDGE_WORKDAY_TENANT": "acme",
            "MENTORBRIDGE_WORKDAY_CLIENT_ID": "mentorbridge",
            "MENTORBRIDGE_WORKDAY_CLIENT_SECRET": "client-secret-1",
            "MENTORBRIDGE_WORKDAY_REFRESH_TOKEN": "refresh-token-1",
            "MENTORBRIDGE_WORKDAY_ISU_USERNAME": "ISU_Mentoring@acme",
            "MENTORBRIDGE_WORKDAY_ISU_PASSWORD": "isu-password-1",
            "MENTORBRIDGE_WORKDAY_REPORT_OWNER": "ISU_Mentoring",
        }
        result = run(api, "sync", "workday", "--stream", "competencies")
        assert result.exit_code == 0, result.output
        assert any(row.split()[:2] == ["competencies", "14"] for row in result.output.splitlines())
    yield env


MISSPELT = """
[workday.scales.ACME_PROF_4]
thresholds = [
    { min_level = 0.25, level_id = "AWARE" },
    { min_level = 0.5, level_id = "PRACTICING" },
    { min_level = 0.75, level_id = "SKILLED" },
    { min_level = 1.0, level_id = "EXPERT" },
]

[workday.scales.ACME_TECH3]
thresholds = [{ min_level = 0.5, level_id = "FOUNDATION" }]
"""


def test_the_default_mapping_matches_the_sample_tenant(synced: dict[str, str]) -> None:
    result = run(synced, "mapping", "check")
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [
        "mapping file default is valid (8 competencies)",
        "every Workday competency, scale and level it names matches the 14 synced competencies",
    ]


def test_misspelt_ids_are_listed_with_their_line_and_the_closest_synced_one(
    synced: dict[str, str], tmp_path: Path
) -> None:
    text = changed('workday_id = "SUCC-DIGI"', 'workday_id = "SUCC-DIGY"') + MISSPELT
    text = changed("SUCC-DIGI = 1.0", "succ_digi = 1.0", text)
    text = changed('workday_id = "COMP-COACH"', 'workday_id = "COMP-SIXSIGMA"', text)
    path = tmp_path / "mapping.toml"
    path.write_text(text)
    result = run(synced, "mapping", "check", str(path))
    assert result.exit_code == 1, result.output
    at = f"  {path}:"
    assert result.output.splitlines() == [
        f"mapping file {path} is valid (2 competencies)",
        "6 name(s) do not match the 14 synced Workday competencies:",
        f"{at}{line(text, 'SUCC-DIGY')}: competencies.digital-fluency.workday_id: no Workday "
        "competency 'SUCC-DIGY' was synced; did you mean SUCC-DIGI (Digital Fluency)?",
        f"{at}{line(text, 'succ_digi')}: competencies.digital-fluency.mentee.outcomes.succ_digi: "
        "no Workday competency 'succ_digi' was synced; ratings naming it would never count: "
        "did you mean SUCC-DIGI (Digital Fluency)?",
        f"{at}{line(text, 'COMP-SIXSIGMA')}: competencies.coaching.workday_id: COMP-SIXSIGMA "
        "(Six Sigma Basics) is inactive in Workday: map an active competency or leave it out",
        f"{at}{line(text, 'AWARE') - 1}: workday.scales.ACME_PROF_4.thresholds: no "
        "threshold for PRACTISING: evidence never reaches it and a job profile requiring it "
        "has no normalised level; add a threshold for each level",
        f"{at}{line(text, 'PRACTICING')}: workday.scales.ACME_PROF_4.thresholds[1].level_id: the "
        "synced scale has no level 'PRACTICING': did you mean PRACTISING?",
        f"{at}{line(text, '[workday.scales.ACME_TECH3]')}: workday.scales.ACME_TECH3: no synced "
        "competency uses scale 'ACME_TECH3': did you mean ACME_TECH_3?",
    ]
    machine = json.loads(run(synced, "mapping", "check", str(path), "--json").output)
    assert machine["ok"] is False and machine["checked"] is True
    assert machine["problems"][0] == {
        "key": "competencies.digital-fluency.workday_id",
        "line": line(text, "SUCC-DIGY"),
        "message": "no Workday competency 'SUCC-DIGY' was synced; did you mean SUCC-DIGI "
        "(Digital Fluency)?",
        "value": "SUCC-DIGY",
        "closest": "SUCC-DIGI",
    }
    assert [p["closest"] for p in machine["problems"]] == [
        "SUCC-DIGI",
        "SUCC-DIGI",
        None,
        None,
        "PRACTISING",
        "ACME_TECH_3",
    ]


def test_thresholds_that_do_not_fit_the_synced_scale(
    synced: dict[str, str], tmp_path: Path
) -> None:
    text = MINIMAL + (
        "\n[workday.scales.ACME_TECH_3]\nthresholds = [\n"
        '    { min_level = 0.2, level_id = "FOUNDATION" },\n'
        '    { min_level = 0.4, level_id = "MASTERY" },\n'
        '    { min_level = 0.6, level_id = "PROFICIENT" },\n'
        '    { min_level = 0.8, level_id = "FOUNDATION-PLUS" },\n]\n'
        "\n[workday.scales.ACME_PROF_4]\nthresholds = [\n"
        '    { min_level = 0.5, level_id = "AWARE" },\n'
        '    { min_level = 1.0, level_id = "EXPERT" },\n]\n'
    )
    path = tmp_path / "mapping.toml"
    path.write_text(text)
    result = run(synced, "mapping", "check", str(path), "--json")
    assert result.exit_code == 1, result.output
    found = [(p["line"], p["key"], p["message"]) for p in json.loads(result.output)["problems"]]
    assert found == [
        (
            line(text, "[workday.scales.ACME_TECH_3]") + 1,
            "workday.scales.ACME_TECH_3.thresholds",
            "4 thresholds for a scale of 3 levels (FOUNDATION, PROFICIENT, MASTERY): one "
            "threshold per level",
        ),
        (
            line(text, '"PROFICIENT"'),
            "workday.scales.ACME_TECH_3.thresholds[2].level_id",
            "PROFICIENT (rank 2) is not above MASTERY (rank 3): a higher min_level must reach a "
            "higher level",
        ),
        (
            line(text, '"FOUNDATION-PLUS"'),
            "workday.scales.ACME_TECH_3.thresholds[3].level_id",
            "the synced scale has no level 'FOUNDATION-PLUS': did you mean FOUNDATION?",
        ),
        (
            line(text, "[workday.scales.ACME_PROF_4]") + 1,
            "workday.scales.ACME_PROF_4.thresholds",
            "no threshold for PRACTISING, SKILLED: evidence never reaches it and a job profile "
            "requiring it has no normalised level; add a threshold for each level",
        ),
    ]


def test_with_nothing_synced_it_says_so_and_how(env: dict[str, str]) -> None:
    result = run(env, "mapping", "check")
    assert result.exit_code == 1
    assert result.output.splitlines() == [
        "mapping file default is valid (8 competencies)",
        "no Workday competencies have been synced yet, so its Workday ids and scales were not "
        "checked: run `mentorbridge sync workday`, then check again",
    ]
    machine = json.loads(run(env, "mapping", "check", "--json").output)
    assert (machine["valid"], machine["checked"], machine["ok"]) == (True, False, False)


def test_an_invalid_file_exits_2_naming_the_line_and_key(
    env: dict[str, str], tmp_path: Path
) -> None:
    text = changed("min_sessions = 3", "min_sessions = -3")
    path = tmp_path / "mapping.toml"
    path.write_text(text)
    configured = {**env, "MENTORBRIDGE_MAPPING_FILE": str(path)}
    result = run(configured, "mapping", "check")  # the configured file
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [
        f"mentorbridge: mapping file {path} is invalid (1 problem):",
        f"  {path}:{line(text, 'min_sessions = -3')}: rules.levels[1].min_sessions: -3 is not "
        "valid: expected the weighted (and decayed) count of matching completed sessions "
        "needed, 0 to 10000 (default 0)",
    ]
    assert "Traceback" not in result.output
    machine = json.loads(run(configured, "mapping", "check", "--json").output)
    assert machine == {
        "source": str(path),
        "valid": False,
        "problems": [
            {
                "line": line(text, "min_sessions = -3"),
                "key": "rules.levels[1].min_sessions",
                "message": "-3 is not valid: expected the weighted (and decayed) count of "
                "matching completed sessions needed, 0 to 10000 (default 0)",
            }
        ],
    }
    syntax = tmp_path / "syntax.toml"
    syntax.write_text(MINIMAL + "[rules\n")
    broken = run(env, "mapping", "check", str(syntax))
    assert broken.exit_code == 2
    assert f"{syntax}:{MINIMAL.count(chr(10)) + 1}: (TOML): not valid TOML" in broken.stderr


def test_check_mapping_without_a_text_still_names_the_keys() -> None:
    mapping = parse_mapping(default_text().replace('"SUCC-DIGI"', '"SUCC-DIGX"'), "m.toml")
    levels = ({"level_id": "A", "name": "A", "rank": 1},)
    synced = [SyncedCompetency("SUCC-DIGI", "Digital Fluency", "S", levels, False)]
    report = check_mapping(mapping, synced)
    first = report.findings[0]
    assert (first.key, first.line, first.closest) == (
        "competencies.digital-fluency.workday_id",
        None,
        "SUCC-DIGI",
    )
    assert not report.ok
