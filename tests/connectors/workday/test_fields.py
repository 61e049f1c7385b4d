"""Report rows to normalised records: Workday's quirks, the admin's aliases, clear errors."""

from __future__ import annotations

import copy
import re

import pytest

from mentorbridge import schemas
from mentorbridge.connectors.workday.fields import RowError, normalize
from mentorbridge.plugin.config import load_config


@pytest.fixture(scope="module")
def aliases() -> dict[str, dict[str, str]]:
    return load_config(environ={"XDG_CONFIG_HOME": "/nonexistent"})["workday"]["fields"]


ROW = {
    "Workday_ID": "3aa5550b7fe348b98d7b5741afc65534",
    "Employee_ID": "21001",
    "Worker_Type": "Employee",
    "Legal_Name": "Zoë Ångström",
    "Preferred_Name": "Zoë",
    "Email_-_Primary_Work": "zoe.angstrom@acme.example",
    "Business_Title": "Senior Data Engineer",
    "Job_Profile_ID": "JP-DE3",
    "Job_Profile": "Data Engineer III",
    "Management_Level": "6 Individual Contributor",
    "Supervisory_Organization_ID": "ORG-DATA",
    "Supervisory_Organization": "Data Platform (Mia Chen)",
    "Manager_ID": "10007",
    "Location": "London",
    "Country_ISO_Code": "gb",
    "Time_Zone": "Europe/London",
    "Hire_Date": "2019-03-04-08:00",
    "Active_Status": "1",
    "Additional_Jobs": [{"Position_ID": "P-9", "Business_Title": "ERG Lead"}],
    "Last_Updated": "2026-10-02T09:15:00-07:00",
    "Gender": "Female",
}


def test_a_worker_row_becomes_a_valid_normalised_record(aliases: dict) -> None:
    record = normalize("workers", ROW, aliases)
    assert schemas.problems("workday/workers", record) == []
    assert record["legal_name"] == "Zoë Ångström"
    assert record["worker_type"] == "employee"
    assert record["active"] is True
    assert record["hire_date"] == "2019-03-04"  # the zone offset Workday appends is dropped
    assert record["country"] == "GB"
    assert record["termination_date"] is None  # left out of the row: Workday omits empties
    assert record["last_updated"] == "2026-10-02T09:15:00-07:00"
    assert record["additional_jobs"] == [
        {
            "position_id": "P-9",
            "business_title": "ERG Lead",
            "job_profile_id": None,
            "supervisory_organization_id": None,
        }
    ]


def test_sensitive_fields_are_not_read_unless_enabled(aliases: dict) -> None:
    assert "gender" not in normalize("workers", ROW, aliases)
    assert normalize("workers", ROW, aliases, sensitive=["gender"])["gender"] == "Female"


def test_the_admins_aliases_are_used(aliases: dict) -> None:
    custom = copy.deepcopy(aliases)
    custom["workers"]["work_email"] = "Work_Email"
    custom["workers"]["location"] = ""  # not read at all
    row = {**ROW, "Work_Email": "z@acme.example"}
    record = normalize("workers", row, custom)
    assert record["work_email"] == "z@acme.example" and record["location"] is None


@pytest.mark.parametrize(
    ("value", "expected"), [("1", True), ("0", False), ("true", True), ("false", False)]
)
def test_booleans_arrive_as_strings(aliases: dict, value: str, expected: bool) -> None:
    assert normalize("workers", {**ROW, "Active_Status": value}, aliases)["active"] is expected


def test_contingent_workers_are_recognised(aliases: dict) -> None:
    row = {**ROW, "Worker_Type": "Contingent Worker", "Employee_ID": "C-10042"}
    assert normalize("workers", row, aliases)["worker_type"] == "contingent"


@pytest.mark.parametrize(
    ("column", "value", "message"),
    [
        (
            "Hire_Date",
            "2025-13-45",
            "hire_date (report column Hire_Date) = '2025-13-45': expected a date",
        ),
        (
            "Active_Status",
            "maybe",
            'active (report column Active_Status) = \'maybe\': expected "1" or "0"',
        ),
        ("Worker_Type", "Intern", "worker_type (report column Worker_Type) = 'Intern'"),
        ("Country_ISO_Code", "United Kingdom", "expected an ISO 3166-1 alpha-2 code"),
        (
            "Additional_Jobs",
            "not json",
            "additional_jobs (report column Additional_Jobs) = 'not json': expected a JSON array",
        ),
    ],
)
def test_unreadable_values_name_field_column_and_expectation(
    aliases: dict, column: str, value: str, message: str
) -> None:
    with pytest.raises(RowError, match=re.escape(message)):
        normalize("workers", {**ROW, column: value}, aliases)


def test_csv_cells_carry_nested_arrays_as_json_text(aliases: dict) -> None:
    row = {
        "Competency_ID": "SUCC-DIGI",
        "Competency_Name": "Digital Fluency",
        "Proficiency_Levels": '[{"Level_ID":"AWARE","Level_Name":"Aware","Rank":"1"}]',
    }
    record = normalize("competencies", row, aliases)
    assert record["levels"] == [{"level_id": "AWARE", "name": "Aware", "rank": 1}]
    assert record["inactive"] is False  # an omitted boolean means "0"
    assert schemas.problems("workday/competencies", record) == []


def test_a_missing_required_value_fails_validation_naming_the_field(aliases: dict) -> None:
    row = {k: v for k, v in ROW.items() if k != "Legal_Name"}
    record = normalize("workers", row, aliases)
    problems = dict(schemas.problems("workday/workers", record, root="workers"))
    assert "workers.legal_name" in problems
