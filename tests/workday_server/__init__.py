"""A Workday-shaped test server (OAuth, REST, custom reports, SOAP) serving a sample tenant."""

from __future__ import annotations

from tests.workday_server.faults import (
    SOAP_CONTENT_TYPE,
    authentication_fault,
    maintenance_page,
    processing_fault,
    soap_fault,
    validation_fault,
)
from tests.workday_server.plumbing import RecordedRequest
from tests.workday_server.server import DEFAULT_REPORTS, WorkdayServer

__all__ = [
    "DEFAULT_REPORTS",
    "SOAP_CONTENT_TYPE",
    "RecordedRequest",
    "WorkdayServer",
    "authentication_fault",
    "maintenance_page",
    "processing_fault",
    "soap_fault",
    "validation_fault",
]
