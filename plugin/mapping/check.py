"""Checking a valid mapping against what was synced from Workday.

A mapping names Workday competencies (``workday_id``, rated ``outcomes``), proficiency scales
and their levels. Any of them can be misspelt, retired or renamed in the tenant; the mapper
would then quietly find nothing. :func:`check_mapping` lists every such name with the closest
synced one, and scale maps that do not fit the synced scale.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterator, Sequence
from collections.abc import Mapping as MappingType
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from mentorbridge.plugin.mapping.lines import key_lines, line_of, show_path
from mentorbridge.plugin.mapping.model import SIDES, Mapping, ScaleMap
from mentorbridge.plugin.store.hris_models import Competency

__all__ = ["CheckReport", "Finding", "SyncedCompetency", "check_mapping", "synced_competencies"]


@dataclass(frozen=True, slots=True)
class SyncedCompetency:
    """A competency of the HRIS mirror, as much as the check needs."""

    competency_id: str
    name: str
    scale_id: str | None
    levels: tuple[MappingType[str, Any], ...]
    inactive: bool


@dataclass(frozen=True, slots=True)
class Finding:
    """One name in the mapping that does not match what was synced.

    Attributes:
        key: the key path in the mapping (``competencies.digital-fluency.workday_id``).
        line: its line in the file, when the text was given and shows it.
        message: what is wrong and what to do.
        value: the name as the mapping spells it.
        closest: the closest synced name, if one is close.
    """

    key: str
    line: int | None
    message: str
    value: str | None = None
    closest: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "line": self.line,
            "message": self.message,
            "value": self.value,
            "closest": self.closest,
        }


@dataclass(frozen=True, slots=True)
class CheckReport:
    """The outcome of :func:`check_mapping`.

    Attributes:
        source: the mapping file.
        competencies: how many competencies the mapping has.
        synced: how many Workday competencies the store has (0: nothing could be checked).
        findings: every mismatch, in file order.
    """

    source: str
    competencies: int
    synced: int
    findings: tuple[Finding, ...]

    @property
    def ok(self) -> bool:
        return self.synced > 0 and not self.findings


def synced_competencies(session: Session) -> list[SyncedCompetency]:
    """Every competency (and its scale) the HRIS mirror holds."""
    rows = session.execute(
        select(
            Competency.competency_id,
            Competency.name,
            Competency.scale_id,
            Competency.levels,
            Competency.inactive,
        ).order_by(Competency.competency_id)
    )
    return [
        SyncedCompetency(cid, name, scale_id, tuple(levels or ()), inactive)
        for cid, name, scale_id, levels, inactive in rows
    ]


def check_mapping(
    mapping: Mapping, synced: Sequence[SyncedCompetency], *, text: str | None = None
) -> CheckReport:
    """Compare ``mapping`` with the ``synced`` competencies and scales.

    Args:
        mapping: a valid mapping (from :func:`~plugin.mapping.file.parse_mapping`).
        synced: what the store holds (:func:`synced_competencies`); empty: nothing is checked.
        text: the mapping file's text, to give each finding its line.
    """
    lines = key_lines(text) if text is not None else {}
    found: list[Finding] = []
    if synced:
        for path, message, value, closest in _mismatches(mapping, synced):
            found.append(Finding(show_path(path), line_of(lines, path), message, value, closest))
    found.sort(key=lambda f: f.line or 0)  # stable: without lines, in mapping order
    return CheckReport(mapping.source, len(mapping.competencies), len(synced), tuple(found))


_Mismatch = tuple[tuple[str | int, ...], str, str | None, str | None]


def _mismatches(mapping: Mapping, synced: Sequence[SyncedCompetency]) -> Iterator[_Mismatch]:
    by_id = {c.competency_id: c for c in synced}
    for key, competency in mapping.competencies.items():
        if competency.workday_id is not None:
            path = ("competencies", key, "workday_id")
            yield from _competency_id(competency.workday_id, path, by_id)
        for side in SIDES:
            rule = competency.side(side)
            for outcome in rule.outcomes if rule else ():
                if not outcome.startswith(("http://", "https://")):
                    path = ("competencies", key, side, "outcomes", outcome)
                    yield from _competency_id(outcome, path, by_id, rated=True)
    scales: dict[str, tuple[MappingType[str, Any], ...]] = {}
    for competency in synced:
        if competency.scale_id is not None:
            scales.setdefault(competency.scale_id, competency.levels)
    for scale_id, scale in mapping.workday_scales.items():
        path = ("workday", "scales", scale_id)
        if scale_id not in scales:
            closest = _closest(scale_id, scales)
            hint = f"did you mean {closest}?" if closest else _listing("synced scales", scales)
            yield (path, f"no synced competency uses scale {scale_id!r}: {hint}", scale_id, closest)
            continue
        yield from _scale_fit(scale, scales[scale_id], (*path, "thresholds"))


def _competency_id(
    competency_id: str,
    path: tuple[str | int, ...],
    by_id: dict[str, SyncedCompetency],
    *,
    rated: bool = False,
) -> Iterator[_Mismatch]:
    found = by_id.get(competency_id)
    if found is None:
        closest = _closest(competency_id, by_id)
        what = "ratings naming it would never count: " if rated else ""
        hint = (
            f"did you mean {closest} ({by_id[closest].name})?"
            if closest
            else _listing("synced competencies", by_id)
        )
        message = f"no Workday competency {competency_id!r} was synced; {what}{hint}"
        yield (path, message, competency_id, closest)
    elif found.inactive:
        yield (
            path,
            f"{competency_id} ({found.name}) is inactive in Workday: map an active competency "
            "or leave it out",
            competency_id,
            None,
        )


def _scale_fit(
    scale: ScaleMap, levels: Sequence[MappingType[str, Any]], path: tuple[str | int, ...]
) -> Iterator[_Mismatch]:
    ranks = {level["level_id"]: level["rank"] for level in levels}
    if len(scale.thresholds) > len(ranks):
        yield (
            path,
            f"{len(scale.thresholds)} thresholds for a scale of {len(ranks)} levels "
            f"({', '.join(ranks)}): one threshold per level",
            None,
            None,
        )
    previous: tuple[str, int] | None = None
    for index, (_, level_id) in enumerate(scale.thresholds):
        if level_id not in ranks:
            closest = _closest(level_id, ranks)
            hint = f"did you mean {closest}?" if closest else f"its levels are {', '.join(ranks)}"
            yield (
                (*path, index, "level_id"),
                f"the synced scale has no level {level_id!r}: {hint}",
                level_id,
                closest,
            )
            continue
        if previous is not None and ranks[level_id] <= previous[1]:
            yield (
                (*path, index, "level_id"),
                f"{level_id} (rank {ranks[level_id]}) is not above {previous[0]} (rank "
                f"{previous[1]}): a higher min_level must reach a higher level",
                level_id,
                None,
            )
        previous = (level_id, ranks[level_id])
    named = {level_id for _, level_id in scale.thresholds}
    unmapped = [level_id for level_id in ranks if level_id not in named]
    if unmapped and len(scale.thresholds) <= len(ranks):
        yield (
            path,
            f"no threshold for {', '.join(unmapped)}: evidence never reaches it and a job "
            "profile requiring it has no normalised level; add a threshold for each level",
            None,
            None,
        )


def _closest(name: str, known: MappingType[str, Any]) -> str | None:
    close = difflib.get_close_matches(name, list(known), n=1, cutoff=0.6)
    if not close:  # case or separators only: SUCC_DIGI, succ-digi
        folded = {k.casefold().replace("_", "-"): k for k in known}
        return folded.get(name.casefold().replace("_", "-"))
    return close[0]


def _listing(what: str, known: MappingType[str, Any]) -> str:
    names = sorted(known)
    shown = ", ".join(names[:12]) + (f" and {len(names) - 12} more" if len(names) > 12 else "")
    return f"none is close; the {what} are {shown}"
