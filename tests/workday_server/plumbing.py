"""HTTP plumbing for the test server: a threading HTTP/1.1 server that can close every
connection on shutdown (so stopping leaks no sockets or threads) and reset one on purpose.
"""

from __future__ import annotations

import contextlib
import socket
import struct
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Protocol
from urllib.parse import parse_qsl, urlsplit

__all__ = [
    "App",
    "Incoming",
    "RecordedRequest",
    "Reply",
    "Rule",
    "Script",
    "Server",
    "form_fields",
]

JSON = "application/json;charset=UTF-8"


@dataclass(frozen=True)
class Reply:
    """An answer to send: status, body, content type and extra headers."""

    status: int
    body: bytes = b""
    content_type: str = JSON
    headers: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Incoming:
    """A request as the routes see it."""

    method: str
    target: str  # path and query as sent
    path: str
    query: dict[str, str]
    headers: Any  # http.client.HTTPMessage
    body: bytes

    @classmethod
    def read(cls, handler: BaseHTTPRequestHandler) -> Incoming:
        """The request the handler has just parsed, its body read (so keep-alive goes on)."""
        length = int(handler.headers.get("Content-Length") or 0)
        split = urlsplit(handler.path)
        return cls(
            method=handler.command,
            target=handler.path,
            path=split.path,
            query=dict(parse_qsl(split.query, keep_blank_values=True)),
            headers=handler.headers,
            body=handler.rfile.read(length) if length > 0 else b"",
        )


def form_fields(body: bytes) -> dict[str, str]:
    """An ``application/x-www-form-urlencoded`` body as a dict (last value wins)."""
    return dict(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))


@dataclass(frozen=True)
class RecordedRequest:
    """What the server remembers of a request: never a secret, only whether auth was sent.

    ``status`` is None when the connection was dropped instead of answered.
    """

    method: str
    path: str
    query: dict[str, str]
    auth_present: bool
    status: int | None
    grant_type: str | None = None


@dataclass
class Rule:
    """A scripted misbehaviour for the next ``times`` requests whose target contains a text."""

    path_contains: str
    times: int
    reply: Reply | None = None
    drop_connection: bool = False
    delay: float = 0.0


class Script:
    """Scripted misbehaviours, used up in the order they were added (thread-safe)."""

    def __init__(self) -> None:
        self._rules: list[Rule] = []
        self._lock = threading.Lock()

    def add(self, rule: Rule) -> None:
        """Queue a rule after the ones already there."""
        with self._lock:
            self._rules.append(rule)

    def take(self, target: str) -> Rule | None:
        """The first rule matching the request target, counted as used once."""
        with self._lock:
            for rule in self._rules:
                if rule.path_contains in target:
                    rule.times -= 1
                    if rule.times <= 0:
                        self._rules.remove(rule)
                    return rule
        return None


class App(Protocol):
    """What the HTTP server hands each request to."""

    def handle(self, handler: Handler) -> None: ...


class Handler(BaseHTTPRequestHandler):
    """Passes every request, whatever its method, to the server's app."""

    protocol_version = "HTTP/1.1"  # keep-alive; every reply carries a Content-Length
    disable_nagle_algorithm = True  # headers and body go out in two writes: don't wait 40 ms
    server_version = "Workday-test"
    sys_version = ""
    server: Server

    def log_message(self, *args: Any) -> None:
        pass  # keep test output quiet

    def dispatch(self) -> None:
        """Hand the request to the app, whatever its method."""
        self.server.app.handle(self)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = dispatch

    def send(self, reply: Reply) -> None:
        """Write the reply; a client that has gone away only ends the connection."""
        try:
            self.send_response(reply.status)
            self.send_header("Content-Type", reply.content_type)
            self.send_header("Content-Length", str(len(reply.body)))
            for name, value in reply.headers:
                self.send_header(name, value)
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(reply.body)
        except OSError:
            self.close_connection = True


class Server(ThreadingHTTPServer):
    """A threading HTTP server that tracks its connections.

    Handler threads are joined on :meth:`server_close`; :meth:`close_connections` first ends
    idle keep-alive connections so those threads finish.
    """

    daemon_threads = False
    block_on_close = True

    def __init__(self, address: tuple[str, int], app: App) -> None:
        self.app = app
        self._open: set[socket.socket] = set()
        self._reset: set[socket.socket] = set()
        self._connections = threading.Lock()
        super().__init__(address, Handler)

    def get_request(self) -> tuple[socket.socket, Any]:
        sock, address = super().get_request()
        with self._connections:
            self._open.add(sock)
        return sock, address

    def reset_on_close(self, sock: socket.socket) -> None:
        """Close this connection with a TCP reset instead of answering."""
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        with self._connections:
            self._reset.add(sock)

    def shutdown_request(self, request: Any) -> None:
        with self._connections:
            self._open.discard(request)
            reset = request in self._reset
            self._reset.discard(request)
        if reset:
            request.close()  # SO_LINGER 0: the peer sees a reset, not a clean end
        else:
            super().shutdown_request(request)

    def close_connections(self) -> None:
        """End every open connection (their handler threads then return)."""
        with self._connections:
            open_sockets = list(self._open)
        for sock in open_sockets:
            with contextlib.suppress(OSError):  # already closed by the client
                sock.shutdown(socket.SHUT_RDWR)
