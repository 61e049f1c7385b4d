"""Platforms' public keys (their JWKS), fetched over HTTP and cached per process.

A ``kid`` the cached set lacks means the platform rotated its keys (Brightspace does so
hourly): the set is fetched again once, unless it was fetched within ``cooldown`` (so a flood
of forged kids cannot make the tool hammer the platform).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import requests
from jwt import PyJWK
from jwt.exceptions import PyJWKError

from mentorbridge.plugin.lti.errors import LaunchRefused

__all__ = ["PlatformKeySets"]


class PlatformKeySets:
    """Fetches and caches key sets by URL."""

    def __init__(
        self,
        *,
        timeout: tuple[float, float] = (10.0, 30.0),
        cooldown: float = 1.0,
        lifetime: float = 3600.0,
        session: requests.Session | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.timeout, self.cooldown, self.lifetime = timeout, cooldown, lifetime
        self.session = session or requests.Session()
        self.clock = clock
        self._sets: dict[str, tuple[float, dict[str, PyJWK]]] = {}
        self._lock = threading.Lock()
        self.fetches = 0

    def key(self, jwks_url: str, kid: str | None) -> PyJWK:
        """The key ``kid`` of the set at ``jwks_url``.

        Raises:
            LaunchRefused: the set cannot be fetched, or has no such key even when fetched
                again (``bad_signature``).
        """
        if not kid:
            raise LaunchRefused("bad_signature", "the id_token's header names no key (kid)")
        with self._lock:
            fetched_at, keys = self._sets.get(jwks_url, (None, {}))
            now = self.clock()
            stale = fetched_at is None or now - fetched_at > self.lifetime
            may_refetch = fetched_at is None or now - fetched_at >= self.cooldown
            if stale or (kid not in keys and may_refetch):
                keys = self._fetch(jwks_url)
                self._sets[jwks_url] = (now, keys)
        found = keys.get(kid)
        if found is None:
            raise LaunchRefused(
                "bad_signature",
                f"the platform's key set ({jwks_url}) has no key {kid!r}: the id_token was not "
                "signed by this platform, or its key set URL is registered wrong",
            )
        return found

    def _fetch(self, jwks_url: str) -> dict[str, PyJWK]:
        self.fetches += 1
        try:
            answer = self.session.get(jwks_url, timeout=self.timeout)
            answer.raise_for_status()
            body: Any = answer.json()
        except (requests.RequestException, ValueError) as err:
            raise LaunchRefused(
                "platform_unreachable",
                f"the platform's key set ({jwks_url}) could not be read ({type(err).__name__}); "
                "check its key set URL (`mentorbridge lti platform list`)",
                status=502,
            ) from None
        keys: dict[str, PyJWK] = {}
        for entry in body.get("keys", []) if isinstance(body, dict) else []:
            if not isinstance(entry, dict) or entry.get("use", "sig") != "sig":
                continue
            try:
                keys[str(entry.get("kid"))] = PyJWK(entry)
            except PyJWKError:
                continue  # a key type this tool does not verify with: not one it needs
        return keys
