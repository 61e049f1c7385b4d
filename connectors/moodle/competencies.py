"""The competency framework: one framework (found by its idnumber) on the configured scale,
holding the mapping's competencies (found by their idnumber, never duplicated, renamed when
the mapping renames them), each linked to the programme course.

What was written is remembered with a digest: a re-run with the same mapping and settings
makes no call at all; ``--full`` reads everything back from Moodle and repairs what differs.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from mentorbridge.connectors.moodle.client import MoodleClient
from mentorbridge.connectors.moodle.report import PushReport
from mentorbridge.connectors.moodle.settings import MoodleSettings
from mentorbridge.plugin.errors import ConfigError
from mentorbridge.plugin.mapping.model import Competency, Mapping
from mentorbridge.plugin.store.base import utc_now
from mentorbridge.plugin.store.db import Store
from mentorbridge.plugin.store.lms_models import MoodleObject

__all__ = ["Framework", "scale_configuration", "sync_framework"]

PHASE = "framework"
SYSTEM_CONTEXT_ID = 1  # the system context's id on every Moodle site
_EPSILON = 1e-9


@dataclass(frozen=True, slots=True)
class Framework:
    """The framework's Moodle id and each mapping competency's Moodle id (by mapping key)."""

    moodle_id: int | None
    competencies: dict[str, int]


def scale_configuration(mapping: Mapping, scale_id: int) -> str:
    """Moodle's ``scaleconfiguration`` JSON string: item 1 is the default, and items reached
    from ``mapping.proficient_level`` on are proficient."""
    items = mapping.moodle_scale
    reached_from = {item: threshold for threshold, item in mapping.moodle_map.thresholds}
    config: list[dict[str, Any]] = [{"scaleid": str(scale_id)}]
    for value, item in enumerate(items, 1):
        threshold = reached_from.get(item, value / len(items))
        proficient = threshold + _EPSILON >= mapping.proficient_level
        config.append({"id": value, "scaledefault": int(value == 1), "proficient": int(proficient)})
    return json.dumps(config)


def moodle_competencies(mapping: Mapping) -> list[Competency]:
    """The mapping's competencies that name a Moodle idnumber."""
    return [c for c in mapping.competencies.values() if c.moodle_idnumber]


def _digest(*values: Any) -> str:
    return hashlib.sha256(json.dumps(values, sort_keys=True).encode()).hexdigest()


def sync_framework(
    client: MoodleClient,
    store: Store,
    settings: MoodleSettings,
    mapping: Mapping,
    report: PushReport,
    *,
    course_id: int | None,
    full: bool = False,
) -> Framework:
    """Create or update the framework, its competencies and their course links."""
    if not settings.scale_id:
        raise ConfigError(
            "moodle.scale_id is not set: create the scale in Moodle (Site administration > "
            "Grades > Scales) with the items of the mapping's [moodle] scale, then set its id",
            key="moodle.scale_id",
        )
    with store.reading() as session:
        held = {(o.kind, o.key): o for o in session.scalars(select(MoodleObject))}
    scaleconfig = scale_configuration(mapping, settings.scale_id)
    framework_digest = _digest(settings.framework_name, settings.scale_id, scaleconfig)
    wanted = moodle_competencies(mapping)
    competency_digests = {c.key: _digest(c.name, c.moodle_idnumber, c.category) for c in wanted}
    framework_row = held.get(("framework", settings.framework_idnumber))
    up_to_date = (
        not full
        and framework_row is not None
        and framework_row.digest == framework_digest
        and all(
            (row := held.get(("competency", c.key))) is not None
            and row.digest == competency_digests[c.key]
            for c in wanted
        )
    )
    if up_to_date and framework_row is not None:
        framework_id: int | None = framework_row.moodle_id
        ids = {c.key: held[("competency", c.key)].moodle_id for c in wanted}
    else:
        framework_id = _ensure_framework(client, store, settings, scaleconfig, report)
        if framework_id is None:  # a dry run that would create it
            report.count(PHASE, "competencies_created", len(wanted))
            return Framework(None, {})
        _remember(
            store, report, "framework", settings.framework_idnumber, framework_id, framework_digest
        )
        ids = _ensure_competencies(client, store, framework_id, wanted, competency_digests, report)
    if course_id is not None:
        _link_to_course(client, store, course_id, ids, held, report, full=full)
    return Framework(framework_id, ids)


def _ensure_framework(
    client: MoodleClient,
    store: Store,
    settings: MoodleSettings,
    scaleconfig: str,
    report: PushReport,
) -> int | None:
    frameworks = client.call(
        "core_competency_list_competency_frameworks",
        sort="shortname",
        order="ASC",
        skip=0,
        limit=0,
        context={"contextid": SYSTEM_CONTEXT_ID},
        includes="children",
        onlyvisible=False,
        query=settings.framework_idnumber,
    )
    for framework in frameworks:
        if framework.get("idnumber") == settings.framework_idnumber:
            if int(framework.get("scaleid") or 0) != settings.scale_id:
                report.problem(
                    PHASE,
                    settings.framework_idnumber,
                    f"the framework is on scale {framework.get('scaleid')}, not moodle.scale_id "
                    f"= {settings.scale_id}; Moodle cannot change the scale once ratings exist: "
                    "set moodle.scale_id to the framework's scale, or moodle.framework_idnumber "
                    "to a new framework",
                )
            return int(framework["id"])
    if report.dry_run:
        report.count(PHASE, "framework_created")
        return None
    created = client.call(
        "core_competency_create_competency_framework",
        competencyframework={
            "shortname": settings.framework_name,
            "idnumber": settings.framework_idnumber,
            "description": "Succession competencies evidenced by the reverse-mentoring "
            "programme (kept in step by Mentorbridge).",
            "descriptionformat": 1,
            "visible": True,
            "scaleid": settings.scale_id,
            "scaleconfiguration": scaleconfig,
            "contextid": SYSTEM_CONTEXT_ID,
        },
    )
    report.count(PHASE, "framework_created")
    return int(created["id"])


def _ensure_competencies(
    client: MoodleClient,
    store: Store,
    framework_id: int,
    wanted: list[Competency],
    digests: dict[str, str],
    report: PushReport,
) -> dict[str, int]:
    existing = client.call(
        "core_competency_list_competencies",
        filters=[{"column": "competencyframeworkid", "value": framework_id}],
    )
    by_idnumber = {c["idnumber"]: c for c in existing}
    ids: dict[str, int] = {}
    for competency in wanted:
        found = by_idnumber.get(competency.moodle_idnumber)
        if found is None:
            if report.dry_run:
                report.count(PHASE, "competencies_created")
                continue
            found = client.call(
                "core_competency_create_competency",
                competency={
                    "shortname": competency.name,
                    "idnumber": competency.moodle_idnumber,
                    "description": f"{competency.category}: evidenced by reverse mentoring.",
                    "descriptionformat": 1,
                    "competencyframeworkid": framework_id,
                },
            )
            report.count(PHASE, "competencies_created")
        elif found.get("shortname") != competency.name:
            if not report.dry_run:
                client.call(
                    "core_competency_update_competency",
                    competency={"id": found["id"], "shortname": competency.name},
                )
            report.count(PHASE, "competencies_updated")
        ids[competency.key] = int(found["id"])
        _remember(
            store, report, "competency", competency.key, int(found["id"]), digests[competency.key]
        )
    return ids


def _link_to_course(
    client: MoodleClient,
    store: Store,
    course_id: int,
    ids: dict[str, int],
    held: dict[tuple[str, str], MoodleObject],
    report: PushReport,
    *,
    full: bool,
) -> None:
    def key(competency_key: str) -> str:
        return f"{course_id}:{competency_key}"

    todo = {k: i for k, i in ids.items() if full or ("course_link", key(k)) not in held}
    if not todo:
        return
    linked = {
        int(entry["competency"]["id"])
        for entry in client.call("core_competency_list_course_competencies", id=course_id)
    }
    for competency_key, competency_id in todo.items():
        if competency_id not in linked:
            if report.dry_run:
                report.count(PHASE, "linked_to_course")
                continue
            client.call(
                "core_competency_add_competency_to_course",
                courseid=course_id,
                competencyid=competency_id,
            )
            report.count(PHASE, "linked_to_course")
        _remember(store, report, "course_link", key(competency_key), competency_id, "")


def _remember(
    store: Store, report: PushReport, kind: str, key: str, moodle_id: int, digest: str
) -> None:
    if report.dry_run:
        return
    with store.transaction() as session:
        row = session.get(MoodleObject, (kind, key))
        if row is None:
            session.add(MoodleObject(kind=kind, key=key, moodle_id=moodle_id, digest=digest))
        else:
            row.moodle_id, row.digest, row.updated_at = moodle_id, digest, utc_now()
