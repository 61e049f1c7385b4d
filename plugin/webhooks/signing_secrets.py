"""The signing secrets webhooks are checked against: those added with ``mentorbridge webhook
secret add`` (kept in the store, so every worker process sees them) plus ``web.signing_secret``
from the configuration, if set.

Rotation without downtime: add a new secret, switch the sender to it (it may sign with both
meanwhile), then retire the old one. Workers re-read the list every few seconds.

Stored secrets are encrypted with the store's keys (:mod:`plugin.keyring`). One that no key
decrypts is left out of the active list and logged (its id and the fix, never a value): the
other secrets keep working.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from mentorbridge.plugin.errors import ConflictError, UnknownReferenceError
from mentorbridge.plugin.keyring import Keyring, KeyringError
from mentorbridge.plugin.store.base import utc_now
from mentorbridge.plugin.store.db import Store
from mentorbridge.plugin.store.keys import keyring_of
from mentorbridge.plugin.store.webhook_models import WebhookSecret

__all__ = ["SecretInfo", "SigningSecrets", "fingerprint"]

#: How long a worker trusts its copy of the list (a retired secret works this much longer).
CACHE_SECONDS = 5.0
#: Shown instead of a fingerprint for a secret no key decrypts.
UNREADABLE = "(cannot decrypt)"

log = logging.getLogger(__name__)


def fingerprint(secret: str) -> str:
    """A short, safe-to-show name for a secret: the start of its SHA-256."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()[:12]


@dataclass(frozen=True, slots=True)
class SecretInfo:
    """A stored secret as an admin may see it: never the secret itself."""

    id: int
    label: str | None
    fingerprint: str
    created_at: datetime
    retired_at: datetime | None


class SigningSecrets:
    """The active signing secrets.

    Args:
        store: where added secrets live.
        configured: ``web.signing_secret``, always active while configured.
        monotonic: the clock for the cache (tests pass a fake one).
    """

    def __init__(
        self,
        store: Store,
        configured: str | None = None,
        *,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.store = store
        self.configured = configured
        self.monotonic = monotonic
        self._cached: tuple[float, tuple[str, ...]] | None = None

    def active(self) -> tuple[str, ...]:
        """Every secret a signature may use now."""
        now = self.monotonic()
        if self._cached is None or now - self._cached[0] > CACHE_SECONDS:
            with self.store.reading() as session:
                rows = session.execute(
                    select(WebhookSecret.id, WebhookSecret.secret)
                    .where(WebhookSecret.retired_at.is_(None))
                    .order_by(WebhookSecret.id)
                ).all()
            stored = []
            for row_id, value in rows:
                try:
                    stored.append(self._decrypt(row_id, value))
                except KeyringError as err:  # the service keeps answering: say why in the log
                    log.error("%s", err)
            extra = (self.configured,) if self.configured else ()
            self._cached = (now, (*stored, *extra))
        return self._cached[1]

    def add(self, label: str | None = None) -> tuple[int, str]:
        """Create a secret; returns its id and the secret (shown once, to give the sender)."""
        secret = "whsec_" + secrets.token_urlsafe(32)
        stored = keyring_of(self.store).encrypt(secret)
        with self.store.transaction() as session:
            row = WebhookSecret(secret=stored, label=label)
            session.add(row)
            session.flush()
            row_id = row.id
        self._cached = None
        return row_id, secret

    def list(self) -> list[SecretInfo]:
        """Every stored secret, oldest first, retired ones included."""
        with self.store.reading() as session:
            rows = session.scalars(select(WebhookSecret).order_by(WebhookSecret.id)).all()
        return [
            SecretInfo(r.id, r.label, self._fingerprint(r), r.created_at, r.retired_at)
            for r in rows
        ]

    def _fingerprint(self, row: WebhookSecret) -> str:
        try:
            return fingerprint(self._decrypt(row.id, row.secret))
        except KeyringError as err:
            log.error("%s", err)
            return UNREADABLE

    def _decrypt(self, row_id: int, stored: str) -> str:
        if not Keyring.is_encrypted(stored):  # stored before encryption: no key needed
            return stored
        return keyring_of(self.store).decrypt(stored, what=_name(row_id))

    def retire(self, secret_id: int) -> SecretInfo:
        """Stop accepting a secret; signatures made with it are refused from now on."""
        with self.store.transaction() as session:
            row = session.get(WebhookSecret, secret_id)
            if row is None:
                raise UnknownReferenceError(
                    f"no webhook secret has id {secret_id}: `mentorbridge webhook secret list` "
                    "shows them",
                    kind="secret",
                    key=str(secret_id),
                )
            if row.retired_at is not None:
                raise ConflictError(f"webhook secret {secret_id} is already retired")
            row.retired_at = utc_now()
            info = SecretInfo(
                row.id, row.label, self._fingerprint(row), row.created_at, row.retired_at
            )
        self._cached = None
        return info


def _name(secret_id: int) -> str:
    return f"webhook signing secret {secret_id}"
