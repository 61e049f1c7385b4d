"""Privacy export: everything held about a person, in a stable shape, and nothing of their
partner's own words (SQLite and PostgreSQL)."""

from __future__ import annotations

import json
import stat
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from mentorbridge.plugin.cli import cli
from mentorbridge.plugin.errors import UnknownReferenceError
from mentorbridge.plugin.privacy.export import FORMAT, export_person
from mentorbridge.plugin.recorder import Recorder
from mentorbridge.plugin.store.db import Store
from mentorbridge.plugin.store.hris import HrisMirror
from mentorbridge.plugin.store.webhook_models import WebhookEvent
from mentorbridge.xapi.statements import Event
from tests.conftest import keys_env
from tests.plugin.test_hris_mirror import worker

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
EXEC_WORDS = "I finally understood why our juniors avoid the intranet"
JUNIOR_WORDS = "My executive listened more than I expected"
GOAL = "Shadow the social media team for a week"


def event(n: int) -> Event:
    return Event(source="test", id=f"privacy-{n}")


def hris_records() -> dict[str, list[dict[str, Any]]]:
    """The HRIS mirror's view of the pair-1 people (EXEC-1 mentee, JUN-1 mentor)."""
    return {
        "workers": [
            worker(
                1,
                employee_id="EXEC-1",
                legal_name="Ada Lovelace",
                preferred_name="Ada",
                work_email="ada@example.com",
                manager_employee_id="EXEC-9",
                time_zone="Europe/London",
            ),
            worker(2, employee_id="JUN-1", legal_name="Grace Hopper"),
        ],
        "competency_assessments": [
            {
                "employee_id": employee,
                "competency_id": "C-DIGI",
                "level_id": "L3",
                "level": "Proficient",
                "assessed_on": "2026-06-30",
                "source": "manager",
                "last_updated": "2026-07-01T08:00:00+00:00",
            }
            for employee in ("EXEC-1", "JUN-1")
        ],
        "succession_plans": [
            {
                "position_id": "POS-CFO",
                "position": "Chief Financial Officer",
                "incumbent_employee_id": "EXEC-9",
                "last_updated": "2026-07-01T08:00:00+00:00",
                "candidates": [
                    {
                        "employee_id": employee,
                        "readiness_id": "R1",
                        "readiness": "Ready in 1-2 years",
                        "top_candidate": employee == "EXEC-1",
                        "temporary_fill": False,
                    }
                    for employee in ("EXEC-1", "JUN-1")
                ],
            }
        ],
    }


def sync_hris(store: Store, records: dict[str, list[dict[str, Any]]] | None = None) -> Any:
    """Write the records through the HRIS sink, as a sync run does; returns its counts."""
    mirror = HrisMirror(store)
    run = mirror.start_run("workday", "full", False)
    return {
        stream: mirror.write("workday", stream, rows, bookmark=None, run_id=run, dry_run=False)
        for stream, rows in (records or hris_records()).items()
    }


def build_record(recorder: Recorder, store: Store) -> dict[str, Any]:
    """A programme's worth of activity for pair-1 (and a little for pair-2); the ids queued."""
    sync_hris(store)
    attended, mentored = recorder.complete_session(
        event(1), pair="pair-1", session_key="s-1", started_at=T0, duration_minutes=45
    ).statement_ids
    recorder.complete_session(
        event(2), pair="pair-2", session_key="s-2", started_at=T0, duration_minutes=30
    )
    (exec_reflection,) = recorder.submit_reflection(
        event(3),
        session_key="s-1",
        reflection_key="r-exec",
        author="EXEC-1",
        text=EXEC_WORDS,
        visibility="private",
        submitted_at=T0 + timedelta(hours=1),
    ).statement_ids
    (junior_reflection,) = recorder.submit_reflection(
        event(4),
        session_key="s-1",
        reflection_key="r-junior",
        author="JUN-1",
        text=JUNIOR_WORDS,
        visibility="pair",
        submitted_at=T0 + timedelta(hours=2),
    ).statement_ids
    (goal,) = recorder.set_goal(
        event(5),
        pair="pair-1",
        goal_key="g-exec",
        owner="EXEC-1",
        title=GOAL,
        target_date=date(2027, 1, 31),
        session_key="s-1",
        set_at=T0 + timedelta(hours=1),
    ).statement_ids
    rating = dict(
        session_key="s-1",
        competency="https://hr.example.com/c/digital",
        competency_name="Digital fluency",
        scale=(1, 5),
        rated_at=T0 + timedelta(hours=3),
    )
    (exec_evidence,) = recorder.rate_outcome(
        event(6), outcome_key="o-exec", subject="EXEC-1", rater="JUN-1", rating=4,
        released=True, **rating,
    ).statement_ids  # fmt: skip
    (junior_evidence,) = recorder.rate_outcome(
        event(7), outcome_key="o-junior", subject="JUN-1", rater="EXEC-1", rating=3,
        released=True, **rating,
    ).statement_ids  # fmt: skip
    with store.transaction() as session:
        session.add(
            WebhookEvent(
                event_id="evt-held-1",
                type="reflection.submitted",
                source="forms",
                body_sha256="0" * 64,
                status="held",
                result={"status": "held", "reason": "worker 'EXEC-1' is not known"},
                payload={"data": {"author": "EXEC-1", "text": "held words of Ada"}},
            )
        )
    return {
        "attended": attended,
        "mentored": mentored,
        "exec_reflection": exec_reflection,
        "junior_reflection": junior_reflection,
        "goal": goal,
        "exec_evidence": exec_evidence,
        "junior_evidence": junior_evidence,
    }


def test_export_holds_everything_about_the_person(recorder: Recorder, store: Store) -> None:
    ids = build_record(recorder, store)
    document = export_person(store, "EXEC-1")

    assert document["format"] == FORMAT and document["worker_id"] == "EXEC-1"
    (hris,) = document["hris"]["workers"]
    assert (hris["legal_name"], hris["work_email"], hris["time_zone"]) == (
        "Ada Lovelace",
        "ada@example.com",
        "Europe/London",
    )
    assert hris["manager_employee_id"] == "EXEC-9"
    assert [a["employee_id"] for a in document["hris"]["competency_assessments"]] == ["EXEC-1"]
    (candidacy,) = document["hris"]["succession_candidacies"]
    assert (candidacy["position_id"], candidacy["top_candidate"]) == ("POS-CFO", True)

    programme = document["programme"]
    assert [(p["pair_id"], p["role"], p["partner_worker_id"]) for p in programme["pairs"]] == [
        ("pair-1", "mentee", "JUN-1")
    ]
    assert [s["session_id"] for s in programme["sessions"]] == ["s-1"]
    assert [(g["goal_id"], g["title"]) for g in programme["goals"]] == [("g-exec", GOAL)]
    assert [(o["outcome_id"], o["role"], o["released"]) for o in programme["outcomes"]] == [
        ("o-exec", "subject", True),
        ("o-junior", "rater", True),
    ]
    assert [e["event_id"] for e in document["webhook_events"]] == ["evt-held-1"]

    statements = {s["statement_id"]: s["names_them_as"] for s in document["statements"]}
    assert statements[ids["attended"]] == "actor"
    assert statements[ids["mentored"]] == "participant"  # the mentor's, naming their mentee
    assert statements[ids["exec_reflection"]] == "actor"
    assert statements[ids["goal"]] == "actor"
    assert statements[ids["exec_evidence"]] == "actor"
    assert ids["junior_evidence"] not in statements  # names only the mentor it is about
    assert all(s["state"] == "queued" and s["voided_by"] is None for s in document["statements"])


def test_export_includes_own_reflections_and_never_the_partners_words(
    recorder: Recorder, store: Store
) -> None:
    build_record(recorder, store)
    document = export_person(store, "EXEC-1")
    reflections = document["programme"]["reflections"]
    assert [(r["reflection_id"], r["text"], r["visibility"]) for r in reflections] == [
        ("r-exec", EXEC_WORDS, "private")
    ]
    left_out = document["programme"]["reflections_not_included"]
    assert left_out["count"] == 1 and "other participant" in left_out["reason"]
    assert JUNIOR_WORDS not in json.dumps(document)


def test_export_of_a_mentor_shows_the_pair_from_their_side(
    recorder: Recorder, store: Store
) -> None:
    ids = build_record(recorder, store)
    document = export_person(store, "JUN-1")
    assert [(p["role"], p["partner_worker_id"]) for p in document["programme"]["pairs"]] == [
        ("mentor", "EXEC-1")
    ]
    statements = {s["statement_id"]: s["names_them_as"] for s in document["statements"]}
    assert statements[ids["mentored"]] == "actor"
    assert statements[ids["attended"]] == "participant"
    assert ids["exec_reflection"] not in statements  # Ada's reflection names only Ada
    assert document["programme"]["goals"] == []
    assert document["webhook_events"] == []
    assert EXEC_WORDS not in json.dumps(document) and GOAL not in json.dumps(document)


def test_export_of_an_unknown_worker_is_a_clear_error(store: Store) -> None:
    with pytest.raises(UnknownReferenceError, match="worker 'NOBODY' is not known"):
        export_person(store, "NOBODY")


def run(store_url: str, tmp_path: Path, *args: str) -> Any:
    env = {
        "XDG_CONFIG_HOME": str(tmp_path / "cfg"),
        "MENTORBRIDGE_STORE_URL": store_url,
        **keys_env(store_url),
    }
    return CliRunner().invoke(cli, list(args), env=env)


def test_person_export_writes_a_file_only_its_owner_can_read(
    recorder: Recorder, store: Store, store_url: str, tmp_path: Path
) -> None:
    build_record(recorder, store)
    target = tmp_path / "ada.json"
    result = run(store_url, tmp_path, "person", "export", "EXEC-1", "--output", str(target))
    assert result.exit_code == 0, result.output
    assert json.loads(target.read_text("utf-8"))["worker_id"] == "EXEC-1"
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    printed = run(store_url, tmp_path, "person", "export", "EXEC-1")
    assert json.loads(printed.stdout)["programme"]["goals"][0]["title"] == GOAL


def test_person_export_of_an_unknown_worker_is_one_line_and_exit_1(
    store: Store, store_url: str, tmp_path: Path
) -> None:
    result = run(store_url, tmp_path, "person", "export", "NOBODY")
    assert result.exit_code == 1
    assert result.output.startswith("mentorbridge: worker 'NOBODY' is not known")
    assert len(result.output.strip().splitlines()) == 1 and "Traceback" not in result.output
