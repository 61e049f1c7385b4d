"""Where one webhook event's time goes: events through the app in this process, under cProfile.

    .venv/bin/python -m bench.webhook_profile [--events 2000] [--store-url postgresql+psycopg://…]
        [--dump FILE]

Prints the mean wall and CPU time per event without the profiler (the CPU time is what a busy
machine changes least), then the share of the profiled time spent in each stage of handling
``session.completed`` (the stages do not overlap and add up to the whole request). Requests go
through Flask's test client, which costs about what a WSGI server's request parsing does.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import tempfile
import time
from pathlib import Path

from bench.common import scratch_database, use_scratch_keys
from bench.webhook_bench import SECRET, prepare_store, signed_events, the_pairs
from mentorbridge.plugin.config import load_config
from mentorbridge.plugin.web import create_app
from mentorbridge.plugin.webhooks.signing import HEADER

#: The functions whose cumulative times are subtracted into stages: (name, file, function).
MEASURED = {
    "request": ("flask/testing.py", "open"),
    "view": ("plugin/web/webhooks.py", "receive_event"),
    "secrets": ("plugin/webhooks/signing_secrets.py", "active"),
    "verify": ("plugin/webhooks/signing.py", "verify"),
    "parse": ("plugin/webhooks/events.py", "parse_event"),
    "process": ("plugin/webhooks/processor.py", "process"),
    "apply": ("plugin/webhooks/handlers.py", "apply_event"),
    "build": ("xapi/statements.py", "session_completed"),
    "validate": ("xapi/validate.py", "validate_statement"),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=2000)
    parser.add_argument(
        "--store-url", help="a PostgreSQL server (a scratch database is made there)"
    )
    parser.add_argument("--dump", type=Path, help="also write the profile here (pstats format)")
    args = parser.parse_args()
    with (
        tempfile.TemporaryDirectory() as tmp,
        scratch_database(args.store_url, Path(tmp)) as url,
    ):
        keys = use_scratch_keys(Path(tmp))
        pairs = the_pairs(50)
        prepare_store(url, pairs)
        overrides = {
            "store.url": url,
            "secrets.key_file": str(keys),
            "lrs.auth": "none",
            "web.signing_secret": SECRET,
        }
        app = create_app(load_config(None, environ={}, overrides=overrides))
        client = app.test_client()
        events = signed_events("profile", 2 * args.events + 200, pairs)

        def post(lines: list[bytes]) -> None:
            for line in lines:
                signature, body = line.split(b"\t", 1)
                headers = {
                    "Content-Type": "application/json",
                    HEADER: signature.decode(),
                }
                answer = client.post("/webhooks/v1/events", data=body, headers=headers)
                if answer.status_code != 202:
                    raise SystemExit(f"{answer.status_code}: {answer.get_data(as_text=True)}")

        post(events[:200])  # warm up: imports, caches, statement cache
        began, cpu = time.perf_counter(), time.process_time()
        post(events[200 : 200 + args.events])
        per_event = (time.perf_counter() - began) / args.events * 1000
        cpu_per_event = (time.process_time() - cpu) / args.events * 1000
        profiler = cProfile.Profile()
        profiler.runcall(post, events[200 + args.events :])
    if args.dump:
        profiler.dump_stats(args.dump)
    stats = pstats.Stats(profiler).stats
    t = {
        key: sum(
            cumulative
            for (file, _line, name), (_cc, _nc, _tt, cumulative, _callers) in stats.items()
            if file.endswith(suffix) and name == function
        )
        for key, (suffix, function) in MEASURED.items()
    }
    stages = [
        ("Flask, request log, metrics", t["request"] - t["view"]),
        ("signature check (secrets cached)", t["secrets"] + t["verify"]),
        ("parsing and validating the event", t["parse"]),
        ("recording: the recorder's queries and rows", t["apply"] - t["build"]),
        ("building 2 statements: full validation", t["validate"]),
        ("building 2 statements: the rest", t["build"] - t["validate"]),
        ("event row, its result, commit", t["process"] - t["apply"]),
        (
            "the rest of the view",
            t["view"] - t["secrets"] - t["verify"] - t["parse"] - t["process"],
        ),
    ]
    store = "PostgreSQL" if args.store_url else "SQLite"
    print(
        f"{per_event:.2f} ms per event, {cpu_per_event:.2f} ms of it CPU in this process, "
        f"without the profiler (one process, {store})"
    )
    print("share of the profiled time per event:")
    for stage, seconds in stages:
        print(f"  {stage:<44} {seconds / t['request']:6.1%}")


if __name__ == "__main__":
    main()
