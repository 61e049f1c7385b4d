"""Signed, expiring transcript links: what an LMS page embeds so a learner sees their own
transcript without another login.

A link carries ``learner``, ``expires`` (unix seconds) and ``sig``, an HMAC-SHA256 of both under
``web.link_secret``. It proves who the viewer is until it expires; it opens that learner's
transcript and no one else's.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from urllib.parse import quote, urlencode

__all__ = ["LinkError", "LinkSigner"]


class LinkError(Exception):
    """A link that proves nothing: tampered, malformed or expired; ``str()`` says which."""


@dataclass(frozen=True, slots=True)
class LinkSigner:
    """Makes and checks transcript links.

    Args:
        secret: ``web.link_secret``.
        ttl_seconds: how long a new link works.
    """

    secret: str
    ttl_seconds: int

    def link(self, base_url: str, worker_id: str, *, now: float) -> tuple[str, int]:
        """The URL of ``worker_id``'s transcript for them to open, and when it expires."""
        expires = int(now) + self.ttl_seconds
        query = urlencode(
            {"learner": worker_id, "expires": expires, "sig": self._sign(worker_id, expires)}
        )
        return f"{base_url}/learners/{quote(worker_id, safe='')}/transcript?{query}", expires

    def viewer(self, learner: str, expires: str, sig: str, *, now: float) -> str:
        """The worker id a link proves, or :class:`LinkError`."""
        if not expires.isdigit() or len(expires) > 12:
            raise LinkError("the link is malformed: ask for a new one")
        if not hmac.compare_digest(sig.encode("utf-8"), self._sign(learner, int(expires)).encode()):
            raise LinkError("the link's signature is not valid: ask for a new one")
        if int(expires) < now:
            raise LinkError("the link has expired: ask for a new one")
        return learner

    def _sign(self, worker_id: str, expires: int) -> str:
        message = f"transcript\n{worker_id}\n{expires}".encode()
        return hmac.new(self.secret.encode("utf-8"), message, hashlib.sha256).hexdigest()
