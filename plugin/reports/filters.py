"""The filters of the succession and impact reports, checked before any report query runs.

A filter naming something the store does not know (a worker, an organisation, a plan, a
programme, a competency) is refused naming the closest existing one, so a typo never silently
produces an empty report.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, fields
from datetime import date
from typing import Any

from mentorbridge.plugin.errors import ValidationError

__all__ = [
    "MIN_K",
    "ImpactFilters",
    "ReportFilterError",
    "SuccessionFilters",
    "closest",
    "unknown",
]

#: The smallest group an impact report may show; a caller may ask for more, never fewer.
MIN_K = 5


class ReportFilterError(ValidationError):
    """A report filter is malformed or names something unknown.

    Attributes:
        filter: the filter's name (``worker``, ``date_from`` ...).
    """

    def __init__(self, filter: str, message: str) -> None:
        super().__init__("the report filters", [(filter, message)])
        self.filter = filter


def closest(value: str, candidates: Iterable[str]) -> str | None:
    """The candidate most like ``value`` (read once, in chunks: it may be every worker id)."""
    best, best_score = None, 0.0
    chunk: list[str] = []

    def judge() -> None:
        nonlocal best, best_score
        for found in difflib.get_close_matches(value, chunk, n=1, cutoff=0.0):
            score = difflib.SequenceMatcher(None, value, found).ratio()
            if score > best_score:
                best, best_score = found, score
        chunk.clear()

    for candidate in candidates:
        if candidate:
            chunk.append(candidate)
        if len(chunk) >= 2000:
            judge()
    judge()
    return best


def unknown(filter: str, what: str, value: str, candidates: Iterable[str]) -> ReportFilterError:
    """The error for a filter naming an unknown ``what``, with the closest existing one."""
    near = closest(value, candidates)
    hint = f"; the closest is {near!r}" if near else f"; the store has no {what} yet"
    return ReportFilterError(filter, f"no {what} {value!r} is known{hint}")


def _date(name: str, value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ReportFilterError(
            name, f"{value!r} is not a date: give it as YYYY-MM-DD, such as 2026-10-01"
        ) from None


def _int(name: str, value: str) -> int:
    try:
        return int(value)
    except ValueError:
        raise ReportFilterError(name, f"{value!r} is not a whole number") from None


class _Filters:
    """Parsing from strings (a CLI option, a query parameter) and back."""

    __slots__ = ()

    @classmethod
    def from_strings(cls, values: Mapping[str, str | None]) -> Any:
        """Filters from ``name -> text`` (empty or ``None``: not set).

        Raises:
            ReportFilterError: an unknown filter name or a malformed value.
        """
        known = {f.name: f for f in fields(cls)}
        parsed: dict[str, Any] = {}
        for name, text in values.items():
            if name not in known:
                raise ReportFilterError(
                    name, f"is not a filter of this report; use one of {', '.join(known)}"
                )
            if text is None or text == "":
                continue
            kind = known[name].type
            if "date" in str(kind):
                parsed[name] = _date(name, text)
            elif str(kind) == "int":
                parsed[name] = _int(name, text)
            else:
                parsed[name] = text
        filters = cls(**parsed)
        filters.check()
        return filters

    def as_strings(self) -> dict[str, str]:
        """The filters that are set, as text (for the report header and the audit row)."""
        return {
            f.name: str(getattr(self, f.name))
            for f in fields(self)  # type: ignore[arg-type]
            if getattr(self, f.name) is not None
        }

    def check(self) -> None:
        """Check the values against each other.

        Raises:
            ReportFilterError: naming the filter and the fix.
        """
        date_from, date_to = self.date_from, self.date_to
        if date_from and date_to and date_from > date_to:
            raise ReportFilterError(
                "date_from", f"{date_from} is after date_to ({date_to}): swap them"
            )


@dataclass(frozen=True, slots=True)
class SuccessionFilters(_Filters):
    """What a succession report covers.

    Attributes:
        organisation: only plans whose incumbent (and, in the workers view, only workers)
            sits in this supervisory organisation or below it; any of its ids.
        programme: only people with a pair in this programme (by key); participation counts
            only its pairs and sessions.
        date_from, date_to: participation counts only sessions (and pairs) in this range;
            the trend window ends at ``date_to`` (else today).
        competency: only this competency (the mapping's key or its Workday id).
        plan: only this succession plan (by its position id).
        worker: only this worker (Workday Employee ID).
        periods: the trend window, in quarters.
        heatmap_people: the most people the heatmap shows.
    """

    organisation: str | None = None
    programme: str | None = None
    date_from: date | None = None
    date_to: date | None = None
    competency: str | None = None
    plan: str | None = None
    worker: str | None = None
    periods: int = 4
    heatmap_people: int = 30

    def check(self) -> None:
        _Filters.check(self)
        if not 1 <= self.periods <= 40:
            raise ReportFilterError("periods", f"{self.periods} is not between 1 and 40 quarters")
        if not 1 <= self.heatmap_people <= 200:
            raise ReportFilterError(
                "heatmap_people", f"{self.heatmap_people} is not between 1 and 200"
            )


@dataclass(frozen=True, slots=True)
class ImpactFilters(_Filters):
    """What a programme impact report covers.

    Attributes:
        organisation: only people in this supervisory organisation or below it.
        programme: only this programme (by key).
        date_from, date_to: only pairs started and sessions held in this range; retention is
            judged at ``date_to`` (else today).
        k: the smallest group shown (at least :data:`MIN_K`).
        retention_months: a junior mentor is retained when still employed this many months
            after their pair started.
    """

    organisation: str | None = None
    programme: str | None = None
    date_from: date | None = None
    date_to: date | None = None
    k: int = MIN_K
    retention_months: int = 12

    def check(self) -> None:
        _Filters.check(self)
        if self.k < MIN_K:
            raise ReportFilterError(
                "k", f"{self.k} is below {MIN_K}: groups smaller than {MIN_K} are never shown"
            )
        if not 1 <= self.retention_months <= 120:
            raise ReportFilterError(
                "retention_months", f"{self.retention_months} is not between 1 and 120"
            )
