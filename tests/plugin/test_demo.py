"""`mentorbridge demo`: the whole pipeline on embedded defaults, end to end."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from plugin.cli import cli


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
    statements = (directory / "lrs" / "fs_lrs.jsonl").read_text()
    assert len(statements.splitlines()) == 78
    assert "private reflection text" not in statements  # it stays in the store
    assert "W-1001" not in statements  # HRIS worker ids never reach the LRS


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
