"""API tokens: made once and kept only as a hash, checked in constant time, revoked at once;
the audit keeps every generation and refusal."""

from __future__ import annotations

import pytest
from sqlalchemy import select, text

from mentorbridge.plugin.errors import UnknownReferenceError
from mentorbridge.plugin.reports.access import (
    Caller,
    TokenRefused,
    audit_log,
    authenticate,
    create_token,
    list_tokens,
    looks_like_token,
    record,
    revoke_token,
)
from mentorbridge.plugin.store import Base
from mentorbridge.plugin.store.access_models import ApiToken
from mentorbridge.plugin.store.db import Store


def every_stored_value(store: Store) -> list[str]:
    """Every cell of every table, as text."""
    with store.reading() as session:
        return [
            str(value)
            for table in Base.metadata.sorted_tables
            for row in session.execute(text(f"SELECT * FROM {table.name}"))
            for value in row
        ]


def test_tokens_are_recognisable_and_their_secret_is_nowhere_in_the_store(store: Store) -> None:
    info, token = create_token(store, "talent", "people analytics")
    assert looks_like_token(token) and token.startswith(f"mb_{info.prefix}_")
    secret = token.split("_", 2)[2]
    cells = every_stored_value(store)
    assert info.prefix in cells
    assert not [cell for cell in cells if secret in cell or token in cell]
    with store.reading() as session:
        row = session.scalars(select(ApiToken)).one()
    assert len(row.secret_sha256) == 64 and row.secret_sha256 not in token


def test_tokens_authenticate_with_their_role_and_label(store: Store) -> None:
    talent, talent_token = create_token(store, "talent", "people analytics")
    admin, admin_token = create_token(store, "admin", "hr ops")
    assert authenticate(store, talent_token) == Caller(
        f"token {talent.id} (people analytics)", "talent", talent.id
    )
    assert authenticate(store, admin_token).role == "admin"
    assert talent.prefix != admin.prefix


@pytest.mark.parametrize(
    "change",
    [
        lambda t: t[:-1] + ("A" if t[-1] != "A" else "B"),  # the secret, one character off
        lambda t: "mb_00000000_" + t.split("_", 2)[2],  # another prefix
        lambda t: t.upper(),
        lambda t: "admin-token-0123456789abcdef",
        lambda t: "",
    ],
    ids=["wrong secret", "unknown prefix", "mangled", "not ours", "empty"],
)
def test_tokens_a_wrong_token_is_refused(store: Store, change) -> None:
    _, token = create_token(store, "admin", "hr ops")
    with pytest.raises(TokenRefused) as refused:
        authenticate(store, change(token))
    assert refused.value.caller.role is None and refused.value.caller.token_id is None


def test_tokens_a_revoked_token_is_refused_and_named_in_the_audit(store: Store) -> None:
    info, token = create_token(store, "talent", "people analytics")
    assert revoke_token(store, info.id).revoked_at is not None
    with pytest.raises(TokenRefused, match="revoked") as refused:
        authenticate(store, token)
    assert refused.value.caller.token_id == info.id and refused.value.caller.role is None
    record(store, refused.value.caller, "succession", filters={}, outcome="refused")
    assert list_tokens(store)[0].last_used_at is None  # refused is not used


def test_tokens_revoke_by_prefix_and_twice_keeps_the_first_time(store: Store) -> None:
    info, _ = create_token(store, "talent", "bi")
    first = revoke_token(store, info.prefix).revoked_at
    assert revoke_token(store, info.id).revoked_at == first
    with pytest.raises(UnknownReferenceError, match="there is no token 99"):
        revoke_token(store, 99)


@pytest.mark.parametrize(
    ("role", "label"), [("learner", "x"), ("talent", "  "), ("admin", "x" * 101)]
)
def test_tokens_need_a_known_role_and_a_label(store: Store, role: str, label: str) -> None:
    with pytest.raises(ValueError):
        create_token(store, role, label)
    assert list_tokens(store) == []


def test_audit_rows_keep_who_what_filters_format_and_rows_newest_first(store: Store) -> None:
    info, token = create_token(store, "talent", "people analytics")
    caller = authenticate(store, token)
    record(
        store,
        caller,
        "succession",
        filters={"organization": "ORG-1", "from": "2026-01-01"},
        outcome="ok",
        format="csv",
        row_count=42,
    )
    record(store, Caller("anonymous"), "impact", filters={}, outcome="refused", detail="401")
    newest, oldest = audit_log(store)
    assert (newest.who, newest.report, newest.outcome, newest.detail) == (
        "anonymous",
        "impact",
        "refused",
        "401",
    )
    assert oldest.as_json() | {"id": 0, "at": ""} == {
        "id": 0,
        "at": "",
        "who": f"token {info.id} (people analytics)",
        "report": "succession",
        "filters": {"organization": "ORG-1", "from": "2026-01-01"},
        "format": "csv",
        "row_count": 42,
        "outcome": "ok",
        "detail": None,
    }
    assert list_tokens(store)[0].last_used_at == oldest.at
    assert [r.report for r in audit_log(store, limit=1)] == ["impact"]
