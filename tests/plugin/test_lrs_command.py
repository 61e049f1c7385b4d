"""`mentorbridge lrs`: a local trial LRS that says what it is and how to use it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from mentorbridge.xapi.localrs import free_port


def test_lrs_command_serves_statements_and_stops_on_ctrl_c(tmp_path: Path) -> None:
    port = free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "mentorbridge.plugin.cli",
            "lrs",
            "--port",
            str(port),
            "--dir",
            str(tmp_path / "lrs"),
        ],
        env={**os.environ, "XDG_CONFIG_HOME": str(tmp_path)},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        banner = process.stdout.readline().decode()
        assert banner.startswith(
            f"Local trial LRS (Ralph, file-system backend) on http://127.0.0.1:{port}/xAPI/"
        )
        password = (tmp_path / "lrs" / "password").read_text().strip()
        answer = httpx.get(
            f"http://127.0.0.1:{port}/xAPI/statements",
            auth=("mentorbridge", password),
            headers={"X-Experience-API-Version": "1.0.3"},
            timeout=5,
        )
        assert answer.status_code == 200 and answer.json() == {"statements": []}
        assert httpx.get(f"http://127.0.0.1:{port}/xAPI/statements", timeout=5).status_code == 401
    finally:
        os.killpg(process.pid, signal.SIGINT)  # Ctrl-C reaches the whole process group
        process.wait(timeout=30)
        rest = process.stdout.read().decode()  # not communicate(): it skips what readline buffered
        process.stdout.close()
    assert "NOT a production LRS" in rest
    assert f"MENTORBRIDGE_LRS_PASSWORD_FILE={tmp_path / 'lrs' / 'password'}" in rest
    with pytest.raises(httpx.TransportError):  # stopped: nothing listens any more
        httpx.get(f"http://127.0.0.1:{port}/__heartbeat__", timeout=1)


def _children(pid: int) -> list[int]:
    return [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]


@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGHUP, signal.SIGINT])
def test_lrs_command_stopped_by_a_signal_stops_its_server_too(
    tmp_path: Path, stop: signal.Signals
) -> None:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "mentorbridge.plugin.cli", "lrs", "--port", str(port)],
        env={**os.environ, "XDG_CONFIG_HOME": str(tmp_path), "XDG_DATA_HOME": str(tmp_path)},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        # As a terminal or a service manager starts it: a shell's background job would
        # otherwise pass on an ignored SIGINT.
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    try:
        assert process.stdout.readline().decode().startswith("Local trial LRS")
        (server,) = _children(process.pid)
        process.send_signal(stop)  # to the command alone, as a service manager sends it
        assert process.wait(timeout=10) == 0
    finally:
        process.kill()
        process.wait()
        process.stdout.close()
    deadline = time.monotonic() + 5
    while Path(f"/proc/{server}").exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    if Path(f"/proc/{server}").exists():
        os.kill(server, signal.SIGKILL)  # leave no orphan behind, then fail
        pytest.fail(f"the LRS server (pid {server}) was still running 5 s after the command")
    with pytest.raises(httpx.TransportError):  # nothing listens on its port any more
        httpx.get(f"http://127.0.0.1:{port}/__heartbeat__", timeout=1)
