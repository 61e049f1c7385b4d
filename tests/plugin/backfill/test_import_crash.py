"""A crash mid-import loses the open batch only, and running the import again records every
event exactly once."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from mentorbridge.plugin import compose
from mentorbridge.plugin.backfill import dependency_order, import_events, read_jsonl
from mentorbridge.plugin.backfill.lines import Candidate
from mentorbridge.plugin.config import load_config
from mentorbridge.plugin.store.db import Store
from tests.plugin.backfill.conftest import completed, counts, run_import, write_jsonl


class Crash(Exception):
    pass


def _candidates(path: Path) -> list[Candidate]:
    read = list(read_jsonl(path, secrets=tuple))
    candidates = [c for c in read if isinstance(c, Candidate)]
    assert len(candidates) == len(read)  # every line of these files is valid
    return dependency_order(candidates)


def test_a_failure_inside_a_batch_undoes_that_batch_only_and_a_rerun_completes_it(
    pairs: Store, store_url: str, tmp_path: Path
) -> None:
    config = load_config(
        None,
        environ={"XDG_CONFIG_HOME": "/nonexistent"},
        overrides={"store.url": store_url, "lrs.auth": "none"},
    )
    processor = compose.event_processor(config, pairs)
    ordered = _candidates(write_jsonl(tmp_path / "h.jsonl", [completed(n) for n in range(12)]))

    def crash_at_the_seventh(done: int) -> None:
        if done == 7:
            raise Crash

    with pytest.raises(Crash):
        import_events(processor, ordered, batch_size=5, progress=crash_at_the_seventh)
    # The first batch is committed whole; nothing of the second (events 6 and 7) remains.
    assert counts(pairs) == {"events": 5, "completed": 5, "statements": 10}

    report = import_events(processor, ordered, batch_size=5)

    assert (report.imported, report.already_present, report.rejects) == (7, 5, [])
    assert counts(pairs) == {"events": 12, "completed": 12, "statements": 24}


def test_an_import_killed_mid_run_keeps_whole_batches_and_a_rerun_records_the_rest_once(
    pairs: Store, env: dict[str, str], tmp_path: Path
) -> None:
    total, batch = 800, 40
    file = write_jsonl(tmp_path / "big.jsonl", [completed(n) for n in range(total)])
    command = [sys.executable, "-m", "mentorbridge.plugin.cli", "events", "import", str(file)]
    child = subprocess.Popen(
        [*command, "--batch-size", str(batch)],
        env={**os.environ, **env},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 120
        while counts(pairs)["events"] < 2 * batch:
            assert child.poll() is None, "the import ended before it could be killed"
            assert time.monotonic() < deadline
            time.sleep(0.05)
        child.send_signal(signal.SIGKILL)
    finally:
        child.wait(30)
    killed = counts(pairs)
    assert killed["events"] < total, "the import finished before it was killed"
    assert killed["events"] % batch == 0  # only whole batches
    assert killed == {
        "events": killed["events"],
        "completed": killed["events"],
        "statements": 2 * killed["events"],
    }

    result = run_import(env, str(file), "--batch-size", str(batch))

    assert result.exit_code == 0, result.output
    assert (
        f"{total - killed['events']} imported, {killed['events']} already present, 0 held, "
        "0 rejected"
    ) in result.output
    assert counts(pairs) == {"events": total, "completed": total, "statements": 2 * total}
