"""SOAP ``Human_Resources`` ``Get_Workers``: reading the request and choosing the workers.

Requests are parsed with defusedxml. Anything Workday would refuse becomes a
:class:`SoapFault` carrying the fault body (always sent with HTTP 500).

Simplifications: only ``Get_Workers`` is served; a date or time without a zone counts as UTC;
``As_Of_Entry_DateTime`` undoes only changes made through the tenant module's functions (the
generated state is the oldest version of every worker).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any
from xml.etree.ElementTree import Element

from defusedxml import ElementTree
from defusedxml.common import DefusedXmlException

from mentorbridge.connectors.workday.sample.tenant import Change
from tests.workday_server import faults
from tests.workday_server.view import TenantView

__all__ = ["GetWorkers", "SoapFault", "Window", "parse_envelope", "select_workers", "ws_security"]

Record = dict[str, Any]
SOAP_ENV = faults.SOAP_ENV
BSVC = faults.BSVC
WSSE = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"
PASSWORD_TEXT = (
    "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0"
    "#PasswordText"
)
SECTIONS = ("reference", "personal", "employment", "organizations")
_GROUP_FLAGS = {
    "Include_Reference": "reference",
    "Include_Personal_Information": "personal",
    "Include_Employment_Information": "employment",
    "Include_Organizations": "organizations",
}
_REQUEST_XPATH = "/bsvc:Get_Workers_Request[1]"


class SoapFault(Exception):
    """A request Workday refuses; ``body`` is the fault envelope to send back."""

    def __init__(self, body: bytes) -> None:
        super().__init__(body.decode(errors="replace"))
        self.body = body


def _validation(message: str, xpath: str = "") -> SoapFault:
    return SoapFault(faults.validation_fault(message, xpath=xpath))


def _q(name: str, namespace: str = BSVC) -> str:
    return f"{{{namespace}}}{name}"


def parse_envelope(body: bytes) -> tuple[Element, Element]:
    """``(envelope, operation)``: the SOAP envelope and the first element of its Body."""
    try:
        envelope = ElementTree.fromstring(body)
    except (ElementTree.ParseError, DefusedXmlException) as error:
        raise SoapFault(faults.soap_fault("SOAP-ENV:Client", f"Invalid request: {error}")) from None
    soap_body = envelope.find(_q("Body", SOAP_ENV))
    if envelope.tag != _q("Envelope", SOAP_ENV) or soap_body is None or len(soap_body) == 0:
        raise SoapFault(faults.soap_fault("SOAP-ENV:Client", "Invalid request: no SOAP 1.1 Body"))
    return envelope, soap_body[0]


def ws_security(envelope: Element) -> tuple[str, str] | None:
    """``(username, password)`` of a UsernameToken with a text password, if the header has one."""
    token = envelope.find(
        f"{_q('Header', SOAP_ENV)}/{_q('Security', WSSE)}/{_q('UsernameToken', WSSE)}"
    )
    if token is None:
        return None
    username, password = token.find(_q("Username", WSSE)), token.find(_q("Password", WSSE))
    if username is None or password is None:
        return None
    if password.get("Type", PASSWORD_TEXT) != PASSWORD_TEXT:
        return None  # digests are not simulated: treated as wrong credentials
    return username.text or "", password.text or ""


@dataclass(frozen=True)
class Window:
    """One ``Transaction_Log_Criteria_Data`` block; an open end is None."""

    updated_from: datetime | None = None
    updated_through: datetime | None = None
    effective_from: date | None = None
    effective_through: date | None = None

    def matches(self, change: Change) -> bool:
        """Whether the change was entered in the updated window and takes effect in the
        effective window (both ends inclusive)."""
        entered, effective = change.entered_at, change.effective_on
        return (
            (self.updated_from is None or entered >= self.updated_from)
            and (self.updated_through is None or entered <= self.updated_through)
            and (self.effective_from is None or effective >= self.effective_from)
            and (self.effective_through is None or effective <= self.effective_through)
        )


@dataclass(frozen=True)
class GetWorkers:
    """What a ``Get_Workers_Request`` asks for."""

    page: int = 1
    count: int = 100
    as_of: datetime | None = None
    exclude_inactive: bool = True
    windows: tuple[Window, ...] = ()
    references: tuple[tuple[str, str], ...] = ()  # (ID type, value)
    sections: frozenset[str] = frozenset(SECTIONS)

    @classmethod
    def parse(cls, request: Element) -> GetWorkers:
        """Read the request element, raising :class:`SoapFault` as Workday would."""
        if request.tag != _q("Get_Workers_Request"):
            name = request.tag.rpartition("}")[2]
            raise SoapFault(
                faults.soap_fault("SOAP-ENV:Client", f"The operation {name} is not supported")
            )
        criteria = request.find(_q("Request_Criteria"))
        filters = request.find(_q("Response_Filter"))
        windows, exclude = (), True
        if criteria is not None:
            windows = tuple(
                _window(block) for block in criteria.iter(_q("Transaction_Log_Criteria_Data"))
            )
            exclude = _flag(criteria, "Exclude_Inactive_Workers", True)
        page, count, as_of = 1, 100, None
        if filters is not None:
            page = _integer(filters, "Page", 1)
            count = _integer(filters, "Count", 100)
            as_of = _moment(filters.findtext(_q("As_Of_Entry_DateTime")), "As_Of_Entry_DateTime")
        filter_xpath = f"{_REQUEST_XPATH}/bsvc:Response_Filter[1]"
        if page == 0:
            raise _validation("Page Number cannot be zero.", f"{filter_xpath}/bsvc:Page[1]")
        if page < 0:
            raise _validation("Page Number must be positive.", f"{filter_xpath}/bsvc:Page[1]")
        if not 1 <= count <= 999:
            raise _validation(
                f"Count must be between 1 and 999; {count} was given.",
                f"{filter_xpath}/bsvc:Count[1]",
            )
        return cls(
            page=page,
            count=count,
            as_of=as_of,
            exclude_inactive=exclude,
            windows=windows,
            references=_references(request),
            sections=_sections(request.find(_q("Response_Group"))),
        )


def _integer(parent: Element, name: str, default: int) -> int:
    text = parent.findtext(_q(name))
    if text is None or not text.strip():
        return default
    try:
        return int(text.strip())
    except ValueError:
        raise _validation(f"'{text.strip()}' is not a valid value for {name}.") from None


def _flag(parent: Element, name: str, default: bool) -> bool:
    text = parent.findtext(_q(name))
    if text is None or not text.strip():
        return default
    value = text.strip().lower()
    if value not in ("true", "false", "1", "0"):
        raise _validation(f"'{text.strip()}' is not a valid boolean for {name}.")
    return value in ("true", "1")


def _moment(text: str | None, name: str) -> datetime | None:
    if text is None or not text.strip():
        return None
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise _validation(f"'{text.strip()}' is not a valid dateTime for {name}.") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _day(text: str | None, name: str) -> date | None:
    """A date from an xs:date (``2025-01-08``, ``2025-01-08-08:00``) or an xs:dateTime."""
    if text is None or not text.strip():
        return None
    value = text.strip()
    if "T" in value:
        moment = _moment(value, name)
        return moment.date() if moment else None
    try:
        return date.fromisoformat(value[:10])
    except ValueError:
        raise _validation(f"'{value}' is not a valid date for {name}.") from None


def _window(block: Element) -> Window:
    dates = block.find(_q("Transaction_Date_Range_Data"))
    if dates is None:
        return Window()
    return Window(
        updated_from=_moment(dates.findtext(_q("Updated_From")), "Updated_From"),
        updated_through=_moment(dates.findtext(_q("Updated_Through")), "Updated_Through"),
        effective_from=_day(dates.findtext(_q("Effective_From")), "Effective_From"),
        effective_through=_day(dates.findtext(_q("Effective_Through")), "Effective_Through"),
    )


def _references(request: Element) -> tuple[tuple[str, str], ...]:
    found = []
    references = request.find(_q("Request_References"))
    for reference in () if references is None else references.iter(_q("Worker_Reference")):
        for id_ in reference.iter(_q("ID")):
            found.append((id_.get(_q("type")) or id_.get("type") or "", (id_.text or "").strip()))
    return tuple(found)


def _sections(group: Element | None) -> frozenset[str]:
    """Which parts of a worker to send. No Response_Group means Workday's default set; once
    one is given, a flag left out counts as false (except the reference, always sent)."""
    if group is None:
        return frozenset(SECTIONS)
    chosen = {"reference"}
    for flag, section in _GROUP_FLAGS.items():
        if _flag(group, flag, section == "reference"):
            chosen.add(section)
    return frozenset(chosen)


def select_workers(view: TenantView, query: GetWorkers) -> list[Record]:
    """The workers (as of the query's entry moment) the request matches, in Employee ID order."""

    def select() -> list[Record]:
        candidates = view.workers
        if query.references:
            candidates = _referenced(view, query.references)
        chosen = []
        for worker in candidates:
            if query.windows and not _logged(view, worker["workday_id"], query):
                continue
            version = view.tenant.worker_as_of(worker, query.as_of) if query.as_of else worker
            if query.exclude_inactive and not version["active"]:
                continue
            chosen.append(version)
        return chosen

    key = (query.as_of, query.exclude_inactive, query.windows, query.references)
    return view.selection(key, select)


def _logged(view: TenantView, workday_id: str, query: GetWorkers) -> bool:
    for change in view.changes.get(workday_id, ()):
        if query.as_of is not None and change.entered_at > query.as_of:
            continue
        if any(window.matches(change) for window in query.windows):
            return True
    return False


def _referenced(view: TenantView, references: tuple[tuple[str, str], ...]) -> list[Record]:
    found: dict[str, Record] = {}
    for id_type, value in references:
        if id_type == "WID":
            worker = view.by_wid.get(value)
        elif id_type in ("Employee_ID", "Contingent_Worker_ID"):
            worker = view.by_employee_id.get(value)
        else:
            worker = None
        if worker is None:
            raise _validation(
                f"Invalid ID value. '{value}' is not a valid ID value for type = '{id_type}'"
            )
        found[worker["workday_id"]] = worker
    return sorted(found.values(), key=lambda w: w["employee_id"])
