"""Every error leaves the app as JSON (or a small HTML page for a browser), by one handler.

``{"error": <code>, "message": <what happened and what to do>}``, plus ``problems`` (one per
failing field) for invalid events and ``request_id`` always, so a report can be matched to
the log line.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, Response, g, jsonify, render_template, request
from sqlalchemy.exc import InterfaceError, OperationalError
from werkzeug.exceptions import HTTPException

from mentorbridge.plugin.errors import (
    ConflictError,
    RetriableError,
    StoreNotMigratedError,
    UnknownReferenceError,
    ValidationError,
)
from mentorbridge.plugin.store.connect import is_store_failure

__all__ = ["ApiError", "error_response", "init_app"]

log = logging.getLogger("mentorbridge.web")


class ApiError(Exception):
    """An answer other than success, raised from a view.

    Args:
        status: the HTTP status.
        code: a stable, machine-readable name (``invalid_signature``).
        message: what happened and what to do about it.
        headers: extra response headers (``WWW-Authenticate``).
        extra: more keys of the body (the ``parameter`` at fault, the formats ``available``).
    """

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        headers: dict[str, str] | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message
        self.headers = headers or {}
        self.extra = extra or {}


def error_response(
    status: int, code: str, message: str, *, headers: dict[str, str] | None = None, **extra: Any
) -> Response:
    """The error answer, HTML when a browser asked for a page, JSON otherwise."""
    body = {"error": code, "message": message, **extra, "request_id": g.get("request_id")}
    if _wants_html():
        response = Response(render_template("error.html", status=status, **body), status)
    else:
        response = jsonify(body)
        response.status_code = status
    response.headers.update(headers or {})
    return response


def init_app(app: Flask) -> None:
    """Register the one error handler."""
    app.register_error_handler(Exception, _handle)


def _handle(err: Exception) -> Response:
    match err:
        case ApiError():
            return error_response(
                err.status, err.code, err.message, headers=err.headers, **err.extra
            )
        case ValidationError():
            return error_response(
                400,
                "invalid_event",
                f"{err.subject} is invalid: fix the fields listed in problems",
                problems=[{"path": path, "message": message} for path, message in err.problems],
            )
        case UnknownReferenceError():
            return error_response(422, "unknown_reference", str(err))
        case ConflictError():
            return error_response(409, "conflict", str(err))
        case RetriableError() | StoreNotMigratedError():
            log.warning("answered 503: %s", type(err).__name__)
            return error_response(
                503, "unavailable", f"{err}; try again shortly", headers={"Retry-After": "1"}
            )
        case OperationalError() | InterfaceError() if is_store_failure(err):
            # A lost connection, or store.statement_timeout_seconds / lock_timeout_seconds
            # cancelling a statement: its transaction was rolled back.
            log.warning("answered 503: the store failed (%s)", type(err.orig).__name__)
            return error_response(
                503,
                "unavailable",
                "the store is unavailable or busy and nothing was changed; try again shortly",
                headers={"Retry-After": "1"},
            )
        case HTTPException():
            code = (err.name or "error").lower().replace(" ", "_")
            # Werkzeug's own headers, such as the Allow of a 405; the body is ours.
            extra = {k: v for k, v in err.get_headers() if k.lower() != "content-type"}
            return error_response(err.code or 500, code, err.description or err.name, headers=extra)
    log.error("unhandled error answering %s %s", request.method, _route(), exc_info=err)
    return error_response(
        500,
        "internal_error",
        "something went wrong on our side and nothing was changed; try again, "
        "and if it keeps failing give an admin the request id",
    )


def _wants_html() -> bool:
    best = request.accept_mimetypes.best_match(["application/json", "text/html"])
    return best == "text/html" and request.method == "GET"


def _route() -> str:
    return request.url_rule.rule if request.url_rule else "(no route)"
