"""Custom reports (RaaS): ``GET /ccx/service/customreport2/{tenant}/{owner}/{report}``.

Rows come from :func:`connectors.workday.sample.reports.report_rows`, so the server and the
shipped report files never disagree. The two date prompts filter on the last-updated field.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from mentorbridge.connectors.workday.sample import reports
from mentorbridge.connectors.workday.sample.tenant import Tenant
from tests.workday_server.plumbing import JSON, Reply

__all__ = ["DEFAULT_REPORTS", "Reports"]

DEFAULT_REPORTS = {
    "workers": "RM_Workers",
    "organizations": "RM_Organizations",
    "competencies": "RM_Competencies",
    "competency_assessments": "RM_Competency_Assessments",
    "job_profile_competencies": "RM_Job_Profile_Competencies",
    "succession_plans": "RM_Succession_Plans",
}


def _text(status: int, message: str) -> Reply:
    return Reply(status, message.encode(), "text/plain; charset=UTF-8")


@dataclass
class Reports:
    """The tenant's report definitions as the integration user sees them.

    ``names`` maps a stream to its report name, ``hidden`` holds aliases the user lacks the
    domain security for, ``renamed`` maps, per stream, a default alias to the tenant's own.
    ``nested_rows`` maps a stream to ``(parent column, list column)``: one row per parent with
    the rest of each item nested under the list column (a worker-rooted assessments report).
    ``split_names`` sends workers' names as first/middle/last columns, no full-name column.
    """

    owner: str
    names: dict[str, str]
    hidden: set[str] = field(default_factory=set)
    renamed: dict[str, dict[str, str]] = field(default_factory=dict)
    prompts: tuple[str, str] = ("Updated_From", "Updated_Through")
    nested_rows: dict[str, tuple[str, str]] = field(default_factory=dict)
    split_names: bool = False

    def answer(self, tenant: Tenant, owner: str, report: str, query: dict[str, str]) -> Reply:
        """Run a report: JSON or CSV, or a 4xx Workday-ish error."""
        stream = next((s for s, name in self.names.items() if name == report), None)
        if owner != self.owner or stream is None:
            return _text(404, f"Report not found: {owner}/{report}")
        fmt = query.get("format")
        if fmt not in ("json", "csv"):
            return _text(400, "Use format=json or format=csv (the XML default is not simulated)")
        try:
            start, end = (_prompt(query, name) for name in self.prompts)
        except ValueError as error:
            return _text(400, str(error))
        rows = [
            self._visible(stream, self._names(stream, row))
            for row in reports.report_rows(tenant, stream, updated_from=start, updated_through=end)
        ]
        if stream in self.nested_rows:
            rows = _nest(rows, *self.nested_rows[stream])
        if fmt == "json":
            return Reply(200, reports.json_text(rows).encode(), JSON)
        columns = [self._alias(stream, a) for a in reports.report_aliases(stream)]
        columns = [c for c in columns if c not in self.hidden]
        columns += [c for c in dict.fromkeys(k for row in rows for k in row) if c not in columns]
        return Reply(200, reports.csv_text(rows, columns).encode(), "text/csv; charset=UTF-8")

    def _names(self, stream: str, row: dict[str, Any]) -> dict[str, Any]:
        """With ``split_names``, a worker's names as Legal_/Preferred_ first, middle, last."""
        if not self.split_names or stream != "workers":
            return row
        row = dict(row)
        for kind in ("Legal", "Preferred"):
            words = str(row.pop(f"{kind}_Name", "")).split()
            parts = {
                "First_Name": words[0] if words else "",
                "Middle_Name": " ".join(words[1:-1]),
                "Last_Name": words[-1] if len(words) > 1 else "",
            }
            row |= {f"{kind}_{part}": value for part, value in parts.items() if value}
        return row

    def _alias(self, stream: str, alias: str) -> str:
        return self.renamed.get(stream, {}).get(alias, alias)

    def _visible(self, stream: str, row: dict[str, Any]) -> dict[str, Any]:
        """The row with the tenant's aliases, less what the user may not see."""
        shown: dict[str, Any] = {}
        for alias, value in row.items():
            name = self._alias(stream, alias)
            if name in self.hidden:
                continue
            if isinstance(value, list):
                value = [{k: v for k, v in item.items() if k not in self.hidden} for item in value]
            shown[name] = value
        return shown


def _nest(rows: list[dict[str, Any]], parent: str, under: str) -> list[dict[str, Any]]:
    """One row per ``parent`` value, its rows' other columns nested under ``under``."""
    grouped: dict[Any, list[dict[str, Any]]] = {}
    for row in rows:
        grouped.setdefault(row.get(parent), []).append(
            {k: v for k, v in row.items() if k != parent}
        )
    return [{parent: key, under: items} for key, items in grouped.items()]


def _prompt(query: dict[str, str], name: str) -> datetime | None:
    text = query.get(name)
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(f"Invalid value for prompt {name}: {text!r}") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
