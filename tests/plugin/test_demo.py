"""`mentorbridge demo`: the whole pipeline on embedded defaults, end to end."""

from __future__ import annotations

import os
import pty
import re
import signal
import subprocess
import sys
from pathlib import Path

import httpx
from click.testing import CliRunner
from sqlalchemy import func, select

from mentorbridge.plugin.cli import cli
from mentorbridge.plugin.mapping.file import load_mapping
from mentorbridge.plugin.store.db import Store
from mentorbridge.plugin.store.evidence_models import CompetencyEvidence
from mentorbridge.plugin.store.hris_models import HrisWorker
from mentorbridge.plugin.store.lms_models import MoodleEvidencePush, MoodleUser
from mentorbridge.plugin.store.models import Pair, Person, Reflection
from mentorbridge.plugin.store.sync_models import SyncRun
from mentorbridge.plugin.store.webhook_models import WebhookEvent


def test_demo_posts_a_programme_over_http_and_delivers_it_to_the_local_lrs(
    tmp_path: Path,
) -> None:
    directory = tmp_path / "demo"
    env = {"XDG_CONFIG_HOME": str(tmp_path / "cfg"), "XDG_DATA_HOME": str(tmp_path / "data")}
    result = CliRunner().invoke(cli, ["demo", "--dir", str(directory)], env=env)
    assert result.exit_code == 0, result.output
    out = result.output
    assert "HRIS mirror loaded from the sample Workday tenant: 500 workers" in out
    assert (
        "pairing: 28 pairs proposed pool-wide from 28 executives and 90 junior mentors, none "
        "inside a reporting line; the best 20 approved" in out
    )
    assert "posting 557 signed events for 20 pairs to /webhooks/v1/events" in out
    # 20 pairs x 6 sessions; one session booked, called off and booked again.
    for event_type, count in [
        ("session.scheduled", 121),
        ("session.completed", 120),
        ("session.cancelled", 1),
        ("reflection.submitted", 240),
        ("goal.set", 20),
        ("goal.achieved", 15),
        ("outcome.rated", 40),
    ]:
        assert f"  {event_type:<22} {count:>4} x 202 accepted\n" in out
    assert "delivered a second time\n      → 200: the first delivery's answer again" in out
    assert "altered after signing (rating raised)\n      → 401: no v1 signature matches" in out
    assert "a worker the HRIS does not know\n      → 422: worker '99999' is not known" in out
    for verb, count in [
        ("scheduled", 121),
        ("attended", 120),
        ("mentored", 120),
        ("submitted", 240),
        ("planned", 20),
        ("achieved", 15),
        ("progressed", 20),  # only released ratings become competency evidence
        ("voided", 1),  # the called-off session's booking
        ("total", 657),
    ]:
        assert f"  {verb:<12} {count}\n" in out
    assert "/transcript?learner=" in out
    assert "sessions attended: 6, sessions given: 0" in out
    assert "6 of its 6 session lines confirmed in the LRS" in out
    # A counter, not a log line per request: the whole run fits on a screen or two.
    assert "posted 560 deliveries in" in out
    assert "mentorbridge.web.access" not in out and "POST /webhooks" not in out
    assert len(out.splitlines()) <= 85, out

    with (
        Store(f"sqlite:///{directory / 'mentorbridge.sqlite3'}") as store,
        store.reading() as session,
    ):
        evidence = session.execute(
            select(
                Person.worker_id, CompetencyEvidence.competency_key, CompetencyEvidence.level_name
            )
            .join(Person, Person.id == CompetencyEvidence.person_id)
            .where(CompetencyEvidence.status == "current")
        ).all()
    mapping = load_mapping(None)
    names = {(w, mapping.competencies[key].name): level for w, key, level in evidence}
    assert (
        f"mapper (default mapping): {len(evidence)} competency evidence records for "
        f"{len({w for w, _, _ in evidence})} people, {len(evidence)} competency-level statements "
        "delivered" in out
    )
    summary = out[out.index("succession summary") : out.index("the same executive in Moodle")]
    shown = re.findall(r"^    (\S+) .*\n((?:      .*\n)+)", summary, re.MULTILINE)
    assert len(re.findall(r"^  P-\d+  ", summary, re.MULTILINE)) == 3
    assert shown  # candidates with evidence, each line beside the required level
    for worker_id, lines in shown:
        for competency, level in re.findall(r"^      (.+?)\s+evidence (\S+)", lines, re.M):
            assert names.get((worker_id, competency.strip()), "none") == level
    report = (directory / "succession-report.html").read_text("utf-8")
    assert "succession-report.html" in out and report.lower().startswith("<!doctype html>")
    assert "<svg" in report and "http://" not in report.replace("http://www.w3.org", "")

    # The programme's 657 statements and one competency-level statement per evidence record.
    assert f"delivered: {657 + len(evidence)}   pending: 0   dead letters: 0" in out
    statements = (directory / "lrs" / "fs_lrs.jsonl").read_text()
    assert len(statements.splitlines()) == 657 + len(evidence)
    assert "private reflection text" not in statements  # it stays in the store
    assert "Run a team retro" not in statements  # as does a goal's wording
    with (
        Store(f"sqlite:///{directory / 'mentorbridge.sqlite3'}") as store,
        store.reading() as session,
    ):
        pairs = session.scalars(select(Pair)).all()
        people = {p.id: p for p in session.scalars(select(Person))}
        workers = {w.person_id: w for w in session.scalars(select(HrisWorker))}
        refused = session.scalars(
            select(WebhookEvent).where(
                WebhookEvent.event_id.in_(["evt-tampered", "evt-unknown-worker"])
            )
        ).all()
        reflections = session.scalars(select(Reflection.body)).all()
    assert refused == []  # nothing of a refused event is kept
    assert len(reflections) == 240 and all("private reflection text" in t for t in reflections)
    assert len(pairs) == 20
    for pair in pairs:
        for person_id in (pair.mentee_id, pair.mentor_id):
            person, worker = people[person_id], workers[person_id]
            assert person.opaque_id in statements  # people appear only as opaque accounts
            assert f'"{person.worker_id}"' not in statements  # never their HRIS worker id,
            assert worker.legal_name not in statements  # their name
            assert not worker.work_email or worker.work_email not in statements  # or email
        executive, junior = workers[pair.mentee_id], workers[pair.mentor_id]
        assert executive.management_level[:1] in ("2", "3")
        assert junior.management_level.startswith("6")
    assert_pushed_to_moodle(out, directory)


def assert_pushed_to_moodle(out: str, directory: Path) -> None:
    """The push reached every participant, and one plan was read back from the site."""
    with (
        Store(f"sqlite:///{directory / 'mentorbridge.sqlite3'}") as store,
        store.reading() as session,
    ):
        (run,) = session.scalars(select(SyncRun).where(SyncRun.connector == "moodle")).all()
        users = session.scalar(select(func.count()).select_from(MoodleUser))
        written = session.scalars(
            select(MoodleEvidencePush).where(MoodleEvidencePush.state == "done")
        ).all()
        evidence = session.scalar(select(func.count()).select_from(CompetencyEvidence))
    assert run.status == "succeeded" and run.errors == []
    assert users == 40  # 20 pairs, two people each
    assert 0 < len(written) == evidence  # every evidence record rated once
    assert all(w.moodle_evidence_id for w in written)
    assert (
        f"pushed to Moodle: 40 users created, 8 competencies in the framework, 40 enrolled in "
        f"the course, 40 learning plans, {len(written)} ratings with notes" in out
    )
    plan = out[out.index("the same executive in Moodle") : out.index("where the data lives")]
    notes = re.findall(r"note: (.*)", plan)
    assert notes and all(re.search(r"\[mentorbridge evidence \d+ r\d+\]$", n) for n in notes)
    assert "private reflection text" not in plan
    assert "programme course: 3 of 3 milestone activities complete" in plan


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


def test_demo_keeps_serving_so_the_transcript_link_opens(tmp_path: Path) -> None:
    env = {**os.environ, "XDG_CONFIG_HOME": str(tmp_path / "cfg"), "PYTHONUNBUFFERED": "1"}
    command = [
        sys.executable,
        "-m",
        "mentorbridge.plugin.cli",
        "demo",
        "--dir",
        str(tmp_path / "demo"),
    ]
    demo = subprocess.Popen(
        [*command, "--keep-serving"],
        env=env,
        stdout=subprocess.PIPE,
        text=True,
        # As a terminal starts it: a shell's background job would otherwise pass on an
        # ignored SIGINT, and the Ctrl-C below would never arrive.
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    try:
        lines = []
        for line in demo.stdout:
            lines.append(line)
            if "serving until Ctrl-C" in line:
                break
        url = next(line.strip() for line in lines if "/transcript?learner=" in line)
        page = httpx.get(url, headers={"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"})
        assert page.status_code == 200
        assert "text/html" in page.headers["content-type"]
        assert "Reverse mentoring 2026" in page.text
        assert httpx.get(url.replace("sig=", "sig=0")).status_code == 401
        demo.send_signal(signal.SIGINT)
        assert demo.wait(30) == 0
    finally:
        demo.kill()
        demo.wait()
        demo.stdout.close()


def _strip_terminal_codes(raw: bytes) -> str:
    text = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", raw.decode("utf-8", "replace"))
    # A line redrawn in place (carriage return) shows its last state only.
    return "\n".join(line.split("\r")[-1] for line in text.replace("\r\n", "\n").split("\n"))


def test_demo_on_a_terminal_shows_a_progress_bar_and_no_request_log(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "XDG_CONFIG_HOME": str(tmp_path / "cfg"),
        "XDG_DATA_HOME": str(tmp_path / "data"),
        "COLUMNS": "100",
    }
    controller, terminal = pty.openpty()
    demo = subprocess.Popen(
        [sys.executable, "-m", "mentorbridge.plugin.cli", "demo"],
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=terminal,
        stderr=terminal,  # logs would land on the same screen
    )
    os.close(terminal)
    raw = b""
    try:
        while True:
            try:
                chunk = os.read(controller, 65536)
            except OSError:  # the demo closed the terminal: it has ended
                break
            if not chunk:
                break
            raw += chunk
        assert demo.wait(timeout=60) == 0, raw.decode("utf-8", "replace")
    finally:
        os.close(controller)
        demo.kill()
        demo.wait()
    screen = _strip_terminal_codes(raw)
    assert "mentorbridge.web.access" not in screen and "POST /webhooks" not in screen, screen
    assert re.search(r"^posting .* 560/560 deliveries", screen, re.MULTILINE), screen
    assert "how the service answered:" in screen
    assert "  session.completed       120 x 202 accepted" in screen
    assert re.search(r"^delivered: \d+   pending: 0   dead letters: 0", screen, re.M), screen
    assert "succession summary" in screen
    assert len(screen.strip().splitlines()) <= 85, screen
