"""What the web app's views use, built once per app from the configuration."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from flask import current_app

from mentorbridge.plugin import compose
from mentorbridge.plugin.config import Config
from mentorbridge.plugin.errors import ConfigError
from mentorbridge.plugin.reports.transcript import LrsLookup, lrs_lookup
from mentorbridge.plugin.reports.transcript_links import LinkSigner
from mentorbridge.plugin.store.db import Store
from mentorbridge.plugin.webhooks.processor import EventProcessor
from mentorbridge.plugin.webhooks.signing_secrets import SigningSecrets
from mentorbridge.xapi.lrs import LRSClient

if TYPE_CHECKING:
    from mentorbridge.plugin.lti.tool import LtiTool

__all__ = ["Services", "build_services", "services"]


@dataclass
class Services:
    """The parts behind the views.

    Attributes:
        transcript_lrs: confirms transcript lines against the LRS; ``None`` when the LRS
            credentials are not configured (transcripts then show the outbox's word alone).
        links: signs and checks learners' transcript links; ``None`` without web.link_secret.
        now: unix time, for signatures and links (tests pass a fake clock).
    """

    config: Config
    store: Store
    processor: EventProcessor
    signing_secrets: SigningSecrets
    links: LinkSigner | None
    admin_token: str | None
    transcript_lrs: LrsLookup | None
    now: Callable[[], float]
    #: The LTI tool, made on the first LTI request (most installations serve none).
    lti: LtiTool | None = None


def build_services(
    config: Config,
    *,
    store: Store | None = None,
    lrs: LRSClient | None = None,
    now: Callable[[], float] = time.time,
) -> Services:
    """The services for ``config``; tests pass their own store, LRS client and clock."""
    web = config["web"]
    store = store or compose.open_store(config)
    if lrs is None:
        lrs = _transcript_lrs_client(config)
    return Services(
        config=config,
        store=store,
        processor=compose.event_processor(config, store),
        signing_secrets=SigningSecrets(store, web.get("signing_secret")),
        links=LinkSigner(web["link_secret"], web["link_ttl_seconds"])
        if web.get("link_secret")
        else None,
        admin_token=web.get("admin_token"),
        transcript_lrs=lrs_lookup(lrs, config["identity"]["home_page"]) if lrs else None,
        now=now,
    )


def services() -> Services:
    """The current app's services."""
    return current_app.extensions["mentorbridge"]


def _transcript_lrs_client(config: Config) -> LRSClient | None:
    timeout = config["web"]["transcript_lrs_timeout_seconds"]
    try:
        credentials = compose.lrs_credentials(config)
    except ConfigError:
        return None
    return LRSClient(
        config["lrs"]["endpoint"],
        credentials=credentials,
        connect_timeout=timeout,
        read_timeout=timeout,
    )
