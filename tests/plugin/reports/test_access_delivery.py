"""Filters read from text the same way for the command line and the API, and report files
written whole or not at all."""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path

import pytest

from mentorbridge.plugin.reports.delivery import (
    FilterError,
    as_text,
    parse_filters,
    write_atomically,
)


def test_filters_are_parsed_and_blanks_left_out() -> None:
    parsed = parse_filters(
        "succession",
        {
            "organization": " ORG-1 ",
            "from": "2026-01-01",
            "to": "2026-06-30",
            "plan": "",
            "worker": None,
        },
    )
    assert parsed == {
        "organization": "ORG-1",
        "from": date(2026, 1, 1),
        "to": date(2026, 6, 30),
    }
    assert as_text(parsed) == {"organization": "ORG-1", "from": "2026-01-01", "to": "2026-06-30"}


@pytest.mark.parametrize(
    ("kind", "given", "parameter", "message"),
    [
        ("succession", {"from": "2026-13-01"}, "from", "give it as YYYY-MM-DD"),
        ("succession", {"to": "20260101"}, "to", "give it as YYYY-MM-DD"),
        ("impact", {"from": "2026-06-01", "to": "2026-01-01"}, "from", "swap them"),
        ("impact", {"worker": "10004"}, "worker", "aggregates only"),
        ("impact", {"plan": "SP-1"}, "plan", "aggregates only"),
        ("succession", {"colour": "red"}, "colour", "use organization, programme, from"),
        ("succession", {"competency": "x" * 129}, "competency", "longer than 128"),
    ],
)
def test_filters_bad_ones_name_the_parameter_and_the_fix(
    kind: str, given: dict[str, str], parameter: str, message: str
) -> None:
    with pytest.raises(FilterError, match=message) as err:
        parse_filters(kind, given)
    assert err.value.parameter == parameter


def test_write_atomically_replaces_the_file_whole(tmp_path: Path) -> None:
    path = tmp_path / "report.csv"
    path.write_text("old")
    assert write_atomically(path, lambda f: f.write(b"new,report\n")) == 11
    assert path.read_bytes() == b"new,report\n"
    assert os.stat(path).st_mode & 0o777 == 0o600
    assert os.listdir(tmp_path) == ["report.csv"]


def test_write_atomically_a_failure_leaves_the_old_file_and_no_part(tmp_path: Path) -> None:
    path = tmp_path / "report.csv"
    path.write_text("old")

    def fail_half_way(stream) -> int:
        stream.write(b"half a rep")
        raise RuntimeError("the store went away")

    with pytest.raises(RuntimeError):
        write_atomically(path, fail_half_way)
    assert path.read_text() == "old"
    assert os.listdir(tmp_path) == ["report.csv"]
