"""The REST resources: workers (staffing shape) and supervisory organisations, paged with
``limit``/``offset`` into ``{"total", "data"}``.

IDs are simplified: ``jobProfile.id`` is the Job_Profile_ID, and organisation ``id``s are the
Organization_Reference_ID, where a real tenant would use WIDs; workers do carry their WID.
With ``org_ids="wid"`` organisations are named by WIDs, as on a real tenant (reports and SOAP
keep the reference id), each organisation also carrying its ``referenceID``; ``"wid-only"``
leaves that out, so nothing REST answers ties a WID to a reference id.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from mentorbridge.connectors.workday.sample import catalogue
from mentorbridge.connectors.workday.sample.reports import WORKER_TYPES
from tests.workday_server.view import TenantView

__all__ = [
    "PagingError",
    "error_body",
    "organization_json",
    "organization_wid",
    "page_body",
    "paging",
    "worker_json",
]

Record = dict[str, Any]
DEFAULT_LIMIT, MAX_LIMIT = 20, 100


class PagingError(Exception):
    """A ``limit`` or ``offset`` Workday refuses (answered 400)."""


def paging(query: dict[str, str]) -> tuple[int, int]:
    """``(limit, offset)`` from the query string, checked as Workday does."""
    try:
        limit = int(query.get("limit", DEFAULT_LIMIT))
        offset = int(query.get("offset", 0))
    except ValueError:
        raise PagingError("limit and offset must be integers") from None
    if not 1 <= limit <= MAX_LIMIT:
        raise PagingError(f"The limit must be between 1 and {MAX_LIMIT}; it was {limit}.")
    if offset < 0:
        raise PagingError(f"The offset must not be negative; it was {offset}.")
    return limit, offset


def error_body(message: str) -> bytes:
    """A REST 400 body (the layout is our best reading of Workday's)."""
    body = {"error": "invalid request", "errors": [{"error": message, "location": "query"}]}
    return json.dumps(body).encode()


def page_body(items: list[str], total: int, mode: str) -> bytes:
    """``{"total": n, "data": [...]}`` from pre-rendered items; ``mode`` ``"missing"`` leaves
    ``total`` out and ``"wrong"`` always says 7."""
    data = "[" + ",".join(items) + "]"
    if mode == "missing":
        return f'{{"data":{data}}}'.encode()
    return f'{{"total":{7 if mode == "wrong" else total},"data":{data}}}'.encode()


def _ref(id_: str | None, descriptor: str | None) -> dict[str, Any] | None:
    if id_ is None:
        return None
    return {"id": id_, "descriptor": descriptor}


ORG_IDS = ("reference", "wid", "wid-only")


def organization_wid(reference_id: str) -> str:
    """The made-up but stable WID (32 hex digits) of the organisation ``reference_id``."""
    return hashlib.md5(reference_id.encode(), usedforsecurity=False).hexdigest()


def _org(reference_id: str | None, org_ids: str) -> str | None:
    if reference_id is None or org_ids == "reference":
        return reference_id
    return organization_wid(reference_id)


def worker_json(view: TenantView, worker: Record, org_ids: str = "reference") -> str:
    """One worker in the staffing ``/workers`` shape, as JSON text."""
    name = worker["preferred_name"] or worker["legal_name"]
    manager = view.by_employee_id.get(worker["manager_employee_id"] or "")
    org_id = _org(worker["supervisory_organization_id"], org_ids)
    job: dict[str, Any] = {
        "id": view.tenant.positions.get(worker["workday_id"]),
        "descriptor": f"{worker['business_title']} - {name}",
        "businessTitle": worker["business_title"],
        "jobProfile": _ref(worker["job_profile_id"], worker["job_profile"]),
        "managementLevel": {"descriptor": worker["management_level"]},
        "supervisoryOrganization": _ref(org_id, worker["supervisory_organization"]),
        "location": {
            "descriptor": worker["location"],
            "country": {
                "descriptor": catalogue.COUNTRY_NAMES.get(worker["country"], worker["country"]),
                "ISO_3166-1_Alpha-2_Code": worker["country"],
            },
            "timeZone": worker["time_zone"],
        },
    }
    if manager is not None:
        job["manager"] = {
            "id": manager["workday_id"],
            "descriptor": manager["preferred_name"] or manager["legal_name"],
            "workerId": manager["employee_id"],
        }
    body: dict[str, Any] = {
        "id": worker["workday_id"],
        "descriptor": name,
        "workerId": worker["employee_id"],
        "workerType": {"descriptor": WORKER_TYPES[worker["worker_type"]]},
        "person": {
            "legalName": worker["legal_name"],
            "preferredName": worker["preferred_name"],
            "email": worker["work_email"],
        },
        "primaryJob": job,
        "additionalJobs": [
            {
                "id": extra["position_id"],
                "descriptor": extra["business_title"],
                "businessTitle": extra["business_title"],
                "jobProfile": _ref(
                    extra["job_profile_id"], view.profile_names.get(extra["job_profile_id"] or "")
                ),
                "supervisoryOrganization": {
                    "id": _org(extra["supervisory_organization_id"], org_ids)
                },
            }
            for extra in worker["additional_jobs"]
        ],
        "hireDate": worker["hire_date"],
        "originalHireDate": worker["original_hire_date"],
        "active": worker["active"],
    }
    if worker["termination_date"]:
        body["terminationDate"] = worker["termination_date"]
    return json.dumps(body, ensure_ascii=False)


def organization_json(view: TenantView, org: Record, org_ids: str = "reference") -> str:
    """One supervisory organisation in the ``/supervisoryOrganizations`` shape, as JSON text."""
    body: dict[str, Any] = {
        "id": _org(org["organization_id"], org_ids),
        "descriptor": org["name"],
        "name": org["name"],
        "inactive": org["inactive"],
    }
    if org_ids == "reference":
        body["code"] = org["organization_id"]
    if org_ids == "wid":
        body["referenceID"] = org["organization_id"]
    if org["superior_organization_id"]:
        body["superiorOrganization"] = {"id": _org(org["superior_organization_id"], org_ids)}
    manager = view.by_employee_id.get(org["manager_employee_id"] or "")
    body["managers"] = (
        []
        if manager is None
        else [
            {
                "id": manager["workday_id"],
                "descriptor": manager["preferred_name"] or manager["legal_name"],
                "workerId": manager["employee_id"],
            }
        ]
    )
    return json.dumps(body, ensure_ascii=False)
