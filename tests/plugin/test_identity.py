"""One identity per person: the same events give the same statements in every store that
shares the installation identity key, so a rebuilt store's re-sent batch is no conflict."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import insert, select

from mentorbridge.plugin.identity import Identity
from mentorbridge.plugin.keyring import Keyring
from mentorbridge.plugin.recorder import Recorder
from mentorbridge.plugin.store.db import Store
from mentorbridge.plugin.store.hris import HrisMirror
from mentorbridge.plugin.store.migrate import upgrade
from mentorbridge.plugin.store.models import OutboxPayload, Person
from mentorbridge.plugin.store.outbox import SqlOutbox
from mentorbridge.plugin.webhooks.events import parse_event
from mentorbridge.plugin.webhooks.processor import EventProcessor
from mentorbridge.plugin.webhooks.sender import encode_event
from mentorbridge.xapi.lrs import LRSClient
from mentorbridge.xapi.outbox import Flusher
from mentorbridge.xapi.statements import StatementBuilder
from tests.conftest import RALPH_ENDPOINT, SETTINGS, TEST_KEYRING
from tests.fakes import NOW
from tests.plugin.test_hris_mirror import start, worker, write
from tests.plugin.web.conftest import MENTEE, MENTOR, example

#: A fixed "now" after every example event.
LATER = NOW + timedelta(days=30)
#: A programme's life as the mentoring tools report it.
EVENTS = (
    "pair.created",
    "session.scheduled",
    "session.completed",
    "reflection.submitted",
    "goal.set",
    "goal.achieved",
    "outcome.rated",
)


def fresh_store(tmp_path: Path, name: str, keyring: Keyring) -> Store:
    store = Store(f"sqlite:///{tmp_path / name}.sqlite3", keyring=keyring)
    upgrade(store)
    return store


def process_the_events(store: Store) -> list[bytes]:
    """Learn the people (as an HRIS sync would), process every event; the outbox payloads."""
    recorder = Recorder(store, StatementBuilder(SETTINGS, now=lambda: LATER))
    for person in (MENTEE, MENTOR, "10005", "10413"):
        recorder.register_person(person)
    processor = EventProcessor(recorder, unknown_people="reject")
    for event_type in EVENTS:
        processed = processor.process(parse_event(encode_event(example(event_type))))
        assert processed.result["status"] == "processed", processed.result
    with store.reading() as session:
        return list(
            session.scalars(select(OutboxPayload.payload).order_by(OutboxPayload.outbox_id))
        )


def actors(payloads: list[bytes]) -> set[str]:
    """The people statements are about (not the service account some are made by)."""
    names = {json.loads(p)["actor"]["account"]["name"] for p in payloads}
    return {name for name in names if name.startswith("p-")}


def test_identity_is_a_keyed_hash_of_the_employee_id_in_the_old_shape() -> None:
    identity = TEST_KEYRING.identity
    assert identity.opaque_id_for("10004") == identity.opaque_id_for("10004")
    assert re.fullmatch(r"p-[0-9a-f]{20}", identity.opaque_id_for("10004"))
    assert identity.opaque_id_for("10004") != identity.opaque_id_for("10005")
    other = Identity(Keyring.generate().identity_key)
    assert other.opaque_id_for("10004") != identity.opaque_id_for("10004")
    assert "10004" not in identity.opaque_id_for("10004")


def test_identity_two_fresh_stores_with_one_key_write_byte_identical_statements(
    store: Store, tmp_path: Path
) -> None:
    store.keyring = TEST_KEYRING  # the store under test: SQLite, and PostgreSQL when set up
    rebuilt = fresh_store(tmp_path, "rebuilt", TEST_KEYRING)
    other_key = fresh_store(tmp_path, "other", Keyring.generate())

    first, second, third = (process_the_events(s) for s in (store, rebuilt, other_key))

    assert len(first) >= len(EVENTS)
    assert second == first
    keyed = {TEST_KEYRING.identity.opaque_id_for(w) for w in (MENTEE, MENTOR, "10005", "10413")}
    assert TEST_KEYRING.identity.opaque_id_for(MENTEE) in actors(first) <= keyed
    assert actors(third).isdisjoint(actors(first))
    rebuilt.dispose()
    other_key.dispose()


def test_identity_a_rebuilt_stores_batch_is_accepted_by_the_lrs(tmp_path: Path, ralph: Any) -> None:
    lrs = LRSClient(RALPH_ENDPOINT, client=ralph)
    lost = fresh_store(tmp_path, "lost", TEST_KEYRING)
    sent = process_the_events(lost)
    assert Flusher(SqlOutbox(lost), lrs).flush().delivered == len(sent)
    lost.dispose()

    rebuilt = fresh_store(tmp_path, "rebuilt", TEST_KEYRING)  # senders re-send every event
    process_the_events(rebuilt)
    report = Flusher(SqlOutbox(rebuilt), lrs).flush()

    assert report.delivered == len(sent) and report.parked == 0
    assert len(list(lrs.statements(limit=100))) == len(sent)
    rebuilt.dispose()


def test_identity_hris_sync_gives_new_people_the_keyed_id_and_keeps_existing_ones(
    store: Store,
) -> None:
    store.keyring = TEST_KEYRING
    with store.transaction() as session:  # recorded before ids were keyed: kept as it is
        session.execute(
            insert(Person).values(worker_id="10001", opaque_id="p-0123456789abcdef0123")
        )
    mirror = HrisMirror(store)
    write(mirror, "workers", [worker(1), worker(2)], run=start(mirror))

    with store.reading() as session:
        ids = dict(session.execute(select(Person.worker_id, Person.opaque_id)).all())
    assert ids == {
        "10001": "p-0123456789abcdef0123",
        "10002": TEST_KEYRING.identity.opaque_id_for("10002"),
    }
    recorder = Recorder(store, StatementBuilder(SETTINGS))
    assert recorder.register_person("10001") == "p-0123456789abcdef0123"
    assert recorder.register_person("10003") == TEST_KEYRING.identity.opaque_id_for("10003")
