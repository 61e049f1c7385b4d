"""Run the test server in the foreground: ``python -m tests.workday_server --workers 100000``.

Prints ``READY http://127.0.0.1:PORT`` once it listens (every worker already rendered), then
serves until SIGTERM or SIGINT. Credentials are :class:`WorkdayServer`'s defaults.
"""

from __future__ import annotations

import argparse
import signal
import threading
from types import FrameType

from mentorbridge.connectors.workday.sample.tenant import generate_tenant
from tests.workday_server.server import WorkdayServer


def main(argv: list[str] | None = None) -> int:
    """Generate a tenant, serve it, stop cleanly on a signal."""
    parser = argparse.ArgumentParser(prog="python -m tests.workday_server", description=__doc__)
    parser.add_argument("--workers", type=int, default=500, help="tenant size (500)")
    parser.add_argument("--port", type=int, default=0, help="port (0: any free one)")
    parser.add_argument("--seed", type=int, default=7, help="random seed (7)")
    args = parser.parse_args(argv)
    stop = threading.Event()

    def on_signal(_signum: int, _frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    with WorkdayServer(generate_tenant(args.workers, seed=args.seed), port=args.port) as server:
        server.warm()
        print(f"READY {server.url}", flush=True)
        while not stop.wait(0.5):
            pass
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
