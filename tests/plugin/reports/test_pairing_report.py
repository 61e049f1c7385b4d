"""The pairing report for a programme's sponsor: hand-computed coverage, scores and diversity
mix; no group under k = 5 shown nor derivable from what is; never an Employee ID in any format;
``GET /reports/pairing`` for talent and admin tokens only; ``mentorbridge report pairing``
(SQLite and PostgreSQL)."""

from __future__ import annotations

import csv
import getpass
import io
import json
import os
import zipfile
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import openpyxl
import pyarrow.parquet
import pytest
from click.testing import CliRunner, Result
from flask import Flask
from flask.testing import FlaskClient

from mentorbridge.plugin.cli import cli
from mentorbridge.plugin.pairing.file import load_programmes, parse_programmes
from mentorbridge.plugin.reports.access import audit_log, create_token
from mentorbridge.plugin.reports.delivery import FilterError, build_report, parse_filters
from mentorbridge.plugin.reports.filters import ReportFilterError
from mentorbridge.plugin.reports.formats import FORMATS
from mentorbridge.plugin.reports.pairing import PairingFilters, pairing_report
from mentorbridge.plugin.reports.table import SUPPRESSED, LineChart, Report
from mentorbridge.plugin.store.db import Store
from mentorbridge.plugin.store.pairing_models import PairingProposal, PairingRun
from mentorbridge.plugin.web import create_app
from tests.conftest import keys_env
from tests.plugin.web.conftest import CLOCK, web_config

PROGRAMME = "rm-2026"  # the shipped default pairing file's programme
WEIGHTS = {
    "themes": 60.0,
    "organisation": 10.0,
    "function": 10.0,
    "region": 10.0,
    "first_time_mentor": 10.0,
    "protected": 0.0,
}
NO_MENTOR = (
    "no mentor with 2 h of working day in common outside the reporting chain ({} of 40 "
    "eligible mentors share 2 h; none of them passes every rule)"
)
NO_MENTOR_KIND = "unpaired: no mentor with N h of working day in common outside the reporting chain"
OUTSCORED = (
    "the {} mentors who pass every rule score higher with other executives, and pairing them "
    'here would lower the total; lock a pair by hand or use objective = "most"'
)
OUTSCORED_KIND = (
    "unpaired: the N mentors who pass every rule score higher with other executives, and "
    "pairing them here would lower the total"
)
SPARE_MENTOR = (
    "more mentors than executive places (40 mentors, 26 places): the executives they could "
    "mentor score higher with others"
)
DIVERSE = """
[programmes.rm-diverse]
name = "Diverse mentoring"
purpose = "Leaders meet colleagues unlike them."
themes = ["hybrid work", "social media"]

[programmes.rm-diverse.mentees]
management_levels = ["2"]

[programmes.rm-diverse.mentors]
management_levels = ["6"]

[programmes.rm-diverse.weights]
themes = 50
protected = 10

[programmes.rm-diverse.diversity]
protected_attributes = ["gender", "birth_generation"]
"""


def mentee(n: int) -> str:
    return f"EMP-7{n:03d}"


def mentor(n: int) -> str:
    return f"EMP-8{n:03d}"


def breakdown(
    score: float,
    *,
    organisation: float,
    function: float,
    region: float = 1.0,
    first_time_mentor: float = 1.0,
    protected: float = 0.0,
    weights: dict[str, float] = WEIGHTS,
) -> dict[str, dict[str, float]]:
    """A score explained as the scorer does: each rule's points its weight times its value,
    the themes taking the rest (so the points add up to the score)."""
    values = {
        "organisation": organisation,
        "function": function,
        "region": region,
        "first_time_mentor": first_time_mentor,
        "protected": protected,
    }
    parts = {
        c: {"value": v, "weight": weights[c], "points": weights[c] * v} for c, v in values.items()
    }
    themes = score - sum(part["points"] for part in parts.values())
    assert themes >= 0
    return {
        "themes": {
            "value": themes / weights["themes"],
            "weight": weights["themes"],
            "points": themes,
        },
        **parts,
    }


def insert(
    store: Store,
    *,
    pairs: Sequence[tuple[str, str, str, float, dict[str, Any]]],
    mentees: int,
    mentors: int,
    unmatched: Sequence[tuple[str, str, str]],
    programme: str = PROGRAMME,
) -> None:
    """An older run (whose counts must not show), the latest run, the current pairs, and
    superseded and rejected proposals (which must not count)."""
    with store.transaction() as s:
        old = PairingRun(
            programme_key=programme,
            objective="best",
            started_at=datetime(2026, 1, 5, 9, tzinfo=UTC),
            mentees=99,
            mentors=98,
            pairs=3,
            total_score=150.0,
            unmatched=[{"employee_id": "EMP-6000", "role": "mentee", "reason": "old reason"}],
        )
        latest = PairingRun(
            programme_key=programme,
            objective="best",
            started_at=datetime(2026, 3, 2, 9, tzinfo=UTC),
            mentees=mentees,
            mentors=mentors,
            pairs=len(pairs),
            total_score=sum(p[3] for p in pairs),
            unmatched=[{"employee_id": e, "role": r, "reason": why} for e, r, why in unmatched],
        )
        s.add_all([old, latest])
        s.flush()
        for number, status in enumerate(["superseded"] * 3 + ["rejected"] * 2):
            s.add(
                PairingProposal(
                    run_id=old.id,
                    programme_key=programme,
                    mentee=f"EMP-6{number:03d}",
                    mentor=f"EMP-6{number + 100:03d}",
                    status=status,
                    score=10.0,
                    breakdown=breakdown(10.0, organisation=0, function=0, region=0),
                    rules={},
                )
            )
        for a, b, status, score, explained in pairs:
            s.add(
                PairingProposal(
                    run_id=latest.id,
                    programme_key=programme,
                    mentee=a,
                    mentor=b,
                    status=status,
                    score=score,
                    breakdown=explained,
                    rules={"reporting_chain": "outside"},
                )
            )


#: The large programme: 26 current pairs (15 proposed, 5 locked, 6 approved) scoring 30 (5),
#: 50 (8), 70 (8) and 80 to 100 (5); pairs 6 on cross organisations, 13 on functions, all
#: regions; 37 executives (26 paired, 6 without a mentor in their hours, 5 outscored, and one
#: the run left unpaired who is paired now) and 36 mentors (26 paired, 10 spare).
SCORES = [30.0] * 5 + [50.0] * 8 + [70.0] * 8 + [80.0, 85.0, 90.0, 95.0, 100.0]


def large(store: Store) -> None:
    pairs = [
        (
            mentee(i),
            mentor(i),
            "proposed" if i < 15 else "locked" if i < 20 else "approved",
            score,
            breakdown(score, organisation=float(i >= 6), function=float(i >= 13)),
        )
        for i, score in enumerate(SCORES)
    ]
    unmatched = [(f"EMP-9{i:03d}", "mentee", NO_MENTOR.format(3 + i)) for i in range(6)]
    unmatched += [(f"EMP-9{10 + i:03d}", "mentee", OUTSCORED.format(2 + i)) for i in range(5)]
    unmatched += [(mentee(20), "mentee", OUTSCORED.format(9))]  # paired since (approved)
    unmatched += [(f"EMP-9{100 + i:03d}", "mentor", SPARE_MENTOR) for i in range(10)]
    insert(store, pairs=pairs, mentees=37, mentors=36, unmatched=unmatched)


def small(store: Store, *, unpaired: Sequence[tuple[str, int]], mentees: int) -> None:
    """12 current pairs (10 proposed, 2 locked) of 50 points, 3 crossing organisations."""
    pairs = [
        (
            mentee(i),
            mentor(i),
            "proposed" if i < 10 else "locked",
            50.0,
            breakdown(50.0, organisation=float(i < 3), function=1.0),
        )
        for i in range(12)
    ]
    reasons = [reason.format(4) for reason, count in unpaired for _ in range(count)]
    unmatched = [(f"EMP-9{n:03d}", "mentee", why) for n, why in enumerate(reasons)]
    insert(store, pairs=pairs, mentees=mentees, mentors=12, unmatched=unmatched)


def report(store: Store, programme: str = PROGRAMME, pairing_file: Path | None = None) -> Report:
    return pairing_report(store, load_programmes(pairing_file), PairingFilters(programme=programme))


def rows(result: Report, view: str) -> list[tuple[Any, ...]]:
    """A view's rows (read once, as a writer would: kept on the view for the next call)."""
    found = next(v for v in result.views if v.name == view)
    found.rows = list(found.rows)
    return found.rows


def section(result: Report, name: str) -> dict[str, tuple[Any, Any]]:
    return {m: (n, share) for s, m, n, share in rows(result, "coverage") if s == name}


# -- the numbers -------------------------------------------------------------------------------


def test_coverage_counts_the_latest_run_the_current_pairs_and_the_unpaired_by_kind(
    store: Store,
) -> None:
    large(store)
    result = report(store)
    assert [v.name for v in result.views] == [
        "coverage",
        "score_bands",
        "score_summary",
        "diversity",
    ]
    assert rows(result, "coverage") == [
        ("latest run", "eligible executives", 37, None),
        ("latest run", "eligible mentors", 36, None),
        ("pairs", "proposed", 15, round(15 / 26, 4)),
        ("pairs", "locked", 5, round(5 / 26, 4)),
        ("pairs", "approved", 6, round(6 / 26, 4)),
        ("pairs", "all", 26, None),
        ("executives", "paired", 26, round(26 / 37, 4)),
        ("executives", NO_MENTOR_KIND, 6, round(6 / 37, 4)),
        ("executives", OUTSCORED_KIND, 5, round(5 / 37, 4)),
        ("executives", "unpaired: all", 11, round(11 / 37, 4)),
        ("executives", "all", 37, None),
        ("mentors", "paired", 26, round(26 / 36, 4)),
        ("mentors", "unpaired: more mentors than executive places", 10, round(10 / 36, 4)),
        ("mentors", "unpaired: all", 10, round(10 / 36, 4)),
        ("mentors", "all", 36, None),
    ]
    assert result.title == "Pairing report: Reverse mentoring 2026"
    assert result.filters == {"programme": PROGRAMME, "k": "5"}
    assert any("Latest run: started 2026-03-02 09:00 UTC" in note for note in result.notes)


def test_scores_by_band_mean_median_and_each_rules_mean_points(store: Store) -> None:
    large(store)
    result = report(store)
    assert rows(result, "score_bands") == [
        ("0-20", 0, 0.0),
        ("20-40", 5, round(5 / 26, 4)),
        ("40-60", 8, round(8 / 26, 4)),
        ("60-80", 8, round(8 / 26, 4)),
        ("80-100", 5, round(5 / 26, 4)),  # 80 and 100 both in the last band
        ("all", 26, 1.0),
    ]
    # Sum of scores 150 + 400 + 560 + 450 = 1560 over 26: 60; the 13th and 14th are 50 and 70.
    # Themes take the rest: 1560 - 200 (organisation) - 130 (function) - 260 - 260 = 710.
    assert rows(result, "score_summary") == [
        ("score", 100.0, 26, 60.0, 60.0),
        ("themes", 60.0, 26, round(710 / 26, 2), 30.0),
        ("organisation", 10.0, 26, round(200 / 26, 2), 10.0),
        ("function", 10.0, 26, 5.0, 5.0),
        ("region", 10.0, 26, 10.0, 10.0),
        ("first_time_mentor", 10.0, 26, 10.0, 10.0),
    ]
    (chart,) = result.charts
    assert isinstance(chart, LineChart)
    assert chart.periods == ["0-20", "20-40", "40-60", "60-80", "80-100"]
    assert chart.series == {"pairs": [0, 5, 8, 8, 5]}


def test_diversity_counts_pairs_crossing_each_dimension_without_protected_ones(
    store: Store,
) -> None:
    large(store)
    result = report(store)
    assert rows(result, "diversity") == [
        ("organisation", 20, 6, 26, round(20 / 26, 4)),
        ("function", 13, 13, 26, 0.5),
        ("region", 26, 0, 26, 1.0),
    ]  # rm-2026 uses no protected attributes: no row for them, and no protected points


def test_protected_attributes_show_only_when_the_programme_uses_them(
    store: Store, tmp_path: Path
) -> None:
    path = tmp_path / "pairing.toml"
    path.write_text(DIVERSE)
    weights = {**WEIGHTS, "themes": 50.0, "protected": 10.0}
    pairs = [
        (
            mentee(i),
            mentor(i),
            "approved",
            80.0,
            breakdown(
                80.0,
                organisation=1.0,
                function=1.0,
                protected=[1.0, 0.5][i % 2] if i < 6 else 0.0,
                weights=weights,
            ),
        )
        for i in range(10)
    ]
    insert(store, pairs=pairs, mentees=10, mentors=10, unmatched=[], programme="rm-diverse")
    result = report(store, "rm-diverse", path)
    assert rows(result, "diversity") == [
        ("organisation", 10, 0, 10, 1.0),
        ("function", 10, 0, 10, 1.0),
        ("region", 10, 0, 10, 1.0),
        # 6 pairs differ on one or both, 4 on neither: hidden, and the 6 with them.
        ("protected attributes (gender, birth_generation)", SUPPRESSED, SUPPRESSED, 10, SUPPRESSED),
    ]
    summary = {row[0]: row for row in rows(result, "score_summary")}
    assert summary["protected"][3:] == (SUPPRESSED, SUPPRESSED)  # would tell the 6
    assert summary["themes"][3:] == (SUPPRESSED, SUPPRESSED)  # else protected = 80 - the rest
    assert summary["score"] == ("score", 100.0, 10, 80.0, 80.0)


# -- k-anonymity -------------------------------------------------------------------------------


def test_a_small_group_is_hidden_with_its_complement(store: Store) -> None:
    small(store, unpaired=[(NO_MENTOR, 3), (OUTSCORED, 6)], mentees=23)
    result = report(store)
    # 2 locked pairs: hidden, and the 10 proposed with them (else 12 - 10 - 0 tells the 2).
    assert section(result, "pairs") == {
        "proposed": (SUPPRESSED, SUPPRESSED),
        "locked": (SUPPRESSED, SUPPRESSED),
        "approved": (0, 0.0),
        "all": (12, None),
    }
    # 3 executives without a mentor in their hours: hidden, and the 6 outscored with them
    # (the unpaired total, 9, shows: it is no group under 5).
    assert section(result, "executives") == {
        "paired": (12, round(12 / 21, 4)),
        NO_MENTOR_KIND: (SUPPRESSED, SUPPRESSED),
        OUTSCORED_KIND: (SUPPRESSED, SUPPRESSED),
        "unpaired: all": (9, round(9 / 21, 4)),
        "all": (21, None),
    }
    # The run counted 23 executives: 2 away from the 21 shown, so it would tell a group of 2.
    assert section(result, "latest run")["eligible executives"] == (SUPPRESSED, None)
    assert section(result, "latest run")["eligible mentors"] == (12, None)
    # 3 of 12 pairs cross organisations: hidden with the 9 that do not.
    assert rows(result, "diversity")[0] == ("organisation", SUPPRESSED, SUPPRESSED, 12, SUPPRESSED)
    # Organisation's mean points would tell the 3 (10 x 3 / 12); themes hide with it, else it
    # would be the mean score minus the rest.
    summary = {row[0]: row[3:] for row in rows(result, "score_summary")}
    assert summary == {
        "score": (50.0, 50.0),
        "themes": (SUPPRESSED, SUPPRESSED),
        "organisation": (SUPPRESSED, SUPPRESSED),
        "function": (10.0, 10.0),
        "region": (10.0, 10.0),
        "first_time_mentor": (10.0, 10.0),
    }


def test_a_small_unpaired_total_hides_the_sides_total_and_the_runs_count(store: Store) -> None:
    small(store, unpaired=[(NO_MENTOR, 2)], mentees=14)
    result = report(store)
    # The 12 paired show in the pairs section already, so the 14 executives would tell the 2.
    assert section(result, "executives") == {
        "paired": (12, SUPPRESSED),
        NO_MENTOR_KIND: (SUPPRESSED, SUPPRESSED),
        "unpaired: all": (SUPPRESSED, SUPPRESSED),
        "all": (SUPPRESSED, None),
    }
    assert section(result, "latest run")["eligible executives"] == (SUPPRESSED, None)


def test_fewer_than_k_pairs_hide_every_count_and_statistic(store: Store) -> None:
    pairs = [
        (mentee(i), mentor(i), "proposed", 70.0, breakdown(70.0, organisation=1, function=1))
        for i in range(3)
    ]
    insert(store, pairs=pairs, mentees=3, mentors=4, unmatched=[])
    result = report(store)
    assert section(result, "pairs")["all"] == (SUPPRESSED, None)
    assert section(result, "latest run") == {
        "eligible executives": (SUPPRESSED, None),
        "eligible mentors": (SUPPRESSED, None),
    }
    assert {row[1] for row in rows(result, "score_bands")} == {0, SUPPRESSED}
    assert all(row[2:] == (SUPPRESSED,) * 3 for row in rows(result, "score_summary"))
    assert all(row[3] == SUPPRESSED for row in rows(result, "diversity"))
    assert result.charts[0].series == {"pairs": [0, 0, 0, None, 0]}


def test_a_programme_without_a_run_or_pairs_reports_empty_counts(store: Store) -> None:
    result = report(store)
    assert section(result, "latest run") == {
        "eligible executives": (None, None),
        "eligible mentors": (None, None),
    }
    assert section(result, "pairs")["all"] == (0, None)
    assert rows(result, "score_summary")[0] == ("score", 100.0, 0, None, None)
    assert any("no pairing run yet" in note for note in result.notes)


# -- aggregates only ---------------------------------------------------------------------------


def written(result_for: Any, name: str) -> str:
    """Everything a format writes, as text: each XLSX part, each Parquet value and its
    metadata."""
    stream = io.BytesIO()
    FORMATS[name].write(result_for(), stream)
    data = stream.getvalue()
    if name == "xlsx":
        with zipfile.ZipFile(io.BytesIO(data)) as book:
            return "".join(book.read(part).decode("utf-8") for part in book.namelist())
    if name == "parquet":
        table = pyarrow.parquet.read_table(io.BytesIO(data))
        metadata = {k.decode(): v.decode() for k, v in (table.schema.metadata or {}).items()}
        return json.dumps([table.to_pylist(), metadata, str(table.schema)], default=str)
    return data.decode("utf-8")


@pytest.mark.parametrize("name", sorted(FORMATS))
def test_no_employee_id_appears_in_any_format(store: Store, name: str) -> None:
    large(store)
    with store.transaction() as s:  # a reason quoting someone (none does yet: still never shown)
        run = s.query(PairingRun).order_by(PairingRun.started_at.desc()).first()
        run.unmatched = [
            *run.unmatched,
            *(
                {
                    "employee_id": f"EMP-95{n:02d}",
                    "role": "mentee",
                    "reason": f"shares a manager with {mentee(3)}",
                }
                for n in range(5)
            ),
        ]
    text = written(lambda: build_report(store, None, "pairing", {"programme": PROGRAMME}), name)
    assert "EMP-" not in text
    assert "7003" not in text
    if name in ("csv", "json", "html"):
        assert "unpaired: other" in text  # the quoting reason is counted as another kind


# -- filters -----------------------------------------------------------------------------------


def test_unknown_or_missing_programme_names_the_programmes_there_are(store: Store) -> None:
    with pytest.raises(
        FilterError, match="no programme 'rm-2025' in the pairing file: use one of rm-2026"
    ) as err:
        build_report(store, None, "pairing", parse_filters("pairing", {"programme": "rm-2025"}))
    assert err.value.parameter == "programme"
    with pytest.raises(
        FilterError, match="the pairing report needs a programme: give one of rm-2026"
    ):
        build_report(store, None, "pairing", parse_filters("pairing", {}))
    with pytest.raises(ReportFilterError, match="below 5"):
        pairing_report(store, load_programmes(None), PairingFilters(programme=PROGRAMME, k=3))


@pytest.mark.parametrize("name", ["worker", "plan", "organization", "from", "competency"])
def test_the_pairing_report_takes_only_the_programme(name: str) -> None:
    value = "2026-01-01" if name == "from" else "x"
    with pytest.raises(FilterError, match=f"the pairing report takes no {name} filter") as err:
        parse_filters("pairing", {"programme": PROGRAMME, name: value})
    assert err.value.parameter == name


# -- over HTTP ---------------------------------------------------------------------------------


@pytest.fixture
def client(store: Store, store_url: str) -> FlaskClient:
    large(store)
    app: Flask = create_app(web_config(store_url), store=store, now=lambda: CLOCK)
    return app.test_client()


@pytest.fixture
def tokens(store: Store) -> dict[str, str]:
    _, talent = create_token(store, "talent", "sponsor office")
    _, admin = create_token(store, "admin", "hr ops")
    return {"talent": talent, "admin": admin}


def test_reports_api_pairing_refuses_anonymous_callers_and_audits_it(
    client: FlaskClient, store: Store
) -> None:
    response = client.get(f"/reports/pairing?programme={PROGRAMME}")
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    (entry,) = audit_log(store)
    assert (entry.who, entry.report, entry.outcome) == ("anonymous", "pairing", "refused")


@pytest.mark.parametrize("role", ["talent", "admin"])
@pytest.mark.parametrize("name", ["csv", "json", "xlsx", "html"])
def test_reports_api_pairing_answers_each_format_for_talent_and_admin_tokens(
    client: FlaskClient, store: Store, tokens: dict[str, str], role: str, name: str
) -> None:
    headers = {"Authorization": f"Bearer {tokens[role]}", "Accept": FORMATS[name].media_type}
    response = client.get(f"/reports/pairing?programme={PROGRAMME}", headers=headers)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.headers["Content-Type"] == FORMATS[name].content_type
    assert response.headers["Content-Disposition"].startswith('attachment; filename="pairing-')
    assert response.headers["Cache-Control"] == "no-store"
    body = response.get_data()
    if name == "csv":
        table = list(csv.reader(io.StringIO(body.decode("utf-8"))))
        assert table[0] == ["section", "measure", "count", "share"]
        assert ["executives", "paired", "26", "0.7027"] in table
        assert len(table) - 1 == int(response.headers["X-Report-Rows"]) == 15
    elif name == "json":
        views = json.loads(body)["views"]
        assert list(views) == ["coverage", "score_bands", "score_summary", "diversity"]
        assert views["diversity"]["rows"][0]["pairs_different"] == 20
    elif name == "xlsx":
        book = openpyxl.load_workbook(io.BytesIO(body))
        assert book.sheetnames == [
            "About",
            "Coverage",
            "Score distribution",
            "Score and its parts",
            "Diversity mix",
        ]
    else:
        assert b'data-chart="line"' in body and b"Current pairs by score" in body
    (entry,) = audit_log(store)
    assert (entry.report, entry.outcome, entry.format, entry.filters) == (
        "pairing",
        "ok",
        name,
        {"programme": PROGRAMME},
    )


@pytest.mark.parametrize(
    ("query", "parameter", "message"),
    [
        ("programme=rm-2025", "programme", "use one of rm-2026"),
        ("", "programme", "needs a programme: give one of rm-2026"),
        (f"programme={PROGRAMME}&worker=EMP-7001", "worker", "takes no worker filter"),
    ],
)
def test_reports_api_pairing_bad_filters_are_400_naming_the_parameter(
    client: FlaskClient,
    store: Store,
    tokens: dict[str, str],
    query: str,
    parameter: str,
    message: str,
) -> None:
    headers = {"Authorization": f"Bearer {tokens['talent']}", "Accept": "application/json"}
    response = client.get(f"/reports/pairing?{query}", headers=headers)
    assert response.status_code == 400, response.json
    assert response.json["parameter"] == parameter
    assert message in response.json["message"]
    assert audit_log(store)[0].outcome == "error"


# -- on the command line -----------------------------------------------------------------------


def run(env: dict[str, str], *args: str) -> Result:
    return CliRunner().invoke(cli, list(args), env=env)


@pytest.fixture
def env(tmp_path: Path, store_url: str, store: Store) -> dict[str, str]:
    large(store)
    return {
        "XDG_CONFIG_HOME": str(tmp_path / "cfg"),
        "MENTORBRIDGE_STORE_URL": store_url,
        **keys_env(store_url),
    }


def test_report_pairing_writes_the_file_and_audits_it(
    env: dict[str, str], store: Store, tmp_path: Path
) -> None:
    out = tmp_path / "pairing.csv"
    result = run(
        env, "report", "pairing", "--format", "csv", "--out", str(out), "--programme", PROGRAMME
    )
    assert result.exit_code == 0, result.output
    assert result.output.strip() == f"wrote {out} (csv, 15 rows)"
    with out.open(encoding="utf-8", newline="") as file:
        table = list(csv.reader(file))
    assert ["pairs", "all", "26", ""] in table
    (entry,) = audit_log(store)
    assert (entry.who, entry.report, entry.outcome, entry.format, entry.row_count) == (
        f"cli:{getpass.getuser()}",
        "pairing",
        "ok",
        "csv",
        15,
    )


def test_report_pairing_an_unknown_programme_exits_2_and_leaves_the_old_file(
    env: dict[str, str], store: Store, tmp_path: Path
) -> None:
    out = tmp_path / "pairing.csv"
    out.write_text("last week's report")
    result = run(
        env, "report", "pairing", "--format", "csv", "--out", str(out), "--programme", "rm-9"
    )
    assert result.exit_code == 2, result.output
    assert "no programme 'rm-9' in the pairing file: use one of rm-2026" in result.output
    assert out.read_text() == "last week's report"
    assert audit_log(store)[0].outcome == "error"
    hidden = run(env, "report", "pairing", "--help").output
    assert "--programme" in hidden and "--worker" not in hidden


def test_report_pairing_reads_the_pairing_file_setting(
    env: dict[str, str], store: Store, tmp_path: Path
) -> None:
    path = tmp_path / "pairing.toml"
    path.write_text(DIVERSE)
    assert parse_programmes(DIVERSE, "test")  # the file is valid
    out = tmp_path / "diverse.xlsx"
    args = ("report", "pairing", "--format", "xlsx", "--out", str(out))
    custom = {**env, "MENTORBRIDGE_PAIRING_FILE": str(path)}
    result = run(custom, *args, "--programme", "rm-diverse")
    assert result.exit_code == 0, result.output
    assert openpyxl.load_workbook(out)["About"]["A1"].value == "Pairing report: Diverse mentoring"
    refused = run(custom, *args, "--programme", PROGRAMME)
    assert refused.exit_code == 2 and "use one of rm-diverse" in refused.output
    assert os.listdir(tmp_path).count("diverse.xlsx") == 1
