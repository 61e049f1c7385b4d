"""Outbox flush benchmark: the flusher against the client-side limit.

Queues N statements built by the real builder, then for each mode starts a fresh LRS and
delivers everything from a child process, so each mode's peak RSS is its own:

* ``bare``     a bare ``httpx`` loop POSTing the same pre-serialized batches, the payloads read
               into memory before the clock starts: the client-side limit;
* ``flusher``  the outbox flusher, batched (``--batch-size``);
* ``single``   the flusher with batch size 1, one POST per statement, on the first
               ``--single`` statements only: Ralph's file backend rescans its whole file on
               every POST, so 100,000 single POSTs would take hours and measure only Ralph.

The LRS is the local one (``--lrs ralph``: Ralph, file-system backend), or a null LRS
(``--lrs null``) that only reads each request and answers 204, which shows what the flusher
itself costs. Every run is checked: the LRS received exactly the statements expected and the
outbox has none pending. See bench/README.md for how to run it and the figures.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
from sqlalchemy import func, select, update

from bench.common import ROOT, peak_rss_mb, scratch_database
from mentorbridge.plugin.store.db import Store
from mentorbridge.plugin.store.migrate import upgrade
from mentorbridge.plugin.store.models import OutboxGate, OutboxPayload, OutboxStatement
from mentorbridge.plugin.store.outbox import SqlOutbox, enqueue
from mentorbridge.xapi.localrs import LocalLRS, free_port
from mentorbridge.xapi.lrs import LRSClient, LRSCredentials
from mentorbridge.xapi.outbox import Flusher
from mentorbridge.xapi.statements import Event, PairContext, StatementBuilder, StatementSettings

SETTINGS = StatementSettings(
    identity_home_page="https://id.example.com",
    activity_base="https://xapi.example.com/reverse-mentoring",
)
PASSWORD = "bench-password"  # the null LRS checks nothing; Ralph gets its own


# -- setup ----------------------------------------------------------------------------------


def queue_statements(store: Store, count: int) -> float:
    """Queue ``count`` session-attended statements across 1,000 pairs; returns the seconds."""
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
                statement = builder.session_attended(
                    Event(source="bench", id=str(n)),
                    pair,
                    session=f"s-{n}",
                    sequence=n // 1000 + 1,
                    started_at=when + timedelta(seconds=n),
                    duration=timedelta(minutes=45),
                )
                enqueue(session, statement)
    return time.perf_counter() - started


def reset(store: Store, pending: int | None = None) -> int:
    """Every row pending again (or only the first ``pending``); returns how many pend."""
    with store.transaction() as session:
        session.execute(
            update(OutboxStatement).values(
                state="pending", attempts=0, claimed_by=None, claimed_until=None, delivered_at=None
            )
        )
        session.execute(update(OutboxGate).values(retry_at=None, failures=0, last_error=None))
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
        pending_now = session.scalar(select(func.count()).where(OutboxStatement.state == "pending"))
    if store.dialect == "postgresql":
        # Resetting rewrote every row; vacuum so each mode starts from a freshly queued table,
        # as a real backlog does, not from the previous mode's dead rows.
        with store.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("VACUUM ANALYZE outbox, outbox_payload")
    return pending_now


# -- the LRSs -------------------------------------------------------------------------------


def serve_null(port: int, tally: Path) -> None:
    """The null LRS: read each POST, note how many statements it held, answer 204."""

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as a real LRS

        def log_message(self, *args: object) -> None:
            pass

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            statements = body.count(b'{"actor"')  # statements are serialized with sorted keys
            with tally.open("a") as out:
                out.write(f"{statements}\n")
            self.send_response(204)
            self.send_header("Content-Length", "0")
            self.end_headers()

    ThreadingHTTPServer(("127.0.0.1", port), Handler).serve_forever()


@contextmanager
def null_lrs(directory: Path) -> Iterator[tuple[str, str, Path]]:
    directory.mkdir(parents=True)
    port, tally = free_port(), directory / "received"
    tally.touch()
    command = ["-m", "bench.flush_bench", "--serve-null", str(port), "--tally", str(tally)]
    server = subprocess.Popen([sys.executable, *command], cwd=ROOT)
    try:
        for _ in range(100):
            try:
                httpx.get(f"http://127.0.0.1:{port}/", timeout=1)
                break
            except httpx.TransportError:
                time.sleep(0.05)
        yield f"http://127.0.0.1:{port}/xAPI/", PASSWORD, tally
    finally:
        server.terminate()
        server.wait()


@contextmanager
def ralph_lrs(directory: Path) -> Iterator[tuple[str, str, Path]]:
    with LocalLRS(directory) as lrs:
        yield lrs.endpoint, lrs.password_file.read_text().strip(), lrs.statements_file


def received(lrs_kind: str, record: Path) -> int:
    """Statements the LRS got: lines of Ralph's file, or the null LRS's tally (streamed)."""
    with record.open() as lines:
        if lrs_kind == "ralph":
            return sum(1 for _ in lines)
        return sum(int(line) for line in lines)


# -- one mode, in a child process: timed, with its own peak RSS -----------------------------


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
        with httpx.Client(auth=credentials.auth(), timeout=120) as client:
            started = time.perf_counter()
            for body in bodies:
                response = client.post(endpoint + "statements", content=body, headers=headers)
                response.raise_for_status()
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
        "seconds": round(seconds, 3),
        "per_second": round(sent / seconds, 1),
        "peak_rss_mb": round(peak_rss_mb(), 1),
    }


def run_mode(
    mode: str,
    lrs_kind: str,
    store: Store,
    store_url: str,
    work: Path,
    batch_size: int,
    pending: int | None,
) -> dict:
    expected = reset(store, pending)
    lrs = ralph_lrs if lrs_kind == "ralph" else null_lrs
    with lrs(work / f"{lrs_kind}-{mode}") as (endpoint, password, record):
        command = [
            sys.executable,
            "-m",
            "bench.flush_bench",
            "--child",
            mode,
            "--store-url",
            store_url,
            "--endpoint",
            endpoint,
            "--batch-size",
            str(batch_size),
        ]
        output = subprocess.run(
            command, input=password, capture_output=True, text=True, check=True, cwd=ROOT
        ).stdout
        result = json.loads(output.splitlines()[-1])
        got = received(lrs_kind, record)
    if result["statements"] != expected or got != expected:
        raise SystemExit(f"{mode}: sent {result['statements']}, LRS got {got}, expected {expected}")
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
    parser.add_argument("--lrs", choices=["ralph", "null"], default="ralph")
    parser.add_argument(
        "--store-url",
        help="a PostgreSQL server to use (the bench makes and drops a database of its own "
        "there); default: a fresh SQLite file",
    )
    parser.add_argument("--out", type=Path, help="default: bench/results/flush-<lrs>.json")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--endpoint", help=argparse.SUPPRESS)
    parser.add_argument("--serve-null", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--tally", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.serve_null:
        serve_null(args.serve_null, args.tally)
        return
    if args.child:
        result = child(
            args.child, args.store_url, args.endpoint, sys.stdin.read().strip(), args.batch_size
        )
        print(json.dumps(result))
        return

    with (
        tempfile.TemporaryDirectory(prefix="mentorbridge-bench-") as tmp,
        scratch_database(args.store_url, Path(tmp)) as store_url,
    ):
        work = Path(tmp)
        store = Store(store_url)
        upgrade(store)
        print(f"queueing {args.statements:,} statements ({store.describe()}) …", flush=True)
        build_seconds = queue_statements(store, args.statements)
        print(
            f"  built, validated and queued at {args.statements / build_seconds:,.0f}/s", flush=True
        )
        results = []
        modes = [
            ("bare", args.batch_size, None),
            ("flusher", args.batch_size, None),
            ("single", 1, args.single),
        ]
        for mode, batch, pending in modes:
            print(f"{mode} ({args.lrs} LRS) …", flush=True)
            r = run_mode(mode, args.lrs, store, store_url, work, batch, pending)
            results.append(r)
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
        "machine": f"{platform.machine()}, Python {platform.python_version()}, "
        f"{os.cpu_count()} CPUs",
        "lrs": args.lrs,
        "store": "PostgreSQL" if args.store_url else "SQLite",
        "statements": args.statements,
        "batch_size": args.batch_size,
        "build_validate_queue_per_second": round(args.statements / build_seconds, 1),
        "results": results,
        "flusher_vs_bare": round(flusher["per_second"] / bare["per_second"], 4),
    }
    out = args.out or Path(__file__).parent / "results" / f"flush-{args.lrs}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(summary, indent=2) + "\n")
    print(
        f"\nflusher / bare loop = {summary['flusher_vs_bare']:.1%} (target ≥ 90%); "
        f"flusher peak RSS {flusher['peak_rss_mb']:.0f} MB (target < 300 MB)\n"
        f"written to {out}"
    )


if __name__ == "__main__":
    main()
