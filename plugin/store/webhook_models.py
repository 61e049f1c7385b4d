"""What the webhook service keeps: the events it accepted (for idempotency) and its secrets."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, CheckConstraint, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from mentorbridge.plugin.store.base import Base, UTCDateTime, utc_now

__all__ = ["WebhookEvent", "WebhookSecret"]


class WebhookEvent(Base):
    """An accepted event, by its id: a redelivery gets the original answer, a different
    body under the same id is refused. ``payload`` is kept only while the event is held
    (it names a worker the HRIS mirror does not know yet). A held event that fails for another
    reason once its worker is known is kept as ``rejected``, with the reason in ``result``."""

    __tablename__ = "webhook_event"
    __table_args__ = (
        CheckConstraint("status in ('processed', 'held', 'rejected')", name="status"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    event_id: Mapped[str] = mapped_column(String(128), unique=True)
    type: Mapped[str] = mapped_column(String(40), index=True)
    source: Mapped[str] = mapped_column(String(64))
    body_sha256: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16), index=True)
    result: Mapped[dict[str, Any]] = mapped_column(JSON)
    payload: Mapped[dict[str, Any] | None] = mapped_column(JSON(none_as_null=True))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)
    processed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class WebhookSecret(Base):
    """A signing secret; several are active at once while a sender switches to a new one.
    ``secret`` is stored encrypted (:mod:`plugin.keyring`)."""

    __tablename__ = "webhook_secret"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    secret: Mapped[str] = mapped_column(Text, info={"secret": "webhook signing secret"})
    label: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)
    retired_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
