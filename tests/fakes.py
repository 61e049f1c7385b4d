"""Fakes behind narrow interfaces: a clock, and a scripted LRS on ``httpx.MockTransport``."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx

from mentorbridge.xapi.lrs import LRSClient

#: The tests' "now": every recorded event lies before it.
NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


@dataclass
class FakeClock:
    """A clock that only moves when something sleeps (or a test advances it)."""

    current: datetime = NOW
    sleeps: list[float] = field(default_factory=list)

    def now(self) -> datetime:
        return self.current

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.current += timedelta(seconds=seconds)

    def advance(self, seconds: float) -> None:
        self.current += timedelta(seconds=seconds)


Handler = Callable[[httpx.Request, list[dict[str, Any]]], httpx.Response]


@dataclass
class ScriptedLRS:
    """An LRS fake: answers POSTs from a script (then with ``default``) and records them.

    Each script entry is a status code or a function ``(request, statements) -> Response``.
    """

    script: list[int | Handler] = field(default_factory=list)
    default: int | Handler = 200
    posts: list[list[dict[str, Any]]] = field(default_factory=list)
    statuses: list[int] = field(default_factory=list)
    requests: list[httpx.Request] = field(default_factory=list)

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        statements = json.loads(request.content) if request.content else []
        self.posts.append(statements)
        step = self.script.pop(0) if self.script else self.default
        if callable(step):
            response = step(request, statements)
        else:
            body = [s["id"] for s in statements] if step == 200 else {"detail": f"scripted {step}"}
            response = httpx.Response(step, json=body)
        self.statuses.append(response.status_code)
        return response

    def client(self, endpoint: str = "https://lrs.example.com/xapi/") -> LRSClient:
        return LRSClient(
            endpoint, transport=httpx.MockTransport(self.handle), connect_timeout=1, read_timeout=1
        )

    def accepted_ids(self) -> list[str]:
        """Ids of every statement in a POST that was answered 200 or 204."""
        return [
            s["id"]
            for post, status in zip(self.posts, self.statuses, strict=True)
            if status in (200, 204)
            for s in post
        ]


def ids(statements: Iterable[dict[str, Any]]) -> list[str]:
    """The ids of a list of statements."""
    return [s["id"] for s in statements]


class RecordingLRS:
    """A real HTTP server on 127.0.0.1 that records every statement POSTed to it.

    It answers 200 itself, or forwards to ``upstream`` (a real LRS) after ``delay`` seconds, so
    a test can catch a flusher in the middle of a request.
    """

    def __init__(self, *, upstream: str | None = None, delay: float = 0.0) -> None:
        self.upstream, self.delay = upstream, delay
        self.received: list[list[str]] = []
        self.in_flight = 0
        self.max_in_flight = 0
        self.request_started = threading.Event()
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/xAPI/"

    def received_ids(self) -> list[str]:
        return [i for batch in self.received for i in batch]

    def __enter__(self) -> RecordingLRS:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        recorder = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:  # keep test output quiet
                pass

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                with recorder._lock:
                    recorder.in_flight += 1
                    recorder.max_in_flight = max(recorder.max_in_flight, recorder.in_flight)
                recorder.request_started.set()
                try:
                    time.sleep(recorder.delay)
                    status, answer = recorder._answer(self, body)
                    with recorder._lock:
                        recorder.received.append([s["id"] for s in json.loads(body)])
                finally:
                    with recorder._lock:
                        recorder.in_flight -= 1
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(answer)))
                    self.end_headers()
                    self.wfile.write(answer)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the flusher died while we were answering: that is the point

        return Handler

    def _answer(self, request: BaseHTTPRequestHandler, body: bytes) -> tuple[int, bytes]:
        if self.upstream is None:
            return 200, json.dumps([s["id"] for s in json.loads(body)]).encode()
        forwarded = httpx.post(
            self.upstream + "statements",
            content=body,
            timeout=30,
            headers={
                k: v
                for k, v in request.headers.items()
                if k.lower() in ("authorization", "content-type", "x-experience-api-version")
            },
        )
        return forwarded.status_code, forwarded.content
