"""``POST /webhooks/v1/events``: one signed event per request.

The checks run cheapest and safest first: size (413) before reading, the signature (401) on
the raw bytes before anything parses them, then the content type (415), then the event
itself (400, every failing field at once). Only then is it recorded (202), recognised as a
redelivery (200), or refused for what it says (409, 422).
"""

from __future__ import annotations

from flask import Blueprint, Response, g, jsonify, request

from mentorbridge.plugin.web import metrics
from mentorbridge.plugin.web.errors import ApiError
from mentorbridge.plugin.web.services import services
from mentorbridge.plugin.webhooks.events import parse_event
from mentorbridge.plugin.webhooks.signing import HEADER, SignatureError, verify

__all__ = ["bp"]

bp = Blueprint("webhooks", __name__)

#: What each refusal counts as in ``mentorbridge_webhook_events_total``.
_OUTCOMES = {
    400: "invalid",
    401: "unauthorized",
    409: "conflict",
    413: "too_large",
    415: "unsupported_media_type",
    422: "unknown_reference",
    503: "retry_later",
}


@bp.post("/webhooks/v1/events")
def receive_event() -> tuple[Response, int]:
    app = services()
    web = app.config["web"]
    body = _body(web["max_body_bytes"])
    secrets = app.signing_secrets.active()
    if not secrets:
        raise ApiError(
            401,
            "invalid_signature",
            "no signing secret is set up on this service: an admin adds one with "
            "`mentorbridge webhook secret add` and gives it to the sender",
        )
    try:
        verify(
            request.headers.get(HEADER),
            body,
            secrets,
            now=app.now(),
            tolerance=web["signature_tolerance_seconds"],
        )
    except SignatureError as err:
        raise ApiError(401, "invalid_signature", str(err)) from None
    if request.mimetype != "application/json":
        raise ApiError(
            415,
            "unsupported_media_type",
            f"events are JSON: send Content-Type: application/json, not "
            f"{request.mimetype or 'nothing'}",
        )
    event = parse_event(body)
    g.event_type = event.type
    g.log_fields.update(event_type=event.type, event_id=event.id)
    accepted = app.processor.process(event)
    outcome = "redelivery" if accepted.redelivery else accepted.result["status"]
    g.log_fields["outcome"] = outcome
    metrics.observe_event(event.type, outcome)
    return jsonify({**accepted.result, "redelivery": accepted.redelivery}), (
        200 if accepted.redelivery else 202
    )


@bp.after_request
def _count_refusals(response: Response) -> Response:
    outcome = _OUTCOMES.get(response.status_code)
    if outcome is None and response.status_code >= 500:
        outcome = "error"
    if outcome is not None:
        metrics.observe_event(g.get("event_type", "unknown"), outcome)
        g.log_fields["outcome"] = outcome
    return response


def _body(limit: int) -> bytes:
    """The raw body, refusing (413) one over ``limit`` before or while reading it."""
    too_large = ApiError(
        413,
        "too_large",
        f"the body is over {limit} bytes: send one event per request (an admin can raise "
        "web.max_body_bytes)",
    )
    if request.content_length is not None and request.content_length > limit:
        raise too_large
    body = request.stream.read(limit + 1)
    if len(body) > limit:
        raise too_large
    return body
