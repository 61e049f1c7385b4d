"""Error bodies as Workday sends them: SOAP faults in both layouts, and the maintenance page.

Workday answers every SOAP fault with HTTP 500, so a client has to read the body to tell a
validation error (do not retry) from a processing fault or an outage (back off and retry).
Tests inject these bodies with :meth:`WorkdayServer.fail_next`.
"""

from __future__ import annotations

from xml.sax.saxutils import escape

__all__ = [
    "SOAP_CONTENT_TYPE",
    "authentication_fault",
    "maintenance_page",
    "processing_fault",
    "soap_fault",
    "validation_fault",
]

SOAP_CONTENT_TYPE = "text/xml; charset=utf-8"
SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
BSVC = "urn:com.workday/bsvc"


def soap_fault(faultcode: str, faultstring: str, detail: str = "") -> bytes:
    """A SOAP 1.1 envelope holding one Fault; ``detail`` is inserted as XML, unescaped."""
    detail_xml = f"<detail>{detail}</detail>" if detail else ""
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        f'<SOAP-ENV:Envelope xmlns:SOAP-ENV="{SOAP_ENV}"><SOAP-ENV:Body>'
        f'<SOAP-ENV:Fault xmlns:wd="{BSVC}">'
        f"<faultcode>{escape(faultcode)}</faultcode>"
        f"<faultstring>{escape(faultstring)}</faultstring>{detail_xml}"
        "</SOAP-ENV:Fault></SOAP-ENV:Body></SOAP-ENV:Envelope>"
    ).encode()


def validation_fault(
    message: str, *, detail_message: str = "", xpath: str = "", with_error_wrapper: bool = True
) -> bytes:
    """A ``Client.validationError`` fault.

    With the wrapper: ``Validation_Fault/Validation_Error/{Message, Detail_Message, Xpath}``
    (what Get_Workers sends); without: ``Validation_Fault/Detail_Message`` only (the other
    layout seen in the wild).
    """
    if with_error_wrapper:
        detail = (
            "<wd:Validation_Fault><wd:Validation_Error>"
            f"<wd:Message>{escape(message)}</wd:Message>"
            f"<wd:Detail_Message>{escape(detail_message)}</wd:Detail_Message>"
            f"<wd:Xpath>{escape(xpath)}</wd:Xpath>"
            "</wd:Validation_Error></wd:Validation_Fault>"
        )
    else:
        detail = (
            "<wd:Validation_Fault>"
            f"<wd:Detail_Message>{escape(detail_message or message)}</wd:Detail_Message>"
            "</wd:Validation_Fault>"
        )
    return soap_fault(
        "SOAP-ENV:Client.validationError", f"Validation error occurred. {message}", detail
    )


def processing_fault(message: str) -> bytes:
    """A ``Server.processingError`` fault: Workday failed on its side (worth a retry)."""
    detail = (
        f"<wd:Processing_Fault><wd:Detail_Message>{escape(message)}</wd:Detail_Message>"
        "</wd:Processing_Fault>"
    )
    return soap_fault("SOAP-ENV:Server.processingError", message, detail)


def authentication_fault() -> bytes:
    """What a wrong or missing WS-Security user name or password gets."""
    return soap_fault("SOAP-ENV:Client.authenticationError", "invalid username or password")


def maintenance_page() -> bytes:
    """The HTML page Workday serves (with a 503) during its weekly maintenance window."""
    return (
        b'<!DOCTYPE html>\n<html><head><meta charset="utf-8"><title>Workday is currently '
        b"unavailable</title></head><body><h1>Workday is currently unavailable.</h1><p>Workday "
        b"is undergoing scheduled maintenance. We apologize for any inconvenience and expect "
        b"service to be restored shortly.</p></body></html>\n"
    )
