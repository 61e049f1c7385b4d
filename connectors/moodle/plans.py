"""The programme course and learning plans: participants enrolled in the course (manual
enrolment, the configured role), and an active learning plan per participant holding the
competencies of their side (executive mentee, junior mentor), where their ratings land.
"""

from __future__ import annotations

from collections.abc import Mapping as MappingType
from collections.abc import Sequence
from typing import Any

from sqlalchemy import select, update

from mentorbridge.connectors.moodle.batches import chunks, in_parallel, isolate
from mentorbridge.connectors.moodle.client import MoodleClient
from mentorbridge.connectors.moodle.provision import KnownUser
from mentorbridge.connectors.moodle.report import PushReport
from mentorbridge.connectors.moodle.settings import MoodleSettings
from mentorbridge.plugin.errors import ConfigError
from mentorbridge.plugin.mapping.model import Mapping
from mentorbridge.plugin.store.base import utc_now
from mentorbridge.plugin.store.db import Store
from mentorbridge.plugin.store.lms_models import MoodlePlan, MoodleUser

__all__ = ["Course", "enrol_participants", "find_course", "sync_plans"]

ACTIVE_PLAN = 1  # Moodle refuses ratings in a draft (0) plan


class Course:
    """The programme course as Moodle describes it."""

    def __init__(self, answer: MappingType[str, Any]) -> None:
        self.id = int(answer["id"])
        self.shortname = str(answer.get("shortname", ""))
        self.completion = bool(answer.get("enablecompletion"))


def find_course(client: MoodleClient, settings: MoodleSettings) -> Course | None:
    """The course named by ``moodle.course``; ``None`` when none is configured.

    Raises:
        ConfigError: no course has that short name.
    """
    if not settings.course:
        return None
    answer = client.call(
        "core_course_get_courses_by_field", field="shortname", value=settings.course
    )
    courses = answer.get("courses") or []
    if not courses:
        raise ConfigError(
            f"moodle.course = {settings.course!r}: Moodle has no course with this short name; "
            "create the programme course (with completion tracking on) or correct the setting",
            key="moodle.course",
        )
    return Course(courses[0])


def enrol_participants(
    client: MoodleClient,
    store: Store,
    settings: MoodleSettings,
    course: Course,
    users: MappingType[int, KnownUser],
    report: PushReport,
) -> None:
    """Enrol every participant with a (not suspended) Moodle user who is not yet enrolled."""
    todo = [u for u in users.values() if u.sides and not u.suspended and not u.enrolled]
    if not todo:
        return
    enrolled = {
        int(user["id"])
        for user in client.call(
            "core_enrol_get_enrolled_users",
            courseid=course.id,
            options=[{"name": "userfields", "value": "id"}],
        )
    }
    already = [u for u in todo if u.moodle_id in enrolled]
    _mark_enrolled(store, report, already)
    report.count("enrolments", "already_enrolled", len(already))
    todo = [u for u in todo if u.moodle_id not in enrolled]
    if report.dry_run:
        report.count("enrolments", "enrolled", len(todo))
        return

    def send(batch: Sequence[KnownUser]) -> Any:
        return client.call(
            "enrol_manual_enrol_users",
            enrolments=[
                {"roleid": settings.student_role_id, "userid": u.moodle_id, "courseid": course.id}
                for u in batch
            ],
        )

    for batch in chunks(todo, settings.batch_size):
        done, refused = isolate(batch, send)
        for sent, _ in done:
            _mark_enrolled(store, report, sent)
            report.count("enrolments", "enrolled", len(sent))
        for user, error in refused:
            report.problem("enrolments", f"Moodle user {user.moodle_id}", str(error))


def _mark_enrolled(store: Store, report: PushReport, users: Sequence[KnownUser]) -> None:
    if report.dry_run or not users:
        return
    with store.transaction() as session:
        session.execute(
            update(MoodleUser)
            .where(MoodleUser.person_id.in_([u.person_id for u in users]))
            .values(enrolled=True)
        )


def plan_competencies(
    mapping: Mapping, competency_ids: MappingType[str, int], sides: frozenset[str]
) -> list[int]:
    """The Moodle competency ids a person's plan holds: those of their sides."""
    return [
        competency_ids[c.key]
        for c in mapping.competencies.values()
        if c.key in competency_ids and any(c.side(side) is not None for side in sides)
    ]


def sync_plans(
    client: MoodleClient,
    store: Store,
    settings: MoodleSettings,
    mapping: Mapping,
    competency_ids: MappingType[str, int],
    users: MappingType[int, KnownUser],
    report: PushReport,
    *,
    full: bool = False,
) -> dict[int, int]:
    """Give every participant an active plan with their side's competencies.

    Returns:
        plan id by person id, for the participants who have one.
    """
    with store.reading() as session:
        held = {row.person_id: row for row in session.scalars(select(MoodlePlan))}
    plans = {pid: row.plan_id for pid, row in held.items() if pid in users}
    todo: list[tuple[KnownUser, list[int], MoodlePlan | None]] = []
    for user in users.values():
        if not user.sides or user.suspended:
            continue
        wanted = plan_competencies(mapping, competency_ids, user.sides)
        row = held.get(user.person_id)
        if full or row is None or not set(wanted) <= set(row.competencies):
            todo.append((user, wanted, row))
    if report.dry_run:
        report.count("plans", "to_update", len(todo))
        return plans

    def work(item: tuple[KnownUser, list[int], MoodlePlan | None]) -> tuple[int, list[int]]:
        user, wanted, row = item
        return _ensure_plan(client, settings, user, wanted, row, report)

    for (user, _, _), result, error in in_parallel(work, todo, settings.concurrency):
        if error is not None:
            report.problem("plans", f"Moodle user {user.moodle_id}", str(error))
            continue
        assert result is not None
        plan_id, competencies = result
        plans[user.person_id] = plan_id
        with store.transaction() as session:
            row = session.get(MoodlePlan, user.person_id)
            if row is None:
                session.add(
                    MoodlePlan(person_id=user.person_id, plan_id=plan_id, competencies=competencies)
                )
            else:
                row.plan_id, row.competencies, row.updated_at = plan_id, competencies, utc_now()
    return plans


def _ensure_plan(
    client: MoodleClient,
    settings: MoodleSettings,
    user: KnownUser,
    wanted: list[int],
    row: MoodlePlan | None,
    report: PushReport,
) -> tuple[int, list[int]]:
    """Find (by name) or create the user's plan, then add the competencies it lacks."""
    plan_id = row.plan_id if row is not None else None
    present: set[int] = set()
    if plan_id is None:
        for plan in client.call("core_competency_list_user_plans", userid=user.moodle_id):
            if plan.get("name") == settings.plan_name:
                plan_id = int(plan["id"])
                break
    if plan_id is None:
        created = client.call(
            "core_competency_create_plan",
            plan={
                "name": settings.plan_name,
                "description": "Succession competencies evidenced by the reverse-mentoring "
                "programme.",
                "descriptionformat": 1,
                "userid": user.moodle_id,
                "status": ACTIVE_PLAN,
            },
        )
        plan_id = int(created["id"])
        report.count("plans", "created")
    else:
        present = {
            int(entry["competency"]["id"])
            for entry in client.call("core_competency_list_plan_competencies", id=plan_id)
        }
    for competency_id in wanted:
        if competency_id not in present:
            client.call(
                "core_competency_add_competency_to_plan", planid=plan_id, competencyid=competency_id
            )
            report.count("plans", "competencies_added")
            present.add(competency_id)
    return plan_id, sorted(present)
