"""Event signatures: ``Mentorbridge-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256>``.

The MAC covers ``t + "." + raw body``, so a captured request cannot be replayed outside the
timestamp tolerance, and is checked on the raw bytes before anything parses them. ``t`` is
signed and verified exactly as sent, and must be plain decimal digits without a sign, spaces
or leading zeros: one timestamp has one spelling, so a signature cannot be reused under
another (``t=0001790000000``). A sender rotating its secret may send one ``v1`` per secret;
one matching an active secret is enough.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Iterable

__all__ = ["HEADER", "SignatureError", "sign", "signature_header", "verify"]

HEADER = "Mentorbridge-Signature"
_PART = re.compile(r"^\s*(t|v1)=(.*)$", re.DOTALL)
#: Unix seconds as one spelling: no sign, spaces or leading zeros, and no absurd length.
_TIMESTAMP = re.compile(r"0|[1-9][0-9]{0,14}")
_HEX = re.compile(r"[0-9a-fA-F]+")


class SignatureError(Exception):
    """The request is not signed by an active secret; ``str()`` says why and what to check."""


def sign(body: bytes, secret: str, timestamp: int | str) -> str:
    """The hex HMAC-SHA256 of ``timestamp.body`` under ``secret``; ``timestamp`` as the
    header spells it (an ``int`` is written in plain digits)."""
    message = str(timestamp).encode("ascii") + b"." + body
    return hmac.new(secret.encode("utf-8"), message, hashlib.sha256).hexdigest()


def signature_header(body: bytes, secrets: Iterable[str], timestamp: int) -> str:
    """The header value a sender puts on ``body``: one ``v1`` per secret."""
    parts = [f"t={timestamp}"] + [f"v1={sign(body, s, timestamp)}" for s in secrets]
    if len(parts) == 1:
        raise ValueError("signing needs at least one secret")
    return ",".join(parts)


def verify(
    header: str | None,
    body: bytes,
    secrets: Iterable[str],
    *,
    now: float,
    tolerance: int | None,
) -> None:
    """Raise :class:`SignatureError` unless ``header`` signs ``body`` with one of ``secrets``
    at a time within ``tolerance`` seconds of ``now``, either way.

    ``tolerance=None`` checks the signature only, not its age: an import of history signed
    long ago (``mentorbridge events import``), which an admin runs and no one can replay.
    """
    if not header:
        raise SignatureError(
            f"the {HEADER} header is missing: sign t + '.' + the raw body with HMAC-SHA256 "
            f"and send {HEADER}: t=<unix seconds>,v1=<hex digest>"
        )
    literal, signatures = _parse(header)
    if tolerance is not None:
        _check_age(now - int(literal), tolerance)
    expected = [sign(body, secret, literal) for secret in secrets]
    # Compare every pair, so timing says nothing about which secret or how much matched.
    matched = False
    for given in signatures:
        for digest in expected:
            matched |= hmac.compare_digest(given, digest)
    if not matched:
        raise SignatureError(
            "no v1 signature matches an active secret: check the sender signs with a current "
            "secret, over t + '.' + the body exactly as sent"
        )


def _check_age(age: float, tolerance: int) -> None:
    if age > tolerance:
        raise SignatureError(
            f"the signature's timestamp is {age:.0f} s old, beyond the {tolerance} s tolerance: "
            "sign each delivery when it is sent, and check the sender's clock"
        )
    if -age > tolerance:
        raise SignatureError(
            f"the signature's timestamp is {-age:.0f} s in the future, beyond the {tolerance} s "
            "tolerance: check the sender's clock"
        )


def _parse(header: str) -> tuple[str, list[str]]:
    """The ``t`` value exactly as sent, and the ``v1`` digests (lower case)."""
    timestamp: str | None = None
    signatures: list[str] = []
    for part in header.split(","):
        match = _PART.match(part)
        if match is None:
            raise SignatureError(
                f"the {HEADER} header is malformed: expected t=<unix seconds>,v1=<hex digest>"
            )
        name, value = match.groups()
        if name == "t":
            if timestamp is not None:
                raise SignatureError(
                    f"the {HEADER} header needs exactly one t=<unix seconds>, in digits"
                )
            if not _TIMESTAMP.fullmatch(value):
                raise SignatureError(
                    f"the {HEADER} header is malformed: t must be unix seconds in plain decimal "
                    "digits, without a sign, spaces or leading zeros (t=1790000000)"
                )
            timestamp = value
        else:
            value = value.strip()
            if not _HEX.fullmatch(value):
                raise SignatureError(
                    f"the {HEADER} header is malformed: v1 must be a hex HMAC-SHA256 digest"
                )
            signatures.append(value.lower())
    if timestamp is None or not signatures:
        raise SignatureError(
            f"the {HEADER} header needs t=<unix seconds> and at least one v1=<hex digest>"
        )
    return timestamp, signatures
