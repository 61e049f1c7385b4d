"""The platforms (LMS registrations) the tool is installed in, and their deployments.

A platform is one (issuer, client id): added by dynamic registration or by hand
(`mentorbridge lti platform add`), listed and removed from the CLI. A launch names a
deployment; one not registered for its platform is refused until an admin adds it
(`mentorbridge lti platform add-deployment`): the spec makes the tool, not the platform,
decide which deployments it serves.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from mentorbridge.plugin.errors import ConfigError
from mentorbridge.plugin.store.db import Store
from mentorbridge.plugin.store.lti_models import LtiDeployment, LtiPlatform

__all__ = ["Platforms", "RegisteredPlatform", "check_url"]


@dataclass(frozen=True)
class RegisteredPlatform:
    """A platform as the launch code needs it."""

    id: int
    issuer: str
    client_id: str
    name: str
    auth_login_url: str
    auth_token_url: str
    audience: str | None
    jwks_url: str
    registered_by: str
    deployments: tuple[str, ...]
    details: dict[str, Any]

    @classmethod
    def of(cls, row: LtiPlatform, deployments: list[str]) -> RegisteredPlatform:
        return cls(
            id=row.id,
            issuer=row.issuer,
            client_id=row.client_id,
            name=row.name,
            auth_login_url=row.auth_login_url,
            auth_token_url=row.auth_token_url,
            audience=row.audience,
            jwks_url=row.jwks_url,
            registered_by=row.registered_by,
            deployments=tuple(deployments),
            details=dict(row.details or {}),
        )


def check_url(value: str, what: str, *, key: str | None = None) -> str:
    """``value`` if it is an absolute http(s) URL; a :class:`ConfigError` naming it if not."""
    parts = urlsplit(value)
    if parts.scheme not in ("https", "http") or not parts.netloc:
        raise ConfigError(f"{what} must be an absolute https:// URL, not {value!r}", key=key)
    return value


class Platforms:
    """The registry in ``store``."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def add(
        self,
        *,
        issuer: str,
        client_id: str,
        auth_login_url: str,
        jwks_url: str,
        auth_token_url: str = "",
        audience: str | None = None,
        deployments: list[str] | tuple[str, ...] = (),
        name: str | None = None,
        registered_by: str = "manual",
        details: dict[str, Any] | None = None,
    ) -> RegisteredPlatform:
        """Register a platform.

        Raises:
            ConfigError: a URL is not absolute, or (issuer, client id) is already registered.
        """
        check_url(issuer, "the issuer")
        check_url(auth_login_url, "the authorisation (OIDC login) URL")
        check_url(jwks_url, "the key set (JWKS) URL")
        if auth_token_url:
            check_url(auth_token_url, "the token URL")
        if not client_id.strip():
            raise ConfigError("the client id must not be empty")
        try:
            with self.store.transaction() as session:
                row = LtiPlatform(
                    issuer=issuer,
                    client_id=client_id,
                    name=name or urlsplit(issuer).netloc,
                    auth_login_url=auth_login_url,
                    auth_token_url=auth_token_url,
                    audience=audience,
                    jwks_url=jwks_url,
                    registered_by=registered_by,
                    details=details or {},
                )
                session.add(row)
                session.flush()
                for deployment in dict.fromkeys(deployments):
                    session.add(LtiDeployment(platform_id=row.id, deployment_id=deployment))
                session.flush()
                return RegisteredPlatform.of(row, list(dict.fromkeys(deployments)))
        except IntegrityError:
            raise ConfigError(
                f"a platform with issuer {issuer} and client id {client_id} is already "
                "registered: `mentorbridge lti platform remove` it first to replace it"
            ) from None

    def find(self, issuer: str, client_id: str | None) -> RegisteredPlatform | None:
        """The platform of ``issuer`` and ``client_id``; without a client id, the issuer's only
        registration (``None`` if it has several: the login must then name the client)."""
        with self.store.reading() as session:
            query = select(LtiPlatform).where(LtiPlatform.issuer == issuer)
            if client_id is not None:
                query = query.where(LtiPlatform.client_id == client_id)
            rows = session.scalars(query.limit(2)).all()
            if len(rows) != 1:
                return None
            return RegisteredPlatform.of(rows[0], self._deployments(session, rows[0].id))

    def get(self, platform_id: int) -> RegisteredPlatform | None:
        with self.store.reading() as session:
            row = session.get(LtiPlatform, platform_id)
            if row is None:
                return None
            return RegisteredPlatform.of(row, self._deployments(session, row.id))

    def all(self) -> list[RegisteredPlatform]:
        with self.store.reading() as session:
            rows = session.scalars(select(LtiPlatform).order_by(LtiPlatform.id)).all()
            return [RegisteredPlatform.of(r, self._deployments(session, r.id)) for r in rows]

    def add_deployment(self, platform_id: int, deployment_id: str) -> bool:
        """Record a deployment; ``False`` if it was known already."""
        try:
            with self.store.transaction() as session:
                session.add(LtiDeployment(platform_id=platform_id, deployment_id=deployment_id))
        except IntegrityError:
            return False
        return True

    def remove(self, platform_id: int) -> bool:
        """Forget a platform, its deployments, links and line items; ``False`` if unknown."""
        with self.store.transaction() as session:
            if session.get(LtiPlatform, platform_id) is None:
                return False
            session.execute(delete(LtiPlatform).where(LtiPlatform.id == platform_id))
        return True

    @staticmethod
    def _deployments(session: Any, platform_id: int) -> list[str]:
        return list(
            session.scalars(
                select(LtiDeployment.deployment_id)
                .where(LtiDeployment.platform_id == platform_id)
                .order_by(LtiDeployment.id)
            )
        )
