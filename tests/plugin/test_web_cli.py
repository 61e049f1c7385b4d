"""``mentorbridge serve``, ``webhook secret``, ``events`` and ``transcript link``, and
``flask --app plugin.web`` for development."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
from click.testing import CliRunner, Result

from mentorbridge.plugin.cli import cli
from mentorbridge.plugin.recorder import Recorder
from mentorbridge.plugin.store.db import Store
from mentorbridge.xapi.localrs import free_port
from mentorbridge.xapi.statements import StatementBuilder
from tests.conftest import SETTINGS, keys_env
from tests.plugin.web.conftest import EXAMPLES, LINK_SECRET, MENTEE, MENTOR


def run(env: dict[str, str], *args: str, input: str | None = None) -> Result:
    return CliRunner().invoke(cli, list(args), env=env, input=input)


@pytest.fixture
def env(tmp_path: Path, store_url: str, store: Store) -> dict[str, str]:
    recorder = Recorder(store, StatementBuilder(SETTINGS))
    for worker in (MENTEE, MENTOR):
        recorder.register_person(worker)
    return {
        "XDG_CONFIG_HOME": str(tmp_path / "cfg"),
        "MENTORBRIDGE_STORE_URL": store_url,
        "MENTORBRIDGE_LRS_AUTH": "none",
        **keys_env(store_url),
    }


# -- webhook secret ----------------------------------------------------------------------------


def test_webhook_secret_add_list_retire(env: dict[str, str]) -> None:
    added = run(env, "webhook", "secret", "add", "--label", "calendar")
    assert added.exit_code == 0, added.output
    secret = added.output.splitlines()[1]
    assert secret.startswith("whsec_") and len(secret) > 40
    listed = run(env, "webhook", "secret", "list")
    assert "1  active" in listed.output and "calendar" in listed.output
    assert secret not in listed.output
    retired = run(env, "webhook", "secret", "retire", "1")
    assert retired.exit_code == 0
    assert "no active secret is left" in retired.output
    assert "retired" in run(env, "webhook", "secret", "list").output
    again = run(env, "webhook", "secret", "retire", "1")
    assert again.exit_code == 1 and "already retired" in again.output
    missing = run(env, "webhook", "secret", "retire", "7")
    assert missing.exit_code == 1 and "no webhook secret has id 7" in missing.output


# -- transcript link --------------------------------------------------------------------------


def test_transcript_link_needs_a_link_secret(env: dict[str, str]) -> None:
    result = run(env, "transcript", "link", MENTEE)
    assert result.exit_code == 2
    assert "web.link_secret" in result.output


def test_transcript_link_prints_a_working_link(env: dict[str, str], store: Store) -> None:
    from mentorbridge.plugin.config import load_config
    from mentorbridge.plugin.web import create_app

    env = {**env, "MENTORBRIDGE_WEB_LINK_SECRET": LINK_SECRET}
    result = run(env, "transcript", "link", MENTEE, "--ttl", "600")
    assert result.exit_code == 0, result.output
    url = result.output.splitlines()[0]
    assert url.startswith(f"http://127.0.0.1:8080/learners/{MENTEE}/transcript?learner=")
    app = create_app(load_config(None, environ=env), store=store)
    parts = urlsplit(url)
    response = app.test_client().get(
        f"{parts.path}?{parts.query}", headers={"Accept": "application/json"}
    )
    assert response.status_code == 200
    assert response.json["learner"]["worker_id"] == MENTEE


# -- serve, events send, held, release --------------------------------------------------------


@pytest.fixture
def served(env: dict[str, str], tmp_path: Path) -> Iterator[tuple[dict[str, str], str]]:
    """``mentorbridge serve`` with two gunicorn workers on a free port."""
    port = free_port()
    env = {
        **env,
        "MENTORBRIDGE_WEB_PORT": str(port),
        "MENTORBRIDGE_WEB_SIGNING_SECRET": "whsec_serve_test_0123456789",
        "MENTORBRIDGE_WEB_UNKNOWN_PEOPLE": "hold",
    }
    log = (tmp_path / "serve.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "mentorbridge.plugin.cli", "serve", "--workers", "2"],
        env={**os.environ, **env},
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                break
        except httpx.TransportError:
            pass
        assert process.poll() is None, (tmp_path / "serve.log").read_text()
        assert time.monotonic() < deadline, "serve did not come up in 30 s"
        time.sleep(0.2)
    yield env, base
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=30) == 0
    log.close()
    output = (tmp_path / "serve.log").read_text()
    assert "whsec_serve_test" not in output and MENTEE not in output


def test_serve_answers_signed_events_sent_with_events_send(
    served: tuple[dict[str, str], str],
) -> None:
    env, base = served
    example = str(EXAMPLES / "pair.created.json")
    first = run(env, "events", "send", example)
    assert first.exit_code == 0, first.output
    assert first.output.startswith("202 ")
    again = run(env, "events", "send", example)
    assert again.output.startswith("200 ") and '"redelivery": true' in again.output
    bad = run(env, "events", "send", "-", input=json.dumps({"id": "x"}))
    assert bad.exit_code == 1 and bad.output.startswith("400 ")
    # Counters from both workers are summed in one scrape, whichever worker answers it.
    for _ in range(10):
        httpx.get(f"{base}/healthz")
    for _ in range(4):
        text = httpx.get(f"{base}/metrics").text
        totals = {
            line.split(" ")[0]: float(line.split(" ")[1])
            for line in text.splitlines()
            if line.startswith("mentorbridge_webhook_events_total{")
        }
        assert totals == {
            'mentorbridge_webhook_events_total{outcome="processed",type="pair.created"}': 1.0,
            'mentorbridge_webhook_events_total{outcome="redelivery",type="pair.created"}': 1.0,
            'mentorbridge_webhook_events_total{outcome="invalid",type="unknown"}': 1.0,
        }
    assert httpx.get(f"{base}/readyz").json()["status"] == "ready"


def test_events_held_and_release(served: tuple[dict[str, str], str], store: Store) -> None:
    env, _ = served
    newcomer = json.loads((EXAMPLES / "pair.created.json").read_text())
    newcomer["data"]["mentor"] = "20001"
    sent = run(env, "events", "send", "-", input=json.dumps(newcomer))
    assert sent.exit_code == 0 and '"status": "held"' in sent.output
    assert "pair.created           evt-example-01" in run(env, "events", "held").output
    assert "0 processed, 0 rejected, 1 still held" in run(env, "events", "release").output
    Recorder(store, StatementBuilder(SETTINGS)).register_person("20001")
    assert "1 processed, 0 rejected, 0 still held" in run(env, "events", "release").output
    assert run(env, "events", "held").output.strip() == "no held events"


def test_serve_with_the_worker_writes_only_json_lines(
    store_url: str, store: Store, tmp_path: Path
) -> None:
    port = free_port()
    env = {
        **os.environ,
        "XDG_CONFIG_HOME": str(tmp_path / "cfg"),
        "MENTORBRIDGE_STORE_URL": store_url,
        **keys_env(store_url),
        "MENTORBRIDGE_LRS_AUTH": "none",
        "MENTORBRIDGE_WEB_PORT": str(port),
        "MENTORBRIDGE_LOGGING_FORMAT": "json",
        "MENTORBRIDGE_OUTBOX_FLUSH_INTERVAL_SECONDS": "1",
    }
    stderr = (tmp_path / "stderr").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "mentorbridge.plugin.cli", "serve", "--with-worker"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=stderr,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert process.poll() is None, (tmp_path / "stderr").read_text()
            assert time.monotonic() < deadline, "serve did not come up in 30 s"
            time.sleep(0.2)
        assert httpx.get(f"{base}/learners/{MENTEE}/transcript").status_code == 401
        time.sleep(2.5)  # the background worker's scheduler runs its flush a few times
    finally:
        process.send_signal(signal.SIGTERM)
        exit_status = process.wait(timeout=30)
        stderr.close()
    assert exit_status == 0
    lines = (tmp_path / "stderr").read_text().splitlines()
    records = [json.loads(line) for line in lines]  # every line, whoever wrote it
    loggers = {r["logger"] for r in records}
    assert {"gunicorn.error", "mentorbridge.web.access", "apscheduler.scheduler"} <= loggers
    messages = [r["message"] for r in records]
    assert f"Listening at: http://127.0.0.1:{port} ({process.pid})" in messages
    assert "Scheduler started" in messages
    assert "GET /learners/<worker_id>/transcript 401" in messages
    assert not any("Running job" in m or "executed successfully" in m for m in messages)
    assert MENTEE not in "\n".join(lines)


def test_events_send_refuses_a_file_that_is_not_json(env: dict[str, str]) -> None:
    result = run(env, "events", "send", "-", input="not json")
    assert result.exit_code == 2 and "is not JSON" in result.output


def test_flask_finds_the_app_factory_for_development(env: dict[str, str]) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "mentorbridge.plugin.web", "routes"],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert "/webhooks/v1/events" in result.stdout
    assert "/learners/<worker_id>/transcript" in result.stdout


def test_the_cli_does_not_import_prometheus_client_before_serve_chooses_its_mode() -> None:
    # `serve` sets PROMETHEUS_MULTIPROC_DIR before the workers import prometheus_client; if
    # loading the CLI imported it first, each worker would count alone and scrapes would lie.
    loaded = subprocess.run(
        [sys.executable, "-c", "import sys, plugin.cli; print('prometheus_client' in sys.modules)"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert loaded.stdout.strip() == "False"
