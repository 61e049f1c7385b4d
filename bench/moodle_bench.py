"""Moodle push benchmark: participants provisioned as users and evidence written as ratings,
against the local Moodle-shaped site answering every call after a fixed delay, side by side
with one call per record.

A programme (``--users`` participants in pairs, each pair three completed sessions and an
achieved goal for the executive, ``--evidence`` pieces of current evidence spread evenly over
the participants) is written straight into a fresh SQLite store. The local site
(``connectors.moodle.localsite``) runs in this process with ``--delay`` seconds per call
(calls overlap while they wait, as on a real server); each measured run is a child process of
its own (time taken inside it, peak RSS from its ``VmHWM``):

* ``first``       ``push()`` into the empty site: users, framework, enrolments, plans, evidence,
                  milestones; seconds per phase and HTTP calls per function;
* ``rerun``       ``push()`` again with nothing changed: every call it makes must be a read;
* ``per-record``  one call per record, on a sample (``--sample``): per user a lookup by
                  idnumber and a ``core_user_create_users`` of that user alone, then one
                  ``core_competency_grade_competency_in_plan`` per rating, sent one after the
                  other; calls for the full size are exact (one or two per record), its time is
                  extrapolated linearly from the sample.

After the first run the site must hold exactly one user per participant (by idnumber), one
active plan each, one rating per piece of evidence carrying its reference, and the milestones
reached; the store must journal every rating as done. See bench/README.md for the targets and
the last figures.
"""

from __future__ import annotations

import argparse
import cProfile
import itertools
import json
import math
import os
import platform
import random
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, insert, select

from bench.common import ROOT, peak_rss_mb
from mentorbridge.connectors.moodle.client import MoodleClient, is_read_function
from mentorbridge.connectors.moodle.localsite import LocalMoodleSite
from mentorbridge.connectors.moodle.localsite.state import ADMIN_ID, GUEST_ID, WS_USER_ID
from mentorbridge.connectors.moodle.push import push
from mentorbridge.connectors.moodle.settings import MoodleSettings
from mentorbridge.plugin.mapping.file import load_mapping
from mentorbridge.plugin.mapping.model import Mapping
from mentorbridge.plugin.store.db import Store
from mentorbridge.plugin.store.evidence_models import (
    CompetencyEvidence,
    EvidenceChange,
    EvidenceSource,
)
from mentorbridge.plugin.store.hris_models import HrisWorker
from mentorbridge.plugin.store.lms_models import MoodleEvidencePush, MoodleObject, MoodlePlan
from mentorbridge.plugin.store.migrate import upgrade
from mentorbridge.plugin.store.models import Goal, MentoringSession, Pair, Person, Programme

TOKEN_ENV = "MENTORBRIDGE_BENCH_MOODLE_TOKEN"
T0 = datetime(2026, 9, 1, 9, 0, tzinfo=UTC)
SESSIONS_PER_PAIR = 3
#: The seeded course "RMP" and its three activities (local site), as the push tests use them.
MILESTONES = {"first_session": 2, "sessions": 3, "goal": 4}
SCALE_ID = 2  # "Default competence scale": the default mapping's two items
LEVELS = {1: ("Not yet competent", 0.25), 2: ("Competent", 0.75)}
PROVISIONING = ("core_user_get_users_by_field", "core_user_create_users", "core_user_update_users")
GRADE = "core_competency_grade_competency_in_plan"
BATCH = 10_000


# -- the programme ----------------------------------------------------------------------------


def bench_mapping(competencies: int) -> Mapping:
    """The shipped default mapping's first ``competencies`` competencies, each counting on both
    sides (the default gives mentors three of eight), so every participant's plan holds them
    all and each piece of evidence has a place to land."""
    default = load_mapping(None)
    chosen = list(default.competencies.values())
    if not 1 <= competencies <= len(chosen):
        raise SystemExit(f"between 1 and {len(chosen)} competencies per person, not {competencies}")
    both = {
        c.key: replace(c, mentee=c.mentee or c.mentor, mentor=c.mentor or c.mentee)
        for c in chosen[:competencies]
    }
    return replace(default, source="bench", competencies=both)


def settings(url: str, token: str, *, batch_size: int, concurrency: int) -> MoodleSettings:
    return MoodleSettings(
        url=url,
        token=token,
        scale_id=SCALE_ID,
        course="RMP",
        milestones=MILESTONES,
        sessions_count=SESSIONS_PER_PAIR,
        batch_size=batch_size,
        concurrency=concurrency,
    )


def write_programme(store: Store, users: int, evidence: int, mapping: Mapping) -> dict[str, int]:
    """``users // 2`` pairs (executive ``E…`` and junior mentor ``J…``), three completed
    sessions a pair, an achieved goal per executive, and ``evidence`` current evidence rows
    (revision 1, Moodle item 1 or 2, three session sources each) spread evenly: bulk Core
    inserts, seeded."""
    rng = random.Random(7)
    pairs = users // 2
    keys = list(mapping.competencies)
    per_person, extra = divmod(evidence, users)
    counts = Counter[str]()
    with store.engine.begin() as connection:
        connection.execute(insert(Programme), [{"id": 1, "key": "bench", "name": "Bench"}])
        people, workers = [], []
        for pid in range(1, users + 1):
            n, executive = (pid + 1) // 2, pid % 2 == 1
            employee = f"{'E' if executive else 'J'}{n:06d}"
            name = f"{'Executive' if executive else 'Junior'} Person{n}"
            email = f"{'exec' if executive else 'junior'}{n}@bench.example.com"
            people.append(
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
                    "work_email": email,
                    "active": True,
                    "hire_date": date(2020, 1, 1),
                    "record_hash": "bench",
                }
            )
        _insert(connection, Person, people)
        _insert(connection, HrisWorker, workers)
        counts["people"] = len(people)
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
        sessions = [
            {
                "id": (n - 1) * SESSIONS_PER_PAIR + i,
                "key": f"pair-{n}-s{i}",
                "pair_id": n,
                "sequence": i,
                "status": "completed",
                "started_at": T0 + timedelta(days=7 * i, minutes=n % 480),
                "duration_seconds": 2700,
                "themes": ["generative AI at work"],
            }
            for n in range(1, pairs + 1)
            for i in range(1, SESSIONS_PER_PAIR + 1)
        ]
        _insert(connection, MentoringSession, sessions)
        counts["sessions"] = len(sessions)
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
                    "status": "achieved",
                    "planned_at": T0,
                    "achieved_at": T0 + timedelta(days=20),
                    "planned_statement_id": f"00000000-0000-4000-9000-{n:012d}",
                }
                for n in range(1, pairs + 1)
            ],
        )
        rows, changes, sources = [], [], []
        for pid in range(1, users + 1):
            n, side = (pid + 1) // 2, "mentee" if pid % 2 else "mentor"
            for key in keys[: per_person + (1 if pid <= extra else 0)]:
                value = rng.choice((1, 2))
                name, level = LEVELS[value]
                eid = len(rows) + 1
                changed = T0 + timedelta(days=22, minutes=eid % 1440)
                rows.append(
                    {
                        "id": eid,
                        "person_id": pid,
                        "competency_key": key,
                        "side": side,
                        "level": level,
                        "level_name": name,
                        "moodle_value": value,
                        "sessions": float(SESSIONS_PER_PAIR),
                        "goals": 1.0 if side == "mentee" else 0.0,
                        "status": "current",
                        "revision": 1,
                        "digest": "bench",
                        "first_seen_at": changed,
                        "changed_at": changed,
                    }
                )
                changes.append(
                    {
                        "evidence_id": eid,
                        "revision": 1,
                        "level": level,
                        "level_name": name,
                        "status": "current",
                        "changed_at": changed,
                    }
                )
                for i in range(1, SESSIONS_PER_PAIR + 1):
                    sources.append(
                        {
                            "evidence_id": eid,
                            "kind": "session",
                            "ref_key": f"pair-{n}-s{i}",
                            "occurred_at": T0 + timedelta(days=7 * i),
                            "weight": 1.0,
                        }
                    )
        _insert(connection, CompetencyEvidence, rows)
        _insert(connection, EvidenceChange, changes)
        _insert(connection, EvidenceSource, sources)
        counts["evidence"] = len(rows)
    return dict(counts)


def _insert(connection: Any, model: Any, rows: list[dict[str, Any]]) -> None:
    for start in range(0, len(rows), BATCH):
        connection.execute(insert(model), rows[start : start + BATCH])


# -- the measured runs (child processes) ------------------------------------------------------


def child_push(args: argparse.Namespace) -> dict[str, Any]:
    """One ``push()``: seconds and calls per phase, the report's counts and problems."""
    store = Store(args.store_url)
    chosen = settings(
        args.url, os.environ[TOKEN_ENV], batch_size=args.batch_size, concurrency=args.concurrency
    )
    mapping = bench_mapping(args.competencies)
    client = MoodleClient(chosen.url, chosen.token)
    marks: list[tuple[str, float, Counter[str]]] = []
    started = time.perf_counter()

    def on_phase(name: str) -> None:
        now = time.perf_counter()
        marks.append((name, now, Counter(client.calls)))
        print(f"    [{now - started:7.1f}s] {name}", file=sys.stderr, flush=True)

    profiler = cProfile.Profile() if args.profile else None
    if profiler is not None:
        profiler.enable()
    report = push(client, store, chosen, mapping, on_phase=on_phase)
    if profiler is not None:
        profiler.disable()
        profiler.dump_stats(args.profile)
    ended = time.perf_counter()
    client.close()
    marks.append(("end", ended, Counter(client.calls)))
    phases = {}
    for (name, at, calls), (_, following, later) in itertools.pairwise(marks):
        phases[name] = {"seconds": round(following - at, 3), "calls": sum((later - calls).values())}
    store.dispose()
    return {
        "seconds": round(ended - started, 3),
        "phases": phases,
        "calls": dict(sorted(client.calls.items())),
        "counts": report.counts_dict(),
        "problems": [p.as_dict() for p in report.problems[:20]],
        "problem_count": len(report.problems),
        "retries": client.http.retries,
        "peak_rss_mb": round(peak_rss_mb(), 1),
    }


def child_baseline(args: argparse.Namespace) -> dict[str, Any]:
    """One call per record, one after the other: per user a lookup and a create of that user
    alone; per rating one grade call (into plans the first run created)."""
    client = MoodleClient(args.url, os.environ[TOKEN_ENV])
    started = time.perf_counter()
    for n in range(1, args.sample + 1):
        employee = f"B{n:06d}"
        found = client.call("core_user_get_users_by_field", field="idnumber", values=[employee])
        if found:
            raise SystemExit(f"baseline user {employee} exists already")
        client.call(
            "core_user_create_users",
            users=[
                {
                    "username": f"baseline{n}@bench.example.com",
                    "firstname": "Baseline",
                    "lastname": f"Person{n}",
                    "email": f"baseline{n}@bench.example.com",
                    "idnumber": employee,
                    "auth": "manual",
                    "createpassword": True,
                }
            ],
        )
    users_seconds = time.perf_counter() - started
    store = Store(args.store_url)
    with store.reading() as session:
        places = [
            (plan_id, competency)
            for plan_id, competencies in session.execute(
                select(MoodlePlan.plan_id, MoodlePlan.competencies).order_by(MoodlePlan.person_id)
            )
            for competency in competencies
        ][: args.sample]
    store.dispose()
    if len(places) < args.sample:
        raise SystemExit(f"only {len(places)} plan competencies to rate")
    started = time.perf_counter()
    for plan_id, competency in places:
        client.call(
            GRADE,
            planid=plan_id,
            competencyid=competency,
            grade=1,
            note="Per-record baseline: one call per rating.",
        )
    evidence_seconds = time.perf_counter() - started
    client.close()
    return {
        "sample": args.sample,
        "users_seconds": round(users_seconds, 3),
        "evidence_seconds": round(evidence_seconds, 3),
        "calls": dict(sorted(client.calls.items())),
        "peak_rss_mb": round(peak_rss_mb(), 1),
    }


def child(args: argparse.Namespace) -> None:
    result = child_push(args) if args.child == "push" else child_baseline(args)
    print(json.dumps(result))


def measure(what: str, site: LocalMoodleSite, args: argparse.Namespace, store_url: str) -> dict:
    """Run ``what`` in a child process against ``site``; its JSON result."""
    command = [
        sys.executable,
        "-m",
        "bench.moodle_bench",
        "--child",
        what,
        "--url",
        site.url,
        "--store-url",
        store_url,
        "--competencies",
        str(args.competencies),
        "--batch-size",
        str(args.batch_size),
        "--concurrency",
        str(args.concurrency),
        "--sample",
        str(args.sample),
    ]
    if args.profile and what == "push":
        command += ["--profile", str(args.profile.with_suffix(f".{len(PROFILES)}.prof"))]
        PROFILES.append(command[-1])
    env = os.environ | {TOKEN_ENV: site.token}
    done = subprocess.run(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True)
    if done.returncode:
        raise SystemExit(f"the {what} run failed ({done.returncode})")
    return json.loads(done.stdout.strip().splitlines()[-1])


PROFILES: list[str] = []


# -- checks -----------------------------------------------------------------------------------


def check_site(site: LocalMoodleSite, store: Store, sizes: dict[str, int]) -> dict[str, int]:
    """What the first run left in Moodle and in the store, against what it had to write."""
    state = site.state
    with store.reading() as session:
        employees = set(session.scalars(select(HrisWorker.employee_id)))
        done = session.scalar(
            select(func.count())
            .select_from(MoodleEvidencePush)
            .where(MoodleEvidencePush.state == "done")
        )
        competencies = session.scalar(
            select(func.count()).select_from(MoodleObject).where(MoodleObject.kind == "competency")
        )
    people = [u for u in state.users.values() if u.id not in (GUEST_ID, ADMIN_ID, WS_USER_ID)]
    ratings = [
        e
        for uc in state.user_competencies.values()
        for e in uc.evidence
        if e.descidentifier == "evidence_manualoverrideinplan"
    ]
    found = {
        "users": len(people),
        "users_by_idnumber": len({u.idnumber for u in people} & employees),
        "plans": sum(1 for p in state.plans.values() if p.status == 1),
        "plan_competencies": len(state.plan_competencies),
        "enrolments": len(state.enrolments),
        "ratings": len(ratings),
        "ratings_with_reference": sum(
            1 for e in ratings if e.note and "[mentorbridge evidence " in e.note
        ),
        "activity_completions": sum(1 for c in state.activity_completion.values() if c.state),
        "journalled_done": done or 0,
        "framework_competencies": len(state.competencies),
    }
    pairs = sizes["people"] // 2
    wanted = {
        "users": sizes["people"],
        "users_by_idnumber": sizes["people"],
        "plans": sizes["people"],
        "plan_competencies": sizes["people"] * (competencies or 0),
        "enrolments": sizes["people"],
        "ratings": sizes["evidence"],
        "ratings_with_reference": sizes["evidence"],
        # first session and N sessions for both sides, the goal for the executive
        "activity_completions": pairs * 5,
        "journalled_done": sizes["evidence"],
        "framework_competencies": competencies or 0,
    }
    wrong = {k: (found[k], wanted[k]) for k in wanted if found[k] != wanted[k]}
    if wrong:
        raise SystemExit(f"the first run did not do the work (found, wanted): {wrong}")
    return found


def site_calls(site: LocalMoodleSite) -> Counter[str]:
    return Counter(function for function, _ in site.calls)


# -- the benchmark ----------------------------------------------------------------------------


def run(args: argparse.Namespace, directory: Path) -> dict[str, Any]:
    users, evidence = args.users, args.evidence
    store_url = f"sqlite:///{directory / 'bench.sqlite3'}"
    store = Store(store_url)
    upgrade(store)
    started = time.perf_counter()
    sizes = write_programme(store, users, evidence, bench_mapping(args.competencies))
    print(
        f"programme: {sizes['people']:,} participants, {sizes['evidence']:,} evidence rows, "
        f"{sizes['sessions']:,} sessions ({time.perf_counter() - started:.1f}s to write)",
        flush=True,
    )
    results: dict[str, Any] = {"sizes": sizes}
    with LocalMoodleSite(delay=args.delay) as site:
        print(f"first push (site answers after {args.delay * 1000:.0f} ms)", flush=True)
        first = measure("push", site, args, store_url)
        first["site_calls"] = dict(sorted(site_calls(site).items()))
        if first["problem_count"]:
            raise SystemExit(f"the first run reported problems: {first['problems']}")
        if sum(first["site_calls"].values()) != sum(first["calls"].values()):
            raise SystemExit("the site counted other calls than the client sent")
        first["found"] = check_site(site, store, sizes)
        results["first"] = first
        print(f"  {first['seconds']:.1f}s, {sum(first['calls'].values()):,} calls", flush=True)

        site.reset_calls()
        print("rerun, nothing changed", flush=True)
        rerun = measure("push", site, args, store_url)
        seen = site_calls(site)
        rerun["site_calls"] = dict(sorted(seen.items()))
        rerun["writes"] = sorted(f for f in seen if not is_read_function(f))
        if rerun["writes"]:
            raise SystemExit(f"the rerun wrote: {rerun['writes']}")
        if rerun["problem_count"]:
            raise SystemExit(f"the rerun reported problems: {rerun['problems']}")
        results["rerun"] = rerun
        print(f"  {rerun['seconds']:.2f}s, {sum(seen.values())} calls, all reads", flush=True)

        site.reset_calls()
        print(f"one call per record, on {args.sample:,} users and {args.sample:,} ratings")
        baseline = measure("baseline", site, args, store_url)
        baseline["site_calls"] = dict(sorted(site_calls(site).items()))
        results["per_record"] = baseline
    store.dispose()
    return results | summarise(results, users, evidence)


def summarise(results: dict[str, Any], users: int, evidence: int) -> dict[str, Any]:
    first, rerun, base = results["first"], results["rerun"], results["per_record"]
    provisioning = sum(first["calls"].get(f, 0) for f in PROVISIONING)
    users_s = first["phases"]["users"]["seconds"]
    evidence_s = first["phases"]["evidence"]["seconds"]
    per_user = base["users_seconds"] / base["sample"]
    per_rating = base["evidence_seconds"] / base["sample"]
    return {
        "provisioning_calls": provisioning,
        "provisioning_calls_one_per_user": users,
        "provisioning_call_ratio": round(users / provisioning, 1),
        "users_per_s": round(users / users_s, 1),
        "evidence_calls": first["calls"].get(GRADE, 0),
        "evidence_per_s": round(evidence / evidence_s, 1),
        "per_record_users_calls": 2 * users,
        "per_record_users_seconds_extrapolated": round(per_user * users, 1),
        "per_record_users_per_s": round(1 / per_user, 1),
        "per_record_evidence_calls": evidence,
        "per_record_evidence_seconds_extrapolated": round(per_rating * evidence, 1),
        "per_record_evidence_per_s": round(1 / per_rating, 1),
        "rerun_share": round(rerun["seconds"] / first["seconds"], 5),
        "rerun_calls": sum(rerun["calls"].values()),
    }


def print_table(summary: dict[str, Any]) -> None:
    first, rerun, base = summary["first"], summary["rerun"], summary["per_record"]
    users, evidence = summary["sizes"]["people"], summary["sizes"]["evidence"]
    print(f"\n{'':34} {'seconds':>9} {'calls':>9} {'users/s':>9} {'evidence/s':>10}")
    print(
        f"{'first push (all phases)':34} {first['seconds']:>9.1f} "
        f"{sum(first['calls'].values()):>9,}"
    )
    print(
        f"{'  provisioning (users phase)':34} {first['phases']['users']['seconds']:>9.1f} "
        f"{summary['provisioning_calls']:>9,} {summary['users_per_s']:>9,.0f}"
    )
    print(
        f"{'  evidence phase':34} {first['phases']['evidence']['seconds']:>9.1f} "
        f"{summary['evidence_calls']:>9,} {'':>9} {summary['evidence_per_s']:>10,.0f}"
    )
    for name, phase in first["phases"].items():
        if name not in ("users", "evidence"):
            print(f"{'  ' + name + ' phase':34} {phase['seconds']:>9.1f} {phase['calls']:>9,}")
    print(
        f"{'per record: users (extrapolated)':34} "
        f"{summary['per_record_users_seconds_extrapolated']:>9.1f} "
        f"{summary['per_record_users_calls']:>9,} {summary['per_record_users_per_s']:>9,.0f}"
    )
    print(
        f"{'per record: evidence (extrapol.)':34} "
        f"{summary['per_record_evidence_seconds_extrapolated']:>9.1f} "
        f"{summary['per_record_evidence_calls']:>9,} {'':>9} "
        f"{summary['per_record_evidence_per_s']:>10,.0f}"
    )
    print(f"{'rerun, nothing changed':34} {rerun['seconds']:>9.2f} {summary['rerun_calls']:>9,}")
    print(
        f"\nper-record rows: measured on {base['sample']:,} users and {base['sample']:,} ratings "
        f"sent one after the other, calls exact, time extrapolated linearly to {users:,} users "
        f"and {evidence:,} ratings"
    )
    ratio, share = summary["provisioning_call_ratio"], summary["rerun_share"]
    print(
        f"target: provisioning calls ≥ 10x fewer than one per user: {users:,} / "
        f"{summary['provisioning_calls']:,} = {ratio}x, {'met' if ratio >= 10 else 'MISSED'}"
    )
    print(
        f"target: a rerun with nothing changed only reads ({summary['rerun_calls']} read "
        f"calls, no write: met) and takes ≤ 10% of the first run: {share:.2%}, "
        f"{'met' if share <= 0.10 else 'MISSED'}"
    )
    print(
        f"peak RSS of the push: {first['peak_rss_mb']:.0f} MB (first), "
        f"{rerun['peak_rss_mb']:.0f} MB (rerun)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--users", type=int, default=10_000, help="participants (default 10,000)")
    parser.add_argument(
        "--evidence", type=int, default=50_000, help="evidence entries to write (default 50,000)"
    )
    parser.add_argument(
        "--delay", type=float, default=0.02, help="seconds the site takes per call (0.02)"
    )
    parser.add_argument(
        "--sample", type=int, default=1_000, help="records the per-record baseline sends (1,000)"
    )
    parser.add_argument("--batch-size", type=int, default=100, help="moodle.batch_size (100)")
    parser.add_argument("--concurrency", type=int, default=4, help="moodle.concurrency (4)")
    parser.add_argument("--profile", type=Path, help="cProfile each push into PATH.N.prof")
    parser.add_argument(
        "--out", type=Path, default=Path(__file__).parent / "results" / "moodle.json"
    )
    parser.add_argument("--competencies", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--store-url", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args)
        return
    if args.users < 2 or args.users % 2:
        raise SystemExit("--users must be an even number (pairs of two)")
    args.competencies = max(1, math.ceil(args.evidence / args.users))
    with tempfile.TemporaryDirectory(prefix="mentorbridge-moodle-bench-") as tmp:
        results = run(args, Path(tmp))
    summary = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": f"{platform.machine()}, Python {platform.python_version()}, "
        f"{os.cpu_count()} CPUs",
        "store": "SQLite",
        "delay_ms": round(args.delay * 1000, 1),
        "batch_size": args.batch_size,
        "concurrency": args.concurrency,
        "competencies_per_person": args.competencies,
        **results,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(summary, indent=2) + "\n")
    print_table(summary)
    print(f"written to {args.out}")


if __name__ == "__main__":
    main()
