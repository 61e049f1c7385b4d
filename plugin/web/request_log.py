"""A request id on every request and one JSON log line per answer.

The line names the route's pattern (``/learners/<worker_id>/transcript``), never the path
itself, so worker ids do not reach the log. A caller may pass ``X-Request-Id`` to correlate
its own logs; otherwise one is made.
"""

from __future__ import annotations

import logging
import re
import time
import uuid

from flask import Flask, Response, g, request

from mentorbridge.plugin.web import metrics

__all__ = ["init_app"]

log = logging.getLogger("mentorbridge.web.access")
_SAFE_ID = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")


def init_app(app: Flask) -> None:
    app.before_request(_start)
    app.after_request(_finish)


def _start() -> None:
    given = request.headers.get("X-Request-Id", "")
    g.request_id = given if _SAFE_ID.match(given) else uuid.uuid4().hex
    g.started = time.perf_counter()
    g.log_fields = {}


def _finish(response: Response) -> Response:
    elapsed = time.perf_counter() - g.get("started", time.perf_counter())
    route = request.url_rule.rule if request.url_rule else "(no route)"
    response.headers["X-Request-Id"] = g.get("request_id", "")
    metrics.observe_request(route, request.method, response.status_code, elapsed)
    log.info(
        "%s %s %d",
        request.method,
        route,
        response.status_code,
        extra={
            "request_id": g.get("request_id"),
            "method": request.method,
            "route": route,
            "status": response.status_code,
            "duration_ms": round(elapsed * 1000, 2),
            **g.get("log_fields", {}),
        },
    )
    return response
