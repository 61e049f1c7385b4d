"""Workers through SOAP ``Human_Resources/Get_Workers``, page by page, never the whole tenant.

Every page of a run is pinned to the same ``As_Of_Entry_DateTime`` (the run's start), so
changes entered while the run pages do not shift its results. An incremental run asks for
workers with a transaction in the window twice: changes entered in the window (already
effective), and changes entered earlier that became effective in the window, which is how a
future-dated termination arrives on the day it takes effect.

A page that is not well-formed XML (cut short by a proxy, say) is retried like an outage, then
fails naming the page. Where Workday gives a reference both an id and a descriptor, the
descriptor is kept for what people read (management level, organisation) and the id for what
joins (the organisation's reference id); tenants send the time zone as a ``Time_Zone`` element
or as a ``Time_Zone_Reference`` (``Time_Zone_ID``, an IANA name), and either is read.
"""

from __future__ import annotations

import io
from collections.abc import Iterator, Mapping
from datetime import datetime
from functools import cache
from typing import Any, ClassVar
from xml.etree.ElementTree import Element
from xml.sax.saxutils import escape
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from defusedxml.common import DefusedXmlException
from defusedxml.ElementTree import ParseError, iterparse
from requests.auth import AuthBase

from mentorbridge.connectors.base import Skipped, Stream, Window, prefetched
from mentorbridge.connectors.workday.client import WorkdayClient
from mentorbridge.connectors.workday.fields import read_value
from mentorbridge.connectors.workday.streams import PRIMARY_KEYS, judged_records
from mentorbridge.plugin.errors import SourceUnavailableError

__all__ = ["SoapWorkers", "get_workers_envelope"]

BSVC = "urn:com.workday/bsvc"
_W = f"{{{BSVC}}}"
BEGINNING = "1900-01-01T00:00:00Z"
RESPONSE_GROUP = {
    "Include_Reference": True,
    "Include_Personal_Information": True,
    "Include_Employment_Information": True,
    "Include_Organizations": True,
    "Include_Compensation": False,
    "Include_Roles": False,
    "Include_Worker_Documents": False,
    "Include_Photo": False,
}


def _stamp(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def get_workers_envelope(
    *,
    version: str,
    page: int,
    count: int,
    as_of: datetime,
    since: datetime | None,
    security: str = "",
) -> bytes:
    """A ``Get_Workers_Request`` envelope (``security``: a ``wsse:Security`` header or "")."""
    criteria = ""
    if since is not None:
        windows = [
            (_stamp(since), _stamp(as_of), BEGINNING, _stamp(as_of)),
            (BEGINNING, _stamp(as_of), _stamp(since), _stamp(as_of)),
        ]
        criteria = "".join(
            "<bsvc:Transaction_Log_Criteria_Data><bsvc:Transaction_Date_Range_Data>"
            f"<bsvc:Updated_From>{uf}</bsvc:Updated_From>"
            f"<bsvc:Updated_Through>{ut}</bsvc:Updated_Through>"
            f"<bsvc:Effective_From>{ef}</bsvc:Effective_From>"
            f"<bsvc:Effective_Through>{et}</bsvc:Effective_Through>"
            "</bsvc:Transaction_Date_Range_Data></bsvc:Transaction_Log_Criteria_Data>"
            for uf, ut, ef, et in windows
        )
    group = "".join(
        f"<bsvc:{name}>{'true' if on else 'false'}</bsvc:{name}>"
        for name, on in RESPONSE_GROUP.items()
    )
    header = f"<soapenv:Header>{security}</soapenv:Header>" if security else ""
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" '
        f'xmlns:bsvc="{BSVC}">{header}<soapenv:Body>'
        f'<bsvc:Get_Workers_Request bsvc:version="{escape(version)}">'
        f"<bsvc:Request_Criteria>{criteria}"
        "<bsvc:Exclude_Inactive_Workers>false</bsvc:Exclude_Inactive_Workers>"
        "</bsvc:Request_Criteria>"
        f"<bsvc:Response_Filter><bsvc:As_Of_Entry_DateTime>{_stamp(as_of)}"
        f"</bsvc:As_Of_Entry_DateTime><bsvc:Page>{page}</bsvc:Page>"
        f"<bsvc:Count>{count}</bsvc:Count></bsvc:Response_Filter>"
        f"<bsvc:Response_Group>{group}</bsvc:Response_Group>"
        "</bsvc:Get_Workers_Request></soapenv:Body></soapenv:Envelope>"
    ).encode()


class SoapWorkers(Stream):
    """Workers from ``Get_Workers``, incremental through the transaction log."""

    name = "workers"
    primary_key = PRIMARY_KEYS["workers"]
    incremental = True
    #: Where each field comes from (under ``Worker_Data``); a field no worker of a run has is
    #: hidden from the integration user, not empty.
    watched: ClassVar[Mapping[str, str]] = {
        "work_email": "Personal_Data/Contact_Data/Email_Address_Data",
        "business_title": "Position_Data/Business_Title",
        "job_profile_id": "Job_Profile_Summary_Data/Job_Profile_Reference",
        "job_profile": "Job_Profile_Summary_Data/Job_Profile_Name",
        "management_level": "Job_Profile_Summary_Data/Management_Level_Reference",
        "supervisory_organization_id": "Position_Organizations_Data (Supervisory)",
        "supervisory_organization": "Position_Organizations_Data (Supervisory)",
        "manager_employee_id": "Manager_as_of_last_detected_manager_change_Reference",
        "location": "Business_Site_Summary_Data/Name",
        "country": "Business_Site_Summary_Data/Address_Data/Country_Reference",
        "time_zone": "Business_Site_Summary_Data/Time_Zone",
        "hire_date": "Worker_Status_Data/Hire_Date",
    }

    def __init__(
        self,
        client: WorkdayClient,
        *,
        version: str,
        page_size: int,
        auth: AuthBase | None,
        security: Any = None,
        absent_columns: str = "fail",
    ) -> None:
        self.client, self.version, self.page_size = client, version, page_size
        self.auth = auth
        self.absent_mode = absent_columns
        #: Builds the ``wsse:Security`` header text (None with bearer auth).
        self.security = security

    def records(self, window: Window) -> Iterator[dict[str, Any] | Skipped]:
        return judged_records(self, window, self.absent_mode)

    def read(self, window: Window) -> Iterator[dict[str, Any] | Skipped]:
        """Every worker as read, page after page."""
        for items in prefetched(self.pages(window)):
            yield from items

    def pages(self, window: Window) -> Iterator[list[dict[str, Any] | Skipped]]:
        """Each page's workers, pinned to the run's start, until the last page."""
        url = self.client.soap_url("Human_Resources", self.version)
        page, total_pages = 1, 1
        while page <= total_pages:
            envelope = get_workers_envelope(
                version=self.version,
                page=page,
                count=self.page_size,
                as_of=window.until,
                since=window.since,
                security="".join(self.security()) if self.security else "",
            )
            what = f"Get_Workers page {page}"
            total_pages, items = self.client.soap(
                url,
                envelope,
                auth=self.auth,
                what=what,
                parse=lambda body, what=what: _read_page(body, what),
            )
            yield items
            page += 1


def _read_page(body: bytes, what: str) -> tuple[int, list[dict[str, Any] | Skipped]]:
    """The page count and the page's workers, parsed element by element.

    Raises:
        SourceUnavailableError: the page is not well-formed XML or has no page count (retried
            by the caller; the message names the page and what to do if it persists).
    """
    total_pages: int | None = None
    items: list[dict[str, Any] | Skipped] = []
    try:
        for _, element in iterparse(io.BytesIO(body), events=("end",)):
            if element.tag == f"{_W}Total_Pages":
                total_pages = _count(element.text, what)
            elif element.tag == f"{_W}Worker":
                items.append(_worker(element))
                element.clear()
    except (ParseError, DefusedXmlException) as err:
        problem = str(err) if isinstance(err, ParseError) else type(err).__name__
        raise SourceUnavailableError(
            f"{what}: Workday's answer is not well-formed XML ({problem}), usually an answer "
            "cut short by a proxy or a dropped connection — sync again; if it persists, "
            "lower workday.soap_page_size"
        ) from None
    if total_pages is None:
        raise SourceUnavailableError(
            f"{what}: the answer has no Response_Results (page count) — sync again; if it "
            "persists, check workday.soap_version"
        )
    return total_pages, items


def _count(text: str | None, what: str) -> int:
    try:
        return int((text or "0").strip())
    except ValueError:
        raise SourceUnavailableError(
            f"{what}: Total_Pages is not a number — sync again; if it persists, check "
            "workday.soap_version"
        ) from None


def _find(element: Element | None, path: str) -> Element | None:
    if element is None:
        return None
    return element.find(_qualified(path))


@cache
def _qualified(path: str) -> str:
    """``A/B`` as ``{bsvc}A/{bsvc}B`` (asked for every field of every worker)."""
    return "/".join(f"{_W}{part}" for part in path.split("/"))


def _text(element: Element | None, path: str = "") -> str | None:
    found = _find(element, path) if path else element
    text = found.text.strip() if found is not None and found.text else ""
    return text or None


def _id(element: Element | None, path: str, kind: str) -> str | None:
    holder = _find(element, path) if path else element
    if holder is None:
        return None
    for ident in holder.findall(f"{_W}ID"):
        if ident.get(f"{_W}type") == kind and ident.text and ident.text.strip():
            return ident.text.strip()
    return None


def _flag(value: str | None) -> bool:
    return (value or "").strip().lower() in ("1", "true")


def _worker(element: Element) -> dict[str, Any] | Skipped:
    reference = _find(element, "Worker_Reference")
    workday_id = _id(reference, "", "WID")
    contingent_id = _id(reference, "", "Contingent_Worker_ID")
    employee_id = _id(reference, "", "Employee_ID") or contingent_id
    if workday_id is None or employee_id is None:
        return Skipped(
            workday_id or employee_id or "?",
            "a Worker without a WID and an Employee_ID or Contingent_Worker_ID",
        )
    data = _find(element, "Worker_Data")
    personal = _find(data, "Personal_Data")
    status = _find(data, "Employment_Data/Worker_Status_Data")
    jobs = _find(data, "Employment_Data")
    job_elements = jobs.findall(f"{_W}Worker_Job_Data") if jobs is not None else []
    primary = next(
        (j for j in job_elements if _flag(j.get(f"{_W}Primary_Job"))),
        job_elements[0] if job_elements else None,
    )
    position = _find(primary, "Position_Data")
    try:
        record = {
            "workday_id": workday_id,
            "employee_id": employee_id,
            "worker_type": "contingent" if contingent_id == employee_id else "employee",
            "legal_name": _name(personal, "Legal_Name_Data"),
            "preferred_name": _name(personal, "Preferred_Name_Data"),
            "work_email": _work_email(personal),
            "business_title": _text(position, "Business_Title"),
            "job_profile_id": _id(
                position, "Job_Profile_Summary_Data/Job_Profile_Reference", "Job_Profile_ID"
            ),
            "job_profile": _text(position, "Job_Profile_Summary_Data/Job_Profile_Name"),
            "management_level": _descriptor(
                _find(position, "Job_Profile_Summary_Data/Management_Level_Reference"),
                "Management_Level_ID",
            ),
            "supervisory_organization_id": None,
            "supervisory_organization": None,
            "manager_employee_id": _id(
                position, "Manager_as_of_last_detected_manager_change_Reference", "Employee_ID"
            ),
            "location": _text(position, "Business_Site_Summary_Data/Name"),
            "country": _id(
                position,
                "Business_Site_Summary_Data/Address_Data/Country_Reference",
                "ISO_3166-1_Alpha-2_Code",
            ),
            "time_zone": _time_zone(position),
            "hire_date": read_value("date", _text(status, "Hire_Date")),
            "original_hire_date": read_value("date", _text(status, "Original_Hire_Date")),
            "active": _flag(_text(status, "Active")),
            "termination_date": read_value("date", _text(status, "Termination_Date")),
            "additional_jobs": [_additional(j) for j in job_elements if j is not primary],
            "last_updated": None,
        }
    except ValueError as err:
        return Skipped(workday_id, f"a Worker_Status_Data date is not a date: expected {err}")
    organization = _supervisory(primary)
    if organization is not None:
        record["supervisory_organization_id"], record["supervisory_organization"] = organization
    return record


def _name(personal: Element | None, kind: str) -> str | None:
    detail = _find(personal, f"Name_Data/{kind}/Name_Detail_Data")
    if detail is None:
        return None
    formatted = (detail.get(f"{_W}Formatted_Name") or "").strip()
    if formatted:
        return formatted
    parts = [_text(detail, p) for p in ("First_Name", "Middle_Name", "Last_Name")]
    return " ".join(p for p in parts if p) or None


def _work_email(personal: Element | None) -> str | None:
    contact = _find(personal, "Contact_Data")
    if contact is None:
        return None
    work = []
    for entry in contact.findall(f"{_W}Email_Address_Data"):
        for type_data in entry.iter(f"{_W}Type_Data"):
            if _id(type_data, "Type_Reference", "Communication_Usage_Type_ID") == "WORK":
                work.append((_flag(type_data.get(f"{_W}Primary")), _text(entry, "Email_Address")))
    work.sort(key=lambda pair: not pair[0])  # the primary one first
    return next((address for _, address in work if address), None)


def _descriptor(reference: Element | None, id_type: str) -> str | None:
    """A reference's descriptor (what people read), else its ``id_type`` id."""
    if reference is None:
        return None
    descriptor = (reference.get(f"{_W}Descriptor") or "").strip()
    return descriptor or _id(reference, "", id_type)


def _is_zone(name: str) -> bool:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


def _time_zone(position: Element | None) -> str | None:
    """The IANA time zone of the position's site: a ``Time_Zone_Reference`` (its
    ``Time_Zone_ID``, or a descriptor that is an IANA name) or a ``Time_Zone`` element."""
    for holder in (_find(position, "Business_Site_Summary_Data"), position):
        reference = _find(holder, "Time_Zone_Reference")
        if reference is not None:
            zone = _id(reference, "", "Time_Zone_ID")
            if zone:
                return zone
            descriptor = (reference.get(f"{_W}Descriptor") or "").strip()
            if descriptor and _is_zone(descriptor):
                return descriptor
        text = _text(holder, "Time_Zone")
        if text:
            return text  # an unknown name is refused by the worker schema, naming the field
    return None


def _supervisory(job: Element | None) -> tuple[str, str | None] | None:
    """The supervisory organisation's reference id and descriptor (``Name (Manager)``, from
    its ``Organization_Reference``, else its ``Organization_Name``)."""
    organizations = _find(job, "Position_Organizations_Data")
    if organizations is None:
        return None
    for holder in organizations.iter(f"{_W}Position_Organization_Data"):
        data = _find(holder, "Organization_Data")
        reference = _find(holder, "Organization_Reference")
        kind = _id(data, "Organization_Type_Reference", "Organization_Type_ID")
        identifier = _text(data, "Organization_Reference_ID") or _id(
            reference, "", "Organization_Reference_ID"
        )
        if kind == "SUPERVISORY" and identifier:
            return identifier, _descriptor(reference, "") or _text(data, "Organization_Name")
    return None


def _additional(job: Element) -> dict[str, Any]:
    position = _find(job, "Position_Data")
    organization = _supervisory(job)
    return {
        "position_id": _text(position, "Position_ID") or "?",
        "business_title": _text(position, "Business_Title"),
        "job_profile_id": _id(
            position, "Job_Profile_Summary_Data/Job_Profile_Reference", "Job_Profile_ID"
        ),
        "supervisory_organization_id": organization[0] if organization else None,
    }
