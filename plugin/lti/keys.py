"""The tool's own signing keys: made on first use, kept in the store (the private key encrypted
like every stored secret), published at ``/.well-known/jwks.json``, rotated on demand.

The newest unretired key signs (deep-linking responses, client assertions for LTI Advantage
services). A rotated-out key stays in the published key set for ``OVERLAP`` after its
retirement, so what it signed verifies until it has expired; after that it is deleted.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from sqlalchemy import delete, select

from mentorbridge.plugin.errors import ConfigError
from mentorbridge.plugin.store.base import utc_now
from mentorbridge.plugin.store.db import Store
from mentorbridge.plugin.store.keys import keyring_of
from mentorbridge.plugin.store.lti_models import LtiKey

__all__ = ["OVERLAP", "ToolKeys"]

#: How long a retired key stays published: far longer than anything the tool signs lives
#: (client assertions and deep-linking responses live minutes), and than platforms cache keys.
OVERLAP = timedelta(hours=24)
ALGORITHM = "RS256"


class ToolKeys:
    """The tool's key set in ``store``, or the one key in ``private_key_file`` (a mounted
    secret: ``lti.private_key_file``), which is then never stored."""

    def __init__(self, store: Store, *, private_key_file: Path | None = None) -> None:
        self.store = store
        self.private_key_file = private_key_file

    def current(self) -> LtiKey:
        """The signing key, made (and stored) if there is none yet."""
        if self.private_key_file is not None:
            return _file_key(self.private_key_file)
        with self.store.reading() as session:
            key = _newest(session)
        if key is not None:
            return key
        with self.store.transaction() as session:
            key = _newest(session, lock=True)
            if key is None:  # nobody made one meanwhile
                key = _new_key(self.store)
                session.add(key)
                session.flush()
            session.expunge(key)
        return key

    def rotate(self, *, now: datetime | None = None) -> tuple[LtiKey, list[str]]:
        """A new signing key; the old ones are retired (still published for ``OVERLAP``) and
        keys retired longer than that are deleted. Returns the new key and the kids deleted."""
        if self.private_key_file is not None:
            raise ConfigError(
                f"the signing key comes from lti.private_key_file ({self.private_key_file}): "
                "put the new key in that file instead (the old one keeps verifying what it "
                "signed only if you also keep it published; `lti keys rotate` needs the key "
                "in the store)",
                key="lti.private_key_file",
            )
        now = now or utc_now()
        with self.store.transaction() as session:
            for key in session.scalars(select(LtiKey).where(LtiKey.retired_at.is_(None))):
                key.retired_at = now
            expired = list(
                session.scalars(select(LtiKey.kid).where(LtiKey.retired_at < now - OVERLAP))
            )
            session.execute(delete(LtiKey).where(LtiKey.kid.in_(expired)))
            key = _new_key(self.store)
            session.add(key)
            session.flush()
            session.expunge(key)
        return key, expired

    def jwks(self, *, now: datetime | None = None) -> dict[str, Any]:
        """The published key set: the signing key and those retired less than ``OVERLAP``
        ago (made first if there is no key yet)."""
        signing = self.current()
        now = now or utc_now()
        with self.store.reading() as session:
            keys = session.scalars(
                select(LtiKey)
                .where((LtiKey.retired_at.is_(None)) | (LtiKey.retired_at >= now - OVERLAP))
                .order_by(LtiKey.id.desc())
            ).all()
        published = [signing.public_jwk]
        published += [key.public_jwk for key in keys if key.kid != signing.kid]
        return {"keys": published}

    def sign(self, claims: dict[str, Any], *, headers: dict[str, Any] | None = None) -> str:
        """``claims`` as a JWT signed with the current key (its ``kid`` in the header)."""
        key = self.current()
        if self.private_key_file is not None:
            private = key.private_pem
        else:
            private = keyring_of(self.store).decrypt(key.private_pem, what="the LTI signing key")
        return jwt.encode(
            claims, private, algorithm=ALGORITHM, headers={**(headers or {}), "kid": key.kid}
        )

    def status(self) -> list[tuple[str, datetime, datetime | None]]:
        """Every stored key: kid, made, retired (``None`` for the signing key)."""
        with self.store.reading() as session:
            return [
                (key.kid, key.created_at, key.retired_at)
                for key in session.scalars(select(LtiKey).order_by(LtiKey.id))
            ]


def _file_key(path: Path) -> LtiKey:
    """The key in a PEM file, named by its RFC 7638 thumbprint."""
    try:
        pem = path.read_text("ascii")
        private = serialization.load_pem_private_key(pem.encode(), password=None)
    except (OSError, ValueError, TypeError) as err:
        raise ConfigError(
            f"lti.private_key_file {path} cannot be read as an unencrypted PEM private key "
            f"({type(err).__name__}): generate one with `openssl genpkey -algorithm RSA "
            "-pkeyopt rsa_keygen_bits:2048`",
            key="lti.private_key_file",
        ) from None
    if not isinstance(private, rsa.RSAPrivateKey):
        raise ConfigError(
            f"lti.private_key_file {path} holds no RSA key (RS256 needs one)",
            key="lti.private_key_file",
        )
    public = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(private.public_key()))
    members = json.dumps({k: public[k] for k in ("e", "kty", "n")}, separators=(",", ":"))
    thumbprint = base64.urlsafe_b64encode(hashlib.sha256(members.encode()).digest())
    kid = thumbprint.decode().rstrip("=")[:24]
    public.update({"kid": kid, "alg": ALGORITHM, "use": "sig"})
    return LtiKey(kid=kid, private_pem=pem, public_jwk=public)


def _newest(session: Any, *, lock: bool = False) -> LtiKey | None:
    query = select(LtiKey).where(LtiKey.retired_at.is_(None)).order_by(LtiKey.id.desc()).limit(1)
    if lock:
        query = query.with_for_update()
    key = session.scalars(query).first()
    if key is not None:
        session.expunge(key)
    return key


def _new_key(store: Store) -> LtiKey:
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = private.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    kid = f"{time.strftime('%Y%m%d', time.gmtime())}-{secrets.token_hex(6)}"
    public = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(private.public_key()))
    public.update({"kid": kid, "alg": ALGORITHM, "use": "sig"})
    return LtiKey(
        kid=kid,
        private_pem=keyring_of(store).encrypt(pem),
        public_jwk=public,
    )
