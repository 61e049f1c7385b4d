"""Access tokens are renewed shortly before they expire, the margin scaling with their lifetime
(a short-lived token is not renewed before every request), and no Workday credential is kept
in the store or written to the log in plain text."""

from __future__ import annotations

import logging
from typing import Any

import pytest
import responses
from sqlalchemy import String, Text, inspect, select

from mentorbridge.connectors.http import HttpClient
from mentorbridge.connectors.workday.auth import (
    BearerAuth,
    RefreshTokenGrant,
    renewal_margin,
    token_endpoint,
)
from mentorbridge.connectors.workday.sample.tenant import Tenant, generate_tenant
from mentorbridge.plugin.jobs.sync import sync_workday
from mentorbridge.plugin.store import Base
from mentorbridge.plugin.store.db import Store
from mentorbridge.plugin.store.keys import keyring_of
from mentorbridge.plugin.store.sync_models import OAuthCredential
from tests.connectors.workday.test_sync import SECRETS, config
from tests.workday_server import WorkdayServer

HOST = "https://wd2-impl-services1.workday.com"
TOKEN_URL = f"{HOST}/ccx/oauth2/acme/token"


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class MemoryTokens:
    def __init__(self) -> None:
        self.token = "rt-1"

    def current(self) -> str:
        return self.token

    def replace(self, new: str) -> None:
        self.token = new


def bearer_with(clock: Clock) -> BearerAuth:
    grant = RefreshTokenGrant(
        token_endpoint(HttpClient(max_retries=0, sleep=lambda _: None), HOST, "acme"),
        client_id="mb",
        client_secret="s",
        refresh_tokens=MemoryTokens(),
        clock=clock,
    )
    return BearerAuth(grant, clock=clock)


@pytest.mark.parametrize(
    ("lifetime", "margin"),
    [(3600, 60.0), (600, 60.0), (300, 30.0), (30, 3.0), (5, 0.5), (1, 0.1)],
)
def test_token_margin_is_a_minute_or_a_tenth_of_a_shorter_lifetime(
    lifetime: int, margin: float
) -> None:
    assert renewal_margin(lifetime) == pytest.approx(margin)
    assert 0 < renewal_margin(lifetime) < lifetime


@pytest.mark.parametrize(("lifetime", "margin"), [(2, 0.2), (5, 0.5), (30, 3.0), (3600, 60.0)])
@responses.activate
def test_token_margin_lets_a_token_serve_until_just_before_it_expires(
    lifetime: int, margin: float
) -> None:
    responses.post(TOKEN_URL, json={"access_token": "at-1", "expires_in": lifetime})
    responses.post(TOKEN_URL, json={"access_token": "at-2", "expires_in": lifetime})
    clock = Clock()
    bearer = bearer_with(clock)
    assert bearer.token() == "at-1"
    clock.now += lifetime - margin * 1.1  # most of its life: still the same token
    assert bearer.token() == "at-1"
    assert len(responses.calls) == 1
    clock.now += margin * 0.2  # within the margin, before it expires: renewed early
    assert bearer.token() == "at-2"
    assert len(responses.calls) == 2


@pytest.fixture
def tenant() -> Tenant:
    return generate_tenant(120, seed=11)


def test_token_margin_a_three_second_token_is_renewed_once_per_lifetime_not_per_request(
    store: Store, tenant: Tenant
) -> None:
    with WorkdayServer(tenant, access_token_ttl=3) as server:
        server.delay_next("/workers", 0.15, times=100)  # 24 pages: the run outlives one token
        report = sync_workday(
            config(server, workers_from="rest", rest_page_size=5),
            store,
            sleep=lambda _: None,
            full=True,
            only=["workers"],
        )
        requests = list(server.requests)
    assert report.counts["workers"].created == len(tenant.workers)
    pages = [r for r in requests if "/workers" in r.path]
    grants = [r for r in requests if r.grant_type == "refresh_token"]
    assert len(pages) >= 24
    # One token per ~2.7 s of a 3.6 s run: renewed before it expired, not before every page.
    assert 2 <= len(grants) <= 3
    assert [r.status for r in pages] == [200] * len(pages)  # never used after it expired


def _stored_text(store: Store) -> list[tuple[str, str, str]]:
    """Every text value in every table of the store: (table, column, value)."""
    found = []
    with store.reading() as session:
        for table in Base.metadata.sorted_tables:
            for row in session.execute(select(table)).mappings():
                for column, value in row.items():
                    if value is not None:
                        found.append((table.name, column, str(value)))
    return found


def test_no_workday_credential_is_stored_or_logged_in_plain_text(
    store: Store, tenant: Tenant, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    with WorkdayServer(tenant, rotate_refresh_tokens=True, access_token_ttl=3) as server:
        # REST over OAuth (rotating refresh tokens), reports with the integration user's
        # password, then SOAP over WS-Security and over bearer tokens.
        sync_workday(config(server, workers_from="rest"), store, sleep=lambda _: None, full=True)
        for soap_auth in ("ws-security", "bearer"):
            sync_workday(
                config(server, workers_from="soap", soap_auth=soap_auth),
                store,
                sleep=lambda _: None,
                full=True,
                only=["workers"],
            )
        secrets = {
            *SECRETS.values(),
            server.current_refresh_token,
            *server.auth.issued,
        }
    assert len(server.auth.issued) >= 2  # one for each sync over OAuth
    stored = _stored_text(store)
    assert stored  # the mirror holds what the syncs read
    leaked = [(t, c) for t, c, value in stored for secret in secrets if secret in value]
    assert leaked == []
    assert not [secret for secret in secrets if secret in caplog.text]
    # The rotated refresh token is kept, and kept encrypted.
    with store.reading() as session:
        kept = session.get(OAuthCredential, ("workday", "mentorbridge"))
    assert kept is not None and kept.refresh_token.startswith("fernet:")
    assert keyring_of(store).decrypt(kept.refresh_token) == server.current_refresh_token


_CREDENTIAL_WORDS = ("token", "secret", "password", "private_key", "credential", "assertion")


def test_every_stored_credential_column_goes_through_the_store_encryption() -> None:
    """A column whose name says it holds a credential must be marked as a stored secret, so
    the keyring encrypts it, ``db upgrade`` encrypts plain values and keys rotate it."""
    unmarked: list[str] = []
    marked: list[str] = []
    for table in Base.metadata.sorted_tables:
        for column in table.columns:
            text: Any = isinstance(column.type, String | Text)
            if not text or not any(word in column.name for word in _CREDENTIAL_WORDS):
                continue
            if column.name.endswith(("_fingerprint", "_sha256", "_hash", "_at", "_id", "_url")):
                continue  # a hash, a moment, a reference or an address, never the credential
            (marked if column.info.get("secret") else unmarked).append(
                f"{table.name}.{column.name}"
            )
    assert unmarked == []
    assert "oauth_credential.refresh_token" in marked
    assert inspect(OAuthCredential).columns["refresh_token"].info["secret"]
