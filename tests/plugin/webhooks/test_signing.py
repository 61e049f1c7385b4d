"""Signatures: HMAC-SHA256 over ``t.body``, a two-sided tolerance, several active secrets."""

from __future__ import annotations

import hashlib
import hmac

import pytest

from mentorbridge.plugin.webhooks.signing import SignatureError, sign, signature_header, verify

BODY = b'{"id":"evt-1","type":"goal.achieved"}'
OLD, NEW = "whsec_old_secret_0123456789", "whsec_new_secret_0123456789"
NOW = 1_790_000_000


def check(header: str | None, body: bytes = BODY, secrets=(OLD,), now: float = NOW) -> None:
    verify(header, body, secrets, now=now, tolerance=300)


def test_signing_is_hmac_sha256_over_the_timestamp_a_dot_and_the_raw_body() -> None:
    expected = hmac.new(OLD.encode(), f"{NOW}.".encode() + BODY, hashlib.sha256).hexdigest()
    assert sign(BODY, OLD, NOW) == expected
    assert signature_header(BODY, [OLD], NOW) == f"t={NOW},v1={expected}"


def test_signing_accepts_a_valid_signature() -> None:
    check(signature_header(BODY, [OLD], NOW))


@pytest.mark.parametrize(
    ("header", "body", "secrets", "now", "reason"),
    [
        (None, BODY, (OLD,), NOW, "header is missing"),
        ("", BODY, (OLD,), NOW, "header is missing"),
        (signature_header(BODY, [OLD], NOW), BODY + b" ", (OLD,), NOW, "no v1 signature"),
        (signature_header(BODY, [NEW], NOW), BODY, (OLD,), NOW, "no v1 signature"),
        (signature_header(BODY, [OLD], NOW - 301), BODY, (OLD,), NOW, "301 s old"),
        (signature_header(BODY, [OLD], NOW + 301), BODY, (OLD,), NOW, "301 s in the future"),
        (f"v1={sign(BODY, OLD, NOW)}", BODY, (OLD,), NOW, "needs t="),
        (f"t={NOW}", BODY, (OLD,), NOW, "at least one v1"),
        (f"t={NOW},t={NOW},v1={sign(BODY, OLD, NOW)}", BODY, (OLD,), NOW, "exactly one t"),
        (f"t={NOW};v1={sign(BODY, OLD, NOW)}", BODY, (OLD,), NOW, "malformed"),
        (f"t=soon,v1={sign(BODY, OLD, NOW)}", BODY, (OLD,), NOW, "malformed"),
        (signature_header(BODY, [OLD], NOW), BODY, (), NOW, "no v1 signature"),
    ],
    ids=[
        "missing",
        "empty",
        "tampered-body",
        "wrong-secret",
        "expired",
        "future",
        "no-timestamp",
        "no-signature",
        "two-timestamps",
        "wrong-separator",
        "timestamp-not-digits",
        "no-active-secret",
    ],
)
def test_signing_refuses(header, body, secrets, now, reason) -> None:
    with pytest.raises(SignatureError, match=reason):
        check(header, body, secrets, now)


def test_signing_tolerance_is_inclusive_on_both_sides() -> None:
    check(signature_header(BODY, [OLD], NOW - 300))
    check(signature_header(BODY, [OLD], NOW + 300))


def test_signing_rotation_accepts_either_active_secret_and_either_signature() -> None:
    both_active = (OLD, NEW)
    check(signature_header(BODY, [OLD], NOW), secrets=both_active)
    check(signature_header(BODY, [NEW], NOW), secrets=both_active)
    # A sender mid-rotation signs with both; the service may know only one of them.
    check(signature_header(BODY, [OLD, NEW], NOW), secrets=(NEW,))
    check(signature_header(BODY, [OLD, NEW], NOW), secrets=(OLD,))
    with pytest.raises(SignatureError):
        check(signature_header(BODY, [OLD], NOW), secrets=(NEW,))


def test_signing_hex_digest_is_case_insensitive() -> None:
    check(f"t={NOW},v1={sign(BODY, OLD, NOW).upper()}")


@pytest.mark.parametrize(
    "timestamp",
    [f"0{NOW}", f"+{NOW}", f"-{NOW}", f" {NOW}", f"{NOW} ", f"{NOW}\n", f"{NOW}.0", "1" * 5000],
    ids=["zero-padded", "plus", "minus", "space-first", "space-last", "newline", "decimal", "long"],
)
def test_signing_refuses_a_timestamp_that_is_not_plain_digits(timestamp: str) -> None:
    # Signed over the literal value, so only the spelling stands in the way.
    header = f"t={timestamp},v1={sign(BODY, OLD, timestamp)}"
    with pytest.raises(SignatureError, match="t must be unix seconds in plain decimal digits"):
        check(header)


def test_signing_covers_the_timestamp_exactly_as_sent() -> None:
    # The same instant spelled differently is not the signed message: a signature made for
    # t=NOW must not verify for any other spelling of it.
    signed_over_number = sign(BODY, OLD, NOW)
    assert sign(BODY, OLD, str(NOW)) == signed_over_number
    assert sign(BODY, OLD, f"0{NOW}") != signed_over_number
    with pytest.raises(SignatureError):
        check(f"t=0{NOW},v1={signed_over_number}")
