"""``mentorbridge events import`` of JSON Lines: plain and signed lines, dependency order,
idempotency, rejects, held events, strict mode."""

from __future__ import annotations

import json
import random
from pathlib import Path

from sqlalchemy import select

from mentorbridge.plugin.config import load_config
from mentorbridge.plugin.jobs.sync import sync_workday
from mentorbridge.plugin.store.db import Store
from mentorbridge.plugin.store.models import MentoringSession, OutboxStatement, Pair
from mentorbridge.plugin.store.webhook_models import WebhookEvent
from mentorbridge.plugin.webhooks.sender import EXAMPLE_SEQUENCE, example_event
from mentorbridge.plugin.webhooks.signing import signature_header
from tests.plugin.backfill.conftest import (
    SECRET,
    completed,
    counts,
    rejects_of,
    run_import,
    write_jsonl,
)


def _examples_reversed(path: Path) -> Path:
    """The shipped examples, one pair's whole story, last event first."""
    lines = [json.loads(example_event(name)) for name in reversed(EXAMPLE_SEQUENCE)]
    return write_jsonl(path, lines)


def test_import_records_a_reversed_story_in_dependency_order_and_a_second_run_changes_nothing(
    store_url: str, store: Store, env: dict[str, str], tmp_path: Path
) -> None:
    config = load_config(
        None, environ={"XDG_CONFIG_HOME": "/nonexistent"}, overrides={"store.url": store_url}
    )
    sync_workday(config, store)  # the sample tenant the examples name
    file = _examples_reversed(tmp_path / "story.jsonl")

    first = run_import(env, str(file))

    assert first.exit_code == 0, first.output
    assert f"{len(EXAMPLE_SEQUENCE)} imported, 0 already present, 0 held, 0 rejected" in (
        first.output
    )
    with store.reading() as session:
        statuses = session.scalars(select(WebhookEvent.status)).all()
        pair = session.scalar(select(Pair))
        sessions = {
            k: s for k, s in session.execute(select(MentoringSession.key, MentoringSession.status))
        }
        statements = session.scalars(select(OutboxStatement.statement_id)).all()
    assert statuses == ["processed"] * len(EXAMPLE_SEQUENCE)
    assert pair.status == "ended"  # pair.ended, first in the file, was recorded last
    assert sorted(sessions.values()) == ["cancelled", "completed"]
    before = counts(store)

    second = run_import(env, str(file))

    assert second.exit_code == 0, second.output
    assert f"0 imported, {len(EXAMPLE_SEQUENCE)} already present" in second.output
    assert counts(store) == before
    with store.reading() as session:
        assert session.scalars(select(OutboxStatement.statement_id)).all() == statements


def test_signed_lines_are_checked_against_the_secrets_and_a_bad_signature_is_rejected(
    pairs: Store, env: dict[str, str], tmp_path: Path
) -> None:
    def signed(event: dict, secret: str) -> dict:
        body = json.dumps(event)
        return {
            "signature": signature_header(body.encode(), [secret], 1_700_000_000),
            "event": body,
        }

    file = write_jsonl(
        tmp_path / "signed.jsonl",
        [
            signed(completed(1), SECRET),  # signed long ago: its age does not matter
            signed(completed(2), "whsec_someone_else_entirely_000"),
            completed(3),  # plain: trusted
        ],
    )

    result = run_import(env, str(file))

    assert result.exit_code == 1
    assert "2 imported, 0 already present, 0 held, 1 rejected" in result.output
    (reject,) = rejects_of(tmp_path / "signed.jsonl.rejects.csv")
    assert reject["line"] == "2" and reject["event_id"] == "evt-done-2"
    assert reject["reason"].startswith("signature: no v1 signature matches an active secret")
    assert counts(pairs)["completed"] == 2

    only = run_import(env, str(file), "--signed-only", "--rejects", str(tmp_path / "r.csv"))
    assert only.exit_code == 1
    lines = {r["line"]: r["reason"] for r in rejects_of(tmp_path / "r.csv")}
    assert lines.keys() == {"2", "3"} and "is not signed" in lines["3"]


def test_a_batch_with_refused_events_commits_the_rest_and_lists_every_reject(
    pairs: Store, env: dict[str, str], tmp_path: Path
) -> None:
    unknown_pair = completed(3, pair="pair-404")
    repeated_other_content = {**completed(1), "source": "elsewhere"}
    file = write_jsonl(
        tmp_path / "history.jsonl",
        [
            completed(1),
            completed(2),
            "{not json",
            unknown_pair,
            completed(4),
            completed(2),  # the same event again: counted once
            repeated_other_content,
            {"id": "evt-x", "type": "session.completed", "occurred_at": "2026-10-01T09:00:00Z"},
        ],
    )

    result = run_import(env, str(file), "--batch-size", "3")

    assert result.exit_code == 1
    assert "3 imported, 1 already present, 0 held, 4 rejected" in result.output
    rejects = {r["line"]: r for r in rejects_of(tmp_path / "history.jsonl.rejects.csv")}
    assert sorted(rejects, key=int) == ["3", "4", "7", "8"]
    assert "the body is not JSON" in rejects["3"]["reason"]
    assert rejects["4"]["event_id"] == "evt-done-3"
    assert "pair 'pair-404' is not known" in rejects["4"]["reason"]
    assert "received before with different content" in rejects["7"]["reason"]
    assert (
        "$: 'data' is a required property" in rejects["8"]["reason"]
        or "data" in (rejects["8"]["reason"])
    )
    assert "the first, line 3" in result.output
    assert counts(pairs) == {"events": 3, "completed": 3, "statements": 6}


def test_strict_stores_nothing_when_one_event_is_refused(
    pairs: Store, env: dict[str, str], tmp_path: Path
) -> None:
    refused_by_the_store = write_jsonl(
        tmp_path / "a.jsonl", [completed(1), completed(2, pair="pair-404"), completed(3)]
    )
    invalid = write_jsonl(tmp_path / "b.jsonl", [completed(1), "[]"])

    for file in (refused_by_the_store, invalid):
        result = run_import(env, str(file), "--strict")
        assert result.exit_code == 1
        assert "nothing imported: 1 lines rejected" in result.output
        assert counts(pairs) == {"events": 0, "completed": 0, "statements": 0}

    clean = run_import(env, str(write_jsonl(tmp_path / "c.jsonl", [completed(1)])), "--strict")
    assert clean.exit_code == 0 and "1 imported" in clean.output


def test_events_naming_unknown_workers_are_held_when_the_service_holds_them(
    pairs: Store, env: dict[str, str], tmp_path: Path
) -> None:
    newcomer = {
        "id": "evt-pair-new",
        "type": "pair.created",
        "occurred_at": "2026-10-01T08:00:00Z",
        "data": {
            "pair_id": "pair-new",
            "programme_id": "rm-test",
            "mentee": "EXEC-1",
            "mentor": "JUN-NEW",
            "started_on": "2026-10-01",
        },
    }
    after = completed(1, pair="pair-new", members=("EXEC-1", "JUN-NEW"))
    file = write_jsonl(tmp_path / "new.jsonl", [after, newcomer, completed(2)])

    result = run_import({**env, "MENTORBRIDGE_WEB_UNKNOWN_PEOPLE": "hold"}, str(file))

    assert result.exit_code == 0, result.output
    assert "1 imported, 0 already present, 2 held, 0 rejected" in result.output
    assert "mentorbridge events held" in result.output
    with pairs.reading() as session:
        held = session.scalars(
            select(WebhookEvent.event_id).where(WebhookEvent.status == "held")
        ).all()
    assert sorted(held) == ["evt-done-1", "evt-pair-new"]


def test_a_shuffled_file_of_many_events_is_recorded_exactly_once_in_session_order(
    pairs: Store, env: dict[str, str], tmp_path: Path
) -> None:
    events = [completed(n, pair=f"pair-{1 + n % 2}", members=_members(n)) for n in range(60)]
    random.Random(7).shuffle(events)
    file = write_jsonl(tmp_path / "many.jsonl", events)

    result = run_import(env, str(file), "--batch-size", "7")

    assert result.exit_code == 0, result.output
    with pairs.reading() as session:
        rows = session.execute(
            select(MentoringSession.key, MentoringSession.sequence)
            .join(Pair)
            .where(Pair.key == "pair-1")
            .order_by(MentoringSession.sequence)
        ).all()
    # Recorded in the order they happened, so each pair's sessions are numbered in that order.
    assert [key for key, _ in rows] == [f"sess-{n}" for n in range(0, 60, 2)]
    assert counts(pairs) == {"events": 60, "completed": 60, "statements": 120}


def _members(n: int) -> tuple[str, str]:
    return ("EXEC-2", "JUN-2") if n % 2 else ("EXEC-1", "JUN-1")


def test_hostile_lines_are_rejected_one_by_one_and_the_reject_file_is_still_written(
    pairs: Store, env: dict[str, str], tmp_path: Path
) -> None:
    file = tmp_path / "hostile.jsonl"
    file.write_bytes(
        b'{"signature": "t=1,v1=ab", "event": "{\\"id\\": \\"\\ud800\\"}"}\n'
        + b'{"id": "\\ud800", "type": "pair.ended", "occurred_at": "x", "data": {}}\n'
        + b"[" * 5000
        + b"\n\xff\xfe not utf-8\n"
        + json.dumps(completed(1)).encode()
        + b"\n"
    )

    result = run_import(env, str(file))

    assert result.exit_code == 1
    assert "1 imported, 0 already present, 0 held, 4 rejected" in result.output
    rejects = rejects_of(tmp_path / "hostile.jsonl.rejects.csv")
    assert [r["line"] for r in rejects] == ["1", "2", "3", "4"]
    assert all(r["event_id"] == "" for r in rejects)
    assert "unpaired surrogate" in rejects[0]["reason"]
    assert "levels deep" in rejects[2]["reason"] and "not UTF-8" in rejects[3]["reason"]
