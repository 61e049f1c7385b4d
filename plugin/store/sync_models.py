"""Bookkeeping for connectors and jobs: sync runs, bookmarks, rotated credentials, job leases."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, CheckConstraint, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from mentorbridge.plugin.store.base import Base, UTCDateTime, utc_now

__all__ = ["JobLease", "OAuthCredential", "SyncBookmark", "SyncRun"]


class SyncRun(Base):
    """One run of a connector: when, how, what it did (``counts`` per stream) and what it
    skipped or failed on (``errors``)."""

    __tablename__ = "sync_run"
    __table_args__ = (
        CheckConstraint("status in ('running', 'succeeded', 'failed')", name="status"),
        CheckConstraint("mode in ('full', 'incremental')", name="mode"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    connector: Mapped[str] = mapped_column(String(64), index=True)
    mode: Mapped[str] = mapped_column(String(16))
    dry_run: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(String(16), default="running")
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    counts: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    errors: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    message: Mapped[str | None] = mapped_column(Text)
    #: Workers whose organisation or manager, and organisations whose superior, the mirror
    #: did not know when the run ended (:func:`plugin.store.hris_orgs.consistency`).
    consistency: Mapped[dict[str, Any] | None] = mapped_column(JSON(none_as_null=True))


class SyncBookmark(Base):
    """How far a stream has been synced; committed with the records it covers."""

    __tablename__ = "sync_bookmark"

    connector: Mapped[str] = mapped_column(String(64), primary_key=True)
    stream: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(String(64))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)


class OAuthCredential(Base):
    """A refresh token the provider rotated, kept so the next run uses the live one.

    ``seed_fingerprint`` is the SHA-256 of the refresh token configured when this one was
    obtained: an admin who configures a new token starts over from it. ``refresh_token`` is
    stored encrypted (:mod:`plugin.keyring`).
    """

    __tablename__ = "oauth_credential"

    provider: Mapped[str] = mapped_column(String(64), primary_key=True)
    client_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    refresh_token: Mapped[str] = mapped_column(Text, info={"secret": "stored refresh token"})
    seed_fingerprint: Mapped[str] = mapped_column(String(64))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)


class JobLease(Base):
    """A job held by one process until ``expires_at``, so two instances never run it at once."""

    __tablename__ = "job_lease"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    owner: Mapped[str] = mapped_column(String(128))
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
