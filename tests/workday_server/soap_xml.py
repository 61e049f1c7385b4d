"""Rendering ``Get_Workers_Response``: one ``wd:Worker`` per worker, with the element paths the
connector README lists.

Quirks kept on purpose: some dates carry a zone offset (``2019-03-04-08:00``), the primary
flag on an email's usage is ``"1"`` for some workers and ``"true"`` for others, some workers
have a HOME email next to (or instead of) the WORK one, and a ``COMPANY`` organisation comes
before the ``SUPERVISORY`` one. Simplifications by default: ``Business_Site_Summary_Data/Time_Zone``
holds the IANA name, ``Management_Level_ID`` is the level's descriptor (``2 Senior Executive``)
and ``Organization_Name`` the organisation's descriptor. :class:`SoapShape` sends what tenants
send instead: reference ids next to descriptors, and the time zone as a reference.
:func:`malformed_page` gives pages that are not well-formed XML.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from xml.sax.saxutils import escape, quoteattr
from zoneinfo import ZoneInfo

from tests.workday_server.faults import BSVC, SOAP_ENV
from tests.workday_server.rest import organization_wid
from tests.workday_server.soap import GetWorkers
from tests.workday_server.view import TenantView

__all__ = [
    "MALFORMED",
    "TIME_ZONES",
    "SoapShape",
    "get_workers_response",
    "malformed_page",
    "worker_xml",
]

Record = dict[str, Any]
_DATE_SUFFIXES = ("", "-08:00", "-07:00")
#: How a worker's time zone is sent: a ``Time_Zone`` element, or a ``Time_Zone_Reference``
#: (``Time_Zone_ID``, the IANA name, and a ``GMT+01:00 Paris``-style descriptor).
TIME_ZONES = ("Time_Zone", "Time_Zone_Reference")


@dataclass(frozen=True)
class SoapShape:
    """How the tenant names things in ``Get_Workers`` (tenants differ).

    ``reference_ids``: the management level's reference carries its reference id (``ML_2``)
    with the level's descriptor (``2 Senior Executive``), and the supervisory organisation an
    ``Organization_Reference`` (WID and reference id) whose descriptor is ``Name (Manager)``
    while ``Organization_Name`` holds the bare name. ``time_zone``: one of :data:`TIME_ZONES`.
    """

    reference_ids: bool = False
    time_zone: str = "Time_Zone"

    def __post_init__(self) -> None:
        if self.time_zone not in TIME_ZONES:
            raise ValueError(f"time_zone must be one of {TIME_ZONES}, not {self.time_zone!r}")


def _el(name: str, text: str | None, **attributes: str) -> str:
    attrs = "".join(f" wd:{k}={quoteattr(v)}" for k, v in attributes.items())
    return f"<wd:{name}{attrs}>{escape(text or '')}</wd:{name}>"


def _ref(name: str, ids: list[tuple[str, str]], descriptor: str | None = None) -> str:
    attrs = f" wd:Descriptor={quoteattr(descriptor)}" if descriptor else ""
    inner = "".join(f"<wd:ID wd:type={quoteattr(t)}>{escape(v)}</wd:ID>" for t, v in ids)
    return f"<wd:{name}{attrs}>{inner}</wd:{name}>"


def _date(value: str | None, wid: str) -> str | None:
    """Workday writes some dates with the data centre's offset: ``2019-03-04-08:00``."""
    if value is None:
        return None
    return value + _DATE_SUFFIXES[int(wid[-1], 16) % 3]


def _name_detail(name: str) -> str:
    first, _, last = name.rpartition(" ")
    if not first:  # unspaced names (李小龙): family name first
        first, last = name[1:] or name, name[:1]
    return (
        f"<wd:Name_Detail_Data wd:Formatted_Name={quoteattr(name)}"
        f" wd:Reporting_Name={quoteattr(f'{last}, {first}')}>"
        f"{_el('First_Name', first)}{_el('Last_Name', last)}</wd:Name_Detail_Data>"
    )


def _email(address: str, usage: str, primary: str) -> str:
    return (
        f"<wd:Email_Address_Data>{_el('Email_Address', address)}"
        f'<wd:Usage_Data wd:Public="{int(usage == "WORK")}"><wd:Type_Data wd:Primary="{primary}">'
        f"{_ref('Type_Reference', [('Communication_Usage_Type_ID', usage)], usage.title())}"
        "</wd:Type_Data></wd:Usage_Data></wd:Email_Address_Data>"
    )


def _personal(worker: Record) -> str:
    wid = worker["workday_id"]
    names = f"<wd:Legal_Name_Data>{_name_detail(worker['legal_name'])}</wd:Legal_Name_Data>"
    if worker["preferred_name"]:
        names += (
            f"<wd:Preferred_Name_Data>{_name_detail(worker['preferred_name'])}"
            "</wd:Preferred_Name_Data>"
        )
    emails = ""
    if int(wid[0], 16) % 4 == 0:
        emails += _email(f"{worker['employee_id'].lower()}@home.example.net", "HOME", "1")
    if worker["work_email"]:
        emails += _email(worker["work_email"], "WORK", "true" if int(wid[1], 16) % 2 else "1")
    contact = f"<wd:Contact_Data>{emails}</wd:Contact_Data>" if emails else ""
    return f"<wd:Personal_Data><wd:Name_Data>{names}</wd:Name_Data>{contact}</wd:Personal_Data>"


def _organizations(view: TenantView, org_id: str | None, shape: SoapShape) -> str:
    company = view.tenant.name.upper()
    parts = [(f"{company}_LTD", f"{view.tenant.name.title()} Ltd", "COMPANY")]
    org = view.organization.get(org_id or "")
    if org is not None:
        parts.append((org["organization_id"], org["name"], "SUPERVISORY"))

    def reference(ref: str, descriptor: str) -> str:
        if not shape.reference_ids:
            return ""
        ids = [("WID", organization_wid(ref)), ("Organization_Reference_ID", ref)]
        return _ref("Organization_Reference", ids, descriptor)

    def bare(descriptor: str) -> str:
        # "Engineering (José Nuñez)" is the descriptor; the organisation's name is "Engineering"
        return descriptor.split(" (", 1)[0] if shape.reference_ids else descriptor

    inner = "".join(
        f"<wd:Position_Organization_Data>{reference(ref, name)}<wd:Organization_Data>"
        f"{_el('Organization_Reference_ID', ref)}{_el('Organization_Name', bare(name))}"
        f"{_ref('Organization_Type_Reference', [('Organization_Type_ID', kind)])}"
        "</wd:Organization_Data></wd:Position_Organization_Data>"
        for ref, name, kind in parts
    )
    return f"<wd:Position_Organizations_Data>{inner}</wd:Position_Organizations_Data>"


def _time_zone(zone: str | None, shape: SoapShape) -> str:
    if shape.time_zone == "Time_Zone" or not zone:
        return _el("Time_Zone", zone)
    offset = datetime(2026, 1, 15, tzinfo=ZoneInfo(zone)).strftime("%z")
    descriptor = f"GMT{offset[:3]}:{offset[3:]} {zone.rsplit('/', 1)[-1].replace('_', ' ')}"
    return _ref("Time_Zone_Reference", [("Time_Zone_ID", zone)], descriptor)


def _level(level: str | None, shape: SoapShape) -> str:
    if not shape.reference_ids:
        return _ref("Management_Level_Reference", [("Management_Level_ID", level or "")], level)
    if not level:
        return ""
    ids = [("Management_Level_ID", f"ML_{level.split(' ', 1)[0]}")]
    return _ref("Management_Level_Reference", ids, level)


def _primary_job(view: TenantView, worker: Record, with_orgs: bool, shape: SoapShape) -> str:
    contingent = worker["worker_type"] == "contingent"
    worker_type = (
        ("Contingent_Worker_Type_ID", "Contractor")
        if contingent
        else ("Employee_Type_ID", "Regular")
    )
    site = (
        f"<wd:Business_Site_Summary_Data>{_el('Name', worker['location'])}"
        f"{_time_zone(worker['time_zone'], shape)}<wd:Address_Data>"
        f"{_ref('Country_Reference', [('ISO_3166-1_Alpha-2_Code', worker['country'] or '')])}"
        "</wd:Address_Data></wd:Business_Site_Summary_Data>"
    )
    manager = view.by_employee_id.get(worker["manager_employee_id"] or "")
    manager_ref = ""
    if manager is not None:
        manager_ref = _ref(
            "Manager_as_of_last_detected_manager_change_Reference",
            [("WID", manager["workday_id"]), ("Employee_ID", manager["employee_id"])],
        )
    position_id = view.tenant.positions.get(worker["workday_id"], "")
    profile = (
        "<wd:Job_Profile_Summary_Data>"
        f"{_ref('Job_Profile_Reference', [('Job_Profile_ID', worker['job_profile_id'] or '')])}"
        f"{_el('Job_Profile_Name', worker['job_profile'])}"
        f"{_level(worker['management_level'], shape)}"
        "</wd:Job_Profile_Summary_Data>"
    )
    effective = worker["hire_date"] or worker["original_hire_date"] or ""  # hidden: no hire date
    position = (
        f"<wd:Position_Data wd:Effective_Date={quoteattr(effective)}>"
        f"{_ref('Position_Reference', [('Position_ID', position_id)])}"
        f"{_el('Position_ID', position_id)}{_el('Business_Title', worker['business_title'])}"
        f"{_ref('Worker_Type_Reference', [worker_type], worker_type[1])}"
        f"{profile}{site}{manager_ref}"
        "</wd:Position_Data>"
    )
    orgs = _organizations(view, worker["supervisory_organization_id"], shape) if with_orgs else ""
    return f'<wd:Worker_Job_Data wd:Primary_Job="1">{position}{orgs}</wd:Worker_Job_Data>'


def _additional_job(view: TenantView, job: Record, with_orgs: bool, shape: SoapShape) -> str:
    profile_id = job["job_profile_id"] or ""
    position = (
        f"<wd:Position_Data>{_ref('Position_Reference', [('Position_ID', job['position_id'])])}"
        f"{_el('Position_ID', job['position_id'])}{_el('Business_Title', job['business_title'])}"
        "<wd:Job_Profile_Summary_Data>"
        f"{_ref('Job_Profile_Reference', [('Job_Profile_ID', profile_id)])}"
        f"{_el('Job_Profile_Name', view.profile_names.get(profile_id))}"
        "</wd:Job_Profile_Summary_Data></wd:Position_Data>"
    )
    orgs = _organizations(view, job["supervisory_organization_id"], shape) if with_orgs else ""
    return f'<wd:Worker_Job_Data wd:Primary_Job="0">{position}{orgs}</wd:Worker_Job_Data>'


def _employment(view: TenantView, worker: Record, with_orgs: bool, shape: SoapShape) -> str:
    wid = worker["workday_id"]
    jobs = _primary_job(view, worker, with_orgs, shape) + "".join(
        _additional_job(view, job, with_orgs, shape) for job in worker["additional_jobs"]
    )
    status = (
        f"{_el('Active', '1' if worker['active'] else '0')}"
        f"{_el('Hire_Date', _date(worker['hire_date'], wid))}"
        f"{_el('Original_Hire_Date', _date(worker['original_hire_date'], wid))}"
        f"{_el('Terminated', '0' if worker['active'] else '1')}"
    )
    if worker["termination_date"]:
        status += _el("Termination_Date", _date(worker["termination_date"], wid))
    return (
        f"<wd:Employment_Data>{jobs}<wd:Worker_Status_Data>{status}</wd:Worker_Status_Data>"
        "</wd:Employment_Data>"
    )


def worker_xml(
    view: TenantView, worker: Record, sections: frozenset[str], shape: SoapShape | None = None
) -> str:
    """One ``wd:Worker`` element with the requested sections, shaped as ``shape`` says."""
    shape = shape or SoapShape()
    name = worker["preferred_name"] or worker["legal_name"]
    id_type = "Contingent_Worker_ID" if worker["worker_type"] == "contingent" else "Employee_ID"
    parts = []
    if "reference" in sections:
        parts.append(
            _ref(
                "Worker_Reference",
                [("WID", worker["workday_id"]), (id_type, worker["employee_id"])],
                name,
            )
        )
        parts.append(_el("Worker_Descriptor", name))
    data = _el("Worker_ID", worker["employee_id"]) + _el(
        "User_ID", worker["work_email"] or worker["employee_id"]
    )
    if "personal" in sections:
        data += _personal(worker)
    if "employment" in sections:
        data += _employment(view, worker, "organizations" in sections, shape)
    parts.append(f"<wd:Worker_Data>{data}</wd:Worker_Data>")
    return f"<wd:Worker>{''.join(parts)}</wd:Worker>"


def get_workers_response(
    query: GetWorkers, total: int, workers_xml: list[str], version: str
) -> bytes:
    """The whole response envelope for one page."""
    pages = math.ceil(total / query.count)
    echo = _el("As_Of_Entry_DateTime", _iso(query.as_of)) if query.as_of else ""
    results = (
        f"<wd:Response_Results>{_el('Total_Results', str(total))}{_el('Total_Pages', str(pages))}"
        f"{_el('Page_Results', str(len(workers_xml)))}{_el('Page', str(query.page))}"
        "</wd:Response_Results>"
    )
    # Workday leaves Response_Data out of a page without results.
    data = f"<wd:Response_Data>{''.join(workers_xml)}</wd:Response_Data>" if workers_xml else ""
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        f'<env:Envelope xmlns:env="{SOAP_ENV}"><env:Body>'
        f'<wd:Get_Workers_Response xmlns:wd="{BSVC}" wd:version={quoteattr(version)}>'
        f"<wd:Response_Filter>{echo}{_el('Page', str(query.page))}{_el('Count', str(query.count))}"
        f"</wd:Response_Filter>{results}{data}</wd:Get_Workers_Response></env:Body></env:Envelope>"
    ).encode()


def _iso(moment: datetime) -> str:
    return moment.isoformat()


#: The kinds of page :func:`malformed_page` makes.
MALFORMED = ("truncated", "unescaped", "garbage")


def malformed_page(kind: str, version: str = "v44.2") -> bytes:
    """A ``Get_Workers`` answer (HTTP 200) that is not well-formed XML: ``"truncated"`` (cut
    short inside a worker, as a dropped proxy connection leaves it), ``"unescaped"`` (a bare
    ``&`` in a name) or ``"garbage"`` (bytes that are not XML after the prolog)."""
    head = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        f'<env:Envelope xmlns:env="{SOAP_ENV}"><env:Body>'
        f'<wd:Get_Workers_Response xmlns:wd="{BSVC}" wd:version={quoteattr(version)}>'
        "<wd:Response_Results><wd:Total_Results>3</wd:Total_Results>"
        "<wd:Total_Pages>1</wd:Total_Pages><wd:Page_Results>3</wd:Page_Results>"
        "<wd:Page>1</wd:Page></wd:Response_Results><wd:Response_Data><wd:Worker>"
    )
    match kind:
        case "truncated":
            return (head + '<wd:Worker_Reference wd:Descriptor="Ada Lo').encode()
        case "unescaped":
            tail = (
                "<wd:Worker_Descriptor>Smith & Sons</wd:Worker_Descriptor></wd:Worker>"
                "</wd:Response_Data></wd:Get_Workers_Response></env:Body></env:Envelope>"
            )
            return (head + tail).encode()
        case "garbage":
            return b'<?xml version="1.0" encoding="UTF-8"?>\x00\x1f\x8b not xml'
    raise ValueError(f"kind must be one of {MALFORMED}, not {kind!r}")
