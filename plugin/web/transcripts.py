"""``GET /learners/<worker_id>/transcript``: a learner's record, as a page or as JSON.

Who may look: an admin with the bearer token (``web.admin_token``) sees anyone's; a learner
with a signed link (``mentorbridge transcript link``) sees their own. Anonymous → 401, a link
for someone else → 403. Answers are never cached and never sent on as a referrer: a link is
a credential until it expires.
"""

from __future__ import annotations

import hmac

from flask import Blueprint, Response, jsonify, render_template, request

from mentorbridge.plugin.errors import UnknownReferenceError
from mentorbridge.plugin.reports.transcript import Viewer, read_transcript
from mentorbridge.plugin.reports.transcript_links import LinkError
from mentorbridge.plugin.web.errors import ApiError
from mentorbridge.plugin.web.services import services

__all__ = ["bp"]

bp = Blueprint("transcripts", __name__)

_CHALLENGE = {"WWW-Authenticate": 'Bearer realm="mentorbridge"'}


@bp.get("/learners/<worker_id>/transcript")
def transcript(worker_id: str) -> Response:
    viewer = _viewer(worker_id)
    app = services()
    try:
        record = read_transcript(app.store, worker_id, viewer=viewer, lrs=app.transcript_lrs)
    except UnknownReferenceError:
        raise ApiError(
            404, "not_found", "there is no reverse-mentoring record for this learner yet"
        ) from None
    if _wants_json():
        response = jsonify(record.as_json())
    else:
        response = Response(render_template("transcript.html", t=record))
    response.vary.add("Accept")
    return response


def _wants_json() -> bool:
    """JSON only for a client that prefers it (``Accept: application/json``); no Accept header,
    ``*/*`` and browsers get the page an LMS embeds."""
    best = request.accept_mimetypes.best_match(["text/html", "application/json"])
    return best == "application/json"


@bp.after_request
def _private(response: Response) -> Response:
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


def _viewer(worker_id: str) -> Viewer:
    """Who is asking, or 401/403."""
    app = services()
    authorization = request.headers.get("Authorization")
    if authorization:
        scheme, _, token = authorization.partition(" ")
        if (
            scheme.lower() == "bearer"
            and app.admin_token
            and hmac.compare_digest(token.strip().encode(), app.admin_token.encode())
        ):
            return "admin"
        raise ApiError(401, "unauthorized", "the bearer token is not valid", headers=_CHALLENGE)
    args = request.args
    if not any(name in args for name in ("learner", "expires", "sig")):
        raise ApiError(
            401,
            "unauthorized",
            "sign in: use the admin token (Authorization: Bearer …) or a learner's signed "
            "link (`mentorbridge transcript link WORKER_ID`)",
            headers=_CHALLENGE,
        )
    if app.links is None:
        raise ApiError(
            401,
            "unauthorized",
            "signed links are not enabled on this service: an admin sets web.link_secret",
        )
    try:
        learner = app.links.viewer(
            args.get("learner", ""), args.get("expires", ""), args.get("sig", ""), now=app.now()
        )
    except LinkError as err:
        raise ApiError(401, "unauthorized", str(err)) from None
    if learner != worker_id:
        raise ApiError(403, "forbidden", "this link opens its own learner's transcript only")
    return "learner"
