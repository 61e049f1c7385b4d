"""RSA signing keys with a ``kid``, their JWKS form, and finding a tool's key in its JWKS."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

__all__ = ["SigningKey", "find_key", "hs256_token", "unsigned_token"]


@dataclass(frozen=True)
class SigningKey:
    """A private RSA key and the ``kid`` it is published under."""

    kid: str
    private_key: rsa.RSAPrivateKey

    @classmethod
    def generate(cls, kid: str | None = None) -> SigningKey:
        """A fresh 2048-bit key (what Moodle generates for its platform key)."""
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        return cls(kid or secrets.token_hex(8), key)

    def public_jwk(self) -> dict[str, Any]:
        """The public half as a JWK, as a JWKS lists it."""
        jwk: dict[str, Any] = RSAAlgorithm.to_jwk(self.private_key.public_key(), as_dict=True)
        jwk.pop("key_ops", None)  # RFC 7517 4.3: not together with "use"
        jwk.update(kid=self.kid, alg="RS256", use="sig")
        return jwk

    def public_pem(self) -> bytes:
        """The public key in PEM, for tests that configure a tool with a key, not a JWKS."""
        return self.private_key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )

    def sign(self, claims: dict[str, Any], *, kid: bool = True) -> str:
        """An RS256 JWT, with this key's ``kid`` in the header unless ``kid`` is False."""
        headers = {"kid": self.kid} if kid else None
        return jwt.encode(claims, self.private_key, algorithm="RS256", headers=headers)


def find_key(jwks: Any, kid: str) -> Any | None:
    """The RSA public key with ``kid`` in a JWKS document, or None."""
    if not isinstance(jwks, dict) or not isinstance(jwks.get("keys"), list):
        return None
    for entry in jwks["keys"]:
        if isinstance(entry, dict) and entry.get("kid") == kid and entry.get("kty") == "RSA":
            try:
                return jwt.PyJWK(entry, algorithm="RS256").key
            except jwt.PyJWTError:
                return None
    return None


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _json_b64(part: dict[str, Any]) -> str:
    return _b64(json.dumps(part, separators=(",", ":")).encode())


def _segments(header: dict[str, Any], claims: dict[str, Any]) -> str:
    return f"{_json_b64(header)}.{_json_b64(claims)}"


def unsigned_token(claims: dict[str, Any]) -> str:
    """An ``alg: none`` JWT: a tool that accepts it accepts anything."""
    return _segments({"alg": "none", "typ": "JWT"}, claims) + "."


def hs256_token(claims: dict[str, Any], key: SigningKey) -> str:
    """An HS256 JWT keyed with the platform's *public* key (the algorithm-confusion attack)."""
    signing_input = _segments({"alg": "HS256", "typ": "JWT", "kid": key.kid}, claims)
    mac = hmac.new(key.public_pem(), signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{_b64(mac)}"
