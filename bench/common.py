"""What the benchmarks share: a scratch store and a process's peak memory."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parents[1]


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


@contextmanager
def scratch_database(server_url: str | None, directory: Path, *, suffix: str = "") -> Iterator[str]:
    """A fresh SQLite file, or a database of our own on the given PostgreSQL server (dropped
    on the way out); ``suffix`` tells apart several held at once."""
    if server_url is None:
        yield f"sqlite:///{directory / 'bench.sqlite3'}"
        return
    name = f"mentorbridge_bench_{os.getpid()}{'_' + suffix if suffix else ''}"
    admin = create_engine(server_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(server_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
        admin.dispose()
