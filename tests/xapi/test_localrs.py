"""The local trial LRS: restartable, statements kept, a fresh history per run."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from mentorbridge.plugin.errors import FatalError
from mentorbridge.xapi.localrs import LocalLRS, LocalLRSError
from mentorbridge.xapi.lrs import LRSClient, LRSCredentials

STATEMENT = (
    b'[{"id":"8140edef-efe3-5415-96a7-91a8d3e85623","actor":{"objectType":"Agent",'
    b'"account":{"homePage":"https://id.example.com","name":"p-1"}},'
    b'"verb":{"id":"http://adlnet.gov/expapi/verbs/attended"},'
    b'"object":{"id":"https://x.example.com/sessions/1"},"timestamp":"2026-11-01T10:00:00.000Z"}]'
)


def client(lrs: LocalLRS) -> LRSClient:
    secret = lrs.password_file.read_text().strip()
    return LRSClient(lrs.endpoint, credentials=LRSCredentials("basic", lrs.username, secret))


def test_statements_survive_a_restart_and_history_starts_afresh(tmp_path: Path) -> None:
    lrs = LocalLRS(tmp_path / "lrs")
    with lrs, client(lrs) as first:
        first.post_statements(STATEMENT)
        assert lrs.history_file.exists()
    with lrs, client(lrs) as second:
        assert not lrs.history_file.exists() or b"8140edef" not in lrs.history_file.read_bytes()
        assert [s["id"] for s in second.statements()] == ["8140edef-efe3-5415-96a7-91a8d3e85623"]


def test_the_password_is_private_and_kept(tmp_path: Path) -> None:
    lrs = LocalLRS(tmp_path / "lrs")
    lrs.prepare()
    secret = lrs.password_file.read_text()
    assert oct(lrs.password_file.stat().st_mode)[-3:] == "600" and len(secret) >= 24
    lrs.prepare()
    assert lrs.password_file.read_text() == secret


def test_a_port_in_use_is_a_clear_error(tmp_path: Path) -> None:
    with LocalLRS(tmp_path / "a") as running:
        other = LocalLRS(tmp_path / "b", port=running.port)
        with pytest.raises(LocalLRSError, match=f"port {running.port} .* already in use"):
            other.start(timeout=20)
        assert issubclass(LocalLRSError, FatalError)
        assert httpx.get(f"http://127.0.0.1:{running.port}/__heartbeat__").status_code == 200
