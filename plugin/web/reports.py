"""Talent reports over HTTP: ``GET /reports/succession``, ``/reports/impact``,
``/reports/pairing`` (a programme's pairing, for its sponsor: aggregates only), the evidence
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
import tempfile
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import IO, Any, NoReturn

from flask import Blueprint, Response, jsonify, request

from mentorbridge.plugin.errors import MappingError, PairingFileError, UnknownReferenceError
from mentorbridge.plugin.mapping.explain import explain
from mentorbridge.plugin.mapping.file import load_mapping
from mentorbridge.plugin.reports.access import (
    ROLES,
    Caller,
    Role,
    TokenRefused,
    audit_log,
    authenticate,
    record,
)
from mentorbridge.plugin.reports.delivery import (
    FilterError,
    audited,
    build_report,
    parse_filters,
)
from mentorbridge.plugin.reports.formats import (
    FORMATS,
    Format,
    FormatUnavailableError,
    UnknownFormatError,
    format_for,
    format_for_media_type,
)
from mentorbridge.plugin.reports.transcript_links import LinkError
from mentorbridge.plugin.web.errors import ApiError
from mentorbridge.plugin.web.services import services

__all__ = ["authorise", "bp"]

bp = Blueprint("reports", __name__)

_CHALLENGE = {"WWW-Authenticate": 'Bearer realm="mentorbridge reports"'}
_SIGN_IN = (
    "send Authorization: Bearer <token>; an admin makes one with "
    "`mentorbridge token add --role talent --label TEXT`"
)
_AUDIT_LIMIT = 1000
#: A report is written here first, in memory up to this size and on disk beyond, so that a
#: failure is a clean error answer rather than a truncated file, then streamed out.
_SPOOL_BYTES = 8 * 1024 * 1024
_CHUNK_BYTES = 64 * 1024
#: Nothing in a downloaded report may load or run anything in the service's origin (the HTML
#: report carries its own policy for when it is opened from disk).
_DOWNLOAD_POLICY = "default-src 'none'; frame-ancestors 'none'; sandbox"


@bp.get("/reports/succession")
def succession() -> Response:
    return _report("succession")


@bp.get("/reports/impact")
def impact() -> Response:
    return _report("impact")


@bp.get("/reports/pairing")
def pairing() -> Response:
    return _report("pairing")


@bp.get("/api/evidence/<worker_id>/<competency_key>")
def evidence(worker_id: str, competency_key: str) -> Response:
    given = {"worker": worker_id, "competency": competency_key}
    caller = authorise("evidence", given)
    app = services()
    found: dict[str, Any] = {}

    def work() -> int:
        mapping = load_mapping(app.config.mapping_file)
        found.update(explain(app.store, mapping, worker_id, competency_key))
        return sum(len(side["sources"]) for side in found["sides"])

    try:
        audited(app.store, caller, "evidence", given, "json", work)
    except UnknownReferenceError as err:
        parameter = "competency_key" if err.kind == "competency" else "worker_id"
        raise ApiError(404, "not_found", str(err), extra={"parameter": parameter}) from None
    except MappingError:
        raise _mapping_invalid() from None
    return jsonify(found)


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


def _report(kind: str) -> Response:
    given = {name: value for name, value in request.args.items() if name != "format"}
    caller = authorise(kind, given)
    for name in request.args:
        if len(request.args.getlist(name)) > 1:
            _bad_input(caller, kind, given, name, f"{name} is given more than once: give it once")
    try:
        filters = parse_filters(kind, given)
    except FilterError as err:
        _bad_input(caller, kind, given, err.parameter, str(err))
    fmt = _negotiate(caller, kind, given)
    app = services()
    generated_at = datetime.now(UTC)
    spool: IO[bytes] = tempfile.SpooledTemporaryFile(max_size=_SPOOL_BYTES)  # noqa: SIM115

    def write() -> int:
        report = build_report(
            app.store,
            app.config.mapping_file,
            kind,
            filters,
            pairing_file=app.config.pairing_file,
        )
        return fmt.write(report, spool)

    try:
        rows = audited(app.store, caller, kind, filters, fmt.name, write)
    except BaseException as err:
        spool.close()
        if isinstance(err, FilterError):  # names something unknown; audited already
            raise ApiError(
                400, "invalid_parameter", str(err), extra={"parameter": err.parameter}
            ) from None
        if isinstance(err, FormatUnavailableError):
            raise ApiError(501, "format_unavailable", str(err)) from None
        if isinstance(err, MappingError):
            raise _mapping_invalid() from None
        if isinstance(err, PairingFileError):
            raise ApiError(
                500,
                "pairing_invalid",
                "the pairing file is invalid, so nothing can be computed: an admin runs "
                "`mentorbridge pairing check` and fixes what it lists",
            ) from None
        raise
    return _download(kind, fmt, spool, rows, generated_at)


def _mapping_invalid() -> ApiError:
    return ApiError(
        500,
        "mapping_invalid",
        "the competency mapping file is invalid, so nothing can be computed: an admin runs "
        "`mentorbridge mapping check` and fixes what it lists",
    )


def _negotiate(caller: Caller, kind: str, given: dict[str, Any]) -> Format:
    """The format ``?format=`` names, else the best for the Accept header; 400 or 406."""
    name = request.args.get("format")
    if name is not None:
        try:
            return format_for(name)
        except UnknownFormatError as err:
            _bad_input(caller, kind, given, "format", str(err))
    fmt = format_for_media_type(request.headers.get("Accept", ""))
    if fmt is None:
        available = [{"format": f.name, "media_type": f.media_type} for f in FORMATS.values()]
        message = (
            "no report format fits the Accept header: accept one of "
            f"{', '.join(f.media_type for f in FORMATS.values())}, or name it with ?format="
        )
        record(
            services().store,
            caller,
            kind,
            filters=given,
            outcome="error",
            detail=f"406 not_acceptable: {message}",
        )
        raise ApiError(406, "not_acceptable", message, extra={"available": available})
    return fmt


def _download(
    kind: str, fmt: Format, spool: IO[bytes], rows: int, generated_at: datetime
) -> Response:
    size = spool.tell()
    spool.seek(0)
    response = Response(_chunks(spool), content_type=fmt.content_type, direct_passthrough=True)
    response.content_length = size
    filename = f"{kind}-{generated_at:%Y%m%d-%H%M%S}.{fmt.extension}"
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.headers["Content-Security-Policy"] = _DOWNLOAD_POLICY
    response.headers["X-Report-Rows"] = str(rows)
    response.vary.add("Accept")
    return response


def _chunks(spool: IO[bytes]) -> Iterator[bytes]:
    """The spooled report in chunks; the spool is closed when the server is done with it (the
    whole body sent, or the client gone)."""
    try:
        while chunk := spool.read(_CHUNK_BYTES):
            yield chunk
    finally:
        spool.close()


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
