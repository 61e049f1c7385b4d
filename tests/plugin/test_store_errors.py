"""A store that is down, missing or refusing us: one clear line from every command, no
traceback, the password masked; `db upgrade` creates what is missing, nothing else does."""

from __future__ import annotations

import os
import socket
import sqlite3
import struct
import subprocess
import sys
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from mentorbridge.plugin.cli import cli
from mentorbridge.plugin.errors import StoreAccessError, StoreUnavailableError
from mentorbridge.plugin.store.connect import is_store_failure, store_error, store_failure
from mentorbridge.plugin.store.migrate import head_revision

PG_URL = os.environ.get("MENTORBRIDGE_TEST_DATABASE_URL")
needs_postgres = pytest.mark.skipif(
    not PG_URL, reason="PostgreSQL only: set MENTORBRIDGE_TEST_DATABASE_URL"
)
PASSWORD = "pw-Zq81-never-shown"

#: Commands that open the store, with what each needs besides it.
STORE_COMMANDS = {
    "db upgrade": (["db", "upgrade"], {}),
    "db status": (["db", "status"], {}),
    "outbox status": (["outbox", "status"], {}),
    "outbox flush": (["outbox", "flush"], {"MENTORBRIDGE_LRS_AUTH": "none"}),
    "outbox dead-letters": (["outbox", "dead-letters"], {}),
    "outbox retry": (["outbox", "retry", "--all"], {}),
    "sync workday": (["sync", "workday"], {}),
    "workday check": (["workday", "check"], {}),
    "events release": (["events", "release"], {}),
    "sync status": (["sync", "status"], {}),
    "events held": (["events", "held"], {}),
    "webhook secret list": (["webhook", "secret", "list"], {}),
    "worker": (["worker"], {"MENTORBRIDGE_LRS_AUTH": "none"}),
    "serve": (["serve", "--port", "{free_port}"], {}),
}
READ_ONLY = [
    "db status",
    "outbox status",
    "outbox dead-letters",
    "sync status",
    "events held",
    "webhook secret list",
]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def mentorbridge(home: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    """The real command in its own process, as an admin runs it."""
    environ = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(home),
        "XDG_CONFIG_HOME": str(home / "config"),
        "MENTORBRIDGE_DATA_DIR": str(home / "data"),
        **env,
    }
    return subprocess.run(
        [sys.executable, "-m", "mentorbridge.plugin.cli", *args],
        env=environ,
        capture_output=True,
        text=True,
        timeout=90,
    )


def command_args(name: str) -> tuple[list[str], dict[str, str]]:
    args, extra = STORE_COMMANDS[name]
    return [a.format(free_port=free_port()) for a in args], extra


def one_clear_line(result: subprocess.CompletedProcess, *expected: str) -> str:
    """Exit status 1, one line on stderr holding ``expected``, no traceback, no password."""
    everything = result.stdout + result.stderr
    assert result.returncode == 1, everything
    assert "Traceback" not in everything
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert PASSWORD not in everything
    for part in expected:
        assert part in lines[0], lines[0]
    return lines[0]


@pytest.mark.parametrize("name", list(STORE_COMMANDS))
def test_store_errors_name_a_closed_port_and_mask_the_password(name: str, tmp_path: Path) -> None:
    port = free_port()
    args, extra = command_args(name)
    env = {
        "MENTORBRIDGE_STORE_URL": f"postgresql+psycopg://mentorbridge@127.0.0.1:{port}/mb",
        "MENTORBRIDGE_STORE_PASSWORD": PASSWORD,
        **extra,
    }
    one_clear_line(
        mentorbridge(tmp_path, env, *args),
        f"postgresql+psycopg://mentorbridge:********@127.0.0.1:{port}/mb",
        f"is PostgreSQL running on 127.0.0.1:{port}? check store.url",
    )


@needs_postgres
@pytest.mark.parametrize("name", [n for n in STORE_COMMANDS if n != "db upgrade"])
def test_store_errors_name_a_missing_database_and_how_to_create_it(
    name: str, tmp_path: Path
) -> None:
    missing = f"mentorbridge_missing_{uuid.uuid4().hex[:8]}"
    url = make_url(PG_URL).set(database=missing)
    args, extra = command_args(name)
    env = {"MENTORBRIDGE_STORE_URL": url.render_as_string(hide_password=False), **extra}
    one_clear_line(
        mentorbridge(tmp_path, env, *args),
        f"database {missing} does not exist on {url.host}:{url.port or 5432}",
        "run `mentorbridge db upgrade`",
        f"`createdb -h {url.host} -p {url.port} -U {url.username} {missing}`",
    )


@pytest.fixture
def refusing_postgres() -> Iterator[int]:
    """A server that speaks just enough of the PostgreSQL protocol to refuse every password."""
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]

    def answer(connection: socket.socket) -> None:
        with connection:
            while True:
                length, code = struct.unpack("!II", connection.recv(8, socket.MSG_WAITALL))
                if code in (80877103, 80877104):  # SSLRequest, GSSENCRequest: no
                    connection.sendall(b"N")
                    continue
                connection.recv(length - 8, socket.MSG_WAITALL)  # the startup parameters
                fields = (
                    b"SFATAL\0VFATAL\0C28P01\0"
                    b'Mpassword authentication failed for user "mentorbridge"\0\0'
                )
                connection.sendall(b"E" + struct.pack("!I", len(fields) + 4) + fields)
                return

    def serve() -> None:
        while True:
            try:
                connection, _ = listener.accept()
            except OSError:
                return
            answer(connection)

    threading.Thread(target=serve, daemon=True).start()
    yield port
    listener.close()


def test_a_refused_password_names_the_variable_that_holds_it(
    refusing_postgres: int, tmp_path: Path
) -> None:
    env = {
        "MENTORBRIDGE_STORE_URL": f"postgresql+psycopg://mentorbridge@127.0.0.1:{refusing_postgres}/mb",
        "MENTORBRIDGE_STORE_PASSWORD": PASSWORD,
    }
    one_clear_line(
        mentorbridge(tmp_path, env, "outbox", "status"),
        f"mentorbridge:********@127.0.0.1:{refusing_postgres}/mb",
        "refused the password of user mentorbridge",
        "set MENTORBRIDGE_STORE_PASSWORD",
    )


@pytest.mark.parametrize("name", READ_ONLY)
def test_read_only_commands_never_create_the_sqlite_store(name: str, tmp_path: Path) -> None:
    args, extra = command_args(name)
    one_clear_line(
        mentorbridge(tmp_path, extra, *args),
        f"SQLite file {tmp_path / 'data' / 'mentorbridge.sqlite3'}) does not exist yet",
        "run `mentorbridge db upgrade`",
        "`mentorbridge demo`",
    )
    assert not (tmp_path / "data").exists()


def test_config_show_never_creates_the_sqlite_store(tmp_path: Path) -> None:
    result = mentorbridge(tmp_path, {}, "config", "show")
    assert result.returncode == 0, result.stderr
    assert not (tmp_path / "data").exists()


def test_db_upgrade_creates_the_sqlite_store_and_its_folder(tmp_path: Path) -> None:
    result = mentorbridge(tmp_path, {}, "db", "upgrade")
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "data" / "mentorbridge.sqlite3").is_file()
    assert f"revision (empty) → {head_revision()}" in result.stdout


def test_db_upgrade_names_a_sqlite_folder_it_cannot_create(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    env = {"MENTORBRIDGE_STORE_URL": f"sqlite:///{blocker / 'store.sqlite3'}"}
    one_clear_line(
        mentorbridge(tmp_path, env, "db", "upgrade"),
        f"its folder {blocker} is missing and cannot be created ({blocker} is not a folder)",
        "point store.url (or data_dir) at a folder this user may write",
    )


def test_a_sqlite_folder_without_permission_is_named(tmp_path: Path) -> None:
    path = tmp_path / "locked" / "store.sqlite3"
    err = store_error(PermissionError(13, "Permission denied"), f"sqlite:///{path}")
    assert isinstance(err, StoreAccessError)
    assert str(err) == (
        f"cannot open the store (SQLite file {path}): its folder {path.parent} is missing and "
        "cannot be created (Permission denied): create it, or point store.url (or data_dir) at "
        "a folder this user may write"
    )


def test_a_file_that_is_not_sqlite_is_named(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("these are meeting notes, not a database\n" * 40)
    one_clear_line(
        mentorbridge(tmp_path, {"MENTORBRIDGE_STORE_URL": f"sqlite:///{path}"}, "outbox", "status"),
        f"cannot open the store (SQLite file {path}): file is not a database",
        "check store.url",
    )


def test_db_status_on_an_empty_sqlite_store_says_to_upgrade(tmp_path: Path) -> None:
    path = tmp_path / "empty.sqlite3"
    sqlite3.connect(path).close()
    result = mentorbridge(tmp_path, {"MENTORBRIDGE_STORE_URL": f"sqlite:///{path}"}, "db", "status")
    assert result.returncode == 1
    assert "empty store: run `mentorbridge db upgrade`" in result.stdout
    assert "revision: (empty)" not in result.stdout


@pytest.fixture
def fresh_database_name() -> Iterator[str]:
    """A database name that does not exist yet; dropped afterwards, whoever made it."""
    assert PG_URL
    name = f"mentorbridge_new_{uuid.uuid4().hex[:8]}"
    yield name
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(
            text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :n"),
            {"n": name},
        )
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
    admin.dispose()


@needs_postgres
def test_db_upgrade_creates_a_missing_postgresql_database(
    fresh_database_name: str, tmp_path: Path
) -> None:
    url = make_url(PG_URL).set(database=fresh_database_name)
    env = {
        "MENTORBRIDGE_STORE_URL": url.render_as_string(hide_password=False),
        "MENTORBRIDGE_STORE_PASSWORD": PASSWORD,  # trust authentication ignores it
    }
    status = mentorbridge(tmp_path, env, "db", "status")
    assert status.returncode == 1 and "does not exist" in status.stderr

    result = mentorbridge(tmp_path, env, "db", "upgrade")
    assert result.returncode == 0, result.stderr
    assert f"created database {fresh_database_name}" in result.stdout
    assert f"revision (empty) → {head_revision()}" in result.stdout
    assert ":********@" in result.stdout and PASSWORD not in result.stdout

    status = mentorbridge(tmp_path, env, "db", "status")
    assert status.returncode == 0, status.stdout + status.stderr
    assert f"revision: {head_revision()}" in status.stdout


@needs_postgres
def test_db_status_on_an_empty_postgresql_database_says_to_upgrade(
    fresh_database_name: str, tmp_path: Path
) -> None:
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{fresh_database_name}"'))
    admin.dispose()
    url = make_url(PG_URL).set(database=fresh_database_name)
    env = {"MENTORBRIDGE_STORE_URL": url.render_as_string(hide_password=False)}
    result = mentorbridge(tmp_path, env, "db", "status")
    assert result.returncode == 1
    assert "empty store: run `mentorbridge db upgrade`" in result.stdout


@pytest.fixture
def role_without_createdb() -> Iterator[str]:
    assert PG_URL
    role = f"mentorbridge_nocreate_{uuid.uuid4().hex[:8]}"
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE ROLE "{role}" LOGIN NOCREATEDB'))
    yield role
    with admin.connect() as connection:
        connection.execute(text(f'DROP ROLE IF EXISTS "{role}"'))
    admin.dispose()


@needs_postgres
def test_db_upgrade_says_how_when_the_role_may_not_create_the_database(
    role_without_createdb: str, fresh_database_name: str, tmp_path: Path
) -> None:
    url = make_url(PG_URL).set(database=fresh_database_name, username=role_without_createdb)
    env = {"MENTORBRIDGE_STORE_URL": url.render_as_string(hide_password=False)}
    one_clear_line(
        mentorbridge(tmp_path, env, "db", "upgrade"),
        f"database {fresh_database_name} does not exist and {role_without_createdb} may not "
        "create it (permission denied to create database)",
        f"run `createdb -h {url.host} -p {url.port} -U {role_without_createdb} "
        f"{fresh_database_name}` as a role that may",
        "then `mentorbridge db upgrade` again",
    )


@pytest.mark.parametrize(
    ("driver_says", "kind", "fix"),
    [
        (
            'connection to server at "db", port 5432 failed: timeout expired',
            StoreUnavailableError,
            "did not answer in time",
        ),
        (
            'connection to server at "db", port 5432 failed: FATAL:  the database system is '
            "starting up",
            StoreUnavailableError,
            "try again shortly",
        ),
        (
            'connection to server at "db", port 5432 failed: FATAL:  no pg_hba.conf entry for '
            'host "10.0.0.9", user "mb", database "mb"',
            StoreAccessError,
            "ask its administrator to allow them",
        ),
    ],
)
def test_other_connection_failures_are_sorted_by_what_to_do(
    driver_says: str, kind: type, fix: str
) -> None:
    err = store_error(RuntimeError(driver_says), "postgresql+psycopg://mb:secret@db/mb")
    assert isinstance(err, kind)
    assert fix in str(err) and "mb:********@db/mb" in str(err) and "secret" not in str(err)


def test_a_table_missing_mid_command_is_one_line_saying_to_upgrade(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'store.sqlite3'}"
    assert_a_missing_table_says_to_upgrade(url, tmp_path)


@needs_postgres
def test_a_relation_missing_mid_command_on_postgresql_is_one_line_saying_to_upgrade(
    fresh_database_name: str, tmp_path: Path
) -> None:
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{fresh_database_name}"'))
    admin.dispose()
    url = make_url(PG_URL).set(database=fresh_database_name)
    assert_a_missing_table_says_to_upgrade(url.render_as_string(hide_password=False), tmp_path)


def assert_a_missing_table_says_to_upgrade(url: str, tmp_path: Path) -> None:
    env = {"MENTORBRIDGE_STORE_URL": url}
    assert mentorbridge(tmp_path, env, "db", "upgrade").returncode == 0
    engine = create_engine(url)
    with engine.begin() as connection:
        cascade = " CASCADE" if url.startswith("postgresql") else ""
        connection.execute(text(f"DROP TABLE sync_run{cascade}"))
    engine.dispose()
    line = one_clear_line(
        mentorbridge(tmp_path, env, "sync", "status"),
        "lacks what this version needs",
        "sync_run",
        "run `mentorbridge db upgrade`",
    )
    assert "LINE" not in line and "SELECT" not in line


@pytest.mark.parametrize(
    ("driver_says", "kind", "expected"),
    [
        (
            "server closed the connection unexpectedly\n\tThis probably means the server "
            "terminated abnormally\n\tbefore or while processing the request.",
            StoreUnavailableError,
            "lost the connection to the store postgresql+psycopg://mb:********@db:5433/mb during "
            "the command (server closed the connection unexpectedly This probably means the "
            "server terminated abnormally before or while processing the request.); its "
            "unfinished transaction was rolled back: is PostgreSQL running on db:5433?",
        ),
        (
            'connection failed: connection to server at "db", port 5433 failed: Connection refused',
            StoreUnavailableError,
            "the store postgresql+psycopg://mb:********@db:5433/mb failed during the command: "
            "nothing is listening on db:5433",
        ),
    ],
)
def test_a_store_failing_mid_command_is_sorted_by_what_to_do(
    driver_says: str, kind: type, expected: str
) -> None:
    err = store_failure(RuntimeError(driver_says), "postgresql+psycopg://mb:secret@db:5433/mb")
    assert isinstance(err, kind)
    assert expected in str(err) and "secret" not in str(err)


def test_a_sqlite_store_locked_too_long_says_to_try_again(tmp_path: Path) -> None:
    err = store_failure(
        sqlite3.OperationalError("database is locked"), f"sqlite:///{tmp_path / 's.sqlite3'}"
    )
    assert isinstance(err, StoreUnavailableError)
    assert "stayed locked by another writer for 30 s; nothing was changed" in str(err)


def test_a_mistake_in_our_own_sql_is_not_taken_for_a_store_failure(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 's.sqlite3'}")
    with pytest.raises(DBAPIError) as typo, engine.connect() as connection:
        connection.execute(text("SELEKT 1"))
    with pytest.raises(DBAPIError) as missing, engine.connect() as connection:
        connection.execute(text("SELECT * FROM sync_run"))
    engine.dispose()
    assert not is_store_failure(typo.value)
    assert is_store_failure(missing.value)


def test_db_upgrade_help_says_what_it_does_on_postgresql() -> None:
    result = CliRunner().invoke(cli, ["db", "upgrade", "--help"])
    assert result.exit_code == 0
    said = " ".join(result.output.split())
    assert "PostgreSQL: creates the database through the maintenance database `postgres`" in said
    assert "the `createdb` line to run as a role that may" in said
