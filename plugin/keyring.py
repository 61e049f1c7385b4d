"""Secrets at rest: one way to encrypt every secret Mentorbridge stores, and the keys for it.

A :class:`Keyring` holds the encryption keys (Fernet, newest first: the newest encrypts, any
of them decrypts, so a rotated-out key keeps working until it is removed) and the installation
identity key (:mod:`plugin.identity`), which is separate and never rotated.

The keys come from ``secrets.keys`` / ``secrets.identity_key`` (``MENTORBRIDGE_SECRETS_KEYS``,
``MENTORBRIDGE_SECRETS_IDENTITY_KEY``) or from the key file ``secrets.key_file`` (JSON, mode
0600). With the embedded defaults (a SQLite store and no key configured) the key file lives
next to the SQLite file and is created when first needed.

Encrypted values are stored as ``fernet:<token>``, so a value stored before encryption (plain
text) is told apart and encrypted by the next ``mentorbridge db upgrade`` or ``keys rotate``.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import stat
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from mentorbridge.plugin.errors import ConfigError
from mentorbridge.plugin.identity import Identity

if TYPE_CHECKING:
    from mentorbridge.plugin.config import Config

__all__ = [
    "ENCRYPTED_PREFIX",
    "KEY_FILE_FORMAT",
    "Keyring",
    "KeyringError",
    "key_id",
    "keyring_from_config",
    "new_key",
    "read_key_file",
    "write_key_file",
]

ENCRYPTED_PREFIX = "fernet:"
KEY_FILE_FORMAT = "mentorbridge-keys/1"
#: How the admin sets keys, for messages.
KEY_SETTINGS = (
    "secrets.key_file (MENTORBRIDGE_SECRETS_KEY_FILE; `mentorbridge keys init` writes one) or "
    "MENTORBRIDGE_SECRETS_KEYS and MENTORBRIDGE_SECRETS_IDENTITY_KEY"
)


class KeyringError(ConfigError):
    """The keys are missing, unreadable or not the ones a stored secret was encrypted with."""


def new_key() -> str:
    """A fresh random key (32 bytes, URL-safe base64: a Fernet key, or an identity key)."""
    return Fernet.generate_key().decode("ascii")


def key_id(key: str) -> str:
    """A short, safe-to-show name for a key: the start of the SHA-256 of its bytes."""
    return hashlib.sha256(key.encode("ascii")).hexdigest()[:8]


def _check_key(key: str, what: str) -> str:
    key = key.strip()
    try:
        raw = base64.urlsafe_b64decode(key.encode("ascii"))
    except (ValueError, UnicodeEncodeError):
        raw = b""
    if len(raw) != 32:
        raise KeyringError(
            f"{what} is not a key: expected 32 bytes in URL-safe base64 (44 characters, as "
            "`mentorbridge keys init` or `keys rotate` make)",
            key=what.split(" ")[0],
        )
    return key


@dataclass(frozen=True, slots=True)
class Keyring:
    """The encryption keys (newest first) and the identity key of one installation.

    Args:
        keys: Fernet keys, newest first; the first one encrypts.
        identity_key: the key behind people's opaque ids (:class:`plugin.identity.Identity`).
        source: where the keys came from, for messages (a path or a variable name).
        path: the key file they were read from, if any (running processes re-read it when it
            changes: after ``keys rotate`` or ``keys prune``).
        version: the key file's inode and modification time when it was read.
    """

    keys: tuple[str, ...]
    identity_key: str
    source: str = "the configured keys"
    path: Path | None = field(default=None, compare=False)
    version: tuple[int, int] | None = field(default=None, compare=False)
    _fernet: MultiFernet = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not self.keys:
            raise KeyringError(f"{self.source} holds no encryption key", key="secrets.keys")
        checked = tuple(_check_key(k, "secrets.keys") for k in self.keys)
        object.__setattr__(self, "keys", checked)
        _check_key(self.identity_key, "secrets.identity_key")
        object.__setattr__(self, "_fernet", MultiFernet([Fernet(k) for k in checked]))

    @classmethod
    def generate(cls, source: str = "a new key file") -> Keyring:
        """A keyring with one new encryption key and a new identity key."""
        return cls((new_key(),), new_key(), source)

    @property
    def primary_id(self) -> str:
        """The id of the key new secrets are encrypted with."""
        return key_id(self.keys[0])

    @property
    def identity(self) -> Identity:
        """People's opaque ids under this installation's identity key."""
        return Identity(self.identity_key)

    @property
    def identity_id(self) -> str:
        """The id of the identity key (safe to show)."""
        return key_id(self.identity_key)

    def with_new_primary(self) -> Keyring:
        """The same keyring with a new encryption key first (the identity key unchanged)."""
        return replace(self, keys=(new_key(), *self.keys))

    def without_old_keys(self) -> Keyring:
        """Only the newest encryption key (after every secret was re-encrypted with it)."""
        return replace(self, keys=self.keys[:1])

    def current(self) -> Keyring:
        """This keyring, or the key file's newer content if the file changed since it was read
        (the identity key and source are kept: they may come from the environment)."""
        if self.path is None or file_version(self.path) in (self.version, None):
            return self
        fresh = read_key_file(self.path)
        return replace(fresh, identity_key=self.identity_key, source=self.source)

    @staticmethod
    def is_encrypted(stored: str) -> bool:
        """Whether a stored value is encrypted (rather than kept from before encryption)."""
        return stored.startswith(ENCRYPTED_PREFIX)

    def encrypt(self, secret: str) -> str:
        """The value to store for ``secret``: ``fernet:<token>`` under the newest key."""
        return ENCRYPTED_PREFIX + self._fernet.encrypt(secret.encode("utf-8")).decode("ascii")

    def decrypt(
        self, stored: str, *, what: str = "a stored secret", if_lost: str = "add it again"
    ) -> str:
        """The secret behind a stored value, with whichever key encrypted it.

        A value kept from before encryption (no ``fernet:`` prefix) is returned as it is.

        Args:
            stored: the stored value.
            what: names the secret in the error (``webhook signing secret 3``), never its value.
            if_lost: what to do when the key is lost for good.

        Raises:
            KeyringError: no known key decrypts it, naming the fix.
        """
        if not self.is_encrypted(stored):
            return stored
        try:
            return self._fernet.decrypt(stored[len(ENCRYPTED_PREFIX) :].encode("ascii")).decode(
                "utf-8"
            )
        except (InvalidToken, UnicodeError):
            raise KeyringError(
                f"{what} cannot be decrypted with any key in {self.source}: the key it was "
                "encrypted with is missing. Restore the key file (or the old key in "
                f"MENTORBRIDGE_SECRETS_KEYS) from your backup; if that key is lost, so is the "
                f"secret: {if_lost}",
                key="secrets.keys",
            ) from None

    def decrypts_with(self, stored: str) -> str | None:
        """The id of the key a stored value is encrypted with; ``None`` for plain text.

        Raises:
            KeyringError: no known key decrypts it.
        """
        if not self.is_encrypted(stored):
            return None
        token = stored[len(ENCRYPTED_PREFIX) :].encode("ascii")
        for key in self.keys:
            try:
                Fernet(key).decrypt(token)
            except InvalidToken:
                continue
            return key_id(key)
        self.decrypt(stored)  # raises the error naming the fix
        raise AssertionError("unreachable")

    def reencrypt(self, stored: str, *, what: str = "a stored secret") -> str:
        """The stored value again, encrypted under the newest key (plain text gets encrypted)."""
        return self.encrypt(self.decrypt(stored, what=what))


# -- the key file ---------------------------------------------------------------------------


def file_version(path: Path) -> tuple[int, int] | None:
    """The file's inode and modification time (``None`` if it cannot be read)."""
    try:
        found = path.stat()
    except OSError:
        return None
    return (found.st_ino, found.st_mtime_ns)


def read_key_file(path: Path) -> Keyring:
    """The keyring in a key file.

    Raises:
        KeyringError: the file is missing, readable by others, or not a key file.
    """
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        raise KeyringError(
            f"the key file {path} does not exist: restore it from your backup, or create one "
            "with `mentorbridge keys init` if this store never held secrets",
            key="secrets.key_file",
        ) from None
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise KeyringError(
            f"the key file {path} is open to other users (mode {stat.S_IMODE(mode):04o}): "
            f"run `chmod 600 {path}`",
            key="secrets.key_file",
        )
    version = file_version(path)
    try:
        data = json.loads(path.read_text("utf-8"))
        if data.get("format") != KEY_FILE_FORMAT:
            raise ValueError("format")
        keys, identity = data["encryption_keys"], data["identity_key"]
        if not isinstance(keys, list) or not all(isinstance(k, str) for k in keys):
            raise ValueError("encryption_keys")
    except OSError as err:
        raise KeyringError(
            f"cannot read the key file {path} ({err.strerror})", key="secrets.key_file"
        ) from err
    except (ValueError, KeyError, TypeError, AttributeError):
        raise KeyringError(
            f"{path} is not a Mentorbridge key file (expected JSON with format "
            f'"{KEY_FILE_FORMAT}", encryption_keys and identity_key)',
            key="secrets.key_file",
        ) from None
    return Keyring(tuple(keys), identity, str(path), path=path, version=version)


def write_key_file(path: Path, keyring: Keyring, *, replace: bool = False) -> None:
    """Write ``keyring`` to ``path`` with mode 0600, atomically (a crash leaves the old file).

    Args:
        replace: allow replacing an existing file (rotation); otherwise an existing file is
            never touched.

    Raises:
        KeyringError: the file exists (without ``replace``) or cannot be written.
    """
    if not replace and path.exists():
        raise KeyringError(
            f"the key file {path} already exists; it is never overwritten (the secrets it opens "
            "would be lost): use `mentorbridge keys rotate` for a new key",
            key="secrets.key_file",
        )
    body = {
        "format": KEY_FILE_FORMAT,
        "note": "Mentorbridge keys. Back this file up: without it stored secrets cannot be "
        "read. encryption_keys are newest first; identity_key is never rotated.",
        "encryption_keys": list(keyring.keys),
        "identity_key": keyring.identity_key,
    }
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            json.dump(body, handle, indent=2)
            handle.write("\n")
            handle.flush()
            os.fsync(handle.fileno())
        if replace:
            os.replace(temporary, path)
        else:
            os.link(temporary, path)  # fails if another process created it meanwhile
            temporary.unlink()
    except FileExistsError:
        temporary.unlink(missing_ok=True)
        raise KeyringError(
            f"the key file {path} already exists; it is never overwritten",
            key="secrets.key_file",
        ) from None
    except OSError as err:
        temporary.unlink(missing_ok=True)
        raise KeyringError(
            f"cannot write the key file {path} ({err.strerror}): check the directory exists "
            "and is writable",
            key="secrets.key_file",
        ) from err


# -- from the configuration -----------------------------------------------------------------


def keyring_from_config(config: Config, default_file: Path | None = None) -> Keyring | None:
    """The keyring the configuration names: ``secrets.keys`` and ``secrets.identity_key`` where
    set, the rest from ``secrets.key_file`` (else ``default_file``, the file next to a SQLite
    store). ``None`` when nothing is configured (the store then uses its default, if any).

    Raises:
        KeyringError: a key is malformed, or the key file is needed but missing or unreadable.
    """
    section = config["secrets"]
    keys, identity = section.get("keys"), section.get("identity_key")
    key_file = Path(section["key_file"]).expanduser() if section.get("key_file") else None
    if keys and identity:
        return Keyring(_split(keys), identity, "MENTORBRIDGE_SECRETS_KEYS")
    if not (keys or identity or key_file):
        return None
    path = key_file or default_file
    if path is None:
        missing = "secrets.identity_key" if keys else "secrets.keys"
        raise KeyringError(
            f"{missing} is not set, and there is no key file to take it from: set "
            f"MENTORBRIDGE_{missing.upper().replace('.', '_')} or secrets.key_file",
            key=missing,
        )
    from_file = read_key_file(path)
    if keys:
        return Keyring(_split(keys), from_file.identity_key, "MENTORBRIDGE_SECRETS_KEYS")
    return replace(from_file, identity_key=identity or from_file.identity_key)


def _split(keys: str) -> tuple[str, ...]:
    return tuple(k.strip() for k in keys.split(",") if k.strip())
