"""Scale-out benchmark: two web instances and two workers on one PostgreSQL database, against
one of each.

Each mode starts its processes on 127.0.0.1 (``tests/cluster.py``, the same topology as
``tests/plugin/test_scale_out.py``) on a fresh database of the given server:

* ``1 web + 1 worker``   one ``mentorbridge serve`` (2 gunicorn workers) and one ``worker``;
* ``2 web + 2 workers``  two of each, events spread evenly over both web instances.

Every worker flushes each second to Ralph (recording each statement id it is sent). The same
load in both: ``--events`` new signed ``session.completed`` events over ``--pairs`` pairs from a
closed loop of ``--connections`` connections. Measured: events/s and answer latency, how long
the outbox took to drain after the last answer, statements delivered per second from the first
event to the drained outbox, the most connections the database had open at once, and the peak
resident memory of all Mentorbridge processes together. Every run is checked: every answer a
202, every statement sent to the LRS exactly once. Modes alternate, ``--repeat`` times each.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import signal
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from bench.common import ROOT, scratch_database
from bench.webhook_bench import the_pairs
from mentorbridge.plugin.store.db import Store
from mentorbridge.plugin.store.migrate import upgrade
from tests.cluster import Cluster, peak_connections, send_events

MODES = {"1 web + 1 worker": 1, "2 web + 2 workers": 2}
GUNICORN_WORKERS = 2


def run_mode(name: str, instances: int, args: argparse.Namespace, work: Path) -> dict:
    pairs = the_pairs(args.pairs)
    settings = {
        "MENTORBRIDGE_OUTBOX_FLUSH_INTERVAL_SECONDS": "1",
        "MENTORBRIDGE_MAPPING_UPDATE_INTERVAL_SECONDS": "86400",  # the same statements in each
    }
    with scratch_database(args.store_url, work) as store_url:
        store = Store(store_url)
        upgrade(store)
        store.dispose()
        with Cluster(store_url, work / name.replace(" ", ""), settings=settings) as cluster:
            cluster.prepare(pairs)
            cluster.start_lrs()
            urls = [cluster.start_serve(GUNICORN_WORKERS) for _ in range(instances)]
            for _ in range(instances):
                cluster.start_worker()
            with peak_connections(store_url) as connections:
                began = time.perf_counter()
                sent = send_events(
                    urls,
                    pairs,
                    run=f"{instances}-{time.time_ns()}",
                    count=args.events,
                    twice=0,
                    connections=args.connections,
                )
                drain = cluster.wait_until_delivered(timeout=600)
                total = time.perf_counter() - began
            memory, cpu = cluster.peak_rss_mb(), cluster.cpu_seconds()
            received, queued = cluster.sent_to_lrs(), cluster.outbox()
    failed = sum(codes != [202] for codes in sent.statuses.values())
    if failed:
        raise SystemExit(f"{name}: {failed} events not answered 202")
    if set(received) != set(queued) or set(received.values()) != {1}:
        raise SystemExit(f"{name}: statements not sent exactly once")
    ordered = sorted(sent.latencies)
    return {
        "events": args.events,
        "events_per_second": round(sent.per_second, 1),
        "p50_ms": round(ordered[len(ordered) // 2] * 1000, 1),
        "p99_ms": round(ordered[int(len(ordered) * 0.99)] * 1000, 1),
        "drain_after_last_answer_s": round(drain, 2),
        "statements": len(queued),
        "delivered_per_second": round(len(queued) / total, 1),
        "peak_connections": connections[0],
        "peak_rss_mb": round(memory, 1),
        "cpu_seconds": cpu,
        "load_average_1min": round(os.getloadavg()[0], 2),  # others' work on the machine
    }


def _median(values: list) -> float | dict[str, float]:
    if isinstance(values[0], dict):  # CPU seconds by kind of process
        return {kind: _median([v[kind] for v in values]) for kind in values[0]}
    return statistics.median(values)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--store-url",
        default=os.environ.get(
            "MENTORBRIDGE_TEST_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
        ),
        help="a PostgreSQL server (the bench makes and drops a database of its own there)",
    )
    parser.add_argument("--events", type=int, default=2000)
    parser.add_argument("--pairs", type=int, default=500)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "scale.json")
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))  # stop the processes on the way out

    runs: dict[str, list[dict]] = {name: [] for name in MODES}
    with tempfile.TemporaryDirectory(prefix="mentorbridge-bench-") as tmp:
        for round_ in range(args.repeat):
            for name, instances in MODES.items():
                result = run_mode(name, instances, args, Path(tmp) / str(round_))
                print(f"{name}: {result}", flush=True)
                runs[name].append(result)
    medians = {
        name: {key: _median([r[key] for r in results]) for key in results[0]}
        for name, results in runs.items()
    }
    one, two = (medians[name] for name in MODES)
    ratios = {
        "events_per_second": round(two["events_per_second"] / one["events_per_second"], 2),
        "delivered_per_second": round(two["delivered_per_second"] / one["delivered_per_second"], 2),
    }
    summary = {
        "date": datetime.now(UTC).date().isoformat(),
        "machine": f"{os.cpu_count()} CPUs, Python {platform.python_version()}",
        "gunicorn_workers_per_instance": GUNICORN_WORKERS,
        "events": args.events,
        "pairs": args.pairs,
        "connections": args.connections,
        "runs": runs,
        "medians": medians,
        "two_over_one": ratios,
    }
    print(f"\nmedians: {json.dumps(medians, indent=2)}\n2 over 1: {ratios}")
    args.out.write_text(json.dumps(summary, indent=2) + "\n")
    print(f"written to {args.out}")


if __name__ == "__main__":
    main()
