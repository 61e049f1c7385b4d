"""LTI benchmark: launch latency against the local LTI 1.3 platform, side by side with the bare
transcript page, and the AGS push of a large course's scores.

**Launches.** A fresh SQLite store holds a programme (``--pairs`` pairs, built as the tests build
theirs); ``mentorbridge serve`` runs it under gunicorn (``--workers`` sync workers, a process of
its own); the local platform (``tests/lti_platform``, Moodle flavour) runs in this process with
the tool registered by hand and the pairs' people enrolled as learners, their ID number (LIS
person sourcedid) their Employee ID. An open-loop generator starts ``--rate`` launches a second
for ``--seconds`` (launch n is due at n / rate, whatever happened to the ones before it), each
as a browser does it: GET the tool's login initiation (redirect not followed), GET the
platform's ``/auth`` (which signs the id_token), POST its form to the tool's ``/lti/launch``;
the latency runs from the moment the launch was due to the transcript received. Then the same
schedule GETs the bare transcript page with a signed link (``mentorbridge transcript link``):
the baseline. The tool's own time per request comes from its JSON access log
(``duration_ms``, inside Flask). Every launch must answer 200 with its learner's transcript,
and every login state in the store must have been spent once.

**Where a launch's time goes.** ``--profile-launches`` launches through Flask's test client in
this process, with cProfile on around the tool's two requests only (the platform's part is a
direct call, outside the profile): the shares of the launch's stages.

**AGS push.** A store with ``--participants`` people (HRIS workers with Employee IDs, in pairs
with 0-6 completed sessions and the executives' goals, inserted in bulk), the platform with
all of them enrolled in one course, one learner launch (so the tool knows the course's roster
and gradebook URLs), then ``run_courses(scores=True)`` three times, each in a child process
(time inside it, peak RSS from ``VmHWM``): ``first`` (links every member from the roster and
posts every score), ``rerun`` (nothing changed: no score may be posted), ``changed`` (after a
completed session was added for ``--changed`` of the participants: exactly their scores). The
platform must then hold every participant's score with the sessions they held. It runs once
per ``--page-sizes`` entry: the platform's NRPS/AGS page size (``all``: one page, which is what
Moodle answers a tool that sends no ``limit``, as this one does).

See bench/README.md for the targets and the last figures.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import os
import platform as host_platform
import pstats
import random
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import requests
from sqlalchemy import func, insert, select

from bench.common import ROOT, peak_rss_mb
from mentorbridge.plugin.config import load_config
from mentorbridge.plugin.lti import services_run
from mentorbridge.plugin.lti.advantage import AdvantageClient
from mentorbridge.plugin.lti.keys import ToolKeys
from mentorbridge.plugin.lti.platforms import Platforms
from mentorbridge.plugin.lti.tool import LtiTool
from mentorbridge.plugin.reports.transcript_links import LinkSigner
from mentorbridge.plugin.store.db import Store
from mentorbridge.plugin.store.hris_models import HrisWorker
from mentorbridge.plugin.store.lti_models import LtiLaunchState, LtiScore, LtiUserLink
from mentorbridge.plugin.store.migrate import upgrade
from mentorbridge.plugin.store.models import Goal, MentoringSession, Pair, Person, Programme
from mentorbridge.plugin.web import create_app
from mentorbridge.xapi.localrs import free_port
from tests.connectors.moodle.programme import build
from tests.lti_platform import LaunchForm, LocalPlatform
from tests.plugin.lti.tool_server import launch as browser_launch
from tests.plugin.lti.tool_server import serve_tool

LINK_SECRET = "bench-link-secret-0123456789"
LEARNER = "http://purl.imsglobal.org/vocab/lis/v2/membership#Learner"
COURSE = "c-1"
CUSTOM = {"employee_id": "$Person.sourcedId"}  # what dynamic registration asks Moodle for
TARGET = 6  # lti.sessions_target's default: the score's maximum
T0 = datetime(2026, 9, 1, 9, 0, tzinfo=UTC)
BATCH = 10_000
#: Launch stages, by the functions the profile sums (module suffix, function name).
STAGES = (
    ("OIDC login: checks, state row written", "plugin/lti/launch.py", "login"),
    ("id_token verified (JWT, RS256)", "plugin/lti/launch.py", "verify"),
    ("state spent (one write transaction)", "plugin/lti/launch.py", "_spend_state"),
    ("course remembered (write transaction)", "plugin/lti/courses.py", "remember_course"),
    ("learner linked (write transaction)", "plugin/lti/linking.py", "link_user"),
    ("transcript read from the store", "plugin/reports/transcript.py", "read_transcript"),
    ("page rendered (Jinja)", "flask/templating.py", "render_template"),
)
#: Parts of the stages above worth naming (they overlap them).
WITHIN = (
    ("platform looked up (Platforms.find: at login and at launch)", "plugin/lti/platforms.py",
     "find"),
    ("RSA signature check (PyJWT)", "jwt/algorithms.py", "verify"),
    ("templates re-read for the CSP hashes (headers._blocks)", "plugin/web/headers.py", "_blocks"),
)  # fmt: skip


# -- small helpers ----------------------------------------------------------------------------


def percentiles(values: list[float]) -> dict[str, float]:
    """p50, p90, p99 and max of seconds, in ms (nearest rank)."""
    if not values:
        return {}
    ordered = sorted(values)

    def at(q: float) -> float:
        return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000, 1)

    return {
        "p50_ms": at(0.50),
        "p90_ms": at(0.90),
        "p99_ms": at(0.99),
        "max_ms": round(ordered[-1] * 1000, 1),
    }


def ms_percentiles(values: list[float]) -> dict[str, float]:
    return percentiles([v / 1000 for v in values])


def _insert(connection: Any, model: Any, rows: list[dict[str, Any]]) -> None:
    for start in range(0, len(rows), BATCH):
        connection.execute(insert(model), rows[start : start + BATCH])


def child_peaks(pid: int) -> list[float]:
    """Peak RSS (MB) of a process's children: gunicorn's workers."""
    peaks = []
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        return peaks
    for child in children:
        try:
            for line in Path(f"/proc/{child}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    peaks.append(round(int(line.split()[1]) / 1024, 1))
        except OSError:
            continue
    return peaks


# -- the platform and the tool ----------------------------------------------------------------


def register(platform: LocalPlatform, store: Store, tool_url: str, **more: Any) -> Any:
    """The tool registered by hand on both sides (as ``register_manually`` in the tests)."""
    registered = platform.register_tool(
        initiate_login_uri=f"{tool_url}/lti/login",
        redirect_uris=[f"{tool_url}/lti/launch"],
        jwks_uri=f"{tool_url}/.well-known/jwks.json",
        target_link_uri=f"{tool_url}/lti/launch",
        custom_parameters=CUSTOM,
        **more,
    )
    Platforms(store).add(
        issuer=platform.issuer,
        client_id=registered.client_id,
        auth_login_url=platform.authorization_endpoint,
        jwks_url=platform.jwks_url,
        auth_token_url=platform.token_endpoint,
        deployments=[registered.deployment_id],
    )
    return registered


def tool_env(store_url: str, public_url: str, work: Path) -> dict[str, str]:
    return {
        **os.environ,
        "PYTHONUNBUFFERED": "1",
        "XDG_CONFIG_HOME": str(work),  # no config file of the user's
        "MENTORBRIDGE_STORE_URL": store_url,
        "MENTORBRIDGE_LRS_AUTH": "none",
        "MENTORBRIDGE_WEB_PUBLIC_URL": public_url,
        "MENTORBRIDGE_WEB_LINK_SECRET": LINK_SECRET,
        "MENTORBRIDGE_LOGGING_FORMAT": "json",
    }


@contextmanager
def gunicorn_tool(
    store_url: str, port: int, workers: int, work: Path, log: Path
) -> Iterator[subprocess.Popen[bytes]]:
    """``mentorbridge serve`` on 127.0.0.1:port with ``workers`` sync workers."""
    base = f"http://127.0.0.1:{port}"
    command = [sys.executable, "-m", "mentorbridge.plugin.cli", "serve"]
    command += ["--host", "127.0.0.1", "--port", str(port), "--workers", str(workers)]
    with log.open("w") as out:
        server = subprocess.Popen(
            command,
            cwd=ROOT,
            env=tool_env(store_url, base, work),
            stdout=out,
            stderr=subprocess.STDOUT,
        )
        try:
            for _ in range(300):
                if server.poll() is not None:
                    raise SystemExit(f"the tool exited with status {server.returncode}: see {log}")
                try:
                    requests.get(base + "/healthz", timeout=1)
                    time.sleep(1.0)  # every worker booted, not only the first
                    break
                except requests.ConnectionError:
                    time.sleep(0.1)
            else:
                raise SystemExit("the tool did not start within 30 s")
            yield server
        finally:
            server.send_signal(signal.SIGTERM)
            server.wait(30)


# -- the open-loop generator ------------------------------------------------------------------


@dataclass
class Sample:
    """One request (or launch) of the schedule."""

    due: float = 0.0
    began: float = 0.0
    ended: float = 0.0
    ok: bool = False
    problem: str | None = None
    steps: dict[str, float] = field(default_factory=dict)

    @property
    def latency(self) -> float:
        return self.ended - self.due


def open_loop(task: Callable[[int, Sample], None], count: int, rate: float) -> list[Sample]:
    """``task(n, sample)`` for n in range(count), n due at ``n / rate`` s from now; enough
    threads that a slow one never holds back the schedule."""
    samples = [Sample() for _ in range(count)]

    def run(n: int) -> None:
        sample = samples[n]
        sample.began = time.perf_counter()
        try:
            task(n, sample)
        except Exception as err:
            sample.ok, sample.problem = False, f"{type(err).__name__}: {err}"
        sample.ended = time.perf_counter()

    start = time.perf_counter() + 0.2
    with ThreadPoolExecutor(max_workers=96) as pool:
        for n in range(count):
            samples[n].due = due = start + n / rate
            pause = due - time.perf_counter()
            if pause > 0:
                time.sleep(pause)
            pool.submit(run, n)
    return samples


def summarise_samples(samples: list[Sample], rate: float) -> dict[str, Any]:
    ok = [s for s in samples if s.ok]
    span = max(s.ended for s in samples) - samples[0].due
    steps: dict[str, list[float]] = {}
    for s in ok:
        for name, seconds in s.steps.items():
            steps.setdefault(name, []).append(seconds)
    problems = Counter(s.problem for s in samples if not s.ok)
    return {
        "scheduled_per_s": rate,
        "requests": len(samples),
        "errors": len(samples) - len(ok),
        "problems": dict(problems.most_common(5)),
        "completed_per_s": round(len(samples) / span, 2),
        **percentiles([s.latency for s in ok]),
        "late_start_max_ms": round(max(s.began - s.due for s in samples) * 1000, 1),
        "steps": {name: percentiles(values) for name, values in steps.items()},
    }


# -- launch latency ---------------------------------------------------------------------------


def people(pairs: int) -> list[tuple[str, str, str]]:
    """(LMS user id, Employee ID, name) of the programme ``build`` makes."""
    out = []
    for n in range(1, pairs + 1):
        out.append((f"u-E-{n}", f"E-{n}", f"Executive Number{n}"))
        out.append((f"u-J-{n}", f"J-{n}", f"Junior Mentor{n}"))
    return out


def enrol_learners(platform: LocalPlatform, learners: list[tuple[str, str, str]]) -> None:
    platform.add_course(context_id=COURSE, title="Reverse mentoring programme", label="RMP")
    for sub, employee, name in learners:
        platform.add_user(sub=sub, name=name, email=f"{sub}@example.com", person_sourcedid=employee)
        platform.enrol(COURSE, sub, roles=[LEARNER])


def is_transcript(page: requests.Response, name: str) -> bool:
    return page.status_code == 200 and "sessions attended" in page.text and name in page.text


def launch_task(
    platform: LocalPlatform, client_id: str, learners: list[tuple[str, str, str]], tag: str
) -> Callable[[int, Sample], None]:
    """One launch as a browser makes it; each step's time in ``sample.steps``."""

    def task(n: int, sample: Sample) -> None:
        sub, _employee, name = learners[n % len(learners)]
        browser = requests.Session()
        start = platform.start_launch(client_id, sub, COURSE)  # the LMS's link to the tool
        t0 = time.perf_counter()
        login = browser.get(
            start.url,
            params=start.params,
            allow_redirects=False,
            headers={"X-Request-Id": f"{tag}{n:05d}-login"},
            timeout=60,
        )
        t1 = time.perf_counter()
        if login.status_code != 302:
            sample.problem = f"login answered {login.status_code}"
            return
        authorised = browser.get(login.headers["Location"], timeout=60)
        t2 = time.perf_counter()
        if authorised.status_code != 200:
            sample.problem = f"the platform's /auth answered {authorised.status_code}"
            return
        form = LaunchForm.parse(authorised.text)
        page = browser.post(
            form.action,
            data=form.fields,
            headers={"Accept": "text/html", "X-Request-Id": f"{tag}{n:05d}-launch"},
            timeout=60,
        )
        t3 = time.perf_counter()
        sample.steps = {"tool: login": t1 - t0, "platform: /auth": t2 - t1, "tool: launch": t3 - t2}
        sample.ok = is_transcript(page, name)
        if not sample.ok:
            sample.problem = f"launch answered {page.status_code} without the transcript"

    return task


def bare_task(links: list[tuple[str, str]], tag: str) -> Callable[[int, Sample], None]:
    """The transcript page through a signed link (a new connection each, as for launches)."""

    def task(n: int, sample: Sample) -> None:
        url, name = links[n % len(links)]
        page = requests.get(
            url, headers={"Accept": "text/html", "X-Request-Id": f"{tag}{n:05d}"}, timeout=60
        )
        sample.ok = is_transcript(page, name)
        if not sample.ok:
            sample.problem = f"the transcript page answered {page.status_code}"

    return task


def server_times(log: Path) -> dict[str, dict[str, list[float]]]:
    """The tool's own ``duration_ms`` per run tag and route, from its JSON access log."""
    found: dict[str, dict[str, list[float]]] = {}
    for line in log.read_text().splitlines():
        if not line.startswith("{"):
            continue
        entry = json.loads(line)
        request_id, route = entry.get("request_id", ""), entry.get("route")
        # Our ids are "L00012-login", "B00012" ...; the others' are lowercase hex.
        if "duration_ms" not in entry or request_id[:1] not in ("L", "B") or route is None:
            continue
        found.setdefault(request_id[0], {}).setdefault(route, []).append(entry["duration_ms"])
    return found


def launch_latency(args: argparse.Namespace, work: Path) -> dict[str, Any]:
    store_url = f"sqlite:///{work / 'launch.sqlite3'}"
    store = Store(store_url)
    upgrade(store)
    build(store, pairs=args.pairs)
    ToolKeys(store).current()  # made once here, not raced for by the workers
    learners = people(args.pairs)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    signer = LinkSigner(LINK_SECRET, 86_400)
    links = [(signer.link(base, e, now=time.time())[0], name) for _, e, name in learners]
    count = int(args.rate * args.seconds)
    log = work / "tool.log"
    results: dict[str, Any] = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "pairs": args.pairs,
        "learners": len(learners),
        "gunicorn_workers": args.workers,
        "seconds": args.seconds,
    }
    with LocalPlatform(product="moodle") as platform:
        enrol_learners(platform, learners)
        registered = register(platform, store, base)
        with gunicorn_tool(store_url, port, args.workers, work, log) as server:
            # Warm-up, unmeasured: each worker fetches the platform's key set once and compiles
            # its templates.
            warm = max(10, 4 * args.workers)
            for label, task in (
                ("launches", launch_task(platform, registered.client_id, learners, "W")),
                ("bare", bare_task(links, "V")),
            ):
                done = open_loop(task, warm, 5.0)
                if not all(s.ok for s in done):
                    raise SystemExit(f"warm-up {label} failed: {[s.problem for s in done]}")
            print(f"launches: {count} at {args.rate:g}/s …", flush=True)
            launched = open_loop(launch_task(platform, registered.client_id, learners, "L"), count,
                                 args.rate)  # fmt: skip
            results["launch"] = summarise_samples(launched, args.rate)
            print(f"  {_line(results['launch'])}", flush=True)
            print(f"bare transcript page: {count} at {args.rate:g}/s …", flush=True)
            bare = open_loop(bare_task(links, "B"), count, args.rate)
            results["bare"] = summarise_samples(bare, args.rate)
            print(f"  {_line(results['bare'])}", flush=True)
            results["tool_peak_rss_mb"] = child_peaks(server.pid)
        refusals = platform.refusals
        if platform.errors:
            raise SystemExit(f"the platform crashed: {platform.errors[0]}")
    times = server_times(log)
    results["server_ms"] = {
        "launch": {route: ms_percentiles(v) for route, v in times.get("L", {}).items()},
        "bare": {route: ms_percentiles(v) for route, v in times.get("B", {}).items()},
    }
    with store.reading() as session:
        states = session.scalar(select(func.count()).select_from(LtiLaunchState))
        unspent = session.scalar(
            select(func.count()).select_from(LtiLaunchState).where(LtiLaunchState.used_at.is_(None))
        )
        linked = session.scalar(select(func.count()).select_from(LtiUserLink))
    store.dispose()
    expected = count + max(10, 4 * args.workers)
    results["checks"] = {
        "launch_states": states,
        "launch_states_expected": expected,
        "unspent_states": unspent,
        "links": linked,
        "platform_refusals": len(refusals),
    }
    problems = []
    if results["launch"]["errors"] or results["bare"]["errors"]:
        problems.append("not every answer was the learner's transcript")
    if states != expected or unspent:
        problems.append(f"{states} login states for {expected} launches, {unspent} unspent")
    if refusals:
        problems.append(f"the platform refused {len(refusals)} requests: {refusals[0]}")
    results["checks"]["problems"] = problems
    return results


def _line(summary: dict[str, Any]) -> str:
    return (
        f"{summary['requests']} done, {summary['errors']} errors, "
        f"{summary['completed_per_s']}/s, p50 {summary.get('p50_ms')} ms, "
        f"p99 {summary.get('p99_ms')} ms, max {summary.get('max_ms')} ms"
    )


# -- where a launch's time goes ---------------------------------------------------------------


def launch_profile(args: argparse.Namespace, work: Path) -> dict[str, Any]:
    """``--profile-launches`` launches (and as many bare pages) through Flask's test client,
    cProfile on around the tool's requests only."""
    store_url = f"sqlite:///{work / 'profile.sqlite3'}"
    store = Store(store_url)
    upgrade(store)
    build(store, pairs=args.pairs)
    public = "http://127.0.0.1:9"  # the test client needs no socket; the platform never calls it
    config = load_config(
        None,
        environ={},
        overrides={
            "store.url": store_url,
            "lrs.auth": "none",
            "web.public_url": public,
            "web.link_secret": LINK_SECRET,
            "logging.format": "json",
        },
    )
    app = create_app(config, store=store)
    learners = people(args.pairs)
    signer = LinkSigner(LINK_SECRET, 86_400)
    launches, bare = cProfile.Profile(), cProfile.Profile()
    wall = {"launch": [], "bare": []}
    with LocalPlatform(product="moodle") as platform:
        enrol_learners(platform, learners)
        registered = register(platform, store, public)
        for n in range(-5, args.profile_launches):  # five unprofiled to warm up
            sub, employee, name = learners[n % len(learners)]
            client = app.test_client()
            start = platform.start_launch(registered.client_id, sub, COURSE)
            path = start.url.removeprefix(public)
            t0 = time.perf_counter()
            if n >= 0:
                launches.enable()
            login = client.get(path, query_string=start.params)
            launches.disable()
            t1 = time.perf_counter()
            form = platform.authorize_location(login.headers["Location"])
            t2 = time.perf_counter()
            if n >= 0:
                launches.enable()
            page = client.post(form.action.removeprefix(public), data=form.fields)
            launches.disable()
            t3 = time.perf_counter()
            if page.status_code != 200 or name not in page.get_data(as_text=True):
                raise SystemExit(f"profiled launch answered {page.status_code}")
            url = signer.link("", employee, now=time.time())[0]
            t4 = time.perf_counter()
            if n >= 0:
                bare.enable()
            answer = client.get(url, headers={"Accept": "text/html"})
            bare.disable()
            t5 = time.perf_counter()
            if answer.status_code != 200:
                raise SystemExit(f"profiled transcript answered {answer.status_code}")
            if n >= 0:
                wall["launch"].append((t1 - t0) + (t3 - t2))
                wall["bare"].append(t5 - t4)
    store.dispose()
    if args.profile:
        launches.dump_stats(str(args.profile) + ".launch.prof")
        bare.dump_stats(str(args.profile) + ".bare.prof")
    stats = pstats.Stats(launches)
    total = sum(wall["launch"])
    stages = {}
    for label, module, function in STAGES:
        seconds = _cumulative(stats, module, function)
        stages[label] = {
            "ms_per_launch": round(seconds / args.profile_launches * 1000, 2),
            "share": round(seconds / total, 3),
        }
    within = {}
    for label, module, function in WITHIN:
        seconds = _cumulative(stats, module, function)
        within[label] = {
            "ms_per_launch": round(seconds / args.profile_launches * 1000, 2),
            "share": round(seconds / total, 3),
        }
    known = sum(s["ms_per_launch"] for s in stages.values()) / 1000 * args.profile_launches
    stages["the rest: Flask, request log, metrics, cookies, headers"] = {
        "ms_per_launch": round((total - known) / args.profile_launches * 1000, 2),
        "share": round((total - known) / total, 3),
    }
    return {
        "launches": args.profile_launches,
        "note": "cProfile on: absolute times are inflated, the shares are what counts",
        "profiled_ms_per_launch": round(statistics.mean(wall["launch"]) * 1000, 2),
        "profiled_ms_per_bare_page": round(statistics.mean(wall["bare"]) * 1000, 2),
        "stages": stages,
        "within_the_stages": within,
        "top_functions": _top(stats, 15),
    }


def _cumulative(stats: pstats.Stats, module: str, function: str) -> float:
    """Seconds spent in (and under) ``function`` of ``module``, outermost calls only."""
    return sum(
        ct
        for (file, _line, name), (_cc, _nc, _tt, ct, _callers) in stats.stats.items()  # type: ignore[attr-defined]
        if name == function and file.endswith(module)
    )


def _top(stats: pstats.Stats, count: int) -> list[dict[str, Any]]:
    rows = sorted(stats.stats.items(), key=lambda item: item[1][3], reverse=True)  # type: ignore[attr-defined]
    out = []
    for (file, line, name), (_cc, calls, own, cumulative, _callers) in rows:
        if "mentorbridge" not in file and "main/plugin" not in file:
            continue
        out.append(
            {
                "function": f"{Path(file).parent.name}/{Path(file).name}:{line}({name})",
                "calls": calls,
                "own_s": round(own, 3),
                "cumulative_s": round(cumulative, 3),
            }
        )
        if len(out) == count:
            break
    return out


# -- AGS push ---------------------------------------------------------------------------------


def participants(count: int) -> list[tuple[str, str, str]]:
    """(LMS user id, Employee ID, name) of ``count`` participants, in pairs."""
    out = []
    for pid in range(1, count + 1):
        n, executive = (pid + 1) // 2, pid % 2 == 1
        employee = f"{'E' if executive else 'J'}{n:06d}"
        out.append((f"u-{employee}", employee, f"{'Executive' if executive else 'Junior'} P{n}"))
    return out


def write_programme(store: Store, count: int, rng: random.Random) -> dict[int, int]:
    """``count // 2`` pairs, each 0-6 completed sessions (and one scheduled now and then), each
    executive a goal, achieved half the time: bulk Core inserts, seeded. Returns each pair's
    completed sessions."""
    pairs = count // 2
    held = {n: rng.randint(0, 6) for n in range(1, pairs + 1)}
    with store.engine.begin() as connection:
        connection.execute(insert(Programme), [{"id": 1, "key": "bench", "name": "Bench"}])
        persons, workers = [], []
        for pid, (_sub, employee, name) in enumerate(participants(count), 1):
            persons.append(
                {"id": pid, "worker_id": employee, "opaque_id": f"op-{pid:012d}", "active": True}
            )
            workers.append(
                {
                    "id": pid,
                    "workday_id": f"wid-{employee}",
                    "employee_id": employee,
                    "person_id": pid,
                    "worker_type": "employee",
                    "legal_name": name,
                    "work_email": f"{employee.lower()}@bench.example.com",
                    "active": True,
                    "hire_date": date(2020, 1, 1),
                    "record_hash": "bench",
                }
            )
        _insert(connection, Person, persons)
        _insert(connection, HrisWorker, workers)
        _insert(
            connection,
            Pair,
            [
                {
                    "id": n,
                    "key": f"pair-{n}",
                    "programme_id": 1,
                    "mentee_id": 2 * n - 1,
                    "mentor_id": 2 * n,
                    "registration": f"00000000-0000-4000-8000-{n:012d}",
                    "started_on": T0.date(),
                    "themes": ["generative AI at work"],
                }
                for n in range(1, pairs + 1)
            ],
        )
        sessions = []
        for n in range(1, pairs + 1):
            scheduled = rng.random() < 0.3
            for i in range(1, held[n] + 1 + scheduled):
                sessions.append(
                    {
                        "id": len(sessions) + 1,
                        "key": f"pair-{n}-s{i}",
                        "pair_id": n,
                        "sequence": i,
                        "status": "completed" if i <= held[n] else "scheduled",
                        "started_at": T0 + timedelta(days=14 * i, minutes=n % 480),
                        "duration_seconds": 2700 if i <= held[n] else None,
                        "themes": ["generative AI at work"],
                    }
                )
        _insert(connection, MentoringSession, sessions)
        _insert(
            connection,
            Goal,
            [
                {
                    "id": n,
                    "key": f"pair-{n}-g1",
                    "pair_id": n,
                    "owner_id": 2 * n - 1,
                    "title": "Use an AI assistant weekly",
                    "status": "achieved" if achieved else "planned",
                    "planned_at": T0,
                    "achieved_at": T0 + timedelta(days=30) if achieved else None,
                    "planned_statement_id": f"00000000-0000-4000-9000-{n:012d}",
                }
                for n in range(1, pairs + 1)
                for achieved in [rng.random() < 0.5]
            ],
        )
    return held


def add_sessions(store: Store, chosen: list[int], held: dict[int, int]) -> None:
    """One more completed session for each chosen pair (after any scheduled one)."""
    with store.engine.begin() as connection:
        top = dict(
            connection.execute(
                select(MentoringSession.pair_id, func.max(MentoringSession.sequence))
                .where(MentoringSession.pair_id.in_(chosen))
                .group_by(MentoringSession.pair_id)
            ).all()
        )
        next_id = connection.scalar(select(func.max(MentoringSession.id))) or 0
        rows = []
        for n in chosen:
            sequence = top.get(n, 0) + 1
            next_id += 1
            rows.append(
                {
                    "id": next_id,
                    "key": f"pair-{n}-s{sequence}",
                    "pair_id": n,
                    "sequence": sequence,
                    "status": "completed",
                    "started_at": T0 + timedelta(days=200, minutes=n % 480),
                    "duration_seconds": 2700,
                    "themes": ["generative AI at work"],
                }
            )
            held[n] += 1
        _insert(connection, MentoringSession, rows)


def child_ags(args: argparse.Namespace) -> dict[str, Any]:
    """``run_courses(scores=True)``, the roster linking and the score posting timed apart."""
    store = Store(args.store_url)
    config = load_config(
        None,
        environ={},
        overrides={"store.url": args.store_url, "lrs.auth": "none", "web.public_url": args.url},
    )
    lti = LtiTool(config, store)
    phases: Counter[str] = Counter()

    def timed(name: str, function: Callable[..., Any]) -> Callable[..., Any]:
        def wrapper(*a: Any, **k: Any) -> Any:
            began = time.perf_counter()
            try:
                return function(*a, **k)
            finally:
                phases[name] += time.perf_counter() - began

        return wrapper

    # Timing wrappers around the two halves run_courses calls, and around each HTTP call
    # (this process only).
    send = AdvantageClient._send

    def timed_send(self: AdvantageClient, method: str, url: str, what: str, **k: Any) -> Any:
        began = time.perf_counter()
        try:
            return send(self, method, url, what, **k)
        finally:
            phases[f"http: {what}"] += time.perf_counter() - began

    AdvantageClient._send = timed_send  # type: ignore[method-assign]
    services_run.sync_roster = timed("roster", services_run.sync_roster)  # type: ignore[assignment]
    services_run.post_scores = timed("scores", services_run.post_scores)  # type: ignore[assignment]
    profiler = cProfile.Profile() if args.profile else None
    started = time.perf_counter()
    if profiler is not None:
        profiler.enable()
    runs = services_run.run_courses(lti, scores=True)
    if profiler is not None:
        profiler.disable()
        profiler.dump_stats(args.profile)
    seconds = time.perf_counter() - started
    store.dispose()
    (run,) = runs
    scores = run.scores
    return {
        "seconds": round(seconds, 3),
        "phases_s": {k: round(v, 3) for k, v in phases.items()},
        "calls": dict(sorted(run.calls.items())),
        "error": run.error,
        "roster": {
            "members": run.roster.members,
            "pages": run.roster.pages,
            "linked": run.roster.linked,
            "unlinked": len(run.roster.unlinked),
        },
        "scores": None
        if scores is None
        else {
            "posted": scores.posted,
            "unchanged": scores.unchanged,
            "line_items_created": scores.line_items_created,
            "line_item_pages": scores.line_item_pages,
            "problems": scores.problems[:5],
        },
        "peak_rss_mb": round(peak_rss_mb(), 1),
    }


def measure_ags(name: str, args: argparse.Namespace, store_url: str, url: str) -> dict:
    command = [sys.executable, "-m", "bench.lti_bench", "--child", "ags"]
    command += ["--store-url", store_url, "--url", url]
    if args.profile:
        command += ["--profile", f"{args.profile}.ags-{name}.prof"]
    done = subprocess.run(command, cwd=ROOT, stdout=subprocess.PIPE, text=True)
    if done.returncode:
        raise SystemExit(f"the {name} run failed ({done.returncode})")
    return json.loads(done.stdout.strip().splitlines()[-1])


def expected_scores(members: list[tuple[str, str, str]], held: dict[int, int]) -> dict[str, float]:
    return {sub: float(min(held[(pid + 1) // 2], TARGET)) for pid, (sub, _, _) in
            enumerate(members, 1)}  # fmt: skip


def ags_push(args: argparse.Namespace, work: Path, page_size: int | None) -> dict[str, Any]:
    count = args.participants
    label = "all" if page_size is None else str(page_size)
    store_url = f"sqlite:///{work / f'ags-{label}.sqlite3'}"
    store = Store(store_url)
    upgrade(store)
    rng = random.Random(11)
    started = time.perf_counter()
    held = write_programme(store, count, rng)
    members = participants(count)
    print(
        f"AGS, page size {label}: {count:,} participants, {sum(held.values()):,} completed "
        f"sessions ({time.perf_counter() - started:.1f}s to write)",
        flush=True,
    )
    results: dict[str, Any] = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "page_size": label,
        "participants": count,
    }
    with LocalPlatform(product="moodle", page_size=page_size or count + 100) as platform:
        enrol_learners(platform, members)
        # The tool is served (in a thread) for one learner's launch, which tells it the
        # course's roster and gradebook URLs; the platform verifies client assertions with
        # the tool's key set given at registration, so the runs below need no tool server.
        with serve_tool(store, store_url) as tool:
            registered = register(platform, store, tool.url, jwks=ToolKeys(store).jwks())
            start = platform.start_launch(registered.client_id, members[0][0], COURSE)
            page = browser_launch(requests.Session(), platform, start)
            if not is_transcript(page, members[0][2]):
                raise SystemExit(f"the first launch answered {page.status_code}")
            url = tool.url
        want = expected_scores(members, held)

        def score_posts() -> int:
            return sum(
                1 for c in platform.calls if c.method == "POST" and c.path.endswith("/scores")
            )

        def check(run: dict[str, Any], posted: int, unchanged: int) -> None:
            got = run["scores"]
            if run["error"] or got is None or got["problems"]:
                raise SystemExit(f"the run reported problems: {run}")
            if (got["posted"], got["unchanged"]) != (posted, unchanged):
                raise SystemExit(f"posted/unchanged {got['posted']}/{got['unchanged']}, "
                                 f"wanted {posted}/{unchanged}")  # fmt: skip
            latest = {user: s for (_, user), s in platform.latest_scores.items()}
            wrong = [sub for sub, given in want.items() if latest.get(sub) is None
                     or latest[sub].score_given != given]  # fmt: skip
            if wrong:
                raise SystemExit(f"{len(wrong)} scores on the platform are wrong: {wrong[:5]}")

        runs = {}
        before = score_posts()
        print("  first run: link the roster, post every score …", flush=True)
        runs["first"] = first = measure_ags("first", args, store_url, url)
        first["platform_score_posts"] = score_posts() - before
        check(first, count, 0)
        if first["roster"]["members"] != count or first["roster"]["unlinked"]:
            raise SystemExit(f"the roster was not all linked: {first['roster']}")
        first_done = time.time()
        print(f"    {_ags_line(first)}", flush=True)

        before = score_posts()
        print("  rerun, nothing changed …", flush=True)
        runs["rerun"] = rerun = measure_ags("rerun", args, store_url, url)
        rerun["platform_score_posts"] = score_posts() - before
        check(rerun, 0, count)
        print(f"    {_ags_line(rerun)}", flush=True)

        changed_pairs = rng.sample(sorted(held), max(1, round(count * args.changed / 2)))
        add_sessions(store, changed_pairs, held)
        want = expected_scores(members, held)
        changed = 2 * len(changed_pairs)
        # Moodle refuses a score not newer, in whole seconds, than the last one.
        time.sleep(max(0.0, first_done + 1.1 - time.time()))
        before = score_posts()
        print(f"  after {changed} participants' progress changed …", flush=True)
        runs["changed"] = after = measure_ags("changed", args, store_url, url)
        after["platform_score_posts"] = score_posts() - before
        check(after, changed, count - changed)
        print(f"    {_ags_line(after)}", flush=True)
        if platform.errors:
            raise SystemExit(f"the platform crashed: {platform.errors[0]}")
    with store.reading() as session:
        remembered = session.scalar(select(func.count()).select_from(LtiScore))
    store.dispose()
    results["runs"] = runs
    results["changed_participants"] = changed
    results["remembered_scores"] = remembered
    results["targets"] = ags_targets(runs, changed, count)
    return results


def ags_targets(runs: dict[str, Any], changed: int, count: int) -> dict[str, Any]:
    """Score calls against changed scores; line-item reads against the pages read."""
    out = {}
    for name, run in runs.items():
        calls, scores = run["calls"], run["scores"]
        wanted = {"first": count, "rerun": 0, "changed": changed}[name]
        line_item_reads = calls.get("line items", 0)
        ags_calls = calls.get("score", 0) + line_item_reads + calls.get("line item", 0)
        out[name] = {
            "changed_scores": wanted,
            "score_calls": calls.get("score", 0),
            "line_item_reads": line_item_reads,
            "line_item_pages": scores["line_item_pages"],
            "line_item_created": calls.get("line item", 0),
            "ags_calls": ags_calls,
            "ags_limit": wanted + scores["line_item_pages"],
            "roster_calls": calls.get("roster", 0),
            "token_calls": calls.get("token", 0),
            "score_calls_met": calls.get("score", 0) == wanted,
            "line_item_reads_met": line_item_reads <= scores["line_item_pages"],
        }
    return out


def _ags_line(run: dict[str, Any]) -> str:
    return (
        f"{run['seconds']:.1f}s (roster {run['phases_s'].get('roster', 0):.1f}s, scores "
        f"{run['phases_s'].get('scores', 0):.1f}s), calls {run['calls']}, "
        f"posted {run['scores']['posted']}, peak RSS {run['peak_rss_mb']:.0f} MB"
    )


# -- the benchmark ----------------------------------------------------------------------------


def print_summary(results: dict[str, Any]) -> None:
    launch = results.get("launch")
    if launch:
        print(f"\n{'':32} {'p50':>8} {'p90':>8} {'p99':>8} {'max':>8} {'errors':>7} {'rate':>6}")
        for label, key in (("launch (login → transcript)", "launch"), ("bare transcript", "bare")):
            s = launch[key]
            print(
                f"{label:32} {s['p50_ms']:>8} {s['p90_ms']:>8} {s['p99_ms']:>8} "
                f"{s['max_ms']:>8} {s['errors']:>7} {s['completed_per_s']:>6}"
            )
        p99 = launch["launch"]["p99_ms"]
        print(f"target: launch p99 under 150 ms: {p99} ms, {'met' if p99 < 150 else 'MISSED'}")
        for route, s in launch["server_ms"]["launch"].items():
            print(f"  tool's own time {route}: p50 {s['p50_ms']} ms, p99 {s['p99_ms']} ms")
    for ags in results.get("ags", []):
        print(f"\nAGS push, {ags['participants']:,} participants, page size {ags['page_size']}:")
        for name, target in ags["targets"].items():
            run = ags["runs"][name]
            print(
                f"  {name:8} {run['seconds']:>7.1f}s  score calls {target['score_calls']:>6} "
                f"(changed {target['changed_scores']}), line-item reads "
                f"{target['line_item_reads']} (pages {target['line_item_pages']}), AGS calls "
                f"{target['ags_calls']} (limit {target['ags_limit']}), roster pages "
                f"{target['roster_calls']}, tokens {target['token_calls']}: "
                + (
                    "met"
                    if target["score_calls_met"] and target["line_item_reads_met"]
                    else "MISSED"
                )
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rate", type=float, default=20.0, help="launches a second (20)")
    parser.add_argument("--seconds", type=int, default=30, help="length of each run (30)")
    parser.add_argument("--pairs", type=int, default=20, help="pairs in the launch store (20)")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers (2)")
    parser.add_argument("--profile-launches", type=int, default=200, help="0: no profile")
    parser.add_argument("--participants", type=int, default=10_000)
    parser.add_argument(
        "--page-sizes", default="100,all", help="NRPS/AGS page sizes to push with (100,all)"
    )
    parser.add_argument("--changed", type=float, default=0.01, help="share of participants")
    parser.add_argument("--no-launch", action="store_true", help="skip the launch runs")
    parser.add_argument("--no-ags", action="store_true", help="skip the AGS runs")
    parser.add_argument("--profile", type=Path, help="write cProfile files PATH.*.prof")
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "lti.json")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--store-url", help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child_ags(args)))
        return
    if args.participants < 2 or args.participants % 2:
        raise SystemExit("--participants must be an even number (pairs of two)")
    previous = json.loads(args.out.read_text()) if args.out.exists() else {}
    results: dict[str, Any] = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": f"{host_platform.machine()}, Python {host_platform.python_version()}, "
        f"{os.cpu_count()} CPUs",
        "store": "SQLite",
    }
    with tempfile.TemporaryDirectory(prefix="mentorbridge-lti-bench-") as tmp:
        work = Path(tmp)
        if args.no_launch:
            results["launch"] = previous.get("launch")
            results["launch_profile"] = previous.get("launch_profile")
        else:
            results["launch"] = launch_latency(args, work)
            if args.profile_launches:
                print(f"profile: {args.profile_launches} launches in-process …", flush=True)
                results["launch_profile"] = launch_profile(args, work)
        if args.no_ags:
            results["ags"] = previous.get("ags", [])
        else:
            results["ags"] = [
                ags_push(args, work, None if size == "all" else int(size))
                for size in args.page_sizes.split(",")
            ]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2) + "\n")
    print_summary(results)
    problems = (results.get("launch") or {}).get("checks", {}).get("problems")
    if problems:
        print(f"\nCHECKS FAILED: {problems}")
    print(f"written to {args.out}")
    if problems:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
