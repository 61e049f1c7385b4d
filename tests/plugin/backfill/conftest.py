"""What the import tests share: a store with two pairs, the command's environment, events."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import func, select

from mentorbridge.plugin.cli import cli
from mentorbridge.plugin.recorder import Recorder
from mentorbridge.plugin.store.db import Store
from mentorbridge.plugin.store.models import MentoringSession, OutboxStatement
from mentorbridge.plugin.store.webhook_models import WebhookEvent
from tests.conftest import keys_env

SECRET = "whsec_import_test_0123456789abcdef"
#: When the test history happens: well before any test's "now".
DAY = datetime(2026, 10, 1, 9, 0, tzinfo=UTC)


def iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def completed(
    n: int, *, pair: str = "pair-1", members: tuple[str, str] = ("EXEC-1", "JUN-1")
) -> dict[str, Any]:
    """A new ``session.completed`` event, one hour after the last."""
    started = DAY + timedelta(hours=n)
    return {
        "id": f"evt-done-{n}",
        "type": "session.completed",
        "occurred_at": iso(started + timedelta(minutes=50)),
        "source": "legacy",
        "data": {
            "pair_id": pair,
            "session_id": f"sess-{n}",
            "started_at": iso(started),
            "duration_minutes": 45,
            "attendees": list(members),
        },
    }


def write_jsonl(path: Path, lines: Iterable[dict[str, Any] | str]) -> Path:
    path.write_text(
        "".join((line if isinstance(line, str) else json.dumps(line)) + "\n" for line in lines)
    )
    return path


@pytest.fixture
def pairs(recorder: Recorder) -> Store:
    """The store, holding pair-1 (EXEC-1, JUN-1) and pair-2 (EXEC-2, JUN-2)."""
    return recorder.store


@pytest.fixture
def env(tmp_path: Path, store_url: str) -> dict[str, str]:
    return {
        "XDG_CONFIG_HOME": str(tmp_path / "cfg"),
        "MENTORBRIDGE_STORE_URL": store_url,
        "MENTORBRIDGE_LRS_AUTH": "none",
        "MENTORBRIDGE_WEB_SIGNING_SECRET": SECRET,
        **keys_env(store_url),
    }


def run_import(env: dict[str, str], *args: str) -> Result:
    result = CliRunner().invoke(cli, ["events", "import", *args], env=env)
    assert "Traceback" not in result.output
    if result.exit_code not in (0, 1, 2) or not isinstance(result.exception, SystemExit | None):
        raise AssertionError(result.output) from result.exception
    return result


def counts(store: Store) -> dict[str, int]:
    """Events recorded, completed sessions, statements queued."""
    with store.reading() as session:
        return {
            "events": session.scalar(select(func.count()).select_from(WebhookEvent)),
            "completed": session.scalar(
                select(func.count()).where(MentoringSession.status == "completed")
            ),
            "statements": session.scalar(select(func.count()).select_from(OutboxStatement)),
        }


def rejects_of(path: Path) -> list[dict[str, str]]:

    with path.open(newline="") as file:
        return list(csv.DictReader(file))
