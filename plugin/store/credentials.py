"""Refresh tokens a provider rotated, kept in the store (encrypted with the store's keys, see
:mod:`plugin.keyring`) so every process uses the live one."""

from __future__ import annotations

import hashlib

from mentorbridge.plugin.store.base import utc_now
from mentorbridge.plugin.store.db import Store
from mentorbridge.plugin.store.keys import keyring_of
from mentorbridge.plugin.store.sync_models import OAuthCredential

__all__ = ["StoredRefreshToken"]


def _fingerprint(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class StoredRefreshToken:
    """The live refresh token of one OAuth client: the configured one until the provider
    rotates it, then the rotated one (satisfies ``connectors.workday.auth.RefreshTokens``).

    A rotated token is tied to the configured token it descends from, so an admin who
    configures a fresh token (after a tenant refresh, say) starts over from that one.

    Args:
        store: the store.
        provider: ``workday``.
        client_id: the OAuth client.
        configured: the refresh token from the configuration.
    """

    def __init__(self, store: Store, *, provider: str, client_id: str, configured: str) -> None:
        self.store, self.key = store, (provider, client_id)
        self.configured, self.seed = configured, _fingerprint(configured)

    def current(self) -> str:
        with self.store.reading() as session:
            row = session.get(OAuthCredential, self.key)
        if row is None or row.seed_fingerprint != self.seed:
            return self.configured
        return keyring_of(self.store).decrypt(
            row.refresh_token,
            what=f"the stored {self.key[0]} refresh token (client {self.key[1]})",
            if_lost=f"set a new {self.key[0]}.refresh_token (MENTORBRIDGE_"
            f"{self.key[0].upper()}_REFRESH_TOKEN), which replaces the stored one",
        )

    def replace(self, new: str) -> None:
        """Store the rotated token; committed (durable) before this returns."""
        stored = keyring_of(self.store).encrypt(new)
        with self.store.transaction() as session:
            session.merge(
                OAuthCredential(
                    provider=self.key[0],
                    client_id=self.key[1],
                    refresh_token=stored,
                    seed_fingerprint=self.seed,
                    updated_at=utc_now(),
                )
            )
