"""Mentorbridge scaled out on one machine: several ``serve`` and ``worker`` processes on one
PostgreSQL database, with Ralph (recording every statement id it is sent, see
:mod:`tests.recording_lrs`) and the Workday test server as real child processes on 127.0.0.1.

For the scale-out test and ``bench/scale_bench.py``::

    with Cluster(store_url, directory) as cluster:
        cluster.prepare(pairs)
        cluster.start_lrs(); cluster.start_workday(200)
        urls = [cluster.start_serve() for _ in range(2)]
        cluster.start_worker(); cluster.start_worker()

Leaving the block stops every process it started (SIGTERM, then SIGKILL), whatever happened.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import httpx
from sqlalchemy import create_engine, select, text
from sqlalchemy.engine import make_url

from bench.webhook_bench import SECRET, session_completed
from mentorbridge.plugin import compose
from mentorbridge.plugin.config import load_config
from mentorbridge.plugin.store.models import OutboxStatement
from mentorbridge.plugin.webhooks.sender import EVENTS_PATH
from mentorbridge.plugin.webhooks.signing import HEADER, signature_header
from mentorbridge.xapi.localrs import LocalLRS, free_port
from tests.conftest import TEST_KEYS_ENV

__all__ = ["PROBLEMS", "Cluster", "Sent", "peak_connections", "send_events"]

ROOT = Path(__file__).resolve().parents[1]
#: What no process log may contain: the store's concurrency failures, a traceback, an error.
PROBLEMS = re.compile(
    r"deadlock|lock timeout|could not serialize|statement timeout|Traceback"
    r'|"level": "(ERROR|CRITICAL)"|^(ERROR|CRITICAL):',
    re.IGNORECASE | re.MULTILINE,
)


@dataclass
class _Child:
    name: str
    process: subprocess.Popen[bytes]
    log: Path


@dataclass
class Cluster:
    """The processes of one scaled-out installation; see the module docstring.

    Args:
        store_url: a migrated PostgreSQL database, shared by every process.
        directory: where the processes' logs, the LRS's files and the config home go.
        settings: extra ``MENTORBRIDGE_*`` variables for every Mentorbridge process.
    """

    store_url: str
    directory: Path
    settings: dict[str, str] = field(default_factory=dict)
    children: list[_Child] = field(default_factory=list)
    lrs: LocalLRS | None = None
    workday_url: str | None = None

    def __enter__(self) -> Cluster:
        self.directory.mkdir(parents=True, exist_ok=True)
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop()

    # -- the environment every Mentorbridge process shares ---------------------------------

    def environment(self) -> dict[str, str]:
        env = {
            **os.environ,
            "PYTHONUNBUFFERED": "1",
            "XDG_CONFIG_HOME": str(self.directory / "config"),
            "MENTORBRIDGE_STORE_URL": self.store_url,
            **TEST_KEYS_ENV,
            "MENTORBRIDGE_WEB_SIGNING_SECRET": SECRET,
            "MENTORBRIDGE_LOGGING_LEVEL": "INFO",
        }
        if self.lrs is not None:
            env["MENTORBRIDGE_LRS_ENDPOINT"] = self.lrs.endpoint
            env["MENTORBRIDGE_LRS_PASSWORD_FILE"] = str(self.lrs.password_file)
        if self.workday_url is not None:
            env.update(
                MENTORBRIDGE_WORKDAY_SOURCE="api",
                MENTORBRIDGE_WORKDAY_HOST=self.workday_url,
                MENTORBRIDGE_WORKDAY_TENANT="acme",
                MENTORBRIDGE_WORKDAY_CLIENT_ID="mentorbridge",
                MENTORBRIDGE_WORKDAY_CLIENT_SECRET="client-secret-1",
                MENTORBRIDGE_WORKDAY_REFRESH_TOKEN="refresh-token-1",
                MENTORBRIDGE_WORKDAY_ISU_USERNAME="ISU_Mentoring@acme",
                MENTORBRIDGE_WORKDAY_ISU_PASSWORD="isu-password-1",
                MENTORBRIDGE_WORKDAY_REPORT_OWNER="ISU_Mentoring",
                MENTORBRIDGE_WORKDAY_WORKERS_FROM="rest",
            )
        return {**env, **self.settings}

    def prepare(self, pairs: Sequence[tuple[str, str, str]]) -> None:
        """Record a programme and the people and pairs the events name."""
        config = load_config(environ=self.environment())
        with compose.open_store(config) as store:
            recorder = compose.recorder(config, store)
            recorder.register_programme("rm-scale", "Scale-out programme")
            for pair, mentee, mentor in pairs:
                recorder.register_person(mentee)
                recorder.register_person(mentor)
                recorder.create_pair(
                    key=pair,
                    programme="rm-scale",
                    mentee=mentee,
                    mentor=mentor,
                    started_on=date(2026, 1, 5),
                    cadence="fortnightly",
                    themes=["generative AI at work"],
                )

    # -- the processes --------------------------------------------------------------------

    def start_lrs(self) -> LocalLRS:
        """Ralph on a free port, recording the statement ids of every write it is sent."""
        lrs = LocalLRS(self.directory / "lrs")
        lrs.prepare()
        env = {**os.environ, **lrs.environment(), "RECORDING_LRS_FILE": str(self.sent_ids_file)}
        command = ["-m", "uvicorn", "tests.recording_lrs:app", "--host", "127.0.0.1"]
        command += ["--port", str(lrs.port), "--log-level", "warning", "--no-access-log"]
        child = self._start("lrs", command, env)
        _wait_for(child, lambda: _answers(f"http://127.0.0.1:{lrs.port}/__heartbeat__"))
        self.lrs = lrs
        return lrs

    @property
    def sent_ids_file(self) -> Path:
        return self.directory / "lrs-received-ids.txt"

    def start_workday(self, workers: int) -> str:
        """The Workday test server with a tenant of ``workers`` people."""
        child = self._start(
            "workday", ["-m", "tests.workday_server", "--workers", str(workers)], dict(os.environ)
        )
        _wait_for(child, lambda: "READY " in child.log.read_text())
        self.workday_url = re.search(r"READY (\S+)", child.log.read_text())[1]
        return self.workday_url

    def start_serve(self, workers: int = 2) -> str:
        """``mentorbridge serve`` with ``workers`` gunicorn workers; its events URL."""
        port = free_port()
        command = ["-m", "mentorbridge.plugin.cli", "serve", "--host", "127.0.0.1"]
        command += ["--port", str(port), "--workers", str(workers)]
        name = f"serve-{sum(c.name.startswith('serve') for c in self.children) + 1}"
        child = self._start(name, command, self.environment())
        base = f"http://127.0.0.1:{port}"
        booted = "Booting worker with pid"
        _wait_for(
            child,
            lambda: _answers(base + "/healthz") and child.log.read_text().count(booted) >= workers,
        )
        return base + EVENTS_PATH

    def start_worker(self) -> None:
        """``mentorbridge worker``, once its schedule runs."""
        name = f"worker-{sum(c.name.startswith('worker') for c in self.children) + 1}"
        child = self._start(name, ["-m", "mentorbridge.plugin.cli", "worker"], self.environment())
        _wait_for(child, lambda: "worker running" in child.log.read_text())

    def _start(self, name: str, command: list[str], env: dict[str, str]) -> _Child:
        log = self.directory / f"{name}.log"
        with log.open("wb") as out:
            process = subprocess.Popen(
                [sys.executable, *command], cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT
            )
        child = _Child(name, process, log)
        self.children.append(child)
        return child

    def stop_workers(self) -> None:
        """Stop the ``worker`` processes (SIGTERM), waiting for them to finish."""
        self._stop([c for c in self.children if c.name.startswith("worker")])

    def stop(self) -> None:
        """Stop every process, the last started first."""
        self._stop(list(reversed(self.children)))

    def _stop(self, children: list[_Child]) -> None:
        for child in children:
            if child.process.poll() is None:
                child.process.send_signal(signal.SIGTERM)
        for child in children:
            try:
                child.process.wait(20)
            except subprocess.TimeoutExpired:
                child.process.kill()
                child.process.wait()

    def logs(self) -> dict[str, str]:
        """Each process's output so far, by name (``serve-1``, ``worker-2``, ``lrs``…)."""
        return {c.name: c.log.read_text(errors="replace") for c in self.children}

    def peak_rss_mb(self) -> float:
        """The peak resident memory of every Mentorbridge process so far (gunicorn's workers
        included), added up."""
        return sum(
            int(re.search(r"^VmHWM:\s+(\d+)", Path(f"/proc/{pid}/status").read_text(), re.M)[1])
            / 1024
            for child in self.children
            if child.name.startswith(("serve", "worker"))
            for pid in _family(child.process.pid)
        )

    def cpu_seconds(self) -> dict[str, float]:
        """CPU time used so far by each kind of process (``serve``, ``worker``, ``lrs``,
        ``workday``), gunicorn's workers included."""
        used: Counter[str] = Counter()
        ticks = os.sysconf("SC_CLK_TCK")
        for child in self.children:
            for pid in _family(child.process.pid):
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
                used[child.name.split("-")[0]] += (int(fields[11]) + int(fields[12])) / ticks
        return {kind: round(seconds, 1) for kind, seconds in used.items()}

    def exited(self) -> dict[str, int]:
        """The processes that stopped, with their exit status."""
        return {c.name: c.process.returncode for c in self.children if c.process.poll() is not None}

    # -- what the store and the LRS hold --------------------------------------------------

    def sent_to_lrs(self) -> Counter[str]:
        """How many times each statement id was sent to the LRS."""
        if not self.sent_ids_file.exists():
            return Counter()
        return Counter(self.sent_ids_file.read_text().split())

    def outbox(self) -> dict[str, str]:
        """Each queued statement's state, by statement id."""
        config = load_config(environ=self.environment())
        with compose.open_store(config) as store, store.reading() as session:
            return dict(
                session.execute(select(OutboxStatement.statement_id, OutboxStatement.state)).all()
            )

    def wait_until_delivered(self, timeout: float, *, settle: float = 0) -> float:
        """Wait until everything queued is delivered and nothing new was queued for ``settle``
        seconds (jobs that queue statements have had their turn); the seconds until the
        outbox was last seen to drain."""
        began = time.monotonic()
        drained_at, seen = None, -1
        while True:
            states = self.outbox()
            now = time.monotonic()
            if states and set(states.values()) == {"delivered"}:
                if drained_at is None or len(states) != seen:
                    drained_at, seen = now, len(states)
                if now - drained_at >= settle:
                    return drained_at - began
            else:
                drained_at = None
            if now - began > timeout:
                left = Counter(states.values())
                raise AssertionError(f"the outbox did not drain in {timeout:g} s: {dict(left)}")
            time.sleep(0.2)


# -- the events -----------------------------------------------------------------------------


@dataclass
class Sent:
    """What sending events got: the answers' status codes, by event id, and the time taken."""

    statuses: dict[str, list[int]] = field(default_factory=dict)
    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)

    @property
    def per_second(self) -> float:
        return sum(map(len, self.statuses.values())) / self.seconds


def send_events(
    urls: Sequence[str],
    pairs: Sequence[tuple[str, str, str]],
    *,
    run: str,
    count: int,
    twice: int,
    connections: int = 8,
) -> Sent:
    """Send ``count`` new ``session.completed`` events, each signed just before it is sent,
    over ``connections`` connections spread evenly over ``urls``; the first ``twice`` of them
    are sent to two instances at the same moment (two threads released together), as a sender
    retrying a timed-out delivery would."""
    now = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=5)
    bodies = [session_completed(run, n, pairs[n % len(pairs)], now) for n in range(count)]
    sent = Sent(statuses={f"evt-{run}-{n}": [] for n in range(count)})
    lock = threading.Lock()
    clients = [httpx.Client(timeout=30) for _ in range(connections)]

    def post(client: httpx.Client, url: str, n: int) -> None:
        began = time.perf_counter()
        body = bodies[n]
        header = signature_header(body, [SECRET], int(time.time()))
        answer = client.post(
            url, content=body, headers={"Content-Type": "application/json", HEADER: header}
        )
        with lock:
            sent.statuses[f"evt-{run}-{n}"].append(answer.status_code)
            sent.latencies.append(time.perf_counter() - began)

    def both_at_once(n: int) -> None:
        together = threading.Barrier(2)

        def one(url: str) -> None:
            with httpx.Client(timeout=30) as client:
                together.wait()
                post(client, url, n)

        pair = [threading.Thread(target=one, args=(url,)) for url in (urls[0], urls[-1])]
        for thread in pair:
            thread.start()
        for thread in pair:
            thread.join()

    def lane(k: int) -> None:
        for n in range(twice + k, count, connections):
            post(clients[k], urls[k % len(urls)], n)

    began = time.perf_counter()
    with ThreadPoolExecutor(max_workers=connections + 4) as pool:
        done = [pool.submit(both_at_once, n) for n in range(twice)]
        done += [pool.submit(lane, k) for k in range(connections)]
        for future in done:
            future.result()
    sent.seconds = time.perf_counter() - began
    for client in clients:
        client.close()
    return sent


@contextmanager
def peak_connections(store_url: str) -> Iterator[list[int]]:
    """The most connections the store's database had open at once while in the block
    (sampled every 0.2 s from the server's ``pg_stat_activity``), in ``[0]``."""
    url = make_url(store_url)
    admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    seen = [0]
    stop = threading.Event()

    def sample() -> None:
        with admin.connect() as connection:
            while not stop.wait(0.2):
                count = connection.scalar(
                    text("SELECT count(*) FROM pg_stat_activity WHERE datname = :name"),
                    {"name": url.database},
                )
                seen[0] = max(seen[0], count)

    sampler = threading.Thread(target=sample)
    sampler.start()
    try:
        yield seen
    finally:
        stop.set()
        sampler.join()
        admin.dispose()


def _family(pid: int) -> list[int]:
    """``pid`` and its descendants that still run."""
    found, left = [], [pid]
    while left:
        pid = left.pop()
        try:
            left += map(int, Path(f"/proc/{pid}/task/{pid}/children").read_text().split())
        except OSError:
            continue  # it ended meanwhile
        found.append(pid)
    return found


def _answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=1).status_code < 500
    except httpx.TransportError:
        return False


def _wait_for(child: _Child, ready: Callable[[], bool], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not ready():
        if child.process.poll() is not None:
            raise AssertionError(
                f"{child.name} exited with status {child.process.returncode}:\n"
                + child.log.read_text(errors="replace")[-3000:]
            )
        if time.monotonic() > deadline:
            raise AssertionError(f"{child.name} did not start within {timeout:g} s")
        time.sleep(0.1)
