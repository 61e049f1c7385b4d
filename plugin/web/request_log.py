"""A request id on every request and on every log line written while answering it, and one
JSON log line per answer.

The line names the route's pattern (``/learners/<worker_id>/transcript``), never the path
itself, so worker ids do not reach the log. A caller may pass ``X-Request-Id`` to correlate
its own logs; otherwise one is made. The id an error answer tells the caller to quote is the
``request_id`` of every record logged meanwhile, whichever logger wrote it (the app's error
line, SQLAlchemy, a connector): a record factory reads it from a context variable, so it
reaches the JSON and the plain formatter, and test handlers, alike.
"""

from __future__ import annotations

import logging
import re
import time
import uuid
from contextvars import ContextVar
from typing import Any

from flask import Flask, Response, g, request

from mentorbridge.plugin.web import metrics

__all__ = ["current_request_id", "init_app", "install_record_factory"]

log = logging.getLogger("mentorbridge.web.access")
_SAFE_ID = re.compile(r"[A-Za-z0-9._:-]{1,64}")
_request_id: ContextVar[str | None] = ContextVar("mentorbridge_request_id", default=None)


def current_request_id() -> str | None:
    """The id of the request being answered in this context, if any."""
    return _request_id.get()


def init_app(app: Flask) -> None:
    install_record_factory()
    app.before_request(_start)
    app.after_request(_finish)
    app.teardown_request(_end)


def install_record_factory() -> None:
    """Give each log record made while a request is answered its ``request_id`` (once per
    process; the factory in place before is kept underneath)."""
    previous = logging.getLogRecordFactory()
    if getattr(previous, "adds_request_id", False):
        return

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        request_id = _request_id.get()
        if request_id is not None:
            record.request_id = request_id
        return record

    factory.adds_request_id = True
    logging.setLogRecordFactory(factory)


def _start() -> None:
    given = request.headers.get("X-Request-Id", "")
    g.request_id = given if _SAFE_ID.fullmatch(given) else uuid.uuid4().hex
    _request_id.set(g.request_id)
    g.started = time.perf_counter()
    g.log_fields = {}


def _end(_error: BaseException | None) -> None:
    _request_id.set(None)


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
        # request_id comes from the record factory, like every other line's.
        extra={
            "method": request.method,
            "route": route,
            "status": response.status_code,
            "duration_ms": round(elapsed * 1000, 2),
            **g.get("log_fields", {}),
        },
    )
    return response
