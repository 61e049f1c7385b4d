"""The report format writers on one hand-built report: CSV exact, XLSX and Parquet read back
typed, JSON round-tripped, the format registry and content negotiation."""

from __future__ import annotations

import csv
import io
import json
import sys
import tracemalloc
from datetime import UTC, date, datetime
from typing import Any

import openpyxl
import pyarrow.parquet as pq
import pytest

from mentorbridge.plugin.errors import UnknownReferenceError, ValidationError
from mentorbridge.plugin.reports.formats import (
    FORMATS,
    FormatUnavailableError,
    UnknownFormatError,
    format_for,
    format_for_media_type,
)
from mentorbridge.plugin.reports.formats.to_html import write_html
from mentorbridge.plugin.reports.formats.to_parquet import write_parquet
from mentorbridge.plugin.reports.table import (
    SUPPRESSED,
    Column,
    Heatmap,
    LineChart,
    Report,
    ScatterChart,
    View,
)

GENERATED = datetime(2026, 3, 1, 14, 5, 9, tzinfo=UTC)

CANDIDATE_COLUMNS = [
    Column("worker_id", "Worker", "str", "Workday worker id"),
    Column("name", "Name", "str", "Preferred name from the HRIS"),
    Column("evidence", "Evidence", "level", "Mentoring evidence, 0-1"),
    Column("sessions", "Sessions", "int", "Sessions held"),
    Column("hours", "Hours", "float", "Hours of sessions"),
    Column("last_session", "Last session", "date", "Day of the last session"),
    Column("computed_at", "Computed", "datetime", "When the evidence was computed (UTC)"),
    Column("ready_now", "Ready now", "bool", "The tenant's readiness says ready now"),
]
CANDIDATES = [
    ("21001", "Zoë Ñúñez 李雷", 0.75, 12, 9.5, date(2026, 2, 27),
     datetime(2026, 3, 1, 9, 30, tzinfo=UTC), True),
    ("21002", '=HYPERLINK("http://evil.example","x")', 0.1, 3, 2.25, None,
     datetime(2026, 3, 1, 9, 31, tzinfo=UTC), False),
    ("21003", 'Ann "Jo" <script>alert(1)</script>, Jr.\nII', None, 0, 0.0, date(2026, 1, 5),
     None, None),
    ("21004", "-dash @at +plus", 1.0, 40, 31.0, date(2025, 12, 31),
     datetime(2026, 2, 28, 23, 59, 59, tzinfo=UTC), True),
]  # fmt: skip
COHORT_COLUMNS = [
    Column("cohort", "Cohort", "str", "Programme cohort"),
    Column("period", "Period", "str", ""),
    Column("participants", "Participants", "int", "People in the cohort"),
    Column("gain", "Level gain", "level", "Mean competency gain"),
    Column("hours", "Hours", "float", ""),
]
COHORTS = [
    ("2026 spring", "2026-Q1", 12, 0.125, 40.5),
    ("2026 spring", "2026-Q2", SUPPRESSED, SUPPRESSED, SUPPRESSED),
    ("Émergents", "2026-Q1", 7, 0.2, 18.0),
]
EMPTY_COLUMNS = [Column("position_id", "Position", "str", ""), Column("gap", "Gap", "level", "")]


def sample_report() -> Report:
    """A fresh report (its rows are generators, read once): every column type, suppressed
    cells, unicode, formula-looking and markup-looking names, an empty view, three charts."""
    return Report(
        kind="succession",
        title="Succession & mentoring evidence <Q1>",
        generated_at=GENERATED,
        filters={"organization": "ORG-7 <Sales & Ops>", "from": "2026-01-01"},
        views=[
            View("candidates", "Candidates", CANDIDATE_COLUMNS, (r for r in CANDIDATES),
                 "One row per candidate"),
            View("cohorts", "Cohort progress", COHORT_COLUMNS, (r for r in COHORTS)),
            View("empty", "Positions without candidates", EMPTY_COLUMNS, iter(())),
        ],
        charts=[
            Heatmap(
                "Evidence by competency", ["Digital fluency", "AI literacy", "Coaching <b>"],
                ["21001", "21002", "21003", "Zoë"],
                [[0.75, 0.1, None, 1.0], [0.0, None, 0.5, 0.25], [None, None, None, 0.9]],
                caption="Hatched: no evidence",
            ),
            LineChart(
                "Cohort progress", "Quarter", "Mean level", ["2025-Q4", "2026-Q1", "2026-Q2"],
                {"2026 spring": [0.1, None, 0.4], "Émergents": [None, 0.2, 0.3]},
            ),
            ScatterChart(
                "Readiness vs evidence", "Evidence", "Required level",
                [("21001", 0.75, 0.6, "Ready now"), ("21002", 0.1, 0.8, "1-2 years"),
                 ("21004", 1.0, 0.7, "Ready now"), ("Zoë <i>", 0.4, 0.5, "3-5 years"),
                 ("21003", 0.0, 0.3, "1-2 years")],
            ),
        ],
        notes=["Only outcomes participants released are counted.",
               "Groups of fewer than 5 people are shown as <5."],
    )  # fmt: skip


def written(name: str, report: Report | None = None, **options: Any) -> tuple[bytes, int]:
    """What format ``name`` writes for ``report`` (the sample by default), and its row count."""
    stream = io.BytesIO()
    if options:
        count = {"parquet": write_parquet, "html": write_html}[name](
            report or sample_report(), stream, **options
        )
    else:
        count = format_for(name).write(report or sample_report(), stream)
    return stream.getvalue(), count


# -- the registry and content negotiation ------------------------------------------------------


def test_formats_registry_names_media_types_and_extensions() -> None:
    assert sorted(FORMATS) == ["csv", "html", "json", "parquet", "xlsx"]
    assert {name: (f.media_type, f.extension) for name, f in FORMATS.items()} == {
        "csv": ("text/csv", "csv"),
        "html": ("text/html", "html"),
        "json": ("application/json", "json"),
        "parquet": ("application/vnd.apache.parquet", "parquet"),
        "xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "xlsx"),
    }
    assert format_for(" CSV ") is FORMATS["csv"]
    assert FORMATS["csv"].content_type == "text/csv; charset=utf-8"
    assert FORMATS["json"].content_type == "application/json"


def test_formats_unknown_name_is_a_usage_error_listing_the_formats() -> None:
    with pytest.raises(UnknownFormatError) as caught:
        format_for("xls")
    assert (
        str(caught.value)
        == "unknown report format 'xls': use one of csv, html, json, parquet, xlsx"
    )
    assert isinstance(caught.value, ValidationError)  # bad input: CLI exit 2, API 400
    assert caught.value.problems == [("format", str(caught.value))]
    assert caught.value.choices == ["csv", "html", "json", "parquet", "xlsx"]


@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        ("text/csv", "csv"),
        ("application/json", "json"),
        ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "xlsx"),
        ("application/vnd.apache.parquet", "parquet"),
        ("application/x-parquet", "parquet"),
        ("text/html", "html"),
        ("*/*", "json"),
        ("", "json"),
        ("  ", "json"),
        ("TEXT/CSV; charset=utf-8", "csv"),
        ("text/csv;q=0.5, application/json;q=0.9", "json"),
        ("application/json;q=0.2, text/html", "html"),
        # a browser: HTML over the wildcard's 0.8
        ("text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,*/*;q=0.8", "html"),
        ("text/*", "csv"),
        ("text/*;q=0.3, text/html;q=0.4", "html"),
        ("*/*;q=0.1, text/csv;q=0", "json"),  # q=0 refuses CSV only
        ("application/json;q=0, */*", "csv"),  # everything but JSON: the next preferred
        ("text/csv, text/html", "csv"),  # equal quality: the first listed
        ("text/html, text/csv", "html"),
    ],
)
def test_formats_negotiate_the_accept_header(accept: str, expected: str) -> None:
    assert format_for_media_type(accept) is FORMATS[expected]


@pytest.mark.parametrize("accept", ["image/png", "application/xml", "text/csv;q=0", "garbage"])
def test_formats_negotiation_finds_nothing_acceptable(accept: str) -> None:
    assert format_for_media_type(accept) is None


# -- CSV ---------------------------------------------------------------------------------------

EXPECTED_CSV = (
    "worker_id,name,evidence,sessions,hours,last_session,computed_at,ready_now\r\n"
    "21001,Zoë Ñúñez 李雷,0.75,12,9.5,2026-02-27,2026-03-01T09:30:00Z,true\r\n"
    '21002,"\'=HYPERLINK(""http://evil.example"",""x"")",0.1,3,2.25,,2026-03-01T09:31:00Z,false\r\n'
    '21003,"Ann ""Jo"" <script>alert(1)</script>, Jr.\nII",,0,0.0,2026-01-05,,\r\n'
    "21004,'-dash @at +plus,1.0,40,31.0,2025-12-31,2026-02-28T23:59:59Z,true\r\n"
)


def test_formats_csv_is_the_main_view_exactly() -> None:
    data, count = written("csv")
    assert data.decode("utf-8") == EXPECTED_CSV
    assert not data.startswith(b"\xef\xbb\xbf")  # no byte order mark
    assert count == 4
    # Parsed back, the quoting holds: one field per column, the newline inside its field.
    rows = list(csv.reader(io.StringIO(data.decode("utf-8"), newline="")))
    assert [len(row) for row in rows] == [8] * 5
    assert rows[3][1] == 'Ann "Jo" <script>alert(1)</script>, Jr.\nII'


def test_formats_csv_leaves_the_stream_open_and_writes_a_header_for_no_rows() -> None:
    report = sample_report()
    report.views = report.views[2:]
    stream = io.BytesIO()
    assert FORMATS["csv"].write(report, stream) == 0
    assert not stream.closed
    assert stream.getvalue() == b"position_id,gap\r\n"


@pytest.mark.parametrize(
    ("cell", "shown"),
    [("=1+1", "'=1+1"), ("+44 20", "'+44 20"), ("-3", "'-3"), ("@SUM(A1)", "'@SUM(A1)"),
     ("\tx", "'\tx"), ("\rx", "'\rx"), ("a=b", "a=b"), ("<5", "<5"), ("'quoted", "'quoted")],
)  # fmt: skip
def test_formats_csv_defuses_formula_looking_text(cell: str, shown: str) -> None:
    report = Report("impact", "t", GENERATED, {}, [View("v", "V", [Column("c", "C", "str")],
                                                         [(cell,)])])  # fmt: skip
    data, _ = written("csv", report)
    assert next(csv.reader(io.StringIO(data.decode(), newline="")), None) == ["c"]
    assert list(csv.reader(io.StringIO(data.decode(), newline="")))[1] == [shown]


# -- JSON --------------------------------------------------------------------------------------


def test_formats_json_round_trips_every_view() -> None:
    data, count = written("json")
    document = json.loads(data)
    assert count == 7
    assert document["report"] == "succession"
    assert document["title"] == "Succession & mentoring evidence <Q1>"
    assert document["generated_at"] == "2026-03-01T14:05:09Z"
    assert document["filters"] == {"organization": "ORG-7 <Sales & Ops>", "from": "2026-01-01"}
    assert document["notes"][1] == "Groups of fewer than 5 people are shown as <5."
    assert list(document["views"]) == ["candidates", "cohorts", "empty"]
    candidates = document["views"]["candidates"]
    assert candidates["columns"][2] == {
        "key": "evidence", "title": "Evidence", "type": "level",
        "description": "Mentoring evidence, 0-1",
    }  # fmt: skip
    keys = [column.key for column in CANDIDATE_COLUMNS]

    def iso(value: Any) -> Any:
        if isinstance(value, datetime):
            return value.isoformat().replace("+00:00", "Z")
        return value.isoformat() if isinstance(value, date) else value

    assert candidates["rows"] == [dict(zip(keys, map(iso, row), strict=True)) for row in CANDIDATES]
    # Names are kept as they are (JSON is for programs): no formula prefix.
    assert candidates["rows"][1]["name"].startswith("=HYPERLINK")
    cohorts = document["views"]["cohorts"]["rows"]
    assert cohorts[1] == {"cohort": "2026 spring", "period": "2026-Q2", "participants": "<5",
                          "gain": "<5", "hours": "<5"}  # fmt: skip
    assert document["views"]["empty"]["rows"] == []
    assert "Zoë Ñúñez 李雷".encode() in data  # UTF-8, not \\u escapes


# -- XLSX --------------------------------------------------------------------------------------


def test_formats_xlsx_reads_back_typed_with_frozen_headers() -> None:
    data, count = written("xlsx")
    assert count == 7
    book = openpyxl.load_workbook(io.BytesIO(data))
    assert book.sheetnames == ["About", "Candidates", "Cohort progress",
                               "Positions without candidates"]  # fmt: skip
    sheet = book["Candidates"]
    assert sheet.freeze_panes == "A2"
    assert sheet.auto_filter.ref == "A1:H5"
    assert [cell.value for cell in sheet[1]] == [column.title for column in CANDIDATE_COLUMNS]
    first = sheet[2]
    assert first[0].value == "21001" and first[0].data_type == "s"  # an id stays text
    assert first[1].value == "Zoë Ñúñez 李雷"
    assert first[2].value == 0.75 and first[2].number_format == "0%"
    assert first[3].value == 12 and first[3].data_type == "n"
    assert first[4].value == 9.5 and first[4].data_type == "n"
    assert first[5].value == datetime(2026, 2, 27) and first[5].number_format == "yyyy-mm-dd"
    assert first[6].value == datetime(2026, 3, 1, 9, 30)  # UTC, as the header says
    assert first[6].number_format == "yyyy-mm-dd hh:mm:ss"
    assert first[7].value is True and first[7].data_type == "b"
    assert sheet["B3"].value == '\'=HYPERLINK("http://evil.example","x")'
    assert sheet["B3"].data_type == "s"  # text, never a formula
    assert sheet["B5"].value == "'-dash @at +plus"
    assert sheet["C4"].value is None and sheet["F3"].value is None  # empty cells stay empty
    assert sheet.column_dimensions["B"].width > sheet.column_dimensions["A"].width
    cohorts = book["Cohort progress"]
    assert [c.value for c in cohorts[3]] == ["2026 spring", "2026-Q2", "<5", "<5", "<5"]
    assert cohorts["D2"].value == 0.125 and cohorts["D2"].number_format == "0%"
    empty = book["Positions without candidates"]
    assert [c.value for c in empty[1]] == ["Position", "Gap"] and empty.max_row == 1
    about = [[cell for cell in row if cell is not None] for row in book["About"].values]
    assert about[0] == ["Succession & mentoring evidence <Q1>"]
    assert ["Generated (UTC)", datetime(2026, 3, 1, 14, 5, 9), "2026-03-01T14:05:09Z"] in about
    assert ["organization", "ORG-7 <Sales & Ops>"] in about
    assert ["Only outcomes participants released are counted."] in about
    assert ["Candidates", "Evidence", "evidence", "level (0-100%)",
            "Mentoring evidence, 0-1"] in about  # fmt: skip


def test_formats_xlsx_sheet_names_are_short_unique_and_legal() -> None:
    columns = [Column("n", "N", "int")]
    report = Report("impact", "t", GENERATED, {}, [
        View("a", "About", columns, [(1,)]),
        View("b", "Participation by organisation and region over time", columns, [(2,)]),
        View("c", "Participation by organisation and region over time", columns, [(3,)]),
        View("d", "Gains [Q1/Q2]: *all*?", columns, [(4,)]),
    ])  # fmt: skip
    book = openpyxl.load_workbook(io.BytesIO(written("xlsx", report)[0]))
    assert book.sheetnames == [
        "About", "About (2)", "Participation by organisation a",
        "Participation by organisati (2)", "Gains Q1 Q2 all",
    ]  # fmt: skip
    assert [book[name]["A2"].value for name in book.sheetnames[1:]] == [1, 2, 3, 4]


# -- Parquet -----------------------------------------------------------------------------------


def test_formats_parquet_reads_back_typed() -> None:
    data, count = written("parquet")
    assert count == 4
    table = pq.read_table(io.BytesIO(data))
    assert dict(zip(table.schema.names, map(str, table.schema.types), strict=True)) == {
        "worker_id": "string", "name": "string",
        "evidence": "double", "evidence_suppressed": "bool",
        "sessions": "int64", "sessions_suppressed": "bool",
        "hours": "double", "hours_suppressed": "bool",
        "last_session": "date32[day]", "computed_at": "timestamp[us, tz=UTC]",
        "ready_now": "bool",
    }  # fmt: skip
    rows = table.to_pylist()
    assert rows[0] == {
        "worker_id": "21001", "name": "Zoë Ñúñez 李雷",
        "evidence": 0.75, "evidence_suppressed": False,
        "sessions": 12, "sessions_suppressed": False, "hours": 9.5, "hours_suppressed": False,
        "last_session": date(2026, 2, 27),
        "computed_at": datetime(2026, 3, 1, 9, 30, tzinfo=UTC), "ready_now": True,
    }  # fmt: skip
    assert rows[1]["name"] == '=HYPERLINK("http://evil.example","x")'  # data, not a sheet
    assert rows[2]["evidence"] is None and rows[2]["ready_now"] is None
    metadata = table.schema.metadata
    assert metadata[b"mentorbridge.report"] == b"succession"
    assert metadata[b"mentorbridge.view"] == b"candidates"
    assert json.loads(metadata[b"mentorbridge.filters"])["organization"] == "ORG-7 <Sales & Ops>"
    assert table.schema.field("evidence").metadata[b"title"] == b"Evidence"


def test_formats_parquet_writes_a_named_view_with_suppressed_cells_as_nulls_and_flags() -> None:
    data, count = written("parquet", view="cohorts")
    assert count == 3
    rows = pq.read_table(io.BytesIO(data)).to_pylist()
    assert rows[1] == {
        "cohort": "2026 spring", "period": "2026-Q2",
        "participants": None, "participants_suppressed": True,
        "gain": None, "gain_suppressed": True, "hours": None, "hours_suppressed": True,
    }  # fmt: skip
    assert rows[0]["participants"] == 12 and rows[0]["participants_suppressed"] is False
    empty = pq.read_table(io.BytesIO(written("parquet", view="empty")[0]))
    assert empty.num_rows == 0 and empty.schema.names == ["position_id", "gap", "gap_suppressed"]


def test_formats_parquet_writes_row_groups_of_the_batch_size() -> None:
    data, count = written("parquet", batch_rows=3)
    assert count == 4
    parquet = pq.ParquetFile(io.BytesIO(data))
    assert [parquet.metadata.row_group(i).num_rows for i in range(2)] == [3, 1]
    assert parquet.metadata.num_row_groups == 2
    assert parquet.read().column("worker_id").to_pylist() == ["21001", "21002", "21003", "21004"]


def test_formats_parquet_unknown_view_names_the_views() -> None:
    with pytest.raises(UnknownReferenceError, match="no view 'plans': use one of candidates, "):
        written("parquet", view="plans")


def test_formats_parquet_without_pyarrow_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "pyarrow", None)  # as if it were not installed
    stream = io.BytesIO()
    with pytest.raises(FormatUnavailableError, match=r"pip install 'mentorbridge\[reports\]'"):
        FORMATS["parquet"].write(sample_report(), stream)
    assert stream.getvalue() == b""


# -- streaming ---------------------------------------------------------------------------------


class _Sink(io.RawIOBase):
    """A write-only stream that keeps nothing (as an HTTP response body would not)."""

    size = 0

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        self.size += len(data)
        return len(data)


@pytest.mark.parametrize(
    ("name", "rows", "limit_mb"),
    # Holding the rows would take ~12 MB for 30,000 of them; XLSX without streaming takes
    # ~7 MB for 5,000 (and is slow enough to test on fewer).
    [("csv", 30_000, 4), ("json", 30_000, 4), ("html", 30_000, 4), ("parquet", 30_000, 8),
     ("xlsx", 5_000, 3)],
)  # fmt: skip
def test_formats_stream_rows_in_flat_memory_to_a_write_only_stream(
    name: str, rows: int, limit_mb: int
) -> None:
    def generated() -> Any:
        for n in range(rows):
            yield (f"W{n:06}", f"Person {n} with a longer name", n % 100 / 100, n % 50, n / 7,
                   date(2026, 1, 1 + n % 28), datetime(2026, 3, 1, 9, n % 60, tzinfo=UTC),
                   n % 2 == 0)  # fmt: skip

    report = Report("succession", "Big", GENERATED, {}, [
        View("people", "People", CANDIDATE_COLUMNS, generated())
    ])  # fmt: skip
    sink = _Sink()
    tracemalloc.start()
    try:
        count = FORMATS[name].write(report, sink)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert count == rows
    assert sink.size > 100_000  # the rows went out (HTML shows 500 of them, Parquet packs)
    assert peak < limit_mb * 1_000_000, f"{name}: peak {peak / 1e6:.1f} MB"
