"""Bulk import benchmark: ``mentorbridge events import`` against posting the same events one by
one over HTTP to ``mentorbridge serve``, in the same run.

Both record ``session.completed`` events (``bench.webhook_bench.session_completed``, spread
over ``--pairs`` pairs) into a fresh store each (SQLite, or PostgreSQL with ``--store-url``)
that knows the pairs:

* ``http``    ``mentorbridge serve`` (gunicorn, 2 sync workers) and one client posting each
              signed event and waiting for its answer before the next: ``--sample`` events,
              timed, since at this rate the whole file would take minutes;
* ``import``  ``mentorbridge events import`` of a JSON Lines file of ``--events`` events, in a
              child process: its wall time from reading the file to the summary (interpreter
              start-up aside) and its peak RSS (``VmHWM``).

The modes alternate for ``--rounds`` rounds (the machine is shared and noisy); the figure is
the median of the rounds' ratios. Every run is checked: every answer a 202, the import's
summary, and the store holding one completed session and two queued statements per event. See
bench/README.md for the figures.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import redirect_stdout
from datetime import UTC, datetime, timedelta
from io import StringIO
from pathlib import Path

import httpx

from bench.common import ROOT, peak_rss_mb, scratch_database, use_scratch_keys
from bench.webhook_bench import (
    _post,
    prepare_store,
    recorded,
    serving,
    session_completed,
    signed_events,
    the_pairs,
)

#: The target: the import's events per second over one-by-one HTTP's.
TARGET = 20.0


def write_events(path: Path, count: int, pairs: list[tuple[str, str, str]]) -> None:
    """``count`` plain events, one per line, as an admin's export would hold them."""
    when = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=5)
    with path.open("wb") as file:
        for n in range(count):
            file.write(session_completed("import", n, pairs[n % len(pairs)], when) + b"\n")


def one_by_one(store_url: str, sample: int, pairs: list, work: Path) -> dict:
    events = signed_events("http", sample, pairs)
    with serving("mentorbridge", store_url, work) as url, httpx.Client(timeout=30) as client:
        started = time.perf_counter()
        failed = sum(_post(client, url, line) != 202 for line in events)
        seconds = time.perf_counter() - started
    if failed:
        raise SystemExit(f"http: {failed} answers other than 202")
    return {
        "events": sample,
        "seconds": round(seconds, 2),
        "per_second": round(sample / seconds, 1),
    }


def bulk(store_url: str, file: Path, count: int) -> dict:
    command = [sys.executable, "-m", "bench.import_bench", "--child", str(file)]
    env = {
        **os.environ,
        "MENTORBRIDGE_STORE_URL": store_url,
        "MENTORBRIDGE_LRS_AUTH": "none",
        "XDG_CONFIG_HOME": str(file.parent / "cfg"),
    }
    output = subprocess.run(
        command, cwd=ROOT, env=env, capture_output=True, text=True, check=True
    ).stdout
    result = json.loads(output.splitlines()[-1])
    expected = f"{count} imported, 0 already present, 0 held, 0 rejected"
    if expected not in result["summary"]:
        raise SystemExit(f"import: {result['summary']!r}, expected {expected!r}")
    result["per_second"] = round(count / result["seconds"], 1)
    return result


def child(file: str) -> None:
    from mentorbridge.plugin.cli import main

    out = StringIO()
    started = time.perf_counter()
    with redirect_stdout(out):
        try:
            main(["events", "import", file])
        except SystemExit as exit:
            if exit.code:
                raise SystemExit(f"import exited {exit.code}: {out.getvalue()}") from None
    seconds = time.perf_counter() - started
    summary = out.getvalue().strip()
    print(
        json.dumps(
            {
                "seconds": round(seconds, 2),
                "summary": summary,
                "peak_rss_mb": round(peak_rss_mb(), 1),
            }
        )
    )


#: Where an import's time goes: (stage, file suffix, function) whose cumulative times are used.
STAGES = {
    "read": ("plugin/backfill/lines.py", "read_jsonl"),
    "order": ("plugin/backfill/order.py", "dependency_order"),
    "import": ("plugin/backfill/importer.py", "import_events"),
    "reparse": ("plugin/webhooks/events.py", "reparse_event"),
    "lookups": ("plugin/backfill/sessions_bulk.py", "read"),
    "build": ("plugin/backfill/sessions_bulk.py", "_statements"),
    "validate": ("xapi/validate.py", "validate_statement"),
    "insert": ("plugin/backfill/sessions_bulk.py", "_insert"),
}


def profile(events: int, pairs: list[tuple[str, str, str]]) -> None:
    """The import of ``events`` into a fresh SQLite store under cProfile: each stage's share."""
    import cProfile
    import pstats

    from mentorbridge.plugin import compose
    from mentorbridge.plugin.backfill import dependency_order, import_events, read_jsonl
    from mentorbridge.plugin.config import load_config

    with tempfile.TemporaryDirectory(prefix="mentorbridge-import-profile-") as tmp:
        url = f"sqlite:///{Path(tmp) / 'profile.sqlite3'}"
        prepare_store(url, pairs)
        file = Path(tmp) / "events.jsonl"
        write_events(file, events, pairs)
        config = load_config(None, environ={}, overrides={"store.url": url, "lrs.auth": "none"})
        with compose.open_store(config) as store:
            processor = compose.event_processor(config, store)

            def run() -> None:
                import_events(processor, dependency_order(list(read_jsonl(file, secrets=tuple))))

            profiler = cProfile.Profile()
            profiler.runcall(run)
    stats = pstats.Stats(profiler).stats
    t = {
        stage: sum(
            cumulative
            for (path, _line, name), (_cc, _nc, _tt, cumulative, _callers) in stats.items()
            if path.endswith(suffix) and name == function
        )
        for stage, (suffix, function) in STAGES.items()
    }
    whole = t["read"] + t["order"] + t["import"]
    shares = [
        ("reading and checking the file (parse_event per line)", t["read"]),
        ("dependency order", t["order"]),
        ("reading each event again in its batch (reparse_event)", t["reparse"]),
        ("looking up ids, sessions and pairs per batch", t["lookups"]),
        ("building 2 statements: validation", t["validate"]),
        ("building 2 statements: the rest", t["build"] - t["validate"]),
        ("bulk inserts: sessions, outbox, marks, event rows", t["insert"]),
    ]
    shares.append(("commits and the rest", whole - sum(seconds for _, seconds in shares)))
    print(f"import of {events} events under cProfile, SQLite: share of the time")
    for stage, seconds in shares:
        print(f"  {stage:<52} {seconds / whole:6.1%}")


def check(store_url: str, events: int) -> dict:
    sessions, statements = recorded(store_url)
    if (sessions, statements) != (events, 2 * events):
        raise SystemExit(f"{sessions} sessions and {statements} statements for {events} events")
    return {"sessions": sessions, "statements": statements}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--store-url",
        help="a PostgreSQL server to use (the bench makes and drops databases of its own "
        "there); default: fresh SQLite files",
    )
    parser.add_argument("--events", type=int, default=20_000, help="events in the import file")
    parser.add_argument("--sample", type=int, default=2_000, help="events posted one by one")
    parser.add_argument("--pairs", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=3, help="rounds of both modes, alternating")
    parser.add_argument("--out", type=Path, help="default: bench/results/import-<store>.json")
    parser.add_argument(
        "--profile", action="store_true", help="only profile an import of --events (SQLite)"
    )
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child)
        return
    if args.profile:
        profile(args.events, the_pairs(args.pairs))
        return

    store_name = "postgresql" if args.store_url else "sqlite"
    pairs = the_pairs(args.pairs)
    rounds = []
    with tempfile.TemporaryDirectory(prefix="mentorbridge-import-bench-") as tmp:
        use_scratch_keys(Path(tmp))  # for the stores, the server and the import alike
        for n in range(1, args.rounds + 1):  # the modes alternate: the machine is shared
            results = {}
            for mode in ("http", "import"):
                work = Path(tmp) / f"{mode}-{n}"
                work.mkdir()
                with scratch_database(args.store_url, work) as store_url:
                    prepare_store(store_url, pairs)
                    print(f"round {n}: {mode} …", flush=True)
                    if mode == "http":
                        result = one_by_one(store_url, args.sample, pairs, work)
                    else:
                        file = work / "events.jsonl"
                        write_events(file, args.events, pairs)
                        result = bulk(store_url, file, args.events)
                    result["recorded"] = check(store_url, result.get("events", args.events))
                print(f"  {json.dumps(result)}", flush=True)
                results[mode] = result
            results["ratio"] = round(
                results["import"]["per_second"] / results["http"]["per_second"], 2
            )
            print(f"  import / one-by-one HTTP = {results['ratio']:.1f}x", flush=True)
            rounds.append(results)
    ratio = statistics.median(r["ratio"] for r in rounds)
    summary = {
        "date": datetime.now(UTC).date().isoformat(),
        "machine": f"{os.cpu_count()} CPUs, Python {platform.python_version()}",
        "store": store_name,
        "pairs": args.pairs,
        "import_events": args.events,
        "http_sample": args.sample,
        "rounds": rounds,
        "median_ratio": round(ratio, 2),
        "target": TARGET,
    }
    print(
        f"\nimport / one-by-one HTTP, median of {len(rounds)}: {ratio:.1f}x (target ≥ {TARGET:g}x)"
    )
    out = args.out or ROOT / "bench" / "results" / f"import-{store_name}.json"
    out.write_text(json.dumps(summary, indent=2) + "\n")
    print(f"written to {out}")


if __name__ == "__main__":
    main()
