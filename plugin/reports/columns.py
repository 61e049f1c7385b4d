"""Every report view's columns, as the README documents them (``mentorbridge report
columns``); a test keeps the README's copy true."""

from __future__ import annotations

from collections.abc import Sequence

from mentorbridge.plugin.reports.impact_tables import COHORT_COLUMNS, PARTICIPATION_COLUMNS
from mentorbridge.plugin.reports.pairing_tables import (
    COVERAGE_COLUMNS,
    DIVERSITY_COLUMNS,
    SCORE_BAND_COLUMNS,
    SCORE_SUMMARY_COLUMNS,
)
from mentorbridge.plugin.reports.succession_views import (
    CANDIDATE_COLUMNS,
    PLAN_COLUMNS,
    WORKER_COLUMNS,
)
from mentorbridge.plugin.reports.table import Column

__all__ = ["REPORT_VIEWS", "columns_markdown"]

#: Per report, its views in order (the first is the one CSV and Parquet write by default).
REPORT_VIEWS: dict[str, tuple[tuple[str, Sequence[Column]], ...]] = {
    "succession": (
        ("candidates", CANDIDATE_COLUMNS),
        ("plans", PLAN_COLUMNS),
        ("workers", WORKER_COLUMNS),
    ),
    "impact": (
        ("cohorts", COHORT_COLUMNS),
        ("participation_by_organisation", PARTICIPATION_COLUMNS),
        ("participation_by_region", PARTICIPATION_COLUMNS),
    ),
    "pairing": (
        ("coverage", COVERAGE_COLUMNS),
        ("score_bands", SCORE_BAND_COLUMNS),
        ("score_summary", SCORE_SUMMARY_COLUMNS),
        ("diversity", DIVERSITY_COLUMNS),
    ),
}

_TYPES = {
    "str": "text",
    "int": "whole number",
    "float": "number",
    "level": "level 0-1",
    "date": "date",
    "datetime": "date and time (UTC)",
    "bool": "true/false",
}


def columns_markdown() -> str:
    """A table per report: each view's columns with their type and meaning (a column already
    described for an earlier view of the report is named, not described again)."""
    out: list[str] = []
    for report, views in REPORT_VIEWS.items():
        out += [
            f"**{report}** report",
            "",
            "| view | column | type | meaning |",
            "|---|---|---|---|",
        ]
        described: set[Column] = set()
        for view, columns in views:
            again = [column.key for column in columns if column in described]
            for column in columns:
                if column in described:
                    continue
                described.add(column)
                meaning = column.description or column.title
                out.append(f"| `{view}` | `{column.key}` | {_TYPES[column.type]} | {meaning} |")
            if again:
                named = ", ".join(f"`{key}`" for key in again)
                out.append(f"| `{view}` | and | | {named}, as above |")
        out.append("")
    return "\n".join(out).rstrip("\n")
