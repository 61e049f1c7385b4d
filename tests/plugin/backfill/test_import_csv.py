"""``mentorbridge events import`` of sessions exported from another platform as CSV."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from mentorbridge.plugin.store.db import Store
from mentorbridge.plugin.store.models import MentoringSession
from mentorbridge.plugin.store.webhook_models import WebhookEvent
from tests.plugin.backfill.conftest import counts, rejects_of, run_import

EXPORT = """\
Meeting ID,Mentee ID,Mentor ID,Kick-off,Duration (min),Topics,Status
m-1,EXEC-1,JUN-1,2026-10-01T09:00:00Z,45,generative AI at work; Gen Z customers,completed
m-2,EXEC-2,JUN-2,2026-10-02 10:00,50,,held
m-3,EXEC-1,JUN-1,yesterday,45,,completed
m-4,EXEC-1,JUN-2,2026-10-03T09:00:00Z,45,,completed
m-5,EXEC-1,JUN-1,2026-10-04T09:00:00Z,-5,,completed
m-6,EXEC-2,JUN-2,2026-10-05T09:00:00Z,45,,no-show
"""


def test_a_sessions_export_is_mapped_row_by_row_and_bad_rows_name_line_column_and_fix(
    pairs: Store, env: dict[str, str], tmp_path: Path
) -> None:
    file = tmp_path / "export.csv"
    file.write_text(EXPORT)

    result = run_import(
        env, str(file), "--column", "started_at=Kick-off", "--timezone", "Europe/Berlin"
    )

    assert result.exit_code == 1, result.output
    assert "2 imported, 0 already present, 0 held, 4 rejected" in result.output
    rejects = {r["line"]: r for r in rejects_of(tmp_path / "export.csv.rejects.csv")}
    assert sorted(rejects) == ["4", "5", "6", "7"]
    assert rejects["4"]["reason"].startswith("column started_at ('Kick-off'): 'yesterday'")
    assert "2026-03-04T10:00:00Z" in rejects["4"]["reason"]
    assert "no pair with mentee EXEC-1 and mentor JUN-2" in rejects["5"]["reason"]
    assert "pair_id" in rejects["5"]["reason"]
    assert rejects["6"]["reason"].startswith("column duration_minutes ('Duration (min)'):")
    assert "'no-show' is not a status" in rejects["7"]["reason"]
    with pairs.reading() as session:
        rows = {
            row.key: row
            for row in session.scalars(select(MentoringSession).order_by(MentoringSession.key))
        }
        ids = session.scalars(select(WebhookEvent.event_id).order_by(WebhookEvent.event_id)).all()
    assert rows["m-1"].themes == ["generative AI at work", "Gen Z customers"]
    # A time without a zone is read in --timezone: 10:00 in Berlin is 08:00 UTC in October.
    assert rows["m-2"].started_at.hour == 8 and rows["m-2"].duration_seconds == 3000
    assert ids == ["import.m-1.completed", "import.m-2.completed"]
    assert counts(pairs)["statements"] == 4

    again = run_import(
        env, str(file), "--column", "started_at=Kick-off", "--timezone", "Europe/Berlin"
    )
    assert "0 imported, 2 already present, 0 held, 4 rejected" in again.output
    assert counts(pairs)["statements"] == 4


def test_rows_naming_the_pair_by_id_take_its_members_from_the_store(
    pairs: Store, env: dict[str, str], tmp_path: Path
) -> None:
    file = tmp_path / "by-pair.csv"
    file.write_text(
        "pair_id,session_id,started_at,duration_minutes,status,occurred_at\n"
        "pair-2,s-1,2026-10-01T09:00:00Z,30,scheduled,2026-09-20T12:00:00Z\n"
        "pair-2,s-1,2026-10-01T09:00:00Z,30,completed,\n"
        "pair-9,s-2,2026-10-01T09:00:00Z,30,completed,\n"
    )

    result = run_import(env, str(file), "--source", "oldtool")

    assert result.exit_code == 1, result.output
    assert "2 imported" in result.output
    (reject,) = rejects_of(tmp_path / "by-pair.csv.rejects.csv")
    assert reject["line"] == "4" and "pair 'pair-9' is not in the store" in reject["reason"]
    with pairs.reading() as session:
        row = session.scalar(select(MentoringSession).where(MentoringSession.key == "s-1"))
        ids = set(session.scalars(select(WebhookEvent.event_id)))
    assert row.status == "completed" and row.planned_minutes == 30
    assert ids == {"oldtool.s-1.scheduled", "oldtool.s-1.completed"}


def test_a_file_without_the_columns_needed_stops_before_anything_with_the_fix(
    pairs: Store, env: dict[str, str], tmp_path: Path
) -> None:
    file = tmp_path / "other.csv"
    file.write_text("Meeting,When,Length\nm-1,2026-10-01T09:00:00Z,45\n")

    result = run_import(env, str(file), "--column", "mentee=Executive")

    assert result.exit_code == 2
    assert "the file has no column 'Executive'" in result.output
    assert "the file has no pair_id (or mentee and mentor) column" in result.output
    assert "--column started_at=HEADER" in result.output
    assert counts(pairs)["events"] == 0
    assert not (tmp_path / "other.csv.rejects.csv").exists()


def test_a_file_that_is_not_utf8_is_refused_with_exit_2(
    pairs: Store, env: dict[str, str], tmp_path: Path
) -> None:
    file = tmp_path / "latin1.csv"
    file.write_bytes(
        "session_id,pair_id,started_at,duration_minutes\nSé\xe9,pair-1\n".encode("latin-1")
    )

    result = run_import(env, str(file))

    assert result.exit_code == 2
    assert "give a readable UTF-8 file" in result.output


def test_a_file_that_is_not_csv_stops_before_anything_with_exit_2(
    pairs: Store, env: dict[str, str], tmp_path: Path
) -> None:
    file = tmp_path / "runaway.csv"
    file.write_text(
        'session_id,pair_id,started_at,duration_minutes\nm-1,pair-1,"' + "x" * 200_000 + "\n"
    )

    result = run_import(env, str(file))

    assert result.exit_code == 2
    assert "is not CSV (field larger than field limit" in result.output
    assert counts(pairs)["events"] == 0
