"""One identity per person: the opaque id statements name a person by.

The id is a keyed hash of the Employee ID under the installation identity key (kept with the
encryption keys, see :mod:`plugin.keyring`, and never rotated). Two stores with the same key
give a person the same id, so a store rebuilt after a loss (senders re-sending their events),
or a staging copy sharing the LRS, produces the very statements the LRS already holds instead
of a second identity. Without the key the id reveals nothing about the person.
"""

from __future__ import annotations

import base64
import hmac
from dataclasses import dataclass
from functools import lru_cache

__all__ = ["OPAQUE_ID_PREFIX", "Identity"]

OPAQUE_ID_PREFIX = "p-"
#: 80 bits: the same shape as the random ids before (``p-`` and 20 hex digits); a collision
#: among a million people has odds of about 1 in 2.4 trillion (and the column is unique).
_HEX_DIGITS = 20
#: Keeps these hashes apart from any other use of the key.
_DOMAIN = b"mentorbridge/person-opaque-id/v1\x00"


@dataclass(frozen=True, slots=True)
class Identity:
    """Turns a worker's Employee ID into their opaque id.

    Args:
        key: the installation identity key (URL-safe base64, as in the key file).
    """

    key: str

    def opaque_id_for(self, worker_id: str) -> str:
        """The opaque id of the worker with Employee ID ``worker_id``: ``p-`` + 20 hex digits,
        the same for the same worker under the same key, in every store."""
        digest = hmac.digest(_key_bytes(self.key), _DOMAIN + worker_id.encode("utf-8"), "sha256")
        return OPAQUE_ID_PREFIX + digest.hex()[:_HEX_DIGITS]


@lru_cache(maxsize=8)  # a sync asks for every new worker's id
def _key_bytes(key: str) -> bytes:
    return base64.urlsafe_b64decode(key.encode("ascii"))
