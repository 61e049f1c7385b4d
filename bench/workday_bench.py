"""Workday sync benchmark: full REST sync against the download limit, incremental runs, memory.

A Workday-shaped server (``tests.workday_server``) serves a generated tenant from this process;
each measured run happens in a child process of its own (time measured inside it, peak RSS
read from its ``VmHWM``):

* ``bare``          download every REST workers page (limit 100) and ``json``-parse it: the limit;
* ``full-rest``     ``mentorbridge sync workday --full`` of the workers stream from REST into a
                    fresh SQLite store holding only the organisations (validation, upserts,
                    people links, bookmarks, the run's consistency check);
* after 1% of the workers change (new titles and levels, entered in Workday now):
  ``incremental-soap`` (``Get_Workers`` transaction log) and ``incremental-raas`` (the workers
  report run with its date prompts), each on the store the full sync filled.

Run for 10,000 and 100,000 workers, each with the local server answering at once and with it
answering every REST page ``--latency-ms`` later (a remote tenant is never as fast as a server in
this process); see bench/README.md. Every run is checked: the store holds every worker after the
full sync, and the incremental runs updated exactly the changed ones.
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
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import requests
from sqlalchemy import func, select

from bench.common import ROOT, peak_rss_mb
from mentorbridge.connectors.workday.sample.tenant import change_workers, generate_tenant
from mentorbridge.plugin.config import load_config
from mentorbridge.plugin.jobs.sync import sync_workday
from mentorbridge.plugin.store.db import Store
from mentorbridge.plugin.store.hris_models import HrisWorker
from mentorbridge.plugin.store.migrate import upgrade
from tests.workday_server import WorkdayServer

SECRETS = {
    "MENTORBRIDGE_WORKDAY_CLIENT_SECRET": "client-secret-1",
    "MENTORBRIDGE_WORKDAY_REFRESH_TOKEN": "refresh-token-1",
    "MENTORBRIDGE_WORKDAY_ISU_PASSWORD": "isu-password-1",
}
PAGE = 100


# -- the measured runs (child processes) ------------------------------------------------------


def bare(url: str) -> dict[str, Any]:
    """Download and parse every workers page: nothing else."""
    session = requests.Session()
    token = session.post(
        f"{url}/ccx/oauth2/acme/token",
        timeout=30,
        data={
            "grant_type": "refresh_token",
            "refresh_token": SECRETS["MENTORBRIDGE_WORKDAY_REFRESH_TOKEN"],
            "client_id": "mentorbridge",
            "client_secret": SECRETS["MENTORBRIDGE_WORKDAY_CLIENT_SECRET"],
        },
    ).json()["access_token"]
    headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
    started = time.perf_counter()
    offset = records = 0
    while True:
        response = session.get(
            f"{url}/ccx/api/staffing/v6/acme/workers",
            headers=headers,
            params={"limit": PAGE, "offset": offset},
            timeout=(10, 180),
        )
        response.raise_for_status()
        data = response.json()["data"]
        records += len(data)
        if len(data) < PAGE:
            break
        offset += len(data)
    seconds = time.perf_counter() - started
    session.close()
    return {"records": records, "seconds": seconds}


def sync(
    url: str, store_url: str, workers_from: str, full: bool, stream: str = "workers"
) -> dict[str, Any]:
    config = load_config(
        environ={"XDG_CONFIG_HOME": "/nonexistent", **SECRETS},
        overrides={
            "store.url": store_url,
            "workday.source": "api",
            "workday.host": url,
            "workday.tenant": "acme",
            "workday.client_id": "mentorbridge",
            "workday.isu_username": "ISU_Mentoring@acme",
            "workday.report_owner": "ISU_Mentoring",
            "workday.workers_from": workers_from,
            "workday.soap_page_size": 500,
        },
    )
    with Store(config.store_url) as store:
        started = time.perf_counter()
        report = sync_workday(config, store, full=full, only=[stream])
        seconds = time.perf_counter() - started
    counts = report.counts[stream]
    return {
        "records": counts.seen,
        "created": counts.created,
        "updated": counts.updated,
        "seconds": seconds,
    }


def child(args: argparse.Namespace) -> None:
    if args.child == "bare":
        result = bare(args.url)
    else:
        source, _, kind = args.child.partition(":")
        result = sync(args.url, args.store_url, source, full=kind == "full")
    result["peak_rss_mb"] = round(peak_rss_mb(), 1)
    print(json.dumps(result))


def measure(mode: str, url: str, store_url: str = "") -> dict[str, Any]:
    command = [
        sys.executable,
        "-m",
        "bench.workday_bench",
        "--child",
        mode,
        "--url",
        url,
        "--store-url",
        store_url,
    ]
    output = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=True).stdout
    result = json.loads(output.splitlines()[-1])
    result["seconds"] = round(result["seconds"], 3)
    return result


# -- one tenant size --------------------------------------------------------------------------


def stored_workers(store_url: str) -> int:
    with Store(store_url) as store, store.reading() as session:
        return session.scalar(select(func.count()).select_from(HrisWorker))


def run_size(workers: int, latency_ms: int, work: Path) -> dict[str, Any]:
    print(
        f"{workers:,} workers, REST pages {latency_ms} ms late: generating the tenant …", flush=True
    )
    tenant = generate_tenant(workers, seed=7)
    results: dict[str, Any] = {"workers": workers, "latency_ms": latency_ms}
    pages = workers // PAGE + 2

    def slow_down() -> None:
        if latency_ms:
            server.delay_next("/workers", latency_ms / 1000, times=pages)

    with WorkdayServer(tenant) as server:
        server.warm()
        slow_down()
        results["bare"] = measure("bare", server.url)
        print(f"  bare download+parse: {results['bare']['seconds']:.1f}s", flush=True)
        store_url = f"sqlite:///{work / f'store-{workers}-{latency_ms}.sqlite3'}"
        with Store(store_url) as store:
            upgrade(store)
        # Not measured: the organisations the workers belong to, as in any real mirror (the
        # run's consistency check then finds what it finds on a real tenant: nothing wrong).
        sync(server.url, store_url, "rest", full=True, stream="organizations")
        slow_down()
        results["full_rest"] = measure("rest:full", server.url, store_url)
        assert stored_workers(store_url) == workers, "the full sync did not store every worker"
        print(
            f"  full REST sync: {results['full_rest']['seconds']:.1f}s, "
            f"peak RSS {results['full_rest']['peak_rss_mb']:.0f} MB",
            flush=True,
        )
        for source in ("soap", "raas"):
            # Changes are entered now; the last bookmark (the previous run's start) is earlier.
            time.sleep(1.1)
            changed = change_workers(
                tenant,
                fraction=0.01,
                seed=len(results),
                entered_at=datetime.now(UTC) - timedelta(milliseconds=500),
            )
            server.warm()
            result = measure(f"{source}:incremental", server.url, store_url)
            if result["updated"] != len(changed):
                raise SystemExit(f"{source}: updated {result['updated']}, changed {len(changed)}")
            results[f"incremental_{source}"] = result | {"changed": len(changed)}
            print(
                f"  incremental {source.upper()} after {len(changed):,} changes: "
                f"{result['seconds']:.2f}s",
                flush=True,
            )
    full, limit = results["full_rest"]["seconds"], results["bare"]["seconds"]
    results["rest_overhead"] = round(full / limit - 1, 4)
    for source in ("soap", "raas"):
        results[f"incremental_{source}_share"] = round(
            results[f"incremental_{source}"]["seconds"] / full, 4
        )
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--sizes",
        default="10000,100000",
        help="tenant sizes, comma-separated (default 10000,100000)",
    )
    parser.add_argument(
        "--latency-ms",
        default="0,20",
        help="added delay of every REST page, comma-separated (default 0,20)",
    )
    parser.add_argument(
        "--out", type=Path, default=Path(__file__).parent / "results" / "workday.json"
    )
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--store-url", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args)
        return
    runs = []
    with tempfile.TemporaryDirectory(prefix="mentorbridge-workday-bench-") as tmp:
        for size in (int(s) for s in args.sizes.split(",")):
            for latency in (int(ms) for ms in args.latency_ms.split(",")):
                runs.append(run_size(size, latency, Path(tmp)))
    summary = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": f"{platform.machine()}, Python {platform.python_version()}, "
        f"{os.cpu_count()} CPUs",
        "store": "SQLite",
        "runs": runs,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(summary, indent=2) + "\n")
    print(
        "\nworkers  page delay  full REST  bare limit  overhead  incr. SOAP  incr. RaaS  peak RSS"
    )
    for run in runs:
        print(
            f"{run['workers']:>7,}  {run['latency_ms']:>7} ms  "
            f"{run['full_rest']['seconds']:>8.1f}s  "
            f"{run['bare']['seconds']:>9.1f}s  {run['rest_overhead']:>7.0%}  "
            f"{run['incremental_soap_share']:>9.1%}  {run['incremental_raas_share']:>9.1%}"
            f"  {run['full_rest']['peak_rss_mb']:>6.0f} MB"
        )
    print(
        "targets: overhead ≤ 30%, incremental ≤ 5% of the full sync, peak RSS flat and "
        f"< 300 MB\nwritten to {args.out}"
    )


if __name__ == "__main__":
    main()
