"""The tool's signing keys: made once, encrypted at rest, published, rotated with overlap."""

from __future__ import annotations

import subprocess
from datetime import timedelta
from pathlib import Path

import jwt
import pytest
from sqlalchemy import select

from mentorbridge.plugin.errors import ConfigError
from mentorbridge.plugin.lti.keys import OVERLAP, ToolKeys
from mentorbridge.plugin.store.base import utc_now
from mentorbridge.plugin.store.db import Store
from mentorbridge.plugin.store.lti_models import LtiKey


def verify(token: str, jwks: dict) -> dict:
    kid = jwt.get_unverified_header(token)["kid"]
    (jwk,) = [k for k in jwks["keys"] if k["kid"] == kid]
    return jwt.decode(token, jwt.PyJWK(jwk).key, algorithms=["RS256"], audience="a")


def test_a_key_is_made_once_and_kept_encrypted(store: Store) -> None:
    keys = ToolKeys(store)
    first, again = keys.current(), ToolKeys(store).current()
    assert first.kid == again.kid
    with store.reading() as session:
        (stored,) = session.scalars(select(LtiKey)).all()
    assert stored.private_pem.startswith("fernet:")  # never the PEM in the clear
    assert "PRIVATE KEY" not in stored.private_pem
    published = keys.jwks()
    assert [k["kid"] for k in published["keys"]] == [first.kid]
    assert {"n", "e", "kty", "kid", "alg", "use"} <= set(published["keys"][0])
    assert "d" not in published["keys"][0]  # the public half only
    assert verify(keys.sign({"aud": "a", "x": 1}), published)["x"] == 1


def test_rotation_signs_with_the_new_key_and_keeps_the_old_one_published(store: Store) -> None:
    keys = ToolKeys(store)
    old_token = keys.sign({"aud": "a"})
    old = keys.current().kid
    new, deleted = keys.rotate()
    assert deleted == [] and new.kid != old
    published = keys.jwks()
    assert [k["kid"] for k in published["keys"]] == [new.kid, old]
    verify(old_token, published)  # what the old key signed still verifies
    assert jwt.get_unverified_header(keys.sign({"aud": "a"}))["kid"] == new.kid
    later = utc_now() + OVERLAP + timedelta(minutes=1)
    assert [k["kid"] for k in keys.jwks(now=later)["keys"]] == [new.kid]
    _, deleted = keys.rotate(now=later)
    assert deleted == [old]


def test_a_key_from_a_file_is_used_and_never_stored(store: Store, tmp_path: Path) -> None:
    pem = tmp_path / "tool.pem"
    subprocess.run(
        ["openssl", "genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out",
         str(pem)],
        check=True, capture_output=True,
    )  # fmt: skip
    keys = ToolKeys(store, private_key_file=pem)
    token = keys.sign({"aud": "a"})
    verify(token, keys.jwks())
    assert keys.current().kid == ToolKeys(store, private_key_file=pem).current().kid
    with store.reading() as session:
        assert session.scalars(select(LtiKey)).all() == []
    with pytest.raises(ConfigError, match=r"lti\.private_key_file"):
        keys.rotate()
    pem.write_text("not a key")
    with pytest.raises(ConfigError, match="cannot be read as an unencrypted PEM"):
        ToolKeys(store, private_key_file=pem).current()
