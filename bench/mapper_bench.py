"""Mapper and succession-report benchmark: evidence from scratch, after 1% new events, and the
report in every format, beside one hand-written SQL aggregate over the same data (the limit).

A programme history (``bench.mentoring_data``: 100,000 workers, 30 competencies, 1,000,000
outcome rows by default) is written into a fresh SQLite file and a fresh PostgreSQL database;
each measured run is a child process of its own (time measured inside it, peak RSS from its
``VmHWM``):

* ``aggregate``     one hand-written SQL statement computing, per person x competency, what the
                    evidence rests on (released ratings of completed sessions: count, mean,
                    latest) plus, per person, the completed sessions and goals achieved, fetched
                    to Python: reading the data once, with nothing decided;
* ``compute``       the mapper's reading and judging alone: every participant's activity read
                    and evaluated in batches as a full run does, nothing written (how much of
                    ``full`` is deciding and how much is writing rows and statements);
* ``full``          ``update_evidence(full=True)``: every participant's evidence computed, rows,
                    sources, history and statements written;
* ``incremental``   after 1% of the pairs had one more session with two released ratings (the
                    people touched marked, as the recorder marks them): ``update_evidence()``;
* ``report:FMT``    the succession report in each format, written to a file.

See bench/README.md for the targets and the last figures.
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
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select, text, union

from bench.common import ROOT, peak_rss_mb, scratch_database
from bench.mentoring_data import History, add_events, mapping_text, write_history
from mentorbridge.plugin.config import load_config
from mentorbridge.plugin.mapping.activity import read_activity
from mentorbridge.plugin.mapping.evidence import MappingIndex, evaluate_person
from mentorbridge.plugin.mapping.file import parse_mapping
from mentorbridge.plugin.mapping.run import BATCH, update_evidence
from mentorbridge.plugin.reports.filters import SuccessionFilters
from mentorbridge.plugin.reports.formats import format_for
from mentorbridge.plugin.reports.succession import succession_report
from mentorbridge.plugin.store.db import Store
from mentorbridge.plugin.store.migrate import upgrade
from mentorbridge.plugin.store.models import Pair

FORMATS = ("csv", "json", "xlsx", "parquet", "html")

#: The limit: what the evidence rests on, aggregated by the database in one statement.
AGGREGATE = """
WITH rated AS (
    SELECT o.subject_id AS person_id, o.competency AS competency, count(*) AS ratings,
           avg((o.rating - o.scale_min) / (o.scale_max - o.scale_min)) AS mean_rating,
           max(o.rated_at) AS latest
    FROM outcome o JOIN mentoring_session s ON s.id = o.session_id
    WHERE o.released AND s.status = 'completed'
    GROUP BY o.subject_id, o.competency
), attended AS (
    SELECT person_id, count(*) AS sessions, max(started_at) AS latest FROM (
        SELECT p.mentee_id AS person_id, s.started_at FROM mentoring_session s
            JOIN pair p ON p.id = s.pair_id WHERE s.status = 'completed'
        UNION ALL
        SELECT p.mentor_id, s.started_at FROM mentoring_session s
            JOIN pair p ON p.id = s.pair_id WHERE s.status = 'completed'
    ) AS sessions GROUP BY person_id
), achieved AS (
    SELECT owner_id AS person_id, count(*) AS goals FROM goal WHERE status = 'achieved'
    GROUP BY owner_id
)
SELECT r.person_id, r.competency, r.ratings, r.mean_rating, r.latest, a.sessions, g.goals
FROM rated r
LEFT JOIN attended a ON a.person_id = r.person_id
LEFT JOIN achieved g ON g.person_id = r.person_id
"""


# -- the measured runs (child processes) ------------------------------------------------------


def _mapping(history_file: Path) -> Any:
    history = _history(history_file)
    return parse_mapping(mapping_text(history), "bench"), history


def _history(path: Path) -> History:
    data = json.loads(path.read_text())
    data["competencies"] = tuple(data["competencies"])
    data["now"] = datetime.fromisoformat(data["now"])
    return History(**data)


def _builder(store_url: str) -> Any:
    from mentorbridge.plugin.compose import statement_builder

    config = load_config(
        environ={"XDG_CONFIG_HOME": "/nonexistent"},
        overrides={
            "store.url": store_url,
        },
    )
    return statement_builder(config)


def _compute(store: Store, mapping: Any, now: datetime) -> dict[str, Any]:
    index, found = MappingIndex(mapping), 0
    with store.transaction() as session:
        people = sorted(set(session.scalars(union(select(Pair.mentee_id), select(Pair.mentor_id)))))
        for start in range(0, len(people), BATCH):
            activity = read_activity(session, people[start : start + BATCH])
            for person_activity in activity.values():
                found += len(evaluate_person(index, person_activity, now))
    return {"people": len(people), "evidence": found}


def child(args: argparse.Namespace) -> dict[str, Any]:
    mapping, history = _mapping(Path(args.history))
    with Store(args.store_url) as store:
        started = time.perf_counter()
        if args.child == "aggregate":
            with store.engine.connect() as connection:
                rows = sum(
                    1
                    for _ in connection.execution_options(yield_per=10_000).execute(text(AGGREGATE))
                )
            result: dict[str, Any] = {"rows": rows}
        elif args.child == "compute":
            result = _compute(store, mapping, history.now)
        elif args.child in ("full", "incremental"):
            run = update_evidence(
                store,
                mapping,
                now=history.now,
                full=args.child == "full",
                builder=_builder(args.store_url),
            )
            result = {
                "people": run.people,
                "created": run.created,
                "changed": run.changed,
                "withdrawn": run.withdrawn,
                "statements": run.statements,
            }
        else:
            name = args.child.partition(":")[2]
            report = succession_report(store, mapping, SuccessionFilters.from_strings({}))
            with open(args.out_file, "wb") as out:
                rows = format_for(name).write(report, out)
            result = {"rows": rows, "bytes": os.path.getsize(args.out_file)}
        result["seconds"] = round(time.perf_counter() - started, 3)
    result["peak_rss_mb"] = round(peak_rss_mb(), 1)
    return result


def measure(mode: str, store_url: str, history: Path, out_file: Path | None = None) -> dict:
    command = [
        sys.executable,
        "-m",
        "bench.mapper_bench",
        "--child",
        mode,
        "--store-url",
        store_url,
        "--history",
        str(history),
    ]
    if out_file is not None:
        command += ["--out-file", str(out_file)]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"{mode} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


# -- the driver -------------------------------------------------------------------------------


def _analyse(store: Store) -> None:
    """Gather PostgreSQL's planner statistics, as autovacuum would have by the time a history
    this size is reported on (it may be off on the benchmark's server: then the reports' plans
    are those of empty tables)."""
    if store.dialect == "postgresql":
        with store.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text("ANALYZE"))


def run_store(name: str, server: str | None, args: argparse.Namespace, tmp: Path) -> dict:
    with scratch_database(server, tmp) as url:
        with Store(url) as store:
            upgrade(store)
            print(f"{name}: writing the history …", flush=True)
            started = time.perf_counter()
            history = write_history(
                store,
                workers=args.workers,
                competencies=args.competencies,
                outcomes=args.outcomes,
            )
            print(f"  written in {time.perf_counter() - started:.0f}s", flush=True)
            _analyse(store)
        history_file = tmp / f"history-{name}.json"
        history_file.write_text(
            json.dumps(
                {
                    **{
                        k: getattr(history, k)
                        for k in (
                            "workers",
                            "pairs",
                            "sessions",
                            "goals",
                            "outcomes",
                            "competencies",
                        )
                    },
                    "now": history.now.isoformat(),
                }
            )
        )
        results: dict[str, Any] = {"store": name}
        for mode in ("aggregate", "compute", "full"):
            results[mode] = measure(mode, url, history_file)
            print(f"  {mode}: {results[mode]}", flush=True)
        again = measure("incremental", url, history_file)
        if again["created"] or again["changed"] or again["statements"]:
            raise SystemExit(f"a re-run on unchanged data changed something: {again}")
        with Store(url) as store:
            results["touched"] = add_events(store, history)
            _analyse(store)
        results["incremental"] = measure("incremental", url, history_file)
        print(f"  incremental: {results['incremental']}", flush=True)
        for fmt in FORMATS:
            results[f"report_{fmt}"] = measure(
                f"report:{fmt}", url, history_file, tmp / f"succession.{fmt}"
            )
            print(f"  report {fmt}: {results[f'report_{fmt}']}", flush=True)
        results["full_vs_aggregate"] = round(
            results["full"]["seconds"] / results["aggregate"]["seconds"], 2
        )
        results["compute_vs_aggregate"] = round(
            results["compute"]["seconds"] / results["aggregate"]["seconds"], 2
        )
        results["incremental_share"] = round(
            results["incremental"]["seconds"] / results["full"]["seconds"], 4
        )
        return results


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--workers", type=int, default=100_000)
    parser.add_argument("--competencies", type=int, default=30)
    parser.add_argument("--outcomes", type=int, default=1_000_000)
    parser.add_argument(
        "--postgres",
        default=os.environ.get(
            "MENTORBRIDGE_BENCH_DATABASE_URL",
            "postgresql+psycopg://postgres@127.0.0.1:5432/postgres",
        ),
        help="a PostgreSQL server URL; 'none' runs SQLite only",
    )
    parser.add_argument(
        "--out", type=Path, default=Path(__file__).parent / "results" / "mapper.json"
    )
    parser.add_argument(
        "--no-sqlite", action="store_true", help="PostgreSQL only (SQLite's last figures stay)"
    )
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--store-url", help=argparse.SUPPRESS)
    parser.add_argument("--history", help=argparse.SUPPRESS)
    parser.add_argument("--out-file", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args)))
        return
    stores: list[tuple[str, str | None]] = [] if args.no_sqlite else [("SQLite", None)]
    if args.postgres != "none":
        stores.append(("PostgreSQL", args.postgres))
    runs = []
    with tempfile.TemporaryDirectory(prefix="mentorbridge-mapper-bench-") as tmp:
        for name, server in stores:
            runs.append(run_store(name, server, args, Path(tmp)) | {"when": _now()})
    if args.out.exists():  # a store not run this time keeps its last figures
        kept = json.loads(args.out.read_text()).get("runs", [])
        ran = {run["store"] for run in runs}
        runs = [run for run in kept if run["store"] not in ran] + runs
    summary = {
        "when": _now(),
        "machine": f"{platform.machine()}, Python {platform.python_version()}, "
        f"{os.cpu_count()} CPUs",
        "sizes": {
            "workers": args.workers,
            "competencies": args.competencies,
            "outcomes": args.outcomes,
        },
        "runs": runs,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(summary, indent=2) + "\n")
    print(
        "\nstore       aggregate  compute (x limit)  full (x limit)  incremental (share)  "
        + "  ".join(f"{f:>8}" for f in FORMATS)
        + "  peak RSS"
    )
    for run in runs:
        peak = max(v["peak_rss_mb"] for v in run.values() if isinstance(v, dict))
        print(
            f"{run['store']:<10}  {run['aggregate']['seconds']:>8.1f}s  "
            f"{run['compute']['seconds']:>8.1f}s ({run['compute_vs_aggregate']:.1f}x)  "
            f"{run['full']['seconds']:>6.1f}s ({run['full_vs_aggregate']:.1f}x)  "
            f"{run['incremental']['seconds']:>9.2f}s ({run['incremental_share']:.1%})  "
            + "  ".join(f"{run[f'report_{f}']['seconds']:>7.1f}s" for f in FORMATS)
            + f"  {peak:.0f} MB"
        )
    print("targets: full <= 3x the aggregate, incremental <= 5% of full, peak RSS < 1 GB")
    print(f"written to {args.out}")


if __name__ == "__main__":
    main()
