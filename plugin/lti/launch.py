"""The OIDC login and the launch, checked as LTI 1.3 and OpenID Connect require.

1. **Login** (third-party initiated): the platform names itself (``iss``, ``client_id``), the
   user (``login_hint``) and where to go (``target_link_uri``, which must be this tool). The
   tool keeps a one-time ``state`` and ``nonce`` in the store and a browser binding (a cookie,
   or the platform's storage when third-party cookies are blocked), and sends the browser to
   the platform's authorisation endpoint.
2. **Launch**: the platform form-POSTs a signed ``id_token`` and the ``state``. The token is
   verified against the platform's key set (refetched once for an unknown ``kid``), its
   ``iss``, ``aud`` (and ``azp`` when there are several audiences), ``exp`` and ``iat`` (with
   a leeway); the state must be known, unexpired, unused and bound to this browser, the nonce
   the one issued with it; the deployment must be registered. The state is consumed by the
   first launch that presents it, so a replayed launch is refused.

Nothing is written for a refused launch except that its state is spent.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from urllib.parse import urlencode, urlsplit

import jwt
from sqlalchemy import update

from mentorbridge.plugin.lti.claims import Launch, read_launch
from mentorbridge.plugin.lti.errors import LaunchRefused
from mentorbridge.plugin.lti.platform_keys import PlatformKeySets
from mentorbridge.plugin.lti.platforms import Platforms, RegisteredPlatform
from mentorbridge.plugin.store.base import utc_now
from mentorbridge.plugin.store.db import Store
from mentorbridge.plugin.store.lti_models import LtiLaunchState

__all__ = ["Launcher", "LoginRedirect", "VerifiedLaunch"]


@dataclass(frozen=True)
class LoginRedirect:
    """Where the login sends the browser, and how it binds the browser to the state."""

    url: str
    state: str
    #: The value the browser must present at the launch (set as a cookie, or kept in the
    #: platform's storage under ``storage_key``).
    binding: str
    platform: RegisteredPlatform
    storage_target: str | None

    @property
    def cookie_name(self) -> str:
        return cookie_name(self.state)

    @property
    def storage_key(self) -> str:
        return f"mentorbridge_state_{self.state}"

    @property
    def platform_origin(self) -> str:
        parts = urlsplit(self.platform.auth_login_url)
        return f"{parts.scheme}://{parts.netloc}"


@dataclass(frozen=True)
class VerifiedLaunch:
    platform: RegisteredPlatform
    launch: Launch
    claims: dict[str, Any]


def cookie_name(state: str) -> str:
    """One cookie per login, so launches in several frames at once do not overwrite each
    other's binding."""
    return f"lti_state_{hashlib.sha256(state.encode()).hexdigest()[:16]}"


class Launcher:
    """Logins and launches for the tool at ``launch_url``."""

    def __init__(
        self,
        store: Store,
        *,
        launch_url: str,
        key_sets: PlatformKeySets,
        leeway: int = 60,
        ttl: int = 600,
        now: Any = utc_now,
    ) -> None:
        self.store = store
        self.platforms = Platforms(store)
        self.launch_url = launch_url
        self.key_sets = key_sets
        self.leeway, self.ttl = leeway, ttl
        self.now = now
        origin = urlsplit(launch_url)
        self._origin = (origin.scheme, origin.netloc)

    # -- 1. login ------------------------------------------------------------------------

    def login(self, params: dict[str, str]) -> LoginRedirect:
        """Begin a launch from the platform's login initiation request.

        Raises:
            LaunchRefused: a parameter is missing, the platform is not registered, or the
                target is not this tool.
        """
        for name in ("iss", "login_hint", "target_link_uri"):
            if not params.get(name):
                raise LaunchRefused("invalid_login", f"the login initiation request lacks {name}")
        platform = self.platforms.find(params["iss"], params.get("client_id") or None)
        if platform is None:
            raise LaunchRefused(
                "unknown_platform",
                f"no platform with issuer {params['iss']}"
                + (f" and client id {params['client_id']}" if params.get("client_id") else "")
                + " is registered: register the tool in the LMS with `mentorbridge lti "
                "registration-url`, or add the platform with `mentorbridge lti platform add`",
                status=401,
            )
        target = urlsplit(params["target_link_uri"])
        if (target.scheme, target.netloc) != self._origin:
            raise LaunchRefused(
                "invalid_login",
                f"the target {params['target_link_uri']} is not this tool "
                f"({self._origin[0]}://{self._origin[1]}): check web.public_url",
            )
        state, nonce, binding = (secrets.token_urlsafe(32) for _ in range(3))
        now = self.now()
        with self.store.transaction() as session:
            session.add(
                LtiLaunchState(
                    state=state,
                    nonce=nonce,
                    binding_hash=_hash(binding),
                    platform_id=platform.id,
                    target_link_uri=params["target_link_uri"],
                    storage_target=params.get("lti_storage_target") or None,
                    created_at=now,
                    expires_at=now + timedelta(seconds=self.ttl),
                )
            )
        query = {
            "scope": "openid",
            "response_type": "id_token",
            "response_mode": "form_post",
            "prompt": "none",
            "client_id": platform.client_id,
            "redirect_uri": self.launch_url,
            "login_hint": params["login_hint"],
            "state": state,
            "nonce": nonce,
        }
        if params.get("lti_message_hint"):
            query["lti_message_hint"] = params["lti_message_hint"]
        separator = "&" if urlsplit(platform.auth_login_url).query else "?"
        return LoginRedirect(
            url=platform.auth_login_url + separator + urlencode(query),
            state=state,
            binding=binding,
            platform=platform,
            storage_target=params.get("lti_storage_target") or None,
        )

    # -- 2. launch -----------------------------------------------------------------------

    def storage_target(self, state: str) -> str | None:
        """The platform storage frame the login of ``state`` kept its binding in, if any."""
        with self.store.reading() as session:
            row = session.get(LtiLaunchState, state)
            return row.storage_target if row is not None and row.used_at is None else None

    def launch(self, id_token: str, state: str, binding: str | None) -> VerifiedLaunch:
        """Verify a launch and spend its state.

        Args:
            binding: what the browser presented: its state cookie, or the value read back from
                the platform's storage; ``None`` if it has neither.

        Raises:
            LaunchRefused: naming the first check that failed.
        """
        if not id_token or not state:
            raise LaunchRefused("invalid_launch", "the launch lacks its id_token or state")
        platform, claims = self.verify(id_token)
        self._spend_state(state, platform, claims.get("nonce"), binding)
        deployment = claims.get("https://purl.imsglobal.org/spec/lti/claim/deployment_id")
        if not isinstance(deployment, str) or not deployment:
            raise LaunchRefused(
                "missing_claim",
                "the claim https://purl.imsglobal.org/spec/lti/claim/deployment_id is missing",
            )
        if deployment not in platform.deployments:
            raise LaunchRefused(
                "unknown_deployment",
                f"deployment {deployment!r} of {platform.issuer} is not registered: add it with "
                f"`mentorbridge lti platform add-deployment {platform.id} {deployment}`",
                status=401,
            )
        launch = read_launch(claims, client_id=platform.client_id)
        return VerifiedLaunch(platform=platform, launch=launch, claims=claims)

    def verify(self, id_token: str) -> tuple[RegisteredPlatform, dict[str, Any]]:
        """The platform that signed ``id_token`` and its verified claims."""
        try:
            header = jwt.get_unverified_header(id_token)
            unverified = jwt.decode(id_token, options={"verify_signature": False})
        except jwt.PyJWTError:
            raise LaunchRefused("bad_token", "the id_token is not a JWT") from None
        issuer = unverified.get("iss")
        audiences = unverified.get("aud")
        audiences = [audiences] if isinstance(audiences, str) else list(audiences or [])
        client_id = unverified.get("azp") or (audiences[0] if len(audiences) == 1 else None)
        platform = None
        if isinstance(issuer, str) and isinstance(client_id, str):
            platform = self.platforms.find(issuer, client_id)
        if platform is None:
            raise LaunchRefused(
                "unknown_platform",
                f"the id_token's issuer {issuer!r} and audience {audiences} match no registered "
                "platform (several audiences need azp naming this tool's client id)",
                status=401,
            )
        if header.get("alg") != "RS256":
            raise LaunchRefused("bad_signature", "the id_token must be signed with RS256")
        key = self.key_sets.key(platform.jwks_url, header.get("kid"))
        try:
            claims = jwt.decode(
                id_token,
                key,
                algorithms=["RS256"],
                audience=platform.client_id,
                issuer=platform.issuer,
                leeway=self.leeway,
                options={"require": ["iss", "aud", "exp", "iat", "nonce"]},
            )
        except jwt.ExpiredSignatureError:
            raise LaunchRefused(
                "expired", "the id_token has expired: launch again from the LMS", status=401
            ) from None
        except jwt.ImmatureSignatureError:
            raise LaunchRefused(
                "bad_token", "the id_token was issued in the future: check the clocks", status=401
            ) from None
        except jwt.InvalidSignatureError:
            raise LaunchRefused(
                "bad_signature", "the id_token's signature does not verify", status=401
            ) from None
        except jwt.MissingRequiredClaimError as err:
            raise LaunchRefused("missing_claim", f"the claim {err.claim} is missing") from None
        except jwt.PyJWTError as err:
            raise LaunchRefused(
                "bad_token", f"the id_token is not valid: {err}", status=401
            ) from None
        if len(audiences) > 1 and claims.get("azp") != platform.client_id:
            raise LaunchRefused(
                "bad_token",
                "the id_token has several audiences, so azp must name this tool's client id",
                status=401,
            )
        if "azp" in claims and claims["azp"] != platform.client_id:
            raise LaunchRefused(
                "bad_token", "the id_token's azp is not this tool's client id", status=401
            )
        return platform, claims

    def _spend_state(
        self, state: str, platform: RegisteredPlatform, nonce: Any, binding: str | None
    ) -> None:
        now = self.now()
        with self.store.transaction() as session:
            row = session.get(LtiLaunchState, state)
            if row is None or row.platform_id != platform.id:
                raise LaunchRefused(
                    "invalid_state",
                    "the launch's state was not issued by this tool's login for this platform",
                    status=401,
                )
            if row.used_at is not None:
                raise LaunchRefused(
                    "replayed",
                    "this launch was used already: launch again from the LMS",
                    status=401,
                )
            if row.expires_at < now:
                raise LaunchRefused(
                    "expired", "the login took too long: launch again from the LMS", status=401
                )
            if not isinstance(nonce, str) or not hmac.compare_digest(nonce, row.nonce):
                raise LaunchRefused(
                    "replayed",
                    "the id_token's nonce is not the one issued with this state",
                    status=401,
                )
            if binding is None or not hmac.compare_digest(_hash(binding), row.binding_hash):
                raise LaunchRefused(
                    "no_browser_binding",
                    "this browser did not begin the launch (its state cookie is missing): "
                    "the browser may block third-party cookies; open the tool in a new window",
                    status=401,
                )
            spent = session.execute(
                update(LtiLaunchState)
                .where(LtiLaunchState.state == state, LtiLaunchState.used_at.is_(None))
                .values(used_at=now)
            )
            if spent.rowcount != 1:  # another request spent it meanwhile
                raise LaunchRefused("replayed", "this launch was used already", status=401)


def _hash(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()
