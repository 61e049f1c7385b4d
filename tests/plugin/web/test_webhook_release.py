"""``outcome.release_changed``: a rating released later, or its release taken back."""

from __future__ import annotations

from sqlalchemy import select

from mentorbridge.plugin.store.db import Store
from mentorbridge.plugin.store.models import OutboxStatement, Outcome
from mentorbridge.plugin.webhooks.sender import EventSender
from tests.plugin.web.conftest import example, table_counts


def setup(sender: EventSender, *, released: bool) -> None:
    for event in (
        example("pair.created"),
        example("session.completed"),
        example("outcome.rated", data={"released": released}),
    ):
        assert sender.send(event).status == 202


def test_webhook_retraction_voids_the_ratings_evidence_statement(
    sender: EventSender, store: Store
) -> None:
    setup(sender, released=True)
    with store.reading() as session:
        evidence_id = session.scalar(select(Outcome.evidence_statement_id))
    sent = sender.send(example("outcome.release_changed"))
    assert sent.status == 202, sent.body
    (voiding_id,) = sent.body["statement_ids"]
    with store.reading() as session:
        row = session.scalar(
            select(OutboxStatement).where(OutboxStatement.statement_id == voiding_id)
        )
        assert row.voids_statement_id == evidence_id
        assert session.scalar(select(Outcome.released)) is False


def test_webhook_release_later_queues_the_evidence_statement(
    sender: EventSender, store: Store
) -> None:
    setup(sender, released=False)
    sent = sender.send(example("outcome.release_changed", data={"released": True}))
    assert sent.status == 202, sent.body
    (statement_id,) = sent.body["statement_ids"]
    with store.reading() as session:
        assert session.scalar(select(Outcome.evidence_statement_id)) == statement_id
        template = session.scalar(
            select(OutboxStatement.template).where(OutboxStatement.statement_id == statement_id)
        )
    assert template == "competency-evidence"


def test_webhook_release_of_an_unknown_outcome_is_422(sender: EventSender, store: Store) -> None:
    setup(sender, released=True)
    before = table_counts(store)
    sent = sender.send(example("outcome.release_changed", data={"outcome_id": "out-404"}))
    assert sent.status == 422
    assert "outcome 'out-404' is not known" in sent.body["message"]
    assert table_counts(store) == before


def test_webhook_release_must_be_true_or_false(sender: EventSender) -> None:
    sent = sender.send(example("outcome.release_changed", data={"released": "no"}))
    assert sent.status == 400
    assert [p["path"] for p in sent.body["problems"]] == ["$.data.released"]
