"""What the benchmarks share: a scratch store and a process's peak memory."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from mentorbridge.plugin.keyring import Keyring, read_key_file, write_key_file
from mentorbridge.plugin.store.db import Store

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


#: The environment variable naming the key file (``secrets.key_file``).
KEY_FILE_VARIABLE = "MENTORBRIDGE_SECRETS_KEY_FILE"


def use_scratch_keys(directory: Path) -> Path:
    """Write a fresh key file into ``directory`` and name it in this process's environment, so
    that the stores it opens (:func:`open_store`) and every server it starts use it: a
    PostgreSQL store has no key file beside it."""
    path = directory / "bench.keys"
    write_key_file(path, Keyring.generate("the benchmark's keys"))
    os.environ[KEY_FILE_VARIABLE] = str(path)
    return path


def open_store(url: str) -> Store:
    """The store at ``url``, with the scratch keys if :func:`use_scratch_keys` was called."""
    path = os.environ.get(KEY_FILE_VARIABLE)
    return Store(url, keyring=read_key_file(Path(path)) if path else None)


@contextmanager
def scratch_database(server_url: str | None, directory: Path, *, suffix: str = "") -> Iterator[str]:
    """A fresh SQLite file, or a database of our own on the given PostgreSQL server (dropped
    on the way out); ``suffix`` tells apart several held at once."""
    if server_url is None:
        yield f"sqlite:///{directory / f'bench{suffix}.sqlite3'}"
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
