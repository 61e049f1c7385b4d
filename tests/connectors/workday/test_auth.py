"""Workday OAuth: refresh-token grant (body or Basic), rotation kept before use, expiry
handling, one renewal on a 401, and the JWT bearer grant."""

from __future__ import annotations

import base64
import json
from urllib.parse import parse_qs

import jwt
import pytest
import responses
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from mentorbridge.connectors.http import HttpClient
from mentorbridge.connectors.workday.auth import (
    BearerAuth,
    JWTGrant,
    RefreshTokenGrant,
    token_endpoint,
)
from mentorbridge.connectors.workday.client import WorkdayClient
from mentorbridge.plugin.errors import SourceAuthError, SourceRequestError
from mentorbridge.plugin.store.credentials import StoredRefreshToken
from mentorbridge.plugin.store.db import Store

HOST = "https://wd2-impl-services1.workday.com"
TOKEN_URL = f"{HOST}/ccx/oauth2/acme/token"
WORKERS_URL = f"{HOST}/ccx/api/staffing/v6/acme/workers"


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class MemoryTokens:
    """Refresh tokens in memory, noting when a rotated one was kept."""

    def __init__(self, token: str, log: list[str]) -> None:
        self.token, self.log = token, log

    def current(self) -> str:
        return self.token

    def replace(self, new: str) -> None:
        self.log.append(f"kept {new}")
        self.token = new


def http() -> HttpClient:
    return HttpClient(max_retries=2, sleep=lambda seconds: None)


def form(call: responses.Call) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(call.request.body).items()}


def token_answer(token: str, **extra: object) -> dict[str, object]:
    return {"access_token": token, "token_type": "Bearer", **extra}


@responses.activate
def test_refresh_grant_sends_the_client_in_the_body() -> None:
    responses.post(TOKEN_URL, json=token_answer("at-1", expires_in=3600))
    grant = RefreshTokenGrant(
        token_endpoint(http(), HOST, "acme"),
        client_id="mb",
        client_secret="s3cret",
        refresh_tokens=MemoryTokens("rt-1", []),
    )
    assert grant.fetch().value == "at-1"
    sent = form(responses.calls[0])
    assert sent == {
        "grant_type": "refresh_token",
        "refresh_token": "rt-1",
        "client_id": "mb",
        "client_secret": "s3cret",
    }
    assert "Authorization" not in responses.calls[0].request.headers


@responses.activate
def test_refresh_grant_can_send_the_client_as_basic_auth() -> None:
    responses.post(TOKEN_URL, json=token_answer("at-1", expires_in=3600))
    grant = RefreshTokenGrant(
        token_endpoint(http(), HOST, "acme"),
        client_id="mb",
        client_secret="s3cret",
        refresh_tokens=MemoryTokens("rt-1", []),
        client_auth="basic",
    )
    grant.fetch()
    request = responses.calls[0].request
    assert request.headers["Authorization"] == "Basic " + base64.b64encode(b"mb:s3cret").decode()
    assert form(responses.calls[0]) == {"grant_type": "refresh_token", "refresh_token": "rt-1"}


@responses.activate
def test_a_rotated_refresh_token_is_kept_before_the_access_token_is_used() -> None:
    log: list[str] = []
    responses.post(TOKEN_URL, json=token_answer("at-1", expires_in=3600, refresh_token="rt-2"))

    def workers(request: object) -> tuple[int, dict, str]:
        log.append("request sent")
        return 200, {}, json.dumps({"total": 0, "data": []})

    responses.add_callback(responses.GET, WORKERS_URL, callback=workers)
    tokens = MemoryTokens("rt-1", log)
    client = http()
    bearer = BearerAuth(
        RefreshTokenGrant(
            token_endpoint(client, HOST, "acme"),
            client_id="mb",
            client_secret="s",
            refresh_tokens=tokens,
        )
    )
    WorkdayClient(client, host=HOST, tenant="acme", bearer=bearer).rest_page(
        WORKERS_URL, limit=100, offset=0, what="workers page"
    )
    assert log == ["kept rt-2", "request sent"]
    assert tokens.current() == "rt-2"


def test_rotated_tokens_live_in_the_store_and_a_new_configured_one_starts_over(
    store: Store,
) -> None:
    stored = StoredRefreshToken(store, provider="workday", client_id="mb", configured="rt-1")
    assert stored.current() == "rt-1"
    stored.replace("rt-2")
    again = StoredRefreshToken(store, provider="workday", client_id="mb", configured="rt-1")
    assert again.current() == "rt-2"  # another process, the live token
    fresh = StoredRefreshToken(store, provider="workday", client_id="mb", configured="rt-9")
    assert fresh.current() == "rt-9"  # the admin configured a new one: it wins


@pytest.mark.parametrize("expires_in", [{"expires_in": -1}, {}])
@responses.activate
def test_a_token_without_a_lifetime_lasts_until_a_401_then_is_renewed_once(
    expires_in: dict,
) -> None:
    responses.post(TOKEN_URL, json=token_answer("at-1", **expires_in))
    responses.post(TOKEN_URL, json=token_answer("at-2", **expires_in))
    page = {"total": 0, "data": []}
    responses.get(WORKERS_URL, json=page)
    responses.get(WORKERS_URL, json={"error": "invalid_token"}, status=401)
    responses.get(WORKERS_URL, json=page)
    client = http()
    bearer = BearerAuth(
        RefreshTokenGrant(
            token_endpoint(client, HOST, "acme"),
            client_id="mb",
            client_secret="s",
            refresh_tokens=MemoryTokens("rt-1", []),
        )
    )
    workday = WorkdayClient(client, host=HOST, tenant="acme", bearer=bearer)
    for _ in range(2):
        workday.rest_page(WORKERS_URL, limit=100, offset=0, what="page")
    tokens = [
        c.request.headers.get("Authorization")
        for c in responses.calls
        if c.request.url.startswith(WORKERS_URL)
    ]
    assert tokens == ["Bearer at-1", "Bearer at-1", "Bearer at-2"]


@responses.activate
def test_a_second_401_after_renewal_is_an_auth_error() -> None:
    responses.post(TOKEN_URL, json=token_answer("at-1", expires_in=3600))
    responses.get(WORKERS_URL, json={"error": "invalid_token"}, status=401)
    client = http()
    bearer = BearerAuth(
        RefreshTokenGrant(
            token_endpoint(client, HOST, "acme"),
            client_id="mb",
            client_secret="s",
            refresh_tokens=MemoryTokens("rt-1", []),
        )
    )
    with pytest.raises(SourceAuthError, match="refused the credentials"):
        WorkdayClient(client, host=HOST, tenant="acme", bearer=bearer).rest_page(
            WORKERS_URL, limit=100, offset=0, what="workers page"
        )
    assert len([c for c in responses.calls if c.request.url.startswith(WORKERS_URL)]) == 2


@responses.activate
def test_tokens_are_renewed_a_minute_before_they_expire() -> None:
    responses.post(TOKEN_URL, json=token_answer("at-1", expires_in=3600))
    responses.post(TOKEN_URL, json=token_answer("at-2", expires_in=3600))
    clock = Clock()
    bearer = BearerAuth(
        RefreshTokenGrant(
            token_endpoint(http(), HOST, "acme"),
            client_id="mb",
            client_secret="s",
            refresh_tokens=MemoryTokens("rt-1", []),
            clock=clock,
        ),
        clock=clock,
    )
    assert bearer.token() == "at-1"
    clock.now += 3600 - 61
    assert bearer.token() == "at-1"
    clock.now += 2
    assert bearer.token() == "at-2"


@pytest.mark.parametrize(
    ("status", "body", "error", "message"),
    [
        (
            400,
            {"error": "invalid_grant", "error_description": "Invalid refresh token"},
            SourceAuthError,
            "Invalid refresh token",
        ),
        (401, {"error": "invalid_client"}, SourceAuthError, "check workday.client_id"),
        (404, {}, SourceRequestError, "check workday.host and workday.tenant"),
    ],
)
@responses.activate
def test_token_endpoint_refusals_explain_themselves(
    status: int, body: dict, error: type, message: str
) -> None:
    responses.post(TOKEN_URL, json=body, status=status)
    grant = RefreshTokenGrant(
        token_endpoint(http(), HOST, "acme"),
        client_id="mb",
        client_secret="s",
        refresh_tokens=MemoryTokens("rt-1", []),
    )
    with pytest.raises(error, match=message):
        grant.fetch()
    assert len(responses.calls) == 1  # a refusal is not retried


@responses.activate
def test_jwt_grant_signs_an_rs256_assertion_for_the_integration_user() -> None:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    responses.post(TOKEN_URL, json=token_answer("at-jwt", expires_in=3600))
    grant = JWTGrant(
        token_endpoint(http(), HOST, "acme"),
        client_id="mb",
        subject="ISU_Mentoring",
        private_key_pem=pem,
        wall_clock=lambda: 1_700_000_000,
    )
    assert grant.fetch().value == "at-jwt"
    sent = form(responses.calls[0])
    assert sent["grant_type"] == "urn:ietf:params:oauth:grant-type:jwt-bearer"
    claims = jwt.decode(
        sent["assertion"],
        key.public_key(),
        algorithms=["RS256"],
        audience="wd",
        options={"verify_exp": False},
    )
    assert claims == {
        "iss": "mb",
        "sub": "ISU_Mentoring",
        "aud": "wd",
        "iat": 1_700_000_000,
        "exp": 1_700_000_300,
    }
