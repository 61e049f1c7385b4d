"""Posting the demo's programme to the webhook service over HTTP, signed, and noting how the
service answered each delivery."""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from threading import Thread

from flask import Flask
from werkzeug.serving import WSGIRequestHandler, make_server

from mentorbridge.plugin.demo.sample import SampleProgramme
from mentorbridge.plugin.webhooks.sender import EventSender, Sent, encode_event
from mentorbridge.plugin.webhooks.signing import signature_header

__all__ = ["Handled", "Progress", "post_programme", "serving"]


@dataclass
class Handled:
    """How the service answered: per event type, and for each special delivery."""

    by_type: Counter[str] = field(default_factory=Counter)
    statements: int = 0
    special: list[tuple[str, Sent]] = field(default_factory=list)


#: The app's line per request: the demo shows a counter instead of ~580 of them.
_ACCESS_LOG = "mentorbridge.web.access"


@contextmanager
def serving(app: Flask) -> Iterator[str]:
    """Serve ``app`` on 127.0.0.1 (a free port) from a thread; yields its base URL.

    Requests are not logged one by one while it serves (warnings and errors still are)."""
    with serving_on(app, 0) as url:
        yield url


@contextmanager
def serving_on(app: Flask, port: int) -> Iterator[str]:
    """:func:`serving` on a given port (0: a free one)."""
    server = make_server("127.0.0.1", port, app, threaded=True, request_handler=_QuietHandler)
    thread = Thread(target=server.serve_forever, name="demo-web", daemon=True)
    access = logging.getLogger(_ACCESS_LOG)
    level = access.level
    access.setLevel(max(logging.WARNING, level))
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join()
        server.server_close()
        access.setLevel(level)


class _QuietHandler(WSGIRequestHandler):
    """The app logs each request itself (JSON, with its request id); no second line."""

    def log_request(self, *_args: object) -> None:
        pass


#: Told how many deliveries are done, of how many.
Progress = Callable[[int, int], None]


def post_programme(
    sender: EventSender, programme: SampleProgramme, *, progress: Progress | None = None
) -> Handled:
    """Post every event, then the three special deliveries; any other answer than the one
    expected stops the demo with the service's own words. ``progress`` hears of each."""
    handled = Handled()
    total = len(programme.events) + 3
    tell = progress or (lambda _done, _total: None)
    for done, event in enumerate(programme.events, 1):
        sent = _expect(sender.send(event), 202, event["id"])
        handled.by_type[event["type"]] += 1
        handled.statements += len(sent.body["statement_ids"])
        tell(done, total)

    duplicate = programme.duplicate
    handled.special.append(
        (
            f"{duplicate['type']} {duplicate['id']} delivered a second time",
            _expect(sender.send(duplicate), 200, duplicate["id"]),
        )
    )
    signed, altered = programme.tampered
    signature = signature_header(encode_event(signed), sender.secrets, int(sender.clock()))
    handled.special.append(
        (
            f"{signed['type']} {signed['id']} altered after signing (rating raised)",
            _expect(sender.post(encode_event(altered), signature=signature), 401, signed["id"]),
        )
    )
    unknown = programme.unknown_worker
    handled.special.append(
        (
            f"{unknown['type']} {unknown['id']} naming a worker the HRIS does not know",
            _expect(sender.send(unknown), 422, unknown["id"]),
        )
    )
    tell(total, total)
    return handled


def _expect(sent: Sent, status: int, event_id: str) -> Sent:
    if sent.status != status:
        raise RuntimeError(
            f"event {event_id}: the service answered {sent.status} where {status} was "
            f"expected: {sent.body}"
        )
    return sent
