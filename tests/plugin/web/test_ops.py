"""Operations routes, and the OpenAPI document kept true to the routes."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
import yaml
from flask import Flask
from openapi_spec_validator import validate
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import update

from mentorbridge.plugin.store.db import Store
from mentorbridge.plugin.store.migrate import upgrade
from mentorbridge.plugin.store.models import OutboxStatement
from mentorbridge.plugin.web import create_app
from mentorbridge.plugin.web.ops import openapi_document
from mentorbridge.plugin.webhooks.events import EVENT_TYPES
from mentorbridge.plugin.webhooks.sender import EventSender
from tests.plugin.web.conftest import CLOCK, example, web_config


def test_healthz_says_alive(app: Flask) -> None:
    response = app.test_client().get("/healthz")
    assert (response.status_code, response.json) == (200, {"status": "alive"})


def test_readyz_is_ready_on_a_current_store_with_a_flowing_outbox(app: Flask) -> None:
    response = app.test_client().get("/readyz")
    assert response.status_code == 200
    assert response.json["status"] == "ready"
    assert set(response.json["checks"]) == {"store", "migrations", "outbox"}


def test_readyz_reports_a_stuck_outbox(app: Flask, sender: EventSender, people: Store) -> None:
    sender.send(example("pair.created"))
    sender.send(example("session.completed"))
    with people.transaction() as session:
        session.execute(
            update(OutboxStatement).values(created_at=datetime.now(UTC) - timedelta(hours=1))
        )
    response = app.test_client().get("/readyz")
    assert response.status_code == 503
    outbox = response.json["checks"]["outbox"]
    assert outbox["ok"] is False and outbox["pending"] == 2
    assert "mentorbridge worker" in outbox["detail"]


def test_readyz_reports_a_store_that_needs_migrating(tmp_path) -> None:
    url = f"sqlite:///{tmp_path / 'old.sqlite3'}"
    store = Store(url)
    upgrade(store, "0002")
    app = create_app(web_config(url), store=store, now=lambda: CLOCK)
    response = app.test_client().get("/readyz")
    assert response.status_code == 503
    assert "mentorbridge db upgrade" in response.json["checks"]["migrations"]["detail"]
    store.dispose()


def test_readyz_reports_an_unreachable_store(store_url: str, tmp_path) -> None:
    missing = tmp_path / "no-such-dir" / "x" / "store.sqlite3"
    broken = Store(f"sqlite:///{missing}")
    missing.parent.rmdir()  # the engine made it; take it away again
    app = create_app(web_config(store_url), store=broken, now=lambda: CLOCK)
    response = app.test_client().get("/readyz")
    assert response.status_code == 503
    assert response.json["checks"] == {
        "store": {"ok": False, "detail": "cannot reach the store (OperationalError)"}
    }


def metric_samples(app: Flask) -> dict[tuple[str, tuple], float]:
    response = app.test_client().get("/metrics")
    assert response.status_code == 200
    assert response.mimetype == "text/plain"
    samples = {}
    for family in text_string_to_metric_families(response.get_data(as_text=True)):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def test_metrics_count_events_by_type_and_outcome_and_show_the_outbox(
    app: Flask, sender: EventSender
) -> None:
    before = metric_samples(app)
    sender.send(example("pair.created"))
    sender.send(example("session.completed"))
    sender.send(example("session.completed"))  # a redelivery
    sender.send(example("goal.achieved", data={"goal_id": "nope"}))
    sender.post(b"{}", signature=None)
    after = metric_samples(app)

    def added(event_type: str, outcome: str) -> float:
        key = ("mentorbridge_webhook_events_total", (("outcome", outcome), ("type", event_type)))
        return after.get(key, 0) - before.get(key, 0)

    assert added("pair.created", "processed") == 1
    assert added("session.completed", "processed") == 1
    assert added("session.completed", "redelivery") == 1
    assert added("goal.achieved", "unknown_reference") == 1
    assert added("unknown", "unauthorized") == 1
    assert after[("mentorbridge_outbox_statements", (("state", "pending"),))] == 2
    assert after[("mentorbridge_outbox_dead_letters", ())] == 0
    assert after[("mentorbridge_webhook_events_held", ())] == 0
    assert ("mentorbridge_outbox_oldest_pending_age_seconds", ()) in after
    histogram = (
        "mentorbridge_http_request_duration_seconds_count",
        (("method", "POST"), ("route", "/webhooks/v1/events"), ("status", "202")),
    )
    assert after[histogram] - before.get(histogram, 0) == 2


# -- OpenAPI --------------------------------------------------------------------------------


def test_openapi_document_is_valid_openapi_3_1() -> None:
    document = openapi_document()
    assert document["openapi"].startswith("3.1")
    validate(document)


def test_openapi_source_file_is_valid_too() -> None:
    from importlib import resources

    source = yaml.safe_load(
        resources.files("mentorbridge.schemas").joinpath("openapi.yaml").read_text()
    )
    assert source["openapi"] == "3.1.0"


def test_openapi_describes_every_route_and_nothing_else(app: Flask) -> None:
    documented = {
        (path, method.upper())
        for path, item in openapi_document()["paths"].items()
        for method in item
        if method in {"get", "post", "put", "patch", "delete"}
    }
    registered = {
        (re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule), method)
        for rule in app.url_map.iter_rules()
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }
    assert registered == documented


def test_openapi_path_parameters_match_the_routes(app: Flask) -> None:
    for rule in app.url_map.iter_rules():
        path = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule)
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            operation = openapi_document()["paths"][path][method.lower()]
            declared = {p["name"] for p in operation.get("parameters", []) if p["in"] == "path"}
            assert declared == set(rule.arguments), (path, method)


def test_openapi_request_body_covers_every_event_type() -> None:
    schema = openapi_document()["paths"]["/webhooks/v1/events"]["post"]["requestBody"]
    branches = schema["content"]["application/json"]["schema"]["oneOf"]
    assert [b["properties"]["type"]["const"] for b in branches] == list(EVENT_TYPES)


@pytest.mark.parametrize("status", ["202", "200", "400", "401", "409", "413", "415", "422"])
def test_openapi_documents_each_webhook_answer(status: str) -> None:
    assert status in openapi_document()["paths"]["/webhooks/v1/events"]["post"]["responses"]


def test_openapi_is_served_bundled(app: Flask) -> None:
    response = app.test_client().get("/openapi.json")
    assert response.status_code == 200
    assert response.json == openapi_document()
    text = response.get_data(as_text=True)
    assert ".schema.json" not in text  # every file reference was bundled in
