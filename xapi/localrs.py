"""A local Learning Record Store for trials and tests: Ralph on its file-system backend.

Not a production LRS: it keeps statements in one JSON-lines file, does not check the xAPI
version header, does not hide voided statements and has no About resource. It runs as
``uvicorn xapi.ralph_app:app`` on 127.0.0.1 (never ``ralph runserver``, which auto-reloads), with
its credentials, statements and history file in one directory of its own.
"""

from __future__ import annotations

import importlib
import json
import os
import secrets
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

import httpx

from mentorbridge.plugin.errors import FatalError

__all__ = ["LocalLRS", "LocalLRSError", "free_port"]

USERNAME = "mentorbridge"


class LocalLRSError(FatalError):
    """The local LRS could not be prepared or did not start."""


def _require_lrs_extra() -> ModuleType:
    """bcrypt, which comes with Ralph in the ``lrs`` extra; say so plainly if it is missing."""
    try:
        importlib.import_module("ralph")
        return importlib.import_module("bcrypt")
    except ImportError as err:
        raise LocalLRSError(
            "the local LRS needs the `lrs` extra: pip install 'mentorbridge[lrs]'"
        ) from err


def _port_is_free(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) != 0


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class LocalLRS:
    """One local LRS: a directory of its own, a port, a process.

    Args:
        directory: where its credentials, statements and history live.
        port: TCP port on 127.0.0.1 (a free one by default).
    """

    directory: Path
    port: int = 0
    _process: subprocess.Popen[bytes] | None = None

    def __post_init__(self) -> None:
        self.directory = Path(self.directory)
        if not self.port:
            self.port = free_port()

    @property
    def endpoint(self) -> str:
        """The xAPI endpoint, for ``lrs.endpoint``."""
        return f"http://127.0.0.1:{self.port}/xAPI/"

    @property
    def username(self) -> str:
        """The user Mentorbridge authenticates as (``lrs.username``)."""
        return USERNAME

    @property
    def password_file(self) -> Path:
        """The file holding the password (for ``lrs.password_file``)."""
        return self.directory / "password"

    @property
    def history_file(self) -> Path:
        """Ralph's request history, one per run."""
        return self.directory / "history.json"

    @property
    def statements_file(self) -> Path:
        """Where Ralph keeps the statements (JSON lines)."""
        return self.directory / "fs_lrs.jsonl"

    def prepare(self) -> None:
        """Create the directory, a password (kept if there is one), Ralph's auth file and a
        fresh history file (Ralph rewrites it whole on every write, so it must not grow
        from run to run). Statements are kept."""
        self.directory.mkdir(parents=True, exist_ok=True)
        self.history_file.unlink(missing_ok=True)
        if not self.password_file.exists():
            self.password_file.touch(mode=0o600)
            self.password_file.write_text(secrets.token_urlsafe(24), "utf-8")
        bcrypt = _require_lrs_extra()
        password = self.password_file.read_text("utf-8").strip().encode()
        entry = {
            "agent": {
                "objectType": "Agent",
                "account": {"homePage": "http://127.0.0.1", "name": USERNAME},
            },
            "scopes": ["all"],
            "hash": bcrypt.hashpw(password, bcrypt.gensalt(rounds=4)).decode(),
            "username": USERNAME,
        }
        (self.directory / "auth.json").write_text(json.dumps([entry]), "utf-8")

    def environment(self) -> dict[str, str]:
        """The ``RALPH_*`` variables that point Ralph at this directory."""
        return {
            "RALPH_APP_DIR": str(self.directory),
            "RALPH_AUTH_FILE": str(self.directory / "auth.json"),
            "RALPH_RUNSERVER_BACKEND": "fs",
            "RALPH_BACKENDS__LRS__FS__DEFAULT_DIRECTORY_PATH": str(self.directory),
            "RALPH_HISTORY_FILE": str(self.history_file),
        }

    def start(self, *, timeout: float = 30.0) -> None:
        """Start the server in a child process and wait until it answers."""
        if not _port_is_free(self.port):
            raise LocalLRSError(
                f"port {self.port} on 127.0.0.1 is already in use; choose another (--port)"
            )
        self.prepare()
        log = (self.directory / "server.log").open("ab")
        self._process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "uvicorn",
                "mentorbridge.xapi.ralph_app:app",
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--log-level",
                "warning",
                "--no-access-log",
            ],
            env={**os.environ, **self.environment()},
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise LocalLRSError(
                    f"the local LRS exited with status {self._process.returncode}; see "
                    f"{self.directory / 'server.log'}"
                )
            try:
                if httpx.get(f"http://127.0.0.1:{self.port}/__heartbeat__", timeout=1).is_success:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        self.stop()
        raise LocalLRSError(f"the local LRS did not answer within {timeout:g}s")

    def stop(self) -> None:
        """Stop the server (SIGTERM, then SIGKILL after 5 s)."""
        if self._process is None:
            return
        self._process.terminate()
        try:
            self._process.wait(5)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        self._process = None

    def kill(self) -> None:
        """Kill the server at once, as a crash would."""
        if self._process is not None:
            self._process.kill()
            self._process.wait()
            self._process = None

    def wait(self) -> int:
        """Block until the server exits; its exit status."""
        assert self._process is not None
        return self._process.wait()

    def __enter__(self) -> LocalLRS:
        self.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop()
