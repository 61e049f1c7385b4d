"""Events naming workers the HRIS mirror does not know: the 422 names the fix, and
``mentorbridge events held`` says what each held event waits for."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner
from flask import Flask

from mentorbridge.plugin.cli import cli
from mentorbridge.plugin.store.db import Store
from mentorbridge.plugin.web import create_app
from mentorbridge.plugin.webhooks.sender import EventSender
from tests.plugin.web.conftest import CLOCK, MENTEE, SECRET, example, web_config

NEWCOMER = "20001"  # a junior the HRIS mirror does not know yet


def test_an_unknown_worker_is_422_naming_the_sync_and_the_hold_setting(
    sender: EventSender,
) -> None:
    sent = sender.send(example("pair.created", data={"mentor": NEWCOMER}))
    assert sent.status == 422
    message = sent.body["message"]
    assert f"run `mentorbridge sync workday` so the HRIS mirror knows worker {NEWCOMER}" in message
    assert 'set web.unknown_people = "hold"' in message


def test_an_unknown_pair_is_422_without_the_worker_advice(sender: EventSender) -> None:
    sent = sender.send(example("session.completed", data={"pair_id": "pair-nope"}))
    assert sent.status == 422
    assert "sync workday" not in sent.body["message"]


@pytest.fixture
def holding(people: Store, store_url: str) -> Iterator[EventSender]:
    app: Flask = create_app(
        web_config(store_url, **{"web.unknown_people": "hold"}), store=people, now=lambda: CLOCK
    )
    client = httpx.Client(transport=httpx.WSGITransport(app=app), base_url="http://mb.test")
    with EventSender("http://mb.test", [SECRET], client=client, clock=lambda: CLOCK) as sent:
        yield sent


def test_events_held_says_which_worker_each_event_waits_for(
    holding: EventSender, store_url: str, tmp_path: Path
) -> None:
    pair = example("pair.created", data={"mentor": NEWCOMER})
    session = example(
        "session.completed", data={"attendees": [MENTEE, NEWCOMER]}, id="evt-held-session"
    )
    for event in (pair, session):
        sent = holding.send(event)
        assert sent.status == 202 and sent.body["status"] == "held", sent.body
    env = {"XDG_CONFIG_HOME": str(tmp_path / "cfg"), "MENTORBRIDGE_STORE_URL": store_url}
    result = CliRunner().invoke(cli, ["events", "held"], env=env)
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    first = next(line for line in lines if pair["id"] in line)
    assert f"waits for worker {NEWCOMER}" in first
    second = next(line for line in lines if "evt-held-session" in line)
    pair_id = pair["data"]["pair_id"]
    assert f"waits for pair {pair_id}, which held event {pair['id']} creates" in second
    assert "mentorbridge sync workday" in result.output
