"""Why a person has the evidence they have: the chain from a level back to the sessions, goals,
released ratings and xAPI statements it rests on.

:func:`explain` returns it JSON-ready (the CLI prints it with ``--json``; the JSON API serves
it); :func:`explain_text` says it in plain words. Goal wording and reflection text are never
part of it: goals appear by their key.
"""

from __future__ import annotations

import difflib
from collections import defaultdict
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from mentorbridge.plugin.errors import UnknownReferenceError
from mentorbridge.plugin.mapping.model import SIDES, Competency, Mapping
from mentorbridge.plugin.store.db import Store
from mentorbridge.plugin.store.evidence_models import CompetencyEvidence, EvidenceSource
from mentorbridge.plugin.store.hris_models import Competency as SyncedCompetency
from mentorbridge.plugin.store.models import MentoringSession, Outcome, Pair, Person

__all__ = ["explain", "explain_text", "find_competency"]


def find_competency(mapping: Mapping, name: str) -> Competency:
    """The mapping's competency called ``name``: its key, its display name or its Workday id
    (case-insensitive).

    Raises:
        UnknownReferenceError: none is; the message names the closest.
    """
    wanted = name.casefold()
    for competency in mapping.competencies.values():
        if wanted in {
            competency.key.casefold(),
            competency.name.casefold(),
            (competency.workday_id or "").casefold(),
        }:
            return competency
    known = [c.key for c in mapping.competencies.values()]
    raise UnknownReferenceError(
        f"competency {name!r} is not in the mapping ({mapping.source})"
        + _closest(name, known + [c.name for c in mapping.competencies.values()])
        + f"; known: {', '.join(known)}",
        kind="competency",
        key=name,
    )


def explain(store: Store, mapping: Mapping, worker_id: str, competency_key: str) -> dict[str, Any]:
    """A person's evidence on one competency, per side, with everything it rests on.

    Args:
        worker_id: the person's Workday worker id.
        competency_key: the mapping's key of the competency (or its name or Workday id).

    Returns:
        ``{"worker_id", "competency": {...}, "sides": [{"side", "status", "level",
        "level_name", "workday_level", "moodle_value", "moodle_name", "revision", "since",
        "statement_id", "counts": {"sessions", "goals", "rating"}, "sources": [{"kind",
        "key", "when", "weight", "rating", "statement_id", ...}]}]}`` with times as ISO 8601
        strings. ``status`` is ``current``, ``withdrawn`` or ``none`` (no evidence yet).

    Raises:
        UnknownReferenceError: no such worker, or no such competency in the mapping; the
            message names the closest match.
    """
    competency = find_competency(mapping, competency_key)
    with store.reading() as session:
        person = session.scalar(select(Person).where(Person.worker_id == worker_id))
        if person is None:
            raise UnknownReferenceError(
                f"worker {worker_id!r} is not known" + _closest_worker(session, worker_id),
                kind="worker",
                key=worker_id,
            )
        rows = {
            row.side: row
            for row in session.scalars(
                select(CompetencyEvidence).where(
                    CompetencyEvidence.person_id == person.id,
                    CompetencyEvidence.competency_key == competency.key,
                )
            )
        }
        sources = _sources(session, [row.id for row in rows.values()])
        workday_levels = _workday_levels(session, competency)
    sides = []
    for side in SIDES:
        if competency.side(side) is None:
            continue
        row = rows.get(side)
        if row is None:
            sides.append({"side": side, "status": "none", "level": None, "sources": []})
            continue
        moodle_name = (
            mapping.moodle_scale[row.moodle_value - 1]
            if row.moodle_value and row.moodle_value <= len(mapping.moodle_scale)
            else None
        )
        sides.append(
            {
                "side": side,
                "status": row.status,
                "level": row.level,
                "level_name": row.level_name,
                "workday_level": (
                    {
                        "level_id": row.workday_level_id,
                        "name": workday_levels.get(row.workday_level_id),
                    }
                    if row.workday_level_id
                    else None
                ),
                "moodle_value": row.moodle_value,
                "moodle_name": moodle_name,
                "revision": row.revision,
                "since": row.changed_at.isoformat(),
                "statement_id": row.statement_id,
                "counts": {"sessions": row.sessions, "goals": row.goals, "rating": row.rating},
                "sources": sources.get(row.id, []) if row.status == "current" else [],
            }
        )
    return {
        "worker_id": worker_id,
        "competency": {
            "key": competency.key,
            "name": competency.name,
            "category": competency.category,
            "workday_id": competency.workday_id,
            "moodle_idnumber": competency.moodle_idnumber,
            "xapi_iri": competency.xapi_iri,
        },
        "sides": sides,
    }


def explain_text(store: Store, mapping: Mapping, worker_id: str, competency_key: str) -> str:
    """:func:`explain` in plain words, one paragraph per side."""
    found = explain(store, mapping, worker_id, competency_key)
    name = found["competency"]["name"]
    paragraphs = [f"{name} ({found['competency']['key']}) for worker {worker_id}"]
    for side in found["sides"]:
        paragraphs.append(_side_text(name, side))
    return "\n\n".join(paragraphs) + "\n"


def _side_text(name: str, side: dict[str, Any]) -> str:
    head = f"{name}, {side['side']} side: "
    if side["status"] == "none":
        return head + "no evidence yet."
    since = _day(side["since"])
    if side["status"] == "withdrawn":
        return (
            head + f"withdrawn since {since} (it was {side['level_name']}): what it rested on "
            "is gone (a release taken back or a session cancelled)."
            + (f" Voiding statement {side['statement_id']}." if side["statement_id"] else "")
        )
    lines = [
        head
        + f"{side['level_name']} ({side['level']:g}) since {since} because "
        + _reasons(side["sources"])
        + "."
    ]
    counts = side["counts"]
    rating = "" if counts["rating"] is None else f", mean released rating {counts['rating']:.2f}"
    lines.append(
        f"  Weighted: {_plural(counts['sessions'], 'session')}, "
        f"{_plural(counts['goals'], 'goal')}{rating}"
        f" (revision {side['revision']})."
    )
    targets = []
    if side["workday_level"]:
        level = side["workday_level"]
        targets.append(f"Workday level {level['name'] or level['level_id']} ({level['level_id']})")
    if side["moodle_value"] is not None:
        targets.append(f"Moodle scale value {side['moodle_value']} ({side['moodle_name']})")
    if targets:
        lines.append("  In other systems: " + "; ".join(targets) + ".")
    if side["statement_id"]:
        lines.append(f"  Level statement: {side['statement_id']}.")
    for source in side["sources"]:
        lines.append(
            f"  - {source['kind']} {source['key']} on {_day(source['when'])}, weight "
            f"{source['weight']:g}, statement {source['statement_id'] or '(none)'}"
        )
    return "\n".join(lines)


def _reasons(sources: list[dict[str, Any]]) -> str:
    by_theme: dict[str, int] = defaultdict(int)
    parts = []
    for source in sources:
        if source["kind"] == "session":
            themes = source.get("themes") or ["(no theme)"]
            by_theme[", ".join(themes)] += 1
    for themes, count in by_theme.items():
        parts.append(f"{_plural(count, 'completed session')} on '{themes}'")
    goals = [s for s in sources if s["kind"] == "goal"]
    if goals:
        parts.append(_plural(len(goals), "achieved goal"))
    for source in sources:
        if source["kind"] == "outcome" and source.get("raw_rating") is not None:
            low, high = source["scale"]
            scale = f"of {high:g}" if low in (0, 1) else f"on a {low:g}-{high:g} scale"
            parts.append(
                f"a released rating of {source['raw_rating']:g} {scale} on {_day(source['when'])}"
            )
    if len(parts) > 1:
        return ", ".join(parts[:-1]) + " and " + parts[-1]
    return parts[0] if parts else "nothing"


def _sources(session: Session, evidence_ids: list[int]) -> dict[int, list[dict[str, Any]]]:
    found: dict[int, list[dict[str, Any]]] = defaultdict(list)
    if not evidence_ids:
        return found
    rows = list(
        session.scalars(
            select(EvidenceSource)
            .where(EvidenceSource.evidence_id.in_(evidence_ids))
            .order_by(EvidenceSource.occurred_at, EvidenceSource.kind, EvidenceSource.ref_key)
        )
    )
    keys = {kind: [r.ref_key for r in rows if r.kind == kind] for kind in ("session", "outcome")}
    themes = {
        key: list(own or pair_themes or [])
        for key, own, pair_themes in session.execute(
            select(MentoringSession.key, MentoringSession.themes, Pair.themes)
            .join(Pair, Pair.id == MentoringSession.pair_id)
            .where(MentoringSession.key.in_(keys["session"]))
        )
    }
    ratings = {
        key: (rating, low, high)
        for key, rating, low, high in session.execute(
            select(Outcome.key, Outcome.rating, Outcome.scale_min, Outcome.scale_max).where(
                Outcome.key.in_(keys["outcome"])
            )
        )
    }
    for row in rows:
        item: dict[str, Any] = {
            "kind": row.kind,
            "key": row.ref_key,
            "when": _iso(row.occurred_at),
            "weight": row.weight,
            "rating": row.rating,
            "statement_id": row.statement_id,
        }
        if row.kind == "session":
            item["themes"] = themes.get(row.ref_key, [])
        elif row.kind == "outcome" and row.ref_key in ratings:
            raw, low, high = ratings[row.ref_key]
            item["raw_rating"], item["scale"] = raw, [low, high]
        found[row.evidence_id].append(item)
    return found


def _workday_levels(session: Session, competency: Competency) -> dict[str, str]:
    if competency.workday_id is None:
        return {}
    levels = session.scalar(
        select(SyncedCompetency.levels).where(
            SyncedCompetency.competency_id == competency.workday_id
        )
    )
    return {str(level["level_id"]): level.get("name") for level in levels or []}


def _closest(name: str, candidates: list[str]) -> str:
    match = difflib.get_close_matches(name, candidates, n=1, cutoff=0.5)
    return f"; did you mean {match[0]!r}?" if match else ""


def _closest_worker(session: Session, worker_id: str) -> str:
    known = list(session.scalars(select(Person.worker_id)))
    return _closest(worker_id, known) or "; check the Workday worker id"


def _plural(count: float, noun: str) -> str:
    return f"{count:g} {noun}" + ("" if count == 1 else "s")


def _iso(moment: datetime) -> str:
    return moment.isoformat()


def _day(iso: str) -> str:
    return iso[:10]
