"""``serve`` and ``worker`` refuse to start when the store's keys cannot be read, in one line,
before gunicorn or the scheduler start (not on the first webhook or sync that needs them)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from mentorbridge.plugin.store.keys import default_key_path


def start(command: str, store_url: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(tmp_path),
        "XDG_CONFIG_HOME": str(tmp_path / "cfg"),
        "MENTORBRIDGE_STORE_URL": store_url,
        "MENTORBRIDGE_WEB_PORT": "1",  # never reached: the key check comes first
        "MENTORBRIDGE_LRS_PASSWORD": "worker-needs-one",
    }
    return subprocess.run(
        [sys.executable, "-m", "mentorbridge.plugin.cli", command],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.mark.parametrize("command", ["serve", "worker"])
def test_services_refuse_to_start_without_readable_keys(
    command: str, store_url: str, tmp_path: Path
) -> None:
    key_file = default_key_path(store_url)
    if key_file is not None:  # SQLite: the key file next to the store was lost
        key_file.unlink()
    # PostgreSQL: no MENTORBRIDGE_SECRETS_* in the environment and no key file configured

    result = start(command, store_url, tmp_path)

    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert "secrets.key_file" in lines[0] or "key file" in lines[0]
    assert "serving on" not in result.stdout and "worker running" not in result.stdout
