"""Workday sync benchmark: each source's full sync beside a bare download of the same pages.

A Workday-shaped server (``tests.workday_server``) serves a generated tenant from this process;
each measured run happens in a child process of its own (time measured inside it, peak RSS
read from its ``VmHWM``). For each source of workers:

* ``bare:rest``  download every REST workers page (limit 100) and ``json``-parse it;
* ``bare:raas``  run the workers report (JSON) and stream its rows off a spooled body with
  ``ijson``, as the connector does (one pass: the connector makes two, the first to find the
  columns the run carries);
* ``bare:soap``  page ``Get_Workers`` (500 a page, WS-Security, the connector's own envelope)
  and parse each page's XML with ``defusedxml`` ``iterparse``, one ``Worker`` element at a time;
* ``<source>:full``  ``sync workday --full`` of the workers stream from that source into a fresh
  store holding only the organisations (validation, upserts, people links, bookmarks, the run's
  consistency check);
* after 1% of the workers change (entered in Workday now): ``soap:incremental`` (the
  transaction log) and ``raas:incremental`` (the report's date prompts) on the stores their
  full syncs filled. REST reads every worker on every run: it has no incremental run.

Each bare loop and full sync run alternately (``--repeat`` times, medians reported), on SQLite
and, with ``--store-url``, on a scratch database of that PostgreSQL server. Every run is
checked: the store holds every worker after a full sync, and an incremental run updated
exactly the changed workers. See bench/README.md.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

import ijson
import requests
from defusedxml.ElementTree import iterparse
from sqlalchemy import func, select

from bench.common import ROOT, peak_rss_mb, scratch_database
from mentorbridge.connectors.workday.auth import ws_security_header
from mentorbridge.connectors.workday.sample.tenant import change_workers, generate_tenant
from mentorbridge.connectors.workday.soap import get_workers_envelope
from mentorbridge.plugin.compose import open_store
from mentorbridge.plugin.config import load_config
from mentorbridge.plugin.jobs.sync import sync_workday
from mentorbridge.plugin.keyring import Keyring, write_key_file
from mentorbridge.plugin.store.db import Store
from mentorbridge.plugin.store.hris_models import HrisWorker
from mentorbridge.plugin.store.migrate import upgrade
from tests.workday_server import WorkdayServer

SECRETS = {
    "MENTORBRIDGE_WORKDAY_CLIENT_SECRET": "client-secret-1",
    "MENTORBRIDGE_WORKDAY_REFRESH_TOKEN": "refresh-token-1",
    "MENTORBRIDGE_WORKDAY_ISU_PASSWORD": "isu-password-1",
}
ISU = "ISU_Mentoring@acme"
#: One key file for every store measured (a PostgreSQL store has no default one).
KEY_FILE = "MENTORBRIDGE_SECRETS_KEY_FILE"
REST_PAGE = 100
SOAP_PAGE = 500
SOAP_VERSION = "v44.2"
SOURCES = ("rest", "raas", "soap")
INCREMENTAL = ("raas", "soap")
#: The issue's targets.
MAX_RATIO, MAX_INCREMENTAL_SHARE, MAX_RSS_MB = 1.5, 0.05, 150


# -- the measured runs (child processes) ------------------------------------------------------


def bare_rest(url: str) -> dict[str, Any]:
    """Download and parse every REST workers page: nothing else."""
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
            params={"limit": REST_PAGE, "offset": offset},
            timeout=(10, 180),
        )
        response.raise_for_status()
        data = response.json()["data"]
        records += len(data)
        if len(data) < REST_PAGE:
            break
        offset += len(data)
    return {"records": records, "seconds": time.perf_counter() - started}


def bare_raas(url: str) -> dict[str, Any]:
    """Run the workers report and stream its rows, as the connector reads a report body."""
    started = time.perf_counter()
    records = 0
    with (
        requests.get(
            f"{url}/ccx/service/customreport2/acme/ISU_Mentoring/RM_Workers",
            params={"format": "json"},
            auth=(ISU, SECRETS["MENTORBRIDGE_WORKDAY_ISU_PASSWORD"]),
            stream=True,
            timeout=(10, 600),
        ) as response,
        tempfile.SpooledTemporaryFile(max_size=8 << 20) as body,
    ):
        response.raise_for_status()
        for chunk in response.iter_content(chunk_size=1 << 16):
            body.write(chunk)
        body.seek(0)
        for _ in ijson.items(body, "Report_Entry.item", use_float=True):
            records += 1
    return {"records": records, "seconds": time.perf_counter() - started}


def bare_soap(url: str) -> dict[str, Any]:
    """Page ``Get_Workers`` and parse every page's XML, one ``Worker`` element at a time."""
    session = requests.Session()
    security = "".join(ws_security_header(ISU, SECRETS["MENTORBRIDGE_WORKDAY_ISU_PASSWORD"]))
    worker_tag = "{urn:com.workday/bsvc}Worker"
    pages_tag = "{urn:com.workday/bsvc}Total_Pages"
    as_of = datetime.now(UTC)
    started = time.perf_counter()
    page = total_pages = 1
    records = 0
    while page <= total_pages:
        envelope = get_workers_envelope(
            version=SOAP_VERSION,
            page=page,
            count=SOAP_PAGE,
            as_of=as_of,
            since=None,
            security=security,
        )
        response = session.post(
            f"{url}/ccx/service/acme/Human_Resources/{SOAP_VERSION}",
            data=envelope,
            headers={"Content-Type": "text/xml;charset=UTF-8", "SOAPAction": '""'},
            timeout=(10, 180),
        )
        response.raise_for_status()
        for _, element in iterparse(io.BytesIO(response.content), events=("end",)):
            if element.tag == worker_tag:
                records += 1
                element.clear()
            elif element.tag == pages_tag:
                total_pages = int(element.text)
        page += 1
    return {"records": records, "seconds": time.perf_counter() - started}


BARE = {"rest": bare_rest, "raas": bare_raas, "soap": bare_soap}


def sync(
    url: str, store_url: str, workers_from: str, full: bool, stream: str = "workers"
) -> dict[str, Any]:
    keys = {KEY_FILE: os.environ[KEY_FILE]} if KEY_FILE in os.environ else {}
    config = load_config(
        environ={"XDG_CONFIG_HOME": "/nonexistent", **SECRETS, **keys},
        overrides={
            "store.url": store_url,
            "workday.source": "api",
            "workday.host": url,
            "workday.tenant": "acme",
            "workday.client_id": "mentorbridge",
            "workday.isu_username": ISU,
            "workday.report_owner": "ISU_Mentoring",
            "workday.workers_from": workers_from,
            "workday.soap_page_size": SOAP_PAGE,
        },
    )
    with open_store(config) as store:
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
    kind, _, source = args.child.partition(":")
    if kind == "bare":
        run = partial(BARE[source], args.url)
    else:
        source, kind = kind, source
        run = partial(sync, args.url, args.store, source, full=kind == "full")
    cpu = time.process_time()
    if args.profile:  # times are then inflated: a profile says where time goes, not how much
        profiler = cProfile.Profile()
        result = profiler.runcall(run)
        profiler.dump_stats(args.profile)
    else:
        result = run()
    result["cpu_seconds"] = round(time.process_time() - cpu, 3)
    result["peak_rss_mb"] = round(peak_rss_mb(), 1)
    print(json.dumps(result))


def measure(mode: str, url: str, store_url: str = "", profile: Path | None = None) -> dict:
    command = [sys.executable, "-m", "bench.workday_bench", "--child", mode, "--url", url]
    command += ["--store", store_url] if store_url else []
    command += ["--profile", str(profile)] if profile else []
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
    if done.returncode:
        raise SystemExit(f"{mode} failed:\n{done.stderr[-3000:]}")
    result = json.loads(done.stdout.splitlines()[-1])
    result["seconds"] = round(result["seconds"], 3)
    return result


# -- one tenant size --------------------------------------------------------------------------


def stored_workers(store_url: str) -> int:
    with Store(store_url) as store, store.reading() as session:
        return session.scalar(select(func.count()).select_from(HrisWorker))


def fresh_store(stack: ExitStack, server_url: str | None, work: Path, name: str, url: str) -> str:
    """An empty migrated store holding the tenant's organisations (synced, not measured), as
    in any real mirror: the run's consistency check then finds what it finds on a real tenant."""
    directory = work / name
    directory.mkdir()
    store_url = stack.enter_context(scratch_database(server_url, directory, suffix=name))
    with Store(store_url) as store:
        upgrade(store)
    sync(url, store_url, "rest", full=True, stream="organizations")
    return store_url


def median_of(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """The run with the median time (the runs' times listed beside it)."""
    ordered = sorted(runs, key=lambda r: r["seconds"])
    middle = ordered[(len(ordered) - 1) // 2] | {}
    if len(runs) > 1:
        middle["all_seconds"] = [r["seconds"] for r in runs]
    return middle


def run_size(
    workers: int, stores: list[str | None], work: Path, repeat: int, profiles: Path | None
) -> list[dict[str, Any]]:
    print(f"{workers:,} workers: generating the tenant …", flush=True)
    tenant = generate_tenant(workers, seed=7)
    results = []
    with WorkdayServer(tenant) as server, ExitStack() as stack:
        server.warm()
        measure("bare:soap", server.url)  # renders every SOAP worker once (the server caches)
        filled: dict[tuple[str, str], str] = {}
        for server_url in stores:
            store_name = "SQLite" if server_url is None else "PostgreSQL"
            result: dict[str, Any] = {"workers": workers, "store": store_name, "sources": {}}
            for source in SOURCES:
                bares, fulls = [], []
                for number in range(repeat):
                    bares.append(measure(f"bare:{source}", server.url))
                    name = f"{source}_{store_name.lower()}_{workers}_{number}"
                    store_url = fresh_store(stack, server_url, work, name, server.url)
                    profile = profiles / f"{name}.prof" if profiles else None
                    fulls.append(measure(f"{source}:full", server.url, store_url, profile))
                    if stored_workers(store_url) != workers:
                        raise SystemExit(f"{source}: the full sync did not store every worker")
                    filled[store_name, source] = store_url
                bare, full = median_of(bares), median_of(fulls)
                result["sources"][source] = {
                    "bare": bare,
                    "full": full,
                    "ratio": round(full["seconds"] / bare["seconds"], 2),
                }
                print(
                    f"  {store_name} {source.upper()}: bare {bare['seconds']:.1f}s, "
                    f"full {full['seconds']:.1f}s ({full['seconds'] / bare['seconds']:.2f}x), "
                    f"peak RSS {full['peak_rss_mb']:.0f} MB",
                    flush=True,
                )
            results.append(result)
        # Changes are entered now; the last bookmark (the full sync's start) is earlier.
        time.sleep(1.1)
        changed = change_workers(
            tenant,
            fraction=0.01,
            seed=1,
            entered_at=datetime.now(UTC) - timedelta(milliseconds=500),
        )
        server.warm()
        for result in results:
            for source in INCREMENTAL:
                store_url = filled[result["store"], source]
                run = measure(f"{source}:incremental", server.url, store_url)
                if run["updated"] != len(changed):
                    raise SystemExit(f"{source}: updated {run['updated']}, changed {len(changed)}")
                entry = result["sources"][source]
                entry["incremental"] = run | {"changed": len(changed)}
                entry["incremental_share"] = round(run["seconds"] / entry["full"]["seconds"], 4)
                print(
                    f"  {result['store']} incremental {source.upper()} after {len(changed):,} "
                    f"changes: {run['seconds']:.2f}s",
                    flush=True,
                )
    return results


def verdicts(run: dict[str, Any]) -> list[str]:
    """Each target, met or missed, for one size and store."""
    found = []
    for source, entry in run["sources"].items():
        ratio, rss = entry["ratio"], entry["full"]["peak_rss_mb"]
        found.append(f"{source} full/bare {ratio:.2f} {'met' if ratio <= MAX_RATIO else 'MISSED'}")
        found.append(f"{source} peak RSS {rss:.0f} MB {'met' if rss < MAX_RSS_MB else 'MISSED'}")
        if "incremental_share" in entry:
            share = entry["incremental_share"]
            ok = share <= MAX_INCREMENTAL_SHARE
            found.append(f"{source} incremental {share:.1%} {'met' if ok else 'MISSED'}")
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--sizes",
        default="10000,100000",
        help="tenant sizes, comma-separated (default 10000,100000)",
    )
    parser.add_argument(
        "--store-url",
        help="also measure on this PostgreSQL server (a scratch database per store, dropped "
        "after), e.g. postgresql+psycopg://postgres@127.0.0.1:5432/postgres",
    )
    parser.add_argument("--no-sqlite", action="store_true", help="PostgreSQL alone")
    parser.add_argument(
        "--repeat", type=int, default=1, help="bare/full pairs per source, run alternately"
    )
    parser.add_argument("--profile", type=Path, help="write each full sync's cProfile here")
    parser.add_argument(
        "--out", type=Path, default=Path(__file__).parent / "results" / "workday.json"
    )
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--store", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args)
        return
    stores: list[str | None] = [] if args.no_sqlite else [None]
    stores += [args.store_url] if args.store_url else []
    if args.profile:
        args.profile.mkdir(parents=True, exist_ok=True)
    runs = []
    with tempfile.TemporaryDirectory(prefix="mentorbridge-workday-bench-") as tmp:
        key_file = Path(tmp) / "bench.keys"
        write_key_file(key_file, Keyring.generate(str(key_file)))
        os.environ[KEY_FILE] = str(key_file)  # for the children too
        for size in (int(s) for s in args.sizes.split(",")):
            runs += run_size(size, stores, Path(tmp), args.repeat, args.profile)
    summary = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": f"{platform.machine()}, Python {platform.python_version()}, "
        f"{os.cpu_count()} CPUs",
        "targets": {
            "full_over_bare": MAX_RATIO,
            "incremental_share": MAX_INCREMENTAL_SHARE,
            "peak_rss_mb": MAX_RSS_MB,
        },
        "repeat": args.repeat,
        "runs": runs,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(summary, indent=2) + "\n")
    print("\nworkers  store       source  bare     full     ratio  incr.   peak RSS")
    for run in runs:
        for source, entry in run["sources"].items():
            share = entry.get("incremental_share")
            print(
                f"{run['workers']:>7,}  {run['store']:<10}  {source:<6}  "
                f"{entry['bare']['seconds']:>6.1f}s  {entry['full']['seconds']:>6.1f}s  "
                f"{entry['ratio']:>5.2f}  {'  -   ' if share is None else f'{share:>5.1%}'}  "
                f"{entry['full']['peak_rss_mb']:>5.0f} MB"
            )
        print("  " + "; ".join(verdicts(run)))
    print(
        f"targets: full ≤ {MAX_RATIO}x bare, incremental ≤ {MAX_INCREMENTAL_SHARE:.0%} of full, "
        f"peak RSS < {MAX_RSS_MB} MB\nwritten to {args.out}"
    )


if __name__ == "__main__":
    main()
