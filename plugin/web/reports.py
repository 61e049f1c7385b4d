"""Talent reports over HTTP: ``GET /reports/succession``, ``/reports/impact``, the evidence
behind a level (``/api/evidence/<worker_id>/<competency_key>``), and ``/reports/audit``.

Who may ask: a bearer token from ``mentorbridge token add``: ``talent`` or ``admin`` for
reports and explanations, ``admin`` alone for the audit. No token → 401; a learner's
transcript link → 403 (it opens that learner's own transcript, nothing else); an unknown or
revoked token → 401. ``web.admin_token`` opens transcripts only: it is one shared secret,
while report tokens are kept hashed, named and revocable, so the audit can say who pulled what.

Every answer, and every refusal, is an audit row. Answers are never cached.
"""

from __future__ import annotations

import hmac
from typing import Any, NoReturn

from flask import Blueprint, Response, jsonify, request

from mentorbridge.plugin.reports.access import (
    ROLES,
    Caller,
    Role,
    TokenRefused,
    audit_log,
    authenticate,
    record,
)
from mentorbridge.plugin.reports.transcript_links import LinkError
from mentorbridge.plugin.web.errors import ApiError
from mentorbridge.plugin.web.services import services

__all__ = ["bp"]

bp = Blueprint("reports", __name__)

_CHALLENGE = {"WWW-Authenticate": 'Bearer realm="mentorbridge reports"'}
_SIGN_IN = (
    "send Authorization: Bearer <token>; an admin makes one with "
    "`mentorbridge token add --role talent --label TEXT`"
)
_AUDIT_LIMIT = 1000


@bp.get("/reports/audit")
def audit() -> Response:
    limit_text = request.args.get("limit", "50")
    caller = authorise("audit", {"limit": limit_text}, roles=("admin",))
    if not limit_text.isdigit() or not 1 <= int(limit_text) <= _AUDIT_LIMIT:
        _bad_input(
            caller, "audit", {"limit": limit_text}, "limit", f"limit must be 1 to {_AUDIT_LIMIT}"
        )
    limit = int(limit_text)
    store = services().store
    entries = audit_log(store, limit=limit)
    record(
        store,
        caller,
        "audit",
        filters={"limit": limit},
        outcome="ok",
        format="json",
        row_count=len(entries),
    )
    return jsonify({"entries": [entry.as_json() for entry in entries]})


@bp.after_request
def _private(response: Response) -> Response:
    response.headers["Cache-Control"] = "no-store"
    response.vary.add("Authorization")
    return response


def authorise(report: str, filters: dict[str, Any], *, roles: tuple[Role, ...] = ROLES) -> Caller:
    """Who is asking for ``report``, let in with one of ``roles``; otherwise a 401 or 403,
    written to the audit with ``filters`` as given."""
    app = services()
    header = request.headers.get("Authorization")
    if header is not None:
        scheme, _, token = header.partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            _refuse(401, Caller("anonymous"), report, filters, f"not a bearer token: {_SIGN_IN}")
        if app.admin_token and hmac.compare_digest(token.encode(), app.admin_token.encode()):
            _refuse(
                401,
                Caller("web.admin_token"),
                report,
                filters,
                "web.admin_token opens learners' transcripts only: reports take a token from "
                "`mentorbridge token add`",
            )
        try:
            caller = authenticate(app.store, token)
        except TokenRefused as err:
            _refuse(401, err.caller, report, filters, str(err))
    elif _learner(app):
        _refuse(
            403,
            Caller("learner link"),
            report,
            filters,
            "a learner's link opens their own transcript only; reports need a talent or "
            "admin token",
        )
    else:
        _refuse(401, Caller("anonymous"), report, filters, f"sign in: {_SIGN_IN}")
    if caller.role not in roles:
        _refuse(
            403,
            caller,
            report,
            filters,
            f"this needs an {' or '.join(roles)} token, and this one is {caller.role}",
        )
    return caller


def _learner(app: Any) -> bool:
    """Whether the request carries a learner's valid transcript link."""
    args = request.args
    if app.links is None or not all(args.get(n) for n in ("learner", "expires", "sig")):
        return False
    try:
        app.links.viewer(args["learner"], args["expires"], args["sig"], now=app.now())
    except LinkError:
        return False
    return True


def _refuse(
    status: int, caller: Caller, report: str, filters: dict[str, Any], message: str
) -> NoReturn:
    code = "unauthorized" if status == 401 else "forbidden"
    record(
        services().store,
        caller,
        report,
        filters=filters,
        outcome="refused",
        detail=f"{status} {code}: {message}",
    )
    raise ApiError(status, code, message, headers=_CHALLENGE if status == 401 else None)


def _bad_input(
    caller: Caller, report: str, filters: dict[str, Any], parameter: str, message: str
) -> NoReturn:
    record(
        services().store,
        caller,
        report,
        filters=filters,
        outcome="error",
        detail=f"400 invalid_parameter: {message}",
    )
    raise ApiError(400, "invalid_parameter", message, extra={"parameter": parameter})
