"""``mentorbridge report succession | impact | audit``: reports written whole or not at all,
each generation audited with the local operator, bad usage exit 2 with the fix."""

from __future__ import annotations

import csv
import getpass
import json
import os
from pathlib import Path

import openpyxl
import pyarrow.parquet
import pytest
from click.testing import CliRunner, Result

from mentorbridge.plugin.cli import cli
from mentorbridge.plugin.reports.access import Caller, audit_log, record
from mentorbridge.plugin.store.db import Store
from tests.conftest import keys_env
from tests.plugin.reports.talent_fixture import build

MAPPING = Path(__file__).parent / "reports" / "talent_mapping.toml"
#: The candidates of the fixture's two plans, one row per plan x candidate x competency.
CANDIDATE_ROWS = 6


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
def outdir(tmp_path: Path) -> Path:
    """An empty folder for reports (the SQLite store lives in ``tmp_path``)."""
    folder = tmp_path / "out"
    folder.mkdir()
    return folder


@pytest.fixture
def talent(env: dict[str, str], store: Store) -> dict[str, str]:
    """The environment, on a store holding the talent fixture and its mapping file."""
    build(store)
    return {**env, "MENTORBRIDGE_MAPPING_FILE": str(MAPPING)}


def test_report_succession_writes_the_file_prints_path_and_rows_and_audits(
    talent: dict[str, str], store: Store, outdir: Path
) -> None:
    out = outdir / "succession.csv"
    result = run(talent, "report", "succession", "--format", "csv", "--out", str(out))
    assert result.exit_code == 0, result.output
    assert result.output.strip() == f"wrote {out} (csv, {CANDIDATE_ROWS} rows)"
    with out.open(encoding="utf-8-sig", newline="") as file:
        table = list(csv.reader(file))
    assert len(table) == 1 + CANDIDATE_ROWS and "position_id" in table[0]
    assert os.listdir(outdir) == ["succession.csv"]
    (entry,) = audit_log(store)
    assert (entry.who, entry.report, entry.outcome, entry.format, entry.row_count) == (
        f"cli:{getpass.getuser()}",
        "succession",
        "ok",
        "csv",
        CANDIDATE_ROWS,
    )


def test_report_succession_filters_and_xlsx(
    talent: dict[str, str], store: Store, outdir: Path
) -> None:
    out = outdir / "org-a.xlsx"
    result = run(
        talent,
        *("report", "succession", "--format", "XLSX", "--out", str(out)),
        *("--organization", "ORG-A", "--from", "2026-01-01", "--competency", "C-DIGI"),
    )
    assert result.exit_code == 0, result.output
    sheet = openpyxl.load_workbook(out)["Candidates x competencies"]
    assert sheet.max_row == 1 + 2  # EXEC-1 and JUN-1 on POS-1, digital fluency only
    assert audit_log(store)[0].filters == {
        "organization": "ORG-A",
        "from": "2026-01-01",
        "competency": "C-DIGI",
    }


BAD_USAGE = [
    (("--format", "pdf"), "'pdf' is not one of 'csv', 'html', 'json', 'parquet', 'xlsx'"),
    (("--format", "csv", "--from", "1 March"), "from = '1 March' is not a date"),
    (("--format", "csv", "--worker", "EXEC-9"), "no worker 'EXEC-9' is known; the closest is"),
    (("--format", "csv", "--plan", "POS-9"), "'--plan'"),
]


@pytest.mark.parametrize(("args", "message"), BAD_USAGE)
def test_report_bad_usage_exits_2_and_leaves_the_old_file(
    talent: dict[str, str], outdir: Path, args: tuple[str, ...], message: str
) -> None:
    out = outdir / "report.csv"
    out.write_text("last week's report")
    result = run(talent, "report", "succession", "--out", str(out), *args)
    assert result.exit_code == 2, result.output
    assert message in result.output
    assert out.read_text() == "last week's report"
    assert os.listdir(outdir) == ["report.csv"]


def test_report_an_unknown_filter_value_is_audited_as_an_error(
    talent: dict[str, str], store: Store, outdir: Path
) -> None:
    out = outdir / "r.json"
    result = run(
        talent, "report", "succession", "--format", "json", "--out", str(out), "--worker", "X"
    )
    assert result.exit_code == 2
    (entry,) = audit_log(store)
    assert (entry.outcome, entry.filters, entry.row_count) == ("error", {"worker": "X"}, None)
    assert not out.exists()


def test_report_into_a_missing_folder_exits_2(talent: dict[str, str], outdir: Path) -> None:
    out = outdir / "missing" / "r.csv"
    result = run(talent, "report", "succession", "--format", "csv", "--out", str(out))
    assert result.exit_code == 2 and "does not exist: create it" in result.output


def test_report_impact_as_parquet_reads_back(
    talent: dict[str, str], store: Store, outdir: Path
) -> None:
    out = outdir / "impact.parquet"
    result = run(talent, "report", "impact", "--format", "parquet", "--out", str(out))
    assert result.exit_code == 0, result.output
    table = pyarrow.parquet.read_table(out)
    assert result.output.strip() == f"wrote {out} (parquet, {table.num_rows} rows)"
    assert table.num_rows > 0 and "cohort" in " ".join(table.column_names)
    assert audit_log(store)[0].row_count == table.num_rows


@pytest.mark.parametrize("option", ["--worker", "--plan", "--competency"])
def test_report_impact_takes_no_option_that_singles_people_out(
    talent: dict[str, str], outdir: Path, option: str
) -> None:
    out = outdir / "impact.csv"
    result = run(talent, "report", "impact", "--format", "csv", "--out", str(out), option, "x")
    assert result.exit_code == 2
    assert f"the impact report takes no {option[2:]} filter" in result.output
    assert option not in run(talent, "report", "impact", "--help").output
    assert not out.exists()


def test_report_audit_lists_newest_first_and_is_audited_itself(
    env: dict[str, str], store: Store
) -> None:
    record(store, Caller("anonymous"), "impact", filters={}, outcome="refused", detail="401 x")
    record(
        store,
        Caller("token 1 (bi)", "talent", None),
        "succession",
        filters={"plan": "SP-1"},
        outcome="ok",
        format="csv",
        row_count=12,
    )
    listed = run(env, "report", "audit")
    assert listed.exit_code == 0, listed.output
    first, second = listed.output.splitlines()
    assert "ok" in first and "succession" in first and "csv" in first and "12 rows" in first
    assert "token 1 (bi)" in first and "[plan=SP-1]" in first
    assert "refused" in second and "anonymous" in second and "401 x" in second
    as_json = run(env, "report", "audit", "--json", "--limit", "2")
    newest = json.loads(as_json.output.splitlines()[0])
    assert newest["report"] == "audit" and newest["who"] == f"cli:{getpass.getuser()}"
    assert newest["filters"] == {"limit": 50} and newest["row_count"] == 2
    assert len(as_json.output.splitlines()) == 2
    assert audit_log(store)[0].filters == {"limit": 2}


def test_report_audit_a_bad_limit_exits_2(env: dict[str, str]) -> None:
    result = run(env, "report", "audit", "--limit", "0")
    assert result.exit_code == 2 and "--limit" in result.output
