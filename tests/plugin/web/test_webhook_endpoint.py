"""``POST /webhooks/v1/events``: signed, validated, idempotent, all or nothing."""

from __future__ import annotations

import io
import json

import pytest
from flask import Flask
from sqlalchemy import select

from mentorbridge.plugin.store.db import Store
from mentorbridge.plugin.store.models import MentoringSession, OutboxStatement, Pair, Reflection
from mentorbridge.plugin.store.webhook_models import WebhookEvent
from mentorbridge.plugin.webhooks.sender import EventSender, encode_event
from mentorbridge.plugin.webhooks.signing import sign, signature_header
from mentorbridge.plugin.webhooks.signing_secrets import SigningSecrets
from tests.plugin.web.conftest import CLOCK, MENTEE, MENTOR, SECRET, example, table_counts

ALL_TYPES = [
    "pair.created",
    "session.scheduled",
    "session.completed",
    "reflection.submitted",
    "goal.set",
    "outcome.rated",
    "goal.achieved",
    "session.cancelled",
    "pair.ended",
]


def outbox_ids(store: Store) -> list[str]:
    with store.reading() as session:
        return list(session.scalars(select(OutboxStatement.statement_id)))


def test_webhook_every_example_event_is_accepted_in_a_programmes_order(
    sender: EventSender, store: Store
) -> None:
    for event_type in ALL_TYPES:
        if event_type == "session.cancelled":
            continue
        sent = sender.send(example(event_type))
        assert sent.status == 202, sent.body
        assert sent.body["status"] == "processed"
        assert sent.body["redelivery"] is False
    with store.reading() as session:
        assert session.scalar(select(Pair.status)) == "ended"


def test_webhook_answers_202_with_the_ids_of_the_statements_it_queued(
    sender: EventSender, store: Store
) -> None:
    sender.send(example("pair.created"))
    sent = sender.send(example("session.completed"))
    assert sent.status == 202
    assert len(sent.body["statement_ids"]) == 2
    assert sorted(sent.body["statement_ids"]) == sorted(outbox_ids(store))


def test_webhook_reflection_text_stays_in_the_store(sender: EventSender, store: Store) -> None:
    for event_type in ("pair.created", "session.completed", "reflection.submitted"):
        sender.send(example(event_type))
    text = example("reflection.submitted")["data"]["text"]
    with store.reading() as session:
        assert session.scalar(select(Reflection.body)) == text
        payloads = [row.payload.decode() for row in session.scalars(select(OutboxStatement))]
        stored_event = session.scalar(
            select(WebhookEvent).where(WebhookEvent.type == "reflection.submitted")
        )
    assert payloads and all(text not in p and "inbox" not in p for p in payloads)
    assert stored_event.payload is None  # a processed event keeps no copy of its body


# -- signatures -------------------------------------------------------------------------------


def post_signed(sender: EventSender, event: dict, header: str | None):
    return sender.post(encode_event(event), signature=header)


@pytest.mark.parametrize(
    ("make_header", "reason"),
    [
        (lambda body: None, "header is missing"),
        (lambda body: signature_header(body + b"x", [SECRET], int(CLOCK)), "no v1 signature"),
        (lambda body: signature_header(body, ["whsec_wrong_" + "x" * 20], int(CLOCK)), "no v1"),
        (lambda body: signature_header(body, [SECRET], int(CLOCK) - 301), "s old"),
        (lambda body: signature_header(body, [SECRET], int(CLOCK) + 301), "in the future"),
        (lambda body: "v1=abc", "needs t="),
        (
            lambda body: f"t=0{int(CLOCK)},v1={sign(body, SECRET, int(CLOCK))}",
            "plain decimal digits",
        ),
    ],
    ids=["missing", "tampered", "wrong-secret", "expired", "future", "malformed", "zero-padded"],
)
def test_webhook_refuses_a_bad_signature_with_401_and_stores_nothing(
    sender: EventSender, store: Store, make_header, reason: str
) -> None:
    before = table_counts(store)
    event = example("pair.created")
    sent = post_signed(sender, event, make_header(encode_event(event)))
    assert sent.status == 401
    assert sent.body["error"] == "invalid_signature"
    assert reason in sent.body["message"]
    assert table_counts(store) == before


def test_webhook_checks_the_signature_before_parsing(sender: EventSender) -> None:
    sent = sender.post(b"{not json", signature="t=1,v1=00")
    assert sent.status == 401  # not 400: unsigned bytes are never parsed


def test_webhook_rotated_secrets_work_side_by_side_until_retired(
    app: Flask, sender: EventSender, people: Store
) -> None:
    secrets = SigningSecrets(people)
    old_id, old = secrets.add("calendar, 2026")
    _new_id, new = secrets.add("calendar, 2027")
    processed = app.extensions["mentorbridge"].signing_secrets
    processed._cached = None  # the app re-reads at once rather than after its cache period
    for n, secret in enumerate((old, new)):
        body = encode_event(example("pair.created", id=f"evt-rot-{n}", data={"pair_id": f"p{n}"}))
        assert (
            sender.post(body, signature=signature_header(body, [secret], int(CLOCK))).status == 202
        )
    secrets.retire(old_id)
    processed._cached = None
    body = encode_event(example("pair.created", id="evt-rot-3", data={"pair_id": "p3"}))
    assert sender.post(body, signature=signature_header(body, [old], int(CLOCK))).status == 401
    assert sender.post(body, signature=signature_header(body, [new], int(CLOCK))).status == 202


# -- size, type, validation -------------------------------------------------------------------


def test_webhook_refuses_a_body_over_the_limit_with_413(sender: EventSender, store: Store) -> None:
    event = example("reflection.submitted", data={"text": "x" * 300_000})
    before = table_counts(store)
    sent = sender.send(event)
    assert sent.status == 413
    assert "262144 bytes" in sent.body["message"]
    assert table_counts(store) == before


def test_webhook_refuses_an_oversized_body_sent_without_a_length(app: Flask) -> None:
    body = b"x" * 300_000
    with app.test_client() as client:
        response = client.post(
            "/webhooks/v1/events",
            input_stream=io.BytesIO(body),
            headers={"Content-Type": "application/json", "Transfer-Encoding": "chunked"},
            # What gunicorn says of a chunked body it has de-chunked.
            environ_overrides={"wsgi.input_terminated": True},
        )
    assert response.status_code == 413


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", ""])
def test_webhook_refuses_what_is_not_json_with_415(sender: EventSender, content_type: str) -> None:
    body = encode_event(example("pair.created"))
    signature = signature_header(body, [SECRET], int(CLOCK))
    sent = sender.post(body, signature=signature, content_type=content_type)
    assert sent.status == 415
    assert "application/json" in sent.body["message"]


def test_webhook_accepts_json_with_a_charset(sender: EventSender) -> None:
    body = encode_event(example("pair.created"))
    signature = signature_header(body, [SECRET], int(CLOCK))
    sent = sender.post(body, signature=signature, content_type="application/json; charset=utf-8")
    assert sent.status == 202


INVALID = [
    # (what, event or raw body, [(path, part of the message)])
    ("not json", b"{", [("$", "not JSON")]),
    ("not utf-8", b'{"id": "\xff"}', [("$", "not UTF-8")]),
    ("not an object", b"[]", [("$", "not of type 'object'")]),
    ("duplicate key", b'{"id": "a", "id": "b"}', [("$", "repeats the key 'id'")]),
    ("NaN", b'{"id": NaN}', [("$", "NaN")]),
    (
        "envelope",
        {"id": " bad", "type": "session.done", "occurred_at": "yesterday", "data": [], "x": 1},
        [
            ("$", "Additional properties"),
            ("$.data", "expected the event's data"),
            ("$.id", "expected the event's unique id"),
            ("$.occurred_at", "expected when it happened"),
            ("$.type", "expected one of pair.created"),
        ],
    ),
    (
        "missing data fields",
        example("session.completed", data={"attendees": ["10004"]}) | {"data": {"pair_id": "p"}},
        [("$.data", "'session_id' is a required property")],
    ),
    (
        "wrong data types",
        example(
            "session.completed",
            data={"duration_minutes": 0, "attendees": [MENTEE, MENTEE], "started_at": "10:00"},
        ),
        [
            ("$.data.attendees", "expected the worker ids of the mentee and the mentor"),
            ("$.data.duration_minutes", "expected minutes, more than 0"),
            ("$.data.started_at", "expected an RFC 3339 date and time"),
        ],
    ),
    (
        "dates that do not exist",
        example(
            "pair.created", occurred_at="2026-02-30T10:00:00Z", data={"started_on": "2026-13-01"}
        ),
        [("$.data.started_on", "is not real"), ("$.occurred_at", "is not real")],
    ),
    (
        "rating outside its scale",
        example("outcome.rated", data={"rating": 7}),
        [("$.data.rating", "expected a rating from 1 to 5")],
    ),
    (
        "scale upside down",
        example("outcome.rated", data={"scale": {"min": 5, "max": 1}, "rating": 3}),
        [("$.data.scale", "min 5 is not below max 1")],
    ),
    (
        "unknown cancel reason",
        example("session.cancelled", data={"reason": "bored"}),
        [("$.data.reason", "expected one of rescheduled")],
    ),
]


@pytest.mark.parametrize(
    ("body", "expected"), [c[1:] for c in INVALID], ids=[c[0] for c in INVALID]
)
def test_webhook_lists_every_invalid_field_with_400(
    sender: EventSender, store: Store, body, expected
) -> None:
    sender.send(example("pair.created"))
    sender.send(example("session.completed"))
    before = table_counts(store)
    sent = sender.send(body if isinstance(body, bytes) else encode_event(body))
    assert sent.status == 400, sent.body
    assert sent.body["error"] == "invalid_event"
    problems = sent.body["problems"]
    for path, message in expected:
        assert any(p["path"] == path and message in p["message"] for p in problems), (
            path,
            message,
            problems,
        )
    assert len(problems) >= len(expected)
    assert table_counts(store) == before


# -- references and conflicts -----------------------------------------------------------------


def test_webhook_an_unknown_worker_is_422_naming_the_worker(
    sender: EventSender, store: Store
) -> None:
    before = table_counts(store)
    sent = sender.send(example("pair.created", data={"mentor": "99999"}))
    assert sent.status == 422
    assert sent.body["error"] == "unknown_reference"
    assert "worker '99999' is not known" in sent.body["message"]
    assert table_counts(store) == before


@pytest.mark.parametrize(
    ("event", "status", "message"),
    [
        (
            example("session.completed", id="e2", data={"pair_id": "pair-nope"}),
            422,
            "pair 'pair-nope'",
        ),
        (example("goal.achieved", data={"goal_id": "goal-nope"}), 422, "goal 'goal-nope'"),
        (
            example("session.completed", id="e3", data={"attendees": [MENTEE, "10005"]}),
            409,
            "must be its executive mentee and its junior mentor",
        ),
        (example("pair.created", id="evt-again"), 409, "already recorded"),
        (example("reflection.submitted", data={"author": "10005"}), 409, "not a member"),
        (example("session.scheduled", id="e4"), 409, "session 'sess-2026-017-03' is already"),
    ],
    ids=[
        "unknown-pair",
        "unknown-goal",
        "wrong-attendees",
        "pair-twice",
        "outsider-reflects",
        "session-twice",
    ],
)
def test_webhook_refuses_what_contradicts_the_record(
    sender: EventSender, store: Store, event: dict, status: int, message: str
) -> None:
    sender.send(example("pair.created"))
    sender.send(example("session.completed"))
    before = table_counts(store)
    sent = sender.send(event)
    assert sent.status == status, sent.body
    assert message in sent.body["message"]
    assert table_counts(store) == before


# -- idempotency and atomicity ----------------------------------------------------------------


@pytest.mark.parametrize("event_type", ["reflection.submitted", "goal.set", "outcome.rated"])
def test_webhook_a_new_event_reusing_a_records_id_is_409(
    sender: EventSender, store: Store, event_type: str
) -> None:
    for setup in ("pair.created", "session.completed", event_type):
        assert sender.send(example(setup)).status == 202
    before = table_counts(store)
    sent = sender.send(example(event_type, id="evt-another"))
    assert sent.status == 409
    assert "is already recorded" in sent.body["message"]
    assert table_counts(store) == before


def test_webhook_redelivery_gets_the_original_answer_and_no_new_statements(
    sender: EventSender, store: Store
) -> None:
    sender.send(example("pair.created"))
    first = sender.send(example("session.completed"))
    before = table_counts(store)
    # The same event, serialised differently: still the same content.
    again = sender.send(json.dumps(example("session.completed"), indent=2).encode())
    assert again.status == 200
    assert again.body["redelivery"] is True
    assert again.body["statement_ids"] == first.body["statement_ids"]
    assert table_counts(store) == before


def test_webhook_same_id_with_different_content_is_409(sender: EventSender, store: Store) -> None:
    sender.send(example("pair.created"))
    sender.send(example("session.completed"))
    before = table_counts(store)
    sent = sender.send(example("session.completed", data={"duration_minutes": 60}))
    assert sent.status == 409
    assert "different content" in sent.body["message"]
    assert table_counts(store) == before


def test_webhook_a_rejected_event_can_be_sent_again_once_fixed(sender: EventSender) -> None:
    assert sender.send(example("session.completed")).status == 422  # its pair is not there yet
    assert sender.send(example("pair.created")).status == 202
    assert sender.send(example("session.completed")).status == 202


def test_webhook_failure_between_domain_write_and_outbox_leaves_nothing(
    sender: EventSender, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    sender.send(example("pair.created"))
    before = table_counts(store)

    def broken_enqueue(*_args, **_kwargs):
        raise OSError("disk full while queueing the statement")

    monkeypatch.setattr("mentorbridge.plugin.recorder.enqueue_many", broken_enqueue)
    sent = sender.send(example("session.completed"))
    assert sent.status == 500
    assert sent.body["error"] == "internal_error"
    assert "nothing was changed" in sent.body["message"]
    assert table_counts(store) == before
    with store.reading() as session:
        assert session.scalar(select(MentoringSession.id)) is None
    monkeypatch.undo()
    assert sender.send(example("session.completed")).status == 202  # the retry then works


def test_webhook_outbox_failure_after_the_event_row_leaves_no_event_row(
    sender: EventSender, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The event row is written first (it claims the id); it must roll back with the rest,
    or a retry would be answered as a redelivery of something never recorded."""
    sender.send(example("pair.created"))

    def broken(*_args, **_kwargs):
        raise RuntimeError("statement builder crashed")

    monkeypatch.setattr("mentorbridge.plugin.recorder.Recorder._pair_context", broken)
    assert sender.send(example("session.completed")).status == 500
    with store.reading() as session:
        types = list(session.scalars(select(WebhookEvent.type)))
    assert types == ["pair.created"]


def test_webhook_the_log_names_the_route_not_the_worker(
    sender: EventSender, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("INFO", logger="mentorbridge.web.access")
    sender.send(example("pair.created"))
    sender.send(example("reflection.submitted"))
    lines = [r for r in caplog.records if r.name == "mentorbridge.web.access"]
    assert [getattr(r, "outcome", None) for r in lines] == ["processed", "unknown_reference"]
    assert all(r.route == "/webhooks/v1/events" and len(r.request_id) == 32 for r in lines)
    text = " ".join(r.getMessage() + repr(r.__dict__) for r in lines)
    assert MENTEE not in text and MENTOR not in text and "inbox" not in text
