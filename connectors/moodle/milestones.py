"""Programme milestones as course completion: the first session held, N sessions held and a
goal achieved each complete an activity of the programme course
(``core_completion_override_activity_completion_status``), so course completion, and any badge
the site awards for it, follow.

Journalled like ratings: ``pending`` before the call, ``done`` after. A ``pending`` row left by
a crash is settled by reading the user's activity completion back first.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping as MappingType
from collections.abc import Sequence

from sqlalchemy import func, or_, select, update

from mentorbridge.connectors.moodle.batches import in_parallel
from mentorbridge.connectors.moodle.client import MoodleClient
from mentorbridge.connectors.moodle.plans import Course
from mentorbridge.connectors.moodle.provision import KnownUser
from mentorbridge.connectors.moodle.report import PushReport
from mentorbridge.connectors.moodle.settings import MoodleSettings
from mentorbridge.plugin.store.base import utc_now
from mentorbridge.plugin.store.bulk import insert_rows
from mentorbridge.plugin.store.db import Store
from mentorbridge.plugin.store.lms_models import MoodleMilestone
from mentorbridge.plugin.store.models import Goal, MentoringSession, Pair

__all__ = ["push_milestones", "reached_milestones"]

PHASE = "milestones"
COMPLETE = 1


def reached_milestones(
    store: Store, people: Sequence[int], sessions_count: int
) -> dict[int, set[str]]:
    """The milestones each person has reached, from the recorded sessions and goals."""
    reached: dict[int, set[str]] = defaultdict(set)
    held: dict[int, int] = defaultdict(int)
    with store.reading() as session:
        for side in (Pair.mentee_id, Pair.mentor_id):
            for person_id, count in session.execute(
                select(side, func.count(MentoringSession.id))
                .join(MentoringSession, MentoringSession.pair_id == Pair.id)
                .where(MentoringSession.status == "completed", side.in_(people))
                .group_by(side)
            ):
                held[person_id] += count
        achieved = session.scalars(
            select(Goal.owner_id).where(Goal.status == "achieved", Goal.owner_id.in_(people))
        )
        for person_id in achieved:
            reached[person_id].add("goal")
    for person_id, count in held.items():
        if count >= 1:
            reached[person_id].add("first_session")
        if count >= sessions_count:
            reached[person_id].add("sessions")
    return reached


def push_milestones(
    client: MoodleClient,
    store: Store,
    settings: MoodleSettings,
    course: Course,
    users: MappingType[int, KnownUser],
    report: PushReport,
) -> None:
    """Complete the activity of every milestone reached that Moodle has not had yet."""
    cmids = settings.milestone_cmids()
    if not cmids:
        return
    participants = [u for u in users.values() if u.sides and not u.suspended]
    reached = reached_milestones(
        store, [u.person_id for u in participants], settings.sessions_count
    )
    with store.reading() as session:
        journal = {
            (row.person_id, row.milestone): row.state
            for row in session.scalars(
                select(MoodleMilestone).where(
                    or_(*(MoodleMilestone.milestone == name for name in cmids))
                )
            )
        }
    todo: dict[int, list[str]] = defaultdict(list)
    uncertain: set[int] = set()
    for user in participants:
        for milestone in sorted(reached.get(user.person_id, ())):
            if milestone not in cmids:
                continue
            state = journal.get((user.person_id, milestone))
            if state == "done":
                continue
            todo[user.person_id].append(milestone)
            if state == "pending":
                uncertain.add(user.person_id)
    if report.dry_run:
        report.count(PHASE, "completed", sum(len(m) for m in todo.values()))
        return
    if not todo:
        return
    _journal(store, todo, cmids, journal)

    def work(person_id: int) -> list[str]:
        user = users[person_id]
        complete: set[int] = set()
        if person_id in uncertain:
            answer = client.call(
                "core_completion_get_activities_completion_status",
                courseid=course.id,
                userid=user.moodle_id,
            )
            complete = {int(s["cmid"]) for s in answer.get("statuses", []) if s.get("state")}
        written = []
        for milestone in todo[person_id]:
            if cmids[milestone] in complete:
                report.count(PHASE, "found_already_complete")
            else:
                client.call(
                    "core_completion_override_activity_completion_status",
                    userid=user.moodle_id,
                    cmid=cmids[milestone],
                    newstate=COMPLETE,
                )
                report.count(PHASE, "completed")
            written.append(milestone)
        return written

    for person_id, written, error in in_parallel(work, list(todo), settings.concurrency):
        if error is not None:
            report.problem(PHASE, f"Moodle user {users[person_id].moodle_id}", str(error))
            continue
        with store.transaction() as session:
            session.execute(
                update(MoodleMilestone)
                .where(
                    MoodleMilestone.person_id == person_id,
                    MoodleMilestone.milestone.in_(written or []),
                )
                .values(state="done", completed_at=utc_now())
            )


def _journal(
    store: Store,
    todo: MappingType[int, list[str]],
    cmids: MappingType[str, int],
    journal: MappingType[tuple[int, str], str],
) -> None:
    """Journal what is about to be completed as ``pending`` (rows a crash left are kept)."""
    now = utc_now()
    rows = [
        {
            "person_id": person_id,
            "milestone": milestone,
            "cmid": cmids[milestone],
            "state": "pending",
            "completed_at": now,
        }
        for person_id, milestones in todo.items()
        for milestone in milestones
        if (person_id, milestone) not in journal
    ]
    if rows:
        with store.transaction() as session:
            insert_rows(session, MoodleMilestone.__table__, rows)
