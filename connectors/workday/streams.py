"""Workday streams over custom reports, report files and REST.

Every stream yields normalised records (``schemas/workday/<stream>.schema.json``) or
:class:`~connectors.base.Skipped` markers; the sync runner does the rest.
"""

from __future__ import annotations

import logging
from abc import abstractmethod
from collections.abc import Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager, contextmanager
from datetime import date
from pathlib import Path
from typing import Any, ClassVar, Protocol

from requests.auth import AuthBase

from mentorbridge.connectors.base import Skipped, Stream, Window, prefetched
from mentorbridge.connectors.workday.client import WorkdayClient
from mentorbridge.connectors.workday.columns import (
    ROWS_UNDER,
    Columns,
    absent_fields,
    expand_row,
    held_until_seen,
    judge_absent,
    nested_under,
)
from mentorbridge.connectors.workday.fields import RowError, lookup, normalizer
from mentorbridge.connectors.workday.reportfile import ReportBody
from mentorbridge.plugin.errors import SourceRequestError

__all__ = [
    "INCREMENTAL_REPORTS",
    "PRIMARY_KEYS",
    "FileRows",
    "ReportRows",
    "ReportStream",
    "RestOrganizations",
    "RestWorkers",
    "WholeRecordSource",
    "hidden_fields_message",
    "judged_records",
]

log = logging.getLogger(__name__)

PRIMARY_KEYS: dict[str, tuple[str, ...]] = {
    "workers": ("workday_id",),
    "organizations": ("organization_id",),
    "competencies": ("competency_id",),
    "competency_assessments": ("employee_id", "competency_id", "assessed_on", "source"),
    "job_profile_competencies": ("job_profile_id",),
    "succession_plans": ("position_id",),
}
#: Reports with a last-updated column, so the date prompts can narrow them to what changed.
INCREMENTAL_REPORTS = frozenset({"workers", "competency_assessments", "succession_plans"})


class RowSource(Protocol):
    """Where report rows come from: a custom report run, or an exported file."""

    def incremental(self, stream: str) -> bool: ...

    def rows(self, stream: str, window: Window) -> AbstractContextManager[Iterable[dict]]: ...


class FileRows:
    """Report files in a folder: ``<stream>.json`` or ``<stream>.csv``."""

    def __init__(self, directory: Path, fmt: str = "json") -> None:
        self.directory, self.fmt = Path(directory), fmt

    def path(self, stream: str) -> Path:
        return self.directory / f"{stream}.{self.fmt}"

    def incremental(self, stream: str) -> bool:
        return False

    @contextmanager
    def rows(self, stream: str, window: Window) -> Iterator[Iterator[dict]]:
        path = self.path(stream)
        try:
            body = path.open("rb")
        except OSError as err:
            raise SourceRequestError(f"cannot read the report file {path}: {err.strerror}") from err
        with body:
            yield ReportBody(body, self.fmt, what=f"report file {path}")


class ReportRows:
    """Custom reports (RaaS), run with the window as date prompts where the report has them."""

    def __init__(
        self,
        client: WorkdayClient,
        *,
        owner: str,
        reports: Mapping[str, str],
        prompts: Mapping[str, str],
        auth: AuthBase,
    ) -> None:
        self.client, self.owner, self.reports = client, owner, reports
        self.prompts, self.auth = prompts, auth

    def incremental(self, stream: str) -> bool:
        return stream in INCREMENTAL_REPORTS

    def url(self, stream: str) -> str:
        return self.client.report_url(self.owner, self.reports[stream])

    @contextmanager
    def rows(self, stream: str, window: Window) -> Iterator[Iterator[dict]]:
        params = {"format": "json"}
        if window.since is not None and self.incremental(stream):
            params[self.prompts["updated_from"]] = window.since.isoformat()
            params[self.prompts["updated_through"]] = window.until.isoformat()
        what = f"custom report {self.reports[stream]}"
        with self.client.report(self.url(stream), params=params, auth=self.auth, what=what) as body:
            yield ReportBody(body, "json", what=what)


class ReportStream(Stream):
    """One stream read from report rows, through the admin's column aliases."""

    def __init__(
        self,
        name: str,
        source: RowSource,
        aliases: Mapping[str, Mapping[str, str]],
        *,
        sensitive: Sequence[str] = (),
        absent_columns: str = "fail",
    ) -> None:
        self.name, self.source, self.aliases = name, source, aliases
        self.primary_key = PRIMARY_KEYS[name]
        self.incremental = source.incremental(name)
        self.sensitive = tuple(sensitive)
        self.absent_mode = absent_columns
        #: The mapped fields absent from every row of the last run, with their columns.
        self.absent: dict[str, str] = {}

    def records(self, window: Window) -> Iterator[dict[str, Any] | Skipped]:
        with self.source.rows(self.name, window) as rows:
            if iter(rows) is rows:  # a one-pass iterator: keep the rows for the second pass
                rows = list(rows)
            absent = self.absent_columns(rows, changes_only=self.incremental and not window.full)
            normalise = normalizer(self.name, self.aliases, sensitive=self.sensitive, absent=absent)
            for row in rows:
                try:
                    items = self.items(row)
                except RowError as err:
                    yield Skipped(self._row_key(row), str(err))
                    continue
                for item in items:
                    try:
                        yield normalise(item)
                    except RowError as err:
                        yield Skipped(self._row_key(item), str(err))

    def items(self, row: Mapping[str, Any]) -> list[Mapping[str, Any]]:
        """A report row's items: the row itself, or the items nested under ``rows_under``."""
        under = self.aliases[self.name].get(ROWS_UNDER) or ""
        return expand_row(row, under) if under else [row]

    def absent_columns(
        self, rows: Iterable[Mapping[str, Any]], *, changes_only: bool = False
    ) -> frozenset[str]:
        """The mapped fields whose columns no row of this run carries (a first pass over the
        rows). They are left out of every record, so the mirror keeps what it holds, and with
        ``absent_columns = "fail"`` (or a required field among them) the stream fails; see
        :func:`~connectors.workday.columns.judge_absent`.

        Raises:
            SourcePermissionError: the stream cannot be synced without these columns.
            SourceRequestError: the items are nested under a column the mapping does not name.
        """
        columns = Columns()
        for row in rows:
            try:
                for item in self.items(row):
                    columns.add(item)
            except RowError:
                columns.rows += 1
        self.absent = absent_fields(self.name, columns, self.aliases, sensitive=self.sensitive)
        if not self.absent:
            return frozenset()
        listed = ", ".join(f"{field} (column {col})" for field, col in self.absent.items())
        message = (
            f"{self.name}: {len(self.absent)} mapped column(s) absent from every one of the "
            f"{columns.rows} rows of this run: {listed}. Workday drops a column the integration "
            "user may not see: grant the integration user the domain that secures it, or put "
            "the column back in the report"
        )
        if not self.aliases[self.name].get(ROWS_UNDER) and (
            under := nested_under(self.name, columns, self.aliases, sensitive=self.sensitive)
        ):
            raise SourceRequestError(
                f"{self.name}: the report carries one row per parent with the items nested "
                f"under column {under}, so {', '.join(self.absent)} are not at the top level of "
                f'any row: set workday.fields.{self.name}.{ROWS_UNDER} = "{under}"'
            )
        return judge_absent(
            self.name,
            self.absent,
            columns.rows,
            message,
            mode=self.absent_mode,
            changes_only=changes_only,
        )

    def _row_key(self, row: Mapping[str, Any]) -> str:
        fields = self.aliases[self.name]
        return "/".join(str(lookup(row, fields.get(k, "")) or "?") for k in self.primary_key)


# -- REST -------------------------------------------------------------------------------------


class _RestStream(Stream):
    """Offset paging until a short or empty page; ``total`` is never trusted."""

    resource: str

    def __init__(self, client: WorkdayClient, *, service_path: str, page_size: int) -> None:
        self.client, self.service_path, self.page_size = client, service_path, page_size

    def pages(self) -> Iterator[list[dict[str, Any]]]:
        url = self.client.rest_url(self.service_path, self.resource)
        offset = 0
        while True:
            what = f"{self.resource} page at offset {offset}"
            data = self.client.rest_page(url, limit=self.page_size, offset=offset, what=what)[
                "data"
            ]
            yield data
            if len(data) < self.page_size:
                return
            offset += len(data)

    def records(self, window: Window) -> Iterator[dict[str, Any] | Skipped]:
        return self.read(window)

    def read(self, window: Window) -> Iterator[dict[str, Any] | Skipped]:
        """Every item as read, normalised, page after page."""
        for page in prefetched(self.pages()):
            for item in page:
                if not isinstance(item, dict) or not item.get("id"):
                    yield Skipped("?", f"a {self.resource} item without an id")
                    continue
                yield self.normalize(item, window.until.date())

    @abstractmethod
    def normalize(self, item: dict[str, Any], today: date) -> dict[str, Any]:
        """One REST item as a normalised record."""


def hidden_fields_message(
    stream: str, absent: Mapping[str, str], records: int, *, scope: str = "of this run"
) -> str:
    """What an admin reads when fields are absent from every record a source gave whole."""
    listed = ", ".join(f"{field} ({where})" for field, where in absent.items())
    return (
        f"{stream}: {len(absent)} field(s) absent from every one of the {records} records "
        f"{scope}: {listed}. Workday leaves out a field the integration user may not see: "
        "grant the integration user's security group the domain that secures it"
    )


class WholeRecordSource(Protocol):
    """A stream whose source gives whole records (workers from REST or SOAP), not columns."""

    name: str
    incremental: bool
    #: The fields a record from this source normally has, and where in the source each is.
    watched: Mapping[str, str]

    def read(self, window: Window) -> Iterator[dict[str, Any] | Skipped]:
        """The records as read, before fields absent from all of them are judged."""
        ...


def judged_records(
    stream: WholeRecordSource, window: Window, mode: str
) -> Iterator[dict[str, Any] | Skipped]:
    """``stream``'s records with its watched fields judged: fields absent from every record of
    the run are hidden from the integration user, not empty (see
    :func:`~connectors.workday.columns.held_until_seen`)."""

    changes_only = stream.incremental and not window.full

    def judge(absent: dict[str, str], records: int) -> frozenset[str]:
        message = hidden_fields_message(stream.name, absent, records)
        return judge_absent(
            stream.name, absent, records, message, mode=mode, changes_only=changes_only
        )

    return held_until_seen(stream.read(window), stream.watched, judge)


def _get(item: Any, *path: str) -> Any:
    for part in path:
        if not isinstance(item, dict):
            return None
        item = item.get(part)
    return item


def _object(value: Any) -> dict[str, Any]:
    """``value`` if it is a JSON object, else an empty one (a field Workday left out)."""
    return value if isinstance(value, dict) else {}


def _text(value: Any) -> str | None:
    return value.strip() or None if type(value) is str else None


def _day(value: Any) -> str | None:
    text = _text(value)
    return text[:10] if text else None


#: Per-worker detail requests in flight at once (a page holds at most 100 workers).
DETAIL_CONCURRENCY = 4


def _deep_merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    """``base`` with ``over``'s values where ``over`` has one (objects merged field by field)."""
    merged = dict(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _deep_merge(merged[key], value)
        elif value is not None:
            merged[key] = value
    return merged


class RestWorkers(_RestStream):
    """Workers from the REST workers resource (staffing shape).

    A tenant's staffing pages may leave out the hire date (and with it manager, management
    level and time zone). For a worker whose page lacks the hire date, the worker's own
    resource (``workers/{id}``) is read and merged in: only for those workers, a page at a time,
    at most :data:`DETAIL_CONCURRENCY` requests at once. A hire date neither gives stays empty
    (the mirror allows it for REST). REST lists no terminated workers: terminations need a
    custom report or SOAP.
    """

    name = "workers"
    primary_key = PRIMARY_KEYS["workers"]
    resource = "workers"
    #: Where each field comes from; a field no worker of a run has is hidden, not empty. The
    #: hire date is left out: REST may not give it at all (the mirror allows it empty).
    watched: ClassVar[Mapping[str, str]] = {
        "work_email": "person.email",
        "business_title": "primaryJob.businessTitle",
        "job_profile_id": "primaryJob.jobProfile.id",
        "job_profile": "primaryJob.jobProfile.descriptor",
        "management_level": "primaryJob.managementLevel",
        "supervisory_organization_id": "primaryJob.supervisoryOrganization.id",
        "supervisory_organization": "primaryJob.supervisoryOrganization.descriptor",
        "manager_employee_id": "primaryJob.manager.workerId",
        "location": "primaryJob.location.descriptor",
        "country": "primaryJob.location.country",
        "time_zone": "primaryJob.location.timeZone",
    }
    #: Detail requests made by the last run (for tests and the run's log).
    details_read = 0

    def __init__(
        self,
        client: WorkdayClient,
        *,
        service_path: str,
        page_size: int,
        absent_columns: str = "fail",
    ) -> None:
        super().__init__(client, service_path=service_path, page_size=page_size)
        self.absent_mode = absent_columns

    def records(self, window: Window) -> Iterator[dict[str, Any] | Skipped]:
        return judged_records(self, window, self.absent_mode)

    def pages(self) -> Iterator[list[dict[str, Any]]]:
        self.details_read = 0
        for page in super().pages():
            yield self._with_details(page)

    def _with_details(self, page: list[Any]) -> list[Any]:
        lacking = [
            index
            for index, item in enumerate(page)
            if isinstance(item, dict) and item.get("id") and not item.get("hireDate")
        ]
        if not lacking:
            return page
        base = self.client.rest_url(self.service_path, self.resource)

        def detail(index: int) -> dict[str, Any] | None:
            wid = page[index]["id"]
            return self.client.rest_item(f"{base}/{wid}", what=f"worker {wid}")

        with ThreadPoolExecutor(DETAIL_CONCURRENCY, thread_name_prefix="worker-detail") as pool:
            details = list(pool.map(detail, lacking))
        self.details_read += len(lacking)
        page = list(page)
        for index, found in zip(lacking, details, strict=True):
            if found is not None:
                page[index] = _deep_merge(page[index], found)
        return page

    def normalize(self, item: dict[str, Any], today: date) -> dict[str, Any]:
        person, job = _object(item.get("person")), _object(item.get("primaryJob"))
        profile, location = _object(job.get("jobProfile")), _object(job.get("location"))
        organization = _object(job.get("supervisoryOrganization"))
        worker_type = _text(_object(item.get("workerType")).get("descriptor")) or "Employee"
        termination = _day(item.get("terminationDate"))
        active = item.get("active")
        if not isinstance(active, bool):
            active = termination is None or date.fromisoformat(termination) > today
        return {
            "workday_id": item["id"],
            "employee_id": _text(item.get("workerId")),
            "worker_type": "contingent"
            if worker_type.lower().startswith("contingent")
            else "employee",
            "legal_name": _text(person.get("legalName")) or _text(item.get("descriptor")),
            "preferred_name": _text(person.get("preferredName")),
            "work_email": _text(person.get("email")),
            "business_title": _text(job.get("businessTitle")),
            "job_profile_id": _text(profile.get("id")),
            "job_profile": _text(profile.get("descriptor")),
            "management_level": _text(_object(job.get("managementLevel")).get("descriptor")),
            "supervisory_organization_id": _text(organization.get("id")),
            "supervisory_organization": _text(organization.get("descriptor")),
            "manager_employee_id": _text(_object(job.get("manager")).get("workerId")),
            "location": _text(location.get("descriptor")),
            "country": _text(_object(location.get("country")).get("ISO_3166-1_Alpha-2_Code")),
            "time_zone": _text(location.get("timeZone")),
            "hire_date": _day(item.get("hireDate")),
            "original_hire_date": _day(item.get("originalHireDate")),
            "active": active,
            "termination_date": termination,
            "additional_jobs": [
                {
                    "position_id": _text(j.get("id")) or "?",
                    "business_title": _text(j.get("businessTitle")),
                    "job_profile_id": _text(_get(j, "jobProfile", "id")),
                    "supervisory_organization_id": _text(_get(j, "supervisoryOrganization", "id")),
                }
                for j in item.get("additionalJobs") or []
                if isinstance(j, dict)
            ],
            "last_updated": None,
        }


class RestOrganizations(_RestStream):
    """Supervisory organisations from the REST common service."""

    name = "organizations"
    primary_key = PRIMARY_KEYS["organizations"]
    resource = "supervisoryOrganizations"

    def normalize(self, item: dict[str, Any], today: date) -> dict[str, Any]:
        managers = [m for m in item.get("managers") or [] if isinstance(m, dict)]
        return {
            "organization_id": item["id"],
            # a WID on a real tenant; the store reads the id as whichever it looks like
            "reference_id": _text(item.get("referenceID")),
            "name": _text(item.get("name")) or _text(item.get("descriptor")),
            "type": "Supervisory",
            "superior_organization_id": _text(_get(item, "superiorOrganization", "id")),
            "manager_employee_id": _text(managers[0].get("workerId")) if managers else None,
            "inactive": bool(item.get("inactive", False)),
        }
