"""Reading the activity that may count as evidence, for many people per query.

Each reader takes a batch of ``person.id`` values and returns their activity, one query per
kind for the whole batch (never one per person): completed sessions on either side of their
pairs, goals they achieved, and their *released* ratings of sessions that were not cancelled.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from mentorbridge.plugin.mapping.evidence import (
    Activity,
    GoalActivity,
    RatingActivity,
    SessionActivity,
)
from mentorbridge.plugin.mapping.scales import normalise
from mentorbridge.plugin.store.models import Goal, MentoringSession, Outcome, Pair

__all__ = ["read_activity"]


def read_activity(session: Session, person_ids: Sequence[int]) -> dict[int, Activity]:
    """The activity of each of ``person_ids`` that may count (people without any: absent)."""
    sessions: dict[int, list[SessionActivity]] = defaultdict(list)
    goals: dict[int, list[GoalActivity]] = defaultdict(list)
    ratings: dict[int, list[RatingActivity]] = defaultdict(list)
    for side, member, statement in (
        ("mentee", Pair.mentee_id, MentoringSession.attended_statement_id),
        ("mentor", Pair.mentor_id, MentoringSession.mentored_statement_id),
    ):
        query = (
            select(
                member,
                MentoringSession.key,
                MentoringSession.started_at,
                MentoringSession.created_at,
                MentoringSession.themes,
                Pair.themes,
                statement,
            )
            .join(Pair, Pair.id == MentoringSession.pair_id)
            .where(MentoringSession.status == "completed", member.in_(person_ids))
        )
        for person, key, started, created, themes, pair_themes, statement_id in session.execute(
            query
        ):
            sessions[person].append(
                SessionActivity(
                    key=key,
                    side=side,
                    at=started or created,
                    themes=tuple(themes or ()),
                    pair_themes=tuple(pair_themes or ()),
                    statement_id=statement_id,
                )
            )
    goal_query = (
        select(
            Goal.owner_id,
            Goal.key,
            Goal.achieved_at,
            Goal.achieved_statement_id,
            Pair.mentee_id,
            Pair.themes,
        )
        .join(Pair, Pair.id == Goal.pair_id)
        .where(Goal.status == "achieved", Goal.owner_id.in_(person_ids))
    )
    for owner, key, achieved_at, statement_id, mentee, pair_themes in session.execute(goal_query):
        goals[owner].append(
            GoalActivity(
                key=key,
                side="mentee" if owner == mentee else "mentor",
                at=achieved_at,
                pair_themes=tuple(pair_themes or ()),
                statement_id=statement_id,
            )
        )
    outcome_query = (
        select(
            Outcome.subject_id,
            Outcome.key,
            Outcome.rated_at,
            Outcome.competency,
            Outcome.rating,
            Outcome.scale_min,
            Outcome.scale_max,
            Outcome.evidence_statement_id,
            Pair.mentee_id,
        )
        .join(Pair, Pair.id == Outcome.pair_id)
        .outerjoin(MentoringSession, MentoringSession.id == Outcome.session_id)
        .where(
            Outcome.released.is_(True),
            Outcome.subject_id.in_(person_ids),
            or_(Outcome.session_id.is_(None), MentoringSession.status == "completed"),
        )
    )
    for row in session.execute(outcome_query):
        subject, key, rated_at, competency, rating, low, high, statement_id, mentee = row
        ratings[subject].append(
            RatingActivity(
                key=key,
                side="mentee" if subject == mentee else "mentor",
                at=rated_at,
                competency=competency,
                rating=normalise(rating, low, high),
                released=True,
                statement_id=statement_id,
            )
        )
    people = set(sessions) | set(goals) | set(ratings)
    return {
        person: Activity(
            sessions=tuple(sessions.get(person, ())),
            goals=tuple(goals.get(person, ())),
            ratings=tuple(ratings.get(person, ())),
        )
        for person in people
    }
