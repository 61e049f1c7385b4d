"""Outbox flush benchmark: the flusher against the client-side limit, on the local LRS.

Queues N statements built by the real builder, then for each mode starts a fresh local LRS
(Ralph, file-system backend) and delivers everything from a child process, so each mode's
peak RSS is its own:

* ``flusher``  the outbox flusher, batched (``--batch-size``);
* ``bare``     a bare ``httpx`` loop POSTing the same pre-serialized batches, the payloads read
               into memory before the clock starts (the client-side limit);
* ``single``   the flusher with batch size 1, one POST per statement, on the first
               ``--single`` statements only: Ralph's file backend rescans its whole file on
               every POST, so 100,000 single POSTs would take hours and measure only Ralph.

Every run is checked: the LRS must hold exactly the statements sent and the outbox none
pending. Run from a checkout with the ``lrs`` extra installed (see bench/README.md).
"""

from __future__ import annotations

import argparse
import json
import platform
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
from sqlalchemy import func, select, update

from plugin.store.db import Store
from plugin.store.migrate import upgrade
from plugin.store.models import OutboxPayload, OutboxStatement
from plugin.store.outbox import SqlOutbox, enqueue
from xapi.localrs import LocalLRS
from xapi.lrs import LRSClient, LRSCredentials
from xapi.outbox import Flusher
from xapi.statements import Event, PairContext, StatementBuilder, StatementSettings

SETTINGS = StatementSettings(
    identity_home_page="https://id.example.com",
    activity_base="https://xapi.example.com/reverse-mentoring",
)


def queue_statements(store: Store, count: int) -> float:
    """Queue ``count`` session-attended statements across 1,000 pairs; returns build+queue s."""
    builder = StatementBuilder(SETTINGS)
    started = time.perf_counter()
    when = datetime.now(UTC) - timedelta(days=30)
    for first in range(0, count, 5000):
        with store.transaction() as session:
            for n in range(first, min(first + 5000, count)):
                pair_key = f"pair-{n % 1000}"
                pair = PairContext(
                    key=pair_key,
                    registration=builder.registration(pair_key),
                    programme="rm-bench",
                    programme_name="Benchmark programme",
                    mentee=f"p-mentee-{n % 1000}",
                    mentor=f"p-mentor-{n % 1000}",
                )
                enqueue(
                    session,
                    builder.session_attended(
                        Event(source="bench", id=str(n)),
                        pair,
                        session=f"s-{n}",
                        sequence=n // 1000 + 1,
                        started_at=when + timedelta(seconds=n),
                        duration=timedelta(minutes=45),
                    ),
                )
    return time.perf_counter() - started


def reset(store: Store, pending: int | None = None) -> None:
    """Every row pending again (or only the first ``pending``; the rest count as delivered)."""
    with store.transaction() as session:
        session.execute(
            update(OutboxStatement).values(
                state="pending",
                attempts=0,
                claimed_by=None,
                claimed_until=None,
                delivered_at=None,
            )
        )
        if pending is not None:
            cutoff = session.scalar(
                select(OutboxStatement.id).order_by(OutboxStatement.id).offset(pending).limit(1)
            )
            if cutoff is not None:
                session.execute(
                    update(OutboxStatement)
                    .where(OutboxStatement.id >= cutoff)
                    .values(state="delivered")
                )


# -- the child process: one mode, timed, with its own peak RSS ------------------------------


def child(mode: str, store_url: str, endpoint: str, password: str, batch_size: int) -> dict:
    store = Store(store_url)
    credentials = LRSCredentials("basic", "mentorbridge", password)
    if mode == "bare":
        with store.reading() as session:
            payloads = [
                bytes(p)
                for p in session.scalars(
                    select(OutboxPayload.payload)
                    .join(OutboxStatement)
                    .where(OutboxStatement.state == "pending")
                    .order_by(OutboxStatement.id)
                )
            ]
        bodies = [
            b"[" + b",".join(payloads[i : i + batch_size]) + b"]"
            for i in range(0, len(payloads), batch_size)
        ]
        headers = {"X-Experience-API-Version": "1.0.3", "Content-Type": "application/json"}
        with httpx.Client(auth=credentials.auth(), timeout=60) as client:
            started = time.perf_counter()
            for body in bodies:
                client.post(
                    endpoint + "statements", content=body, headers=headers
                ).raise_for_status()
            seconds = time.perf_counter() - started
        sent, requests = len(payloads), len(bodies)
    else:
        with LRSClient(endpoint, credentials=credentials, read_timeout=120) as client:
            flusher = Flusher(SqlOutbox(store), client, batch_size=batch_size, lease_seconds=600)
            started = time.perf_counter()
            report = flusher.flush()
            seconds = time.perf_counter() - started
        sent, requests = report.delivered, report.requests
    store.dispose()
    return {
        "mode": mode,
        "statements": sent,
        "requests": requests,
        "seconds": seconds,
        "per_second": sent / seconds,
        "peak_rss_mb": peak_rss_mb(),
    }


def peak_rss_mb() -> float:
    """This process's peak resident memory (``VmHWM``).

    Not ``ru_maxrss``: Linux carries the parent's peak over into a child started with
    vfork+exec, which is how ``subprocess`` starts children.
    """
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    raise RuntimeError("no VmHWM in /proc/self/status")


def run_mode(
    mode: str, store: Store, store_url: str, work: Path, batch_size: int, pending: int | None = None
) -> dict:
    reset(store, pending)
    expected = pending
    with store.reading() as session:
        expected = session.scalar(select(func.count()).where(OutboxStatement.state == "pending"))
    with LocalLRS(work / f"lrs-{mode}") as lrs:
        output = subprocess.run(
            [
                sys.executable,
                __file__,
                "--child",
                mode,
                "--store-url",
                store_url,
                "--endpoint",
                lrs.endpoint,
                "--batch-size",
                str(batch_size),
            ],
            input=lrs.password_file.read_text(),
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        result = json.loads(output.splitlines()[-1])
        stored = len(lrs.statements_file.read_text().splitlines())
    if result["statements"] != expected or stored != expected:
        raise SystemExit(
            f"{mode}: sent {result['statements']}, LRS holds {stored}, expected {expected}"
        )
    if mode != "bare":
        with store.reading() as session:
            left = session.scalar(select(func.count()).where(OutboxStatement.state == "pending"))
        if left:
            raise SystemExit(f"{mode}: {left} statements still pending")
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--statements", type=int, default=100_000)
    parser.add_argument("--batch-size", type=int, default=500)
    parser.add_argument(
        "--single", type=int, default=2_000, help="statements for the one-POST-per-statement mode"
    )
    parser.add_argument("--store-url", help="default: a fresh SQLite file")
    parser.add_argument(
        "--out", type=Path, default=Path(__file__).parent / "results" / "flush.json"
    )
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--endpoint", help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.child:
        password = sys.stdin.read().strip()
        print(
            json.dumps(child(args.child, args.store_url, args.endpoint, password, args.batch_size))
        )
        return

    with tempfile.TemporaryDirectory(prefix="mentorbridge-bench-") as tmp:
        work = Path(tmp)
        store_url = args.store_url or f"sqlite:///{work / 'bench.sqlite3'}"
        store = Store(store_url)
        upgrade(store)
        with store.transaction() as session:
            session.execute(OutboxStatement.__table__.delete())
        print(f"queueing {args.statements:,} statements ({store.describe()}) …", flush=True)
        build_seconds = queue_statements(store, args.statements)
        print(
            f"  built and queued in {build_seconds:.1f}s "
            f"({args.statements / build_seconds:,.0f}/s)",
            flush=True,
        )
        results = []
        for mode, batch, pending in (
            ("bare", args.batch_size, None),
            ("flusher", args.batch_size, None),
            ("single", 1, args.single),
        ):
            print(f"{mode} …", flush=True)
            results.append(run_mode(mode, store, store_url, work, batch, pending))
            r = results[-1]
            print(
                f"  {r['statements']:,} statements in {r['seconds']:.1f}s: "
                f"{r['per_second']:,.0f}/s, {r['requests']:,} requests, "
                f"peak RSS {r['peak_rss_mb']:.0f} MB",
                flush=True,
            )
        store.dispose()

    bare, flusher = results[0], results[1]
    summary = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": f"{platform.machine()}, {platform.python_version()}, "
        f"{__import__('os').cpu_count()} CPUs",
        "store": "PostgreSQL" if args.store_url else "SQLite",
        "statements": args.statements,
        "batch_size": args.batch_size,
        "build_and_queue_per_second": args.statements / build_seconds,
        "results": results,
        "flusher_vs_bare": flusher["per_second"] / bare["per_second"],
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(summary, indent=2) + "\n")
    print(
        f"\nflusher / bare loop = {summary['flusher_vs_bare']:.1%} (target ≥ 90%); "
        f"flusher peak RSS {flusher['peak_rss_mb']:.0f} MB (target < 300 MB)"
    )
    print(f"written to {args.out}")


if __name__ == "__main__":
    main()
