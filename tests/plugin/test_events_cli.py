"""``mentorbridge events send | held`` and ``serve`` as an admin meets them: where the
service is, what to do when it is not there, why an event is held, and the shipped examples
as one sequence."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner, Result

from mentorbridge.plugin.cli import cli
from mentorbridge.plugin.cli.serve_cmd import client_url_note
from mentorbridge.plugin.config import load_config
from mentorbridge.plugin.jobs.sync import sync_workday
from mentorbridge.plugin.store.db import Store
from mentorbridge.plugin.web import create_app
from mentorbridge.plugin.webhooks.sender import EXAMPLE_SEQUENCE, EventSender, example_event
from mentorbridge.xapi.localrs import free_port
from tests.conftest import keys_env

SECRET = "whsec_events_cli_test_0123456789"


def run(env: dict[str, str], *args: str, input: str | None = None) -> Result:
    return CliRunner().invoke(cli, list(args), env=env, input=input)


def one_clear_line(result: Result) -> str:
    """The command failed with exit 1 and said so in one line, without a traceback."""
    assert result.exit_code == 1, result.output
    assert isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.output
    (line,) = result.output.strip().splitlines()
    return line


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return {
        "XDG_CONFIG_HOME": str(tmp_path / "cfg"),
        "MENTORBRIDGE_WEB_SIGNING_SECRET": SECRET,
        "MENTORBRIDGE_LRS_AUTH": "none",
    }


@pytest.fixture
def event_file(tmp_path: Path) -> str:
    path = tmp_path / "event.json"
    path.write_text(json.dumps({"id": "evt-1", "type": "pair.ended", "data": {}}))
    return str(path)


# -- events send: where the service is ---------------------------------------------------------


def test_events_send_to_a_closed_port_names_the_url_and_the_keys_that_set_it(
    env: dict[str, str], event_file: str
) -> None:
    port = free_port()
    result = run({**env, "MENTORBRIDGE_WEB_PORT": str(port)}, "events", "send", event_file)
    line = one_clear_line(result)
    assert f"http://127.0.0.1:{port}/webhooks/v1/events" in line
    assert "connection refused" in line
    assert "web.host and web.port" in line  # where the address came from
    assert "--url" in line and "web.public_url" in line


def test_events_send_uses_web_public_url_when_it_is_set(
    env: dict[str, str], event_file: str
) -> None:
    port = free_port()
    public = f"http://127.0.0.1:{port}/mentoring"
    result = run({**env, "MENTORBRIDGE_WEB_PUBLIC_URL": public}, "events", "send", event_file)
    line = one_clear_line(result)
    assert f"{public}/webhooks/v1/events" in line
    assert "came from web.public_url" in line


def test_events_send_says_when_the_address_came_from_url(
    env: dict[str, str], event_file: str
) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    line = one_clear_line(run(env, "events", "send", event_file, "--url", url))
    assert f"{url}/webhooks/v1/events" in line and "came from --url" in line


# -- serve: one place for the service's address -----------------------------------------------


@pytest.fixture
def busy_port() -> Iterator[int]:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        yield listener.getsockname()[1]


def test_serve_on_a_busy_port_fails_before_starting_naming_the_address_and_the_fix(
    env: dict[str, str], store_url: str, busy_port: int
) -> None:
    env = {**env, "MENTORBRIDGE_STORE_URL": store_url, **keys_env(store_url)}
    result = run(env, "serve", "--port", str(busy_port), "--workers", "1")
    line = one_clear_line(result)
    assert "serving on" not in result.output
    assert f"cannot listen on 127.0.0.1:{busy_port}" in line
    assert "in use" in line and "--port" in line and "web.port" in line


def test_serve_on_a_busy_web_port_names_the_setting_too(
    env: dict[str, str], store_url: str, busy_port: int
) -> None:
    env = {
        **env,
        "MENTORBRIDGE_STORE_URL": store_url,
        "MENTORBRIDGE_WEB_PORT": str(busy_port),
        **keys_env(store_url),
    }
    line = one_clear_line(run(env, "serve"))
    assert f"127.0.0.1:{busy_port}" in line and "MENTORBRIDGE_WEB_PORT" in line


def test_serve_warns_when_port_makes_the_clients_look_elsewhere() -> None:
    config = load_config(None, environ={"XDG_CONFIG_HOME": "/nonexistent"})
    note = client_url_note(config, "127.0.0.1", 9123)
    assert note is not None
    assert "http://127.0.0.1:8080" in note and "web.port = 9123" in note
    assert "events send" in note and "transcript link" in note
    assert client_url_note(config, "127.0.0.1", 8080) is None
    public = load_config(
        None,
        environ={"XDG_CONFIG_HOME": "/nonexistent"},
        overrides={"web.public_url": "https://mentoring.example.com"},
    )
    assert client_url_note(public, "127.0.0.1", 9123) is None


# -- the shipped examples: one sequence an admin can send ---------------------------------------


def test_the_example_events_are_accepted_in_their_documented_order_against_the_sample_tenant(
    store_url: str, store: Store
) -> None:
    config = load_config(
        None,
        environ={"XDG_CONFIG_HOME": "/nonexistent"},
        overrides={"store.url": store_url, "lrs.auth": "none", "web.signing_secret": SECRET},
    )
    sync_workday(config, store)  # the HRIS mirror now holds the sample tenant
    app = create_app(config, store=store)
    client = httpx.Client(transport=httpx.WSGITransport(app=app), base_url="http://mb.test")
    with EventSender("http://mb.test", [SECRET], client=client) as sender:
        answers = {name: sender.send(example_event(name)) for name in EXAMPLE_SEQUENCE}
    assert {name: sent.status for name, sent in answers.items()} == dict.fromkeys(
        EXAMPLE_SEQUENCE, 202
    ), {name: sent.body for name, sent in answers.items() if sent.status != 202}
    assert all(sent.body["status"] == "processed" for sent in answers.values())
    events = [json.loads(example_event(name)) for name in EXAMPLE_SEQUENCE]
    times = [event["occurred_at"] for event in events]
    assert times == sorted(times)  # the story is told in the order it happened
    assert len({event["id"] for event in events}) == len(events)


def test_every_shipped_example_is_in_the_sequence_and_in_the_help() -> None:
    examples = Path(__file__).parents[2] / "schemas" / "webhooks" / "examples"
    assert sorted(p.name.removesuffix(".json") for p in examples.glob("*.json")) == sorted(
        EXAMPLE_SEQUENCE
    )
    shown = CliRunner().invoke(cli, ["events", "send", "--help"]).output
    listed = [line.split(". ", 1)[1] for line in shown.splitlines() if line.strip()[:1].isdigit()]
    assert listed == [f"{name}.json" for name in EXAMPLE_SEQUENCE]
