"""The composition root: turn a :class:`~plugin.config.Config` into working parts.

The CLI (and later the web app and the worker) build everything here, so each part is put
together one way only.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx

from mentorbridge.connectors.http import HttpClient
from mentorbridge.connectors.moodle.client import MoodleClient
from mentorbridge.connectors.moodle.settings import MoodleSettings
from mentorbridge.connectors.workday.connector import WorkdayConnector
from mentorbridge.plugin.config import Config
from mentorbridge.plugin.errors import ConfigError
from mentorbridge.plugin.identity import Identity
from mentorbridge.plugin.keyring import keyring_from_config
from mentorbridge.plugin.pairing.intake import IntakeDesk
from mentorbridge.plugin.recorder import Recorder
from mentorbridge.plugin.store import connect
from mentorbridge.plugin.store.credentials import StoredRefreshToken
from mentorbridge.plugin.store.db import Store
from mentorbridge.plugin.store.hris import HrisMirror
from mentorbridge.plugin.store.keys import default_key_file, keyring_of
from mentorbridge.plugin.store.migrate import check_current
from mentorbridge.plugin.store.outbox import SqlOutbox
from mentorbridge.plugin.webhooks.processor import EventProcessor
from mentorbridge.xapi.lrs import LRSClient, LRSCredentials
from mentorbridge.xapi.outbox import Clock, Flusher, FlushReport
from mentorbridge.xapi.statements import StatementBuilder, StatementSettings

__all__ = [
    "event_processor",
    "flusher",
    "hris_mirror",
    "identity",
    "lrs_client",
    "lrs_credentials",
    "open_store",
    "recorder",
    "service_url",
    "statement_builder",
    "workday_connector",
]


def open_store(config: Config, *, migrated: bool = True, create: bool = False) -> Store:
    """The store, connected once: a store that is down, missing or refusing us raises one
    clear :class:`~plugin.errors.StoreError` (see :mod:`plugin.store.connect`).

    Args:
        migrated: refuse a store whose schema is not current (the default).
        create: make a missing SQLite file; only commands that write by design pass it
            (``db upgrade``, the demo). Without it a missing store is reported, not created.
    """
    settings = config["store"]
    store = connect.open_store(
        config.store_url,
        create=create,
        **connect.postgres_options(
            config.store_url,
            pool_size=settings["pool_size"],
            max_overflow=settings["max_overflow"],
            statement_timeout_seconds=settings["statement_timeout_seconds"],
            lock_timeout_seconds=settings["lock_timeout_seconds"],
        ),
    )
    try:
        store.keyring = keyring_from_config(config, default_key_file(store))
        if migrated:
            check_current(store)
    except Exception:
        store.dispose()
        raise
    return store


def identity(store: Store) -> Identity:
    """People's opaque ids in ``store`` (from :func:`open_store`): ``identity(store)
    .opaque_id_for(worker_id)``, the same in every store with this installation's keys."""
    return keyring_of(store).identity


def workday_connector(config: Config, store: Store, **options: Any) -> WorkdayConnector:
    """The Workday connector; a rotated refresh token is kept in ``store``."""
    settings = config["workday"]
    refresh_tokens = None
    if settings.get("refresh_token") and settings["client_id"]:
        refresh_tokens = StoredRefreshToken(
            store,
            provider="workday",
            client_id=settings["client_id"],
            configured=settings["refresh_token"],
        )
    return WorkdayConnector(settings, refresh_tokens=refresh_tokens, **options)


def moodle_settings(config: Config) -> MoodleSettings:
    """The Moodle connector's settings.

    Raises:
        ConfigError: ``moodle.url`` or ``moodle.token`` is not set.
    """
    section = config["moodle"]
    if not section["url"]:
        raise ConfigError(
            "moodle.url is not set: set it to the Moodle site's address (see the README's "
            "Moodle set-up), or leave Moodle out",
            key="moodle.url",
        )
    if not section.get("token"):
        raise ConfigError(
            "moodle.token is not set: create a token for the integration user and the "
            "external service (Site administration > Server > Web services > Manage tokens), "
            "then set MENTORBRIDGE_MOODLE_TOKEN or moodle.token_file",
            key="moodle.token",
        )
    return MoodleSettings.from_config(section)


def moodle_client(config: Config) -> MoodleClient:
    """A client for the configured Moodle site."""
    settings = moodle_settings(config)
    section = config["moodle"]
    http = HttpClient(
        connect_timeout=section["connect_timeout"],
        read_timeout=section["read_timeout"],
        max_retries=section["max_retries"],
        backoff_base=section["backoff_base_seconds"],
        backoff_cap=section["backoff_max_seconds"],
    )
    return MoodleClient(settings.url, settings.token, http=http)


def hris_mirror(config: Config, store: Store) -> HrisMirror:
    """The HRIS mirror, storing only the sensitive fields the admin enabled."""
    return HrisMirror(store, sensitive_fields=config["workday"]["sensitive_fields"])


def statement_builder(config: Config) -> StatementBuilder:
    """The statement builder for this installation's identity and profile settings."""
    xapi = config["xapi"]
    return StatementBuilder(
        StatementSettings(
            identity_home_page=config["identity"]["home_page"],
            activity_base=xapi["activity_base"],
            profile_iri=xapi["profile_iri"],
            platform=xapi["platform"],
            language=xapi["language"],
            service_account=xapi["service_account"],
        )
    )


def recorder(config: Config, store: Store) -> Recorder:
    """The recorder writing to ``store``."""
    return Recorder(store, statement_builder(config))


def event_processor(config: Config, store: Store) -> EventProcessor:
    """The webhook event processor, holding or rejecting events about unknown workers; its
    intake desk checks ``intake.submitted`` against the pairing file (``pairing.file``, read
    when intake arrives)."""
    return EventProcessor(
        recorder(config, store),
        unknown_people=config["web"]["unknown_people"],
        intake=IntakeDesk.from_file(config.pairing_file),
    )


def service_url(config: Config) -> str:
    """Where the web service is reached: ``web.public_url``, else its own host and port."""
    web = config["web"]
    if web["public_url"]:
        return web["public_url"]
    host = "127.0.0.1" if web["host"] in ("0.0.0.0", "::", "") else web["host"]
    return f"http://{host}:{web['port']}"


def lrs_credentials(config: Config) -> LRSCredentials:
    """The LRS credentials; a missing secret is a :class:`ConfigError` naming where to put it."""
    lrs = config["lrs"]
    match lrs["auth"]:
        case "basic":
            if not lrs.get("password"):
                raise ConfigError(
                    "lrs.password is not set (lrs.auth is basic): set MENTORBRIDGE_LRS_PASSWORD "
                    "or lrs.password_file",
                    key="lrs.password",
                )
            return LRSCredentials("basic", lrs["username"], lrs["password"])
        case "bearer":
            if not lrs.get("token"):
                raise ConfigError(
                    "lrs.token is not set (lrs.auth is bearer): set MENTORBRIDGE_LRS_TOKEN or "
                    "lrs.token_file",
                    key="lrs.token",
                )
            return LRSCredentials("bearer", secret=lrs["token"])
    return LRSCredentials("none")


def lrs_client(config: Config, *, client: httpx.Client | None = None) -> LRSClient:
    """The LRS client for the configured endpoint and credentials."""
    lrs = config["lrs"]
    return LRSClient(
        lrs["endpoint"],
        credentials=lrs_credentials(config) if client is None else None,
        connect_timeout=lrs["connect_timeout"],
        read_timeout=lrs["read_timeout"],
        client=client,
    )


def flusher(
    config: Config,
    store: Store,
    lrs: LRSClient,
    *,
    clock: Clock | None = None,
    on_progress: Callable[[FlushReport], None] | None = None,
) -> Flusher:
    """The outbox flusher with the configured batch size, lease and backoff."""
    outbox = config["outbox"]
    return Flusher(
        SqlOutbox(store),
        lrs,
        batch_size=outbox["batch_size"],
        lease_seconds=outbox["lease_seconds"],
        backoff_base=outbox["backoff_base_seconds"],
        backoff_cap=outbox["backoff_max_seconds"],
        clock=clock,
        on_progress=on_progress,
    )
