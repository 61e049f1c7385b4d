"""Opening the store, and the one place a failure to open it becomes a clear error.

:func:`open_store` connects once before handing the store out, so a store that is down,
missing or refusing us stops a command with one line (the URL with its password masked, the
cause and the fix) instead of a driver traceback. Read-only callers never create anything: a
missing SQLite file is reported, not made. :func:`create_database` is what ``db upgrade`` uses
to create a missing PostgreSQL database through the maintenance database ``postgres``.
"""

from __future__ import annotations

import os
import re
import shlex
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError, ProgrammingError

from mentorbridge.plugin.errors import (
    StoreAccessError,
    StoreError,
    StoreMissingError,
    StoreNotMigratedError,
    StoreUnavailableError,
)
from mentorbridge.plugin.store.db import Store, masked_url

__all__ = [
    "create_database",
    "createdb_command",
    "is_store_failure",
    "masked_url",
    "open_store",
    "postgres_options",
    "store_error",
    "store_failure",
]

_FIX_URL = "check store.url"
#: A table or column the code needs is not in the store.
_MISSING_SCHEMA = r"no such (table|column)|(relation|column) .* does not exist"


def open_store(url: str, *, create: bool = False, **engine_options: Any) -> Store:
    """The store at ``url``, connected once to prove it can be used.

    Args:
        url: an SQLAlchemy URL, password included.
        create: make the SQLite file (and its folder) if it does not exist. Only commands that
            write by design (``db upgrade``, the demo) pass it; everything else is told to run
            ``mentorbridge db upgrade`` instead of getting an empty file.

    Raises:
        StoreMissingError: no SQLite file (without ``create``), or no such PostgreSQL database.
        StoreAccessError: login refused, unknown role or host, SQLite folder not writable.
        StoreUnavailableError: PostgreSQL not listening, starting up or timing out.
    """
    parsed = make_url(url)
    sqlite_file = _sqlite_path(parsed)
    if sqlite_file is not None and not create and not sqlite_file.exists():
        raise StoreMissingError(
            f"the store (SQLite file {sqlite_file}) does not exist yet: run `mentorbridge db "
            "upgrade` to create it (or `mentorbridge demo` for a trial), or check store.url "
            "and data_dir",
            url=masked_url(parsed),
        )
    try:
        store = Store(url, **engine_options)
    except OSError as err:  # the SQLite file's folder could not be made
        raise store_error(err, parsed) from None
    try:
        with store.engine.connect():
            pass
    except DBAPIError as err:
        store.dispose()
        raise store_error(err, parsed) from None
    return store


def postgres_options(
    url: str | URL,
    *,
    pool_size: int,
    max_overflow: int,
    statement_timeout_seconds: float,
    lock_timeout_seconds: float,
) -> dict[str, Any]:
    """Engine options for :func:`open_store`: each process's connection pool and the server's
    ``statement_timeout`` and ``lock_timeout`` for every connection it opens (0: PostgreSQL's
    default, no limit). None for SQLite, which has one file and no server.
    """
    parsed = make_url(url)
    if parsed.get_backend_name() != "postgresql":
        return {}
    options: dict[str, Any] = {"pool_size": pool_size, "max_overflow": max_overflow}
    settings = [
        f"-c {name}={round(seconds * 1000)}"
        for name, seconds in (
            ("statement_timeout", statement_timeout_seconds),
            ("lock_timeout", lock_timeout_seconds),
        )
        if seconds
    ]
    if settings:
        given = parsed.query.get("options")  # libpq options in the URL are kept
        options["connect_args"] = {"options": " ".join([*([given] if given else []), *settings])}
    return options


def store_error(err: BaseException, url: str | URL) -> StoreError:
    """Turn a failure to open or connect to the store into a one-line error with the fix.

    Args:
        err: what SQLAlchemy, the driver or the file system raised.
        url: the store URL (its password never appears in the message).
    """
    parsed = make_url(url)
    shown = masked_url(parsed)
    if _sqlite_path(parsed) is not None:
        return _sqlite_error(err, parsed, shown)
    cause = _driver_message(err)
    host, port = parsed.host or "localhost", parsed.port or 5432
    where = f"{host}:{port}"
    user = parsed.username or os.environ.get("PGUSER") or "(your login name)"
    prefix = f"cannot open the store {shown}:"
    if match := re.search(r'database "([^"]+)" does not exist', cause):
        return StoreMissingError(
            f"{prefix} database {match[1]} does not exist on {where}: run `mentorbridge db "
            f"upgrade` (it creates the database when the role may), or "
            f"`{createdb_command(parsed)}`",
            url=shown,
        )
    if "password authentication failed" in cause or "no password supplied" in cause:
        return StoreAccessError(
            f"{prefix} PostgreSQL on {where} refused the password of user {user}: set "
            "MENTORBRIDGE_STORE_PASSWORD (or store.password_file) to that role's password, "
            "or check the user in store.url",
            url=shown,
        )
    if match := re.search(r'role "([^"]+)" does not exist', cause):
        return StoreAccessError(
            f"{prefix} role {match[1]} does not exist on {where}: fix the user in store.url, "
            f"or create the role as a superuser (`createuser -h {host} -p {port} -P {match[1]}`)",
            url=shown,
        )
    if "pg_hba.conf" in cause:
        return StoreAccessError(
            f"{prefix} PostgreSQL on {where} does not accept this host, user and database "
            "(no pg_hba.conf entry): ask its administrator to allow them, or check store.url",
            url=shown,
        )
    if "permission denied for database" in cause or "CONNECT privilege" in cause:
        return StoreAccessError(
            f"{prefix} user {user} may not connect to database {parsed.database}: grant it "
            f"CONNECT (`GRANT CONNECT ON DATABASE {parsed.database} TO {user}`), or "
            f"{_FIX_URL}",
            url=shown,
        )
    if re.search(r"resolve host|translate host name|Name or service not known", cause):
        return StoreAccessError(f"{prefix} host {host} is not known (DNS): {_FIX_URL}", url=shown)
    if re.search(r"Connection refused|No such file or directory|Network is unreachable", cause):
        return StoreUnavailableError(
            f"{prefix} nothing is listening on {where}: is PostgreSQL running on {where}? "
            f"{_FIX_URL}",
            url=shown,
        )
    if re.search(r"timeout expired|timed out", cause):
        return StoreUnavailableError(
            f"{prefix} {where} did not answer in time: is PostgreSQL running on {where}, and "
            f"does no firewall stand between? {_FIX_URL}",
            url=shown,
        )
    if re.search(
        r"starting up|shutting down|recovery mode|too many clients|slots are reserved", cause
    ):
        return StoreUnavailableError(
            f"{prefix} PostgreSQL on {where} cannot take a connection now ({cause}): try again "
            "shortly",
            url=shown,
        )
    return StoreAccessError(f"{prefix} {cause}: {_FIX_URL}", url=shown)


def store_failure(err: BaseException, url: str | URL) -> StoreError | StoreNotMigratedError:
    """Turn a store failure in the middle of a command into a one-line error with the fix.

    The connection dropped (PostgreSQL restarted), another writer held an SQLite file too
    long, or a table is missing; anything else is described like a failure to open.

    Args:
        err: what SQLAlchemy raised (an ``OperationalError`` or ``InterfaceError``).
        url: the store URL (its password never appears in the message).
    """
    parsed = make_url(url)
    shown = masked_url(parsed)
    path = _sqlite_path(parsed)
    what = f"the store (SQLite file {path})" if path is not None else f"the store {shown}"
    cause = _driver_message(err)
    if timeout := re.search(r"canceling statement due to (statement|lock) timeout", cause):
        setting = f"store.{timeout[1]}_timeout_seconds"
        what_ran = (
            "a statement ran longer than"
            if timeout[1] == "statement"
            else "a lock another process held was not released within"
        )
        return StoreUnavailableError(
            f"{what} cancelled the command: {what_ran} {setting}; nothing was changed: run it "
            f"again, and if it keeps happening raise {setting} (0: no limit)",
            url=shown,
        )
    if "database is locked" in cause:
        return StoreUnavailableError(
            f"{what} stayed locked by another writer for 30 s; nothing was changed: run the "
            "command again, and if it keeps happening look for a stuck process using the store",
            url=shown,
        )
    if re.search(_MISSING_SCHEMA, cause):
        return StoreNotMigratedError(
            f"{what} lacks what this version needs ({cause}): run `mentorbridge db upgrade`; "
            "if it says the store is current, the store was changed by hand: restore a backup"
        )
    if path is None and re.search(
        r"server closed the connection|terminating connection|connection is (closed|lost)|"
        r"consuming input failed|connection (was )?reset",
        cause,
    ):
        where = f"{parsed.host or 'localhost'}:{parsed.port or 5432}"
        return StoreUnavailableError(
            f"lost the connection to {what} during the command ({cause}); its unfinished "
            f"transaction was rolled back: is PostgreSQL running on {where}? run the command "
            "again once it is",
            url=shown,
        )
    found = store_error(err, parsed)
    message = str(found).replace(f"cannot open {what}", f"{what} failed during the command", 1)
    return type(found)(message, url=shown)


def is_store_failure(err: BaseException) -> bool:
    """Whether ``err`` is the store failing (connection, lock, missing table) rather than a
    mistake in our own SQL, which should stay loud."""
    cause = _driver_message(err)
    if isinstance(err, OperationalError | InterfaceError):
        return "syntax error" not in cause  # SQLite reports our SQL mistakes as operational
    return isinstance(err, ProgrammingError) and bool(re.search(_MISSING_SCHEMA, cause))


def createdb_command(url: str | URL) -> str:
    """The ``createdb`` line that creates the store's PostgreSQL database by hand."""
    parsed = make_url(url)
    parts = ["createdb"]
    if parsed.host:
        parts += ["-h", parsed.host]
    if parsed.port:
        parts += ["-p", str(parsed.port)]
    if parsed.username:
        parts += ["-U", parsed.username]
    parts.append(parsed.database or "mentorbridge")
    return shlex.join(parts)


def create_database(url: str | URL) -> None:
    """Create the store's PostgreSQL database through the maintenance database ``postgres``.

    Raises:
        StoreAccessError: the role may not create databases (or reach ``postgres``); the
            message gives the ``createdb`` line to run as a role that may.
        StoreUnavailableError: PostgreSQL is not reachable.
    """
    parsed = make_url(url)
    shown = masked_url(parsed)
    maintenance = create_engine(
        parsed.set(database="postgres"), isolation_level="AUTOCOMMIT", hide_parameters=True
    )
    try:
        with maintenance.connect() as connection:
            name = connection.dialect.identifier_preparer.quote_identifier(parsed.database)
            connection.execute(text(f"CREATE DATABASE {name}"))
    except DBAPIError as err:
        cause = _driver_message(err)
        if "already exists" in cause:  # another `db upgrade` made it a moment ago
            return
        found = store_error(err, parsed)
        if isinstance(found, StoreUnavailableError):
            raise found from None
        user = parsed.username or os.environ.get("PGUSER") or "your login"
        raise StoreAccessError(
            f"cannot open the store {shown}: database {parsed.database} does not exist and "
            f"{user} may not create it ({cause}): run `{createdb_command(parsed)}` as a role "
            "that may (or `createdb … -O "
            f"{user}`), then `mentorbridge db upgrade` again",
            url=shown,
        ) from None
    finally:
        maintenance.dispose()


# -- details --------------------------------------------------------------------------------


def _sqlite_path(url: URL) -> Path | None:
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
        return None
    return Path(url.database).expanduser()


def _sqlite_error(err: BaseException, url: URL, shown: str) -> StoreError:
    path = _sqlite_path(url)
    assert path is not None
    folder = _nearest_existing(path.parent)
    if isinstance(err, OSError) or folder != path.parent:
        reason = err.strerror if isinstance(err, OSError) and err.strerror else "cannot create it"
        blocker = f"{folder} is not a folder" if not folder.is_dir() else reason
        return StoreAccessError(
            f"cannot open the store (SQLite file {path}): its folder {path.parent} is missing "
            f"and cannot be created ({blocker}): create it, or point store.url (or data_dir) "
            "at a folder this user may write",
            url=shown,
        )
    if not os.access(folder, os.W_OK | os.X_OK):
        return StoreAccessError(
            f"cannot open the store (SQLite file {path}): its folder {folder} is not writable "
            "for this user (SQLite writes its journal beside the file): make it writable, or "
            "point store.url (or data_dir) at a folder this user may write",
            url=shown,
        )
    if path.exists() and not os.access(path, os.R_OK | os.W_OK):
        return StoreAccessError(
            f"cannot open the store (SQLite file {path}): the file is not readable and "
            "writable for this user: fix its owner or mode, or check store.url",
            url=shown,
        )
    return StoreAccessError(
        f"cannot open the store (SQLite file {path}): {_driver_message(err)}: check store.url "
        "and that the file is an SQLite database",
        url=shown,
    )


def _nearest_existing(path: Path) -> Path:
    while not path.exists() and path != path.parent:
        path = path.parent
    return path


def _driver_message(err: BaseException) -> str:
    """The driver's own words, on one line, without libpq's connection preamble."""
    original = getattr(err, "orig", None) or err
    lines = []
    for line in str(original).splitlines():
        if line.startswith("LINE "):  # PostgreSQL quoting our SQL back: no use to an admin
            break
        if line.strip():
            lines.append(line.strip())
    message = " ".join(lines) if lines else type(original).__name__
    message = re.sub(r"^connection failed: ", "", message)
    message = re.sub(
        r'connection to server at "[^"]*"(?: \([^)]*\))?, port \d+ failed: ', "", message
    )
    return re.sub(r"FATAL:\s+", "", message).strip()
