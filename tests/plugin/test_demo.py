"""`mentorbridge demo`: the whole pipeline on embedded defaults, end to end."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner
from sqlalchemy import select

from plugin.cli import cli
from plugin.store.db import Store
from plugin.store.hris_models import HrisWorker
from plugin.store.models import Pair, Person


def test_demo_delivers_the_sample_programme_to_the_local_lrs(tmp_path: Path) -> None:
    directory = tmp_path / "demo"
    env = {"XDG_CONFIG_HOME": str(tmp_path / "cfg"), "XDG_DATA_HOME": str(tmp_path / "data")}
    result = CliRunner().invoke(cli, ["demo", "--dir", str(directory)], env=env)
    assert result.exit_code == 0, result.output
    out = result.output
    assert "recorded 3 pairs, 12 sessions (1 retracted), 78 statements queued" in out
    assert "delivered: 78   pending: 0   dead letters: 0" in out
    for verb, count in [
        ("attended", 12),
        ("mentored", 12),
        ("scheduled", 12),
        ("submitted", 24),
        ("planned", 3),
        ("achieved", 3),
        ("progressed", 6),
        ("voided", 6),
        ("total", 78),
    ]:
        assert f"  {verb:<12} {count}\n" in out
    assert "HRIS mirror loaded from the sample Workday tenant: 500 workers" in out
    statements = (directory / "lrs" / "fs_lrs.jsonl").read_text()
    assert len(statements.splitlines()) == 78
    assert "private reflection text" not in statements  # it stays in the store
    with (
        Store(f"sqlite:///{directory / 'mentorbridge.sqlite3'}") as store,
        store.reading() as session,
    ):
        pairs = session.scalars(select(Pair)).all()
        people = {p.id: p for p in session.scalars(select(Person))}
        workers = {w.person_id: w for w in session.scalars(select(HrisWorker))}
    assert len(pairs) == 3
    for pair in pairs:
        for person_id in (pair.mentee_id, pair.mentor_id):
            person, worker = people[person_id], workers[person_id]
            assert person.opaque_id in statements  # people appear only as opaque accounts
            assert f'"{person.worker_id}"' not in statements  # never their HRIS worker id,
            assert worker.legal_name not in statements  # their name
            assert not worker.work_email or worker.work_email not in statements  # or email
        executive, junior = workers[pair.mentee_id], workers[pair.mentor_id]
        assert executive.management_level.startswith("2") and junior.management_level.startswith(
            "6"
        )


def test_demo_runs_again_in_the_same_directory(tmp_path: Path) -> None:
    env = {"XDG_CONFIG_HOME": str(tmp_path / "cfg"), "XDG_DATA_HOME": str(tmp_path / "data")}
    for _ in range(2):
        result = CliRunner().invoke(cli, ["demo"], env=env)
        assert result.exit_code == 0, result.output
    assert (tmp_path / "data" / "mentorbridge" / "demo" / "mentorbridge.sqlite3").exists()


def test_demo_will_not_empty_a_directory_it_did_not_make(tmp_path: Path) -> None:
    (tmp_path / "precious.txt").write_text("keep me")
    result = CliRunner().invoke(
        cli, ["demo", "--dir", str(tmp_path)], env={"XDG_CONFIG_HOME": str(tmp_path / "cfg")}
    )
    assert result.exit_code == 2
    assert "was not made by `mentorbridge demo`; choose another --dir" in result.output
    assert (tmp_path / "precious.txt").read_text() == "keep me"
