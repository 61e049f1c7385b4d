"""The privacy tables: the erasure audit trail and the markers that keep erased data out.

An :class:`Erasure` says who erased a person, when, and how much (counts only, never the
erased content). An :class:`ErasureMarker` keeps an erased worker's identifiers only as keyed
hashes, so an HRIS sync can recognise the worker without the store holding their Employee ID.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from mentorbridge.plugin.store.base import Base, UTCDateTime, utc_now

__all__ = ["Erasure", "ErasureMarker"]


class Erasure(Base):
    """One ``mentorbridge person erase``: who, when, and what it removed (counts)."""

    __tablename__ = "privacy_erasure"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    #: The person row kept for the other participants' records; it no longer names anyone.
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"), index=True)
    erased_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)
    erased_by: Mapped[str] = mapped_column(String(200))
    void_statements: Mapped[bool] = mapped_column(Boolean)
    counts: Mapped[dict[str, int]] = mapped_column(JSON)


class ErasureMarker(Base):
    """An erased worker, by keyed hashes of their Employee ID and Workday ID: an HRIS sync
    skips them unless they are rehired after ``erased_at``."""

    __tablename__ = "privacy_erasure_marker"

    employee_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    workday_hash: Mapped[str | None] = mapped_column(String(64), index=True)
    erased_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)
