"""The sample tenant as Workday custom reports (RaaS), with the README's default aliases.

Rows look the way Workday sends them: every value a string (``"1"`` for a rank of 1),
booleans as ``"0"``/``"1"``, empty fields left out, multi-instance fields as arrays of objects,
and a report without rows as ``{}`` (no ``Report_Entry`` key at all). The same rows make the
report files (``<stream>.json`` or ``<stream>.csv``) and the test server's RaaS answers.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from pathlib import Path
from typing import Any

from mentorbridge.connectors.workday.fields import SENSITIVE_FIELDS
from mentorbridge.connectors.workday.sample.tenant import STREAMS, Tenant

__all__ = [
    "NESTED_ALIASES",
    "REPORT_ALIASES",
    "SENSITIVE_FIELDS",
    "WORKER_TYPES",
    "csv_text",
    "json_text",
    "render_record",
    "report_aliases",
    "report_rows",
    "write_report_files",
]

#: Per stream: normalised field -> report column alias (README, "the default layout").
REPORT_ALIASES: dict[str, dict[str, str]] = {
    "workers": {
        "workday_id": "Workday_ID",
        "employee_id": "Employee_ID",
        "worker_type": "Worker_Type",
        "legal_name": "Legal_Name",
        "preferred_name": "Preferred_Name",
        "work_email": "Email_-_Primary_Work",
        "business_title": "Business_Title",
        "job_profile_id": "Job_Profile_ID",
        "job_profile": "Job_Profile",
        "management_level": "Management_Level",
        "supervisory_organization_id": "Supervisory_Organization_ID",
        "supervisory_organization": "Supervisory_Organization",
        "manager_employee_id": "Manager_ID",
        "location": "Location",
        "country": "Country_ISO_Code",
        "time_zone": "Time_Zone",
        "hire_date": "Hire_Date",
        "original_hire_date": "Original_Hire_Date",
        "active": "Active_Status",
        "termination_date": "Termination_Date",
        "additional_jobs": "Additional_Jobs",
        "last_updated": "Last_Updated",
        "birth_generation": "Generation",
        "gender": "Gender",
        "ethnicity": "Ethnicity",
    },
    "organizations": {
        "organization_id": "Organization_ID",
        "name": "Organization_Name",
        "type": "Organization_Type",
        "superior_organization_id": "Superior_Organization_ID",
        "manager_employee_id": "Manager_ID",
        "inactive": "Inactive",
    },
    "competencies": {
        "competency_id": "Competency_ID",
        "name": "Competency_Name",
        "category": "Competency_Category",
        "scale_id": "Proficiency_Scale_ID",
        "levels": "Proficiency_Levels",
        "inactive": "Inactive",
    },
    "competency_assessments": {
        "employee_id": "Employee_ID",
        "competency_id": "Competency_ID",
        "level_id": "Proficiency_Level_ID",
        "level": "Proficiency_Level",
        "assessed_on": "Assessed_On",
        "source": "Assessment_Source",
        "last_updated": "Last_Updated",
    },
    "job_profile_competencies": {
        "job_profile_id": "Job_Profile_ID",
        "job_profile": "Job_Profile",
        "competencies": "Competencies",
    },
    "succession_plans": {
        "position_id": "Position_ID",
        "position": "Position",
        "incumbent_employee_id": "Incumbent_ID",
        "last_updated": "Last_Updated",
        "candidates": "Candidates",
    },
}

#: Per stream and multi-instance field: normalised sub-field -> alias inside each array item.
NESTED_ALIASES: dict[str, dict[str, dict[str, str]]] = {
    "workers": {
        "additional_jobs": {
            "position_id": "Position_ID",
            "business_title": "Business_Title",
            "job_profile_id": "Job_Profile_ID",
            "supervisory_organization_id": "Supervisory_Organization_ID",
        }
    },
    "competencies": {"levels": {"level_id": "Level_ID", "name": "Level_Name", "rank": "Rank"}},
    "job_profile_competencies": {
        "competencies": {
            "competency_id": "Competency_ID",
            "required_level_id": "Required_Level_ID",
            "required_level": "Required_Level",
        }
    },
    "succession_plans": {
        "candidates": {
            "employee_id": "Candidate_ID",
            "readiness_id": "Readiness_ID",
            "readiness": "Readiness",
            "top_candidate": "Top_Candidate",
            "temporary_fill": "Temporary_Fill",
        }
    },
}

#: Worker fields read only when sensitive data is enabled.

#: How the normalised worker type is written in a report.
WORKER_TYPES = {"employee": "Employee", "contingent": "Contingent Worker"}


def _text(value: Any) -> str | None:
    """A value as Workday writes it in a report, or None to leave the field out."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value)


def render_record(
    stream: str, record: dict[str, Any], *, include_sensitive: bool = True
) -> dict[str, Any]:
    """One normalised record as a report row (aliases, strings, empty fields left out)."""
    nested = NESTED_ALIASES.get(stream, {})
    row: dict[str, Any] = {}
    for field, alias in REPORT_ALIASES[stream].items():
        if not include_sensitive and field in SENSITIVE_FIELDS:
            continue
        value = record.get(field)
        if field in nested:
            items = [
                {a: t for f, a in nested[field].items() if (t := _text(item.get(f))) is not None}
                for item in value or ()
            ]
            if items:
                row[alias] = items
            continue
        if stream == "workers" and field == "worker_type" and value is not None:
            value = WORKER_TYPES[value]
        text = _text(value)
        if text is not None:
            row[alias] = text
    return row


def report_rows(
    tenant: Tenant,
    stream: str,
    *,
    include_sensitive: bool = True,
    updated_from: datetime | None = None,
    updated_through: datetime | None = None,
) -> list[dict[str, Any]]:
    """The rows of one stream's report, optionally only those updated in a window.

    The window (both ends inclusive, either may be left open) applies to streams that have a
    ``last_updated`` field; a record without one is then left out. Other streams come whole.
    """
    records: Iterable[dict[str, Any]] = tenant.records(stream)
    windowed = updated_from is not None or updated_through is not None
    if windowed and "last_updated" in REPORT_ALIASES[stream]:
        records = [
            r for r in records if _in_window(r.get("last_updated"), updated_from, updated_through)
        ]
    return [render_record(stream, r, include_sensitive=include_sensitive) for r in records]


def _in_window(moment: str | None, start: datetime | None, end: datetime | None) -> bool:
    if moment is None:
        return False
    when = datetime.fromisoformat(moment)
    return (start is None or when >= start) and (end is None or when <= end)


def json_text(rows: list[dict[str, Any]], *, one_row_per_line: bool = False) -> str:
    """A report's JSON: ``{"Report_Entry": rows}``, or ``{}`` when there are no rows.

    Compact by default; ``one_row_per_line`` puts each row on a line of its own (the shipped
    files: readable, and a changed worker is a one-line diff).
    """
    if not rows:
        return "{}"
    if not one_row_per_line:
        return json.dumps({"Report_Entry": rows}, ensure_ascii=False, separators=(",", ":"))
    lines = ",\n".join(json.dumps(row, ensure_ascii=False) for row in rows)
    return '{"Report_Entry": [\n' + lines + "\n]}"


def csv_text(rows: list[dict[str, Any]], aliases: Sequence[str]) -> str:
    """A report's CSV: the columns of ``aliases`` that occur in the rows (all of them when there
    are none), in that order; nested arrays as compact JSON; absent values empty."""
    present = {key for row in rows for key in row}
    columns = [a for a in aliases if a in present] if rows else list(aliases)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([_cell(row.get(column)) for column in columns])
    return out.getvalue()


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return value


def report_aliases(stream: str, *, include_sensitive: bool = True) -> list[str]:
    """The stream's top-level aliases in report order."""
    return [
        alias
        for field, alias in REPORT_ALIASES[stream].items()
        if include_sensitive or field not in SENSITIVE_FIELDS
    ]


def write_report_files(tenant: Tenant, directory: Path, *, fmt: str = "json") -> list[Path]:
    """Write one report file per stream into ``directory``; returns the paths written."""
    if fmt not in ("json", "csv"):
        raise ValueError(f"fmt must be 'json' or 'csv', not {fmt!r}")
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for stream in STREAMS:
        rows = report_rows(tenant, stream)
        path = directory / f"{stream}.{fmt}"
        if fmt == "json":
            path.write_text(json_text(rows, one_row_per_line=True) + "\n", encoding="utf-8")
        else:
            with path.open("w", encoding="utf-8", newline="") as handle:
                handle.write(csv_text(rows, report_aliases(stream)))
        written.append(path)
    return written
