"""Assignment and Grade Services: one "Reverse mentoring programme" line item per course, and
each linked participant's progress posted to it as a score with a comment, so the record shows
in any LMS's gradebook and transcript.

The score is the sessions held out of the agreed cadence (``lti.sessions_target``); the
comment says sessions held and goals achieved (counts only, never content). Only what changed
since the last post is posted: a re-run with nothing new makes the roster and line-item reads
and no score call.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import func, select

from mentorbridge.plugin.errors import FatalError, SourceError
from mentorbridge.plugin.lti.advantage import AdvantageClient
from mentorbridge.plugin.lti.courses import Course
from mentorbridge.plugin.lti.linking import Link
from mentorbridge.plugin.store.base import utc_now
from mentorbridge.plugin.store.db import Store
from mentorbridge.plugin.store.lti_models import LtiLineItem, LtiScore
from mentorbridge.plugin.store.models import Goal, MentoringSession, Pair, Person

__all__ = ["LINE_ITEM_TAG", "Progress", "ScoreReport", "post_scores", "progress_of"]

LINE_ITEM_TAG = "mentorbridge-programme"
SCOPE_LINEITEM = "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem"
SCOPE_SCORE = "https://purl.imsglobal.org/spec/lti-ags/scope/score"
LINE_ITEM_MEDIA = "application/vnd.ims.lis.v2.lineitem+json"
LINE_ITEMS_MEDIA = "application/vnd.ims.lis.v2.lineitemcontainer+json"
SCORE_MEDIA = "application/vnd.ims.lis.v1.score+json"


@dataclass(frozen=True)
class Progress:
    sessions: int
    goals: int


@dataclass
class ScoreReport:
    posted: int = 0
    unchanged: int = 0
    line_items_created: int = 0
    line_item_pages: int = 0
    problems: list[str] = field(default_factory=list)


def progress_of(store: Store, worker_ids: list[str]) -> dict[str, Progress]:
    """Sessions held (completed, either side of a pair) and goals achieved, per worker."""
    sessions: dict[str, int] = defaultdict(int)
    goals: dict[str, int] = defaultdict(int)
    with store.reading() as session:
        for i in range(0, len(worker_ids), 500):
            chunk = worker_ids[i : i + 500]
            for side in (Pair.mentee_id, Pair.mentor_id):
                for worker, held in session.execute(
                    select(Person.worker_id, func.count(MentoringSession.id))
                    .join(Pair, side == Person.id)
                    .join(MentoringSession, MentoringSession.pair_id == Pair.id)
                    .where(Person.worker_id.in_(chunk), MentoringSession.status == "completed")
                    .group_by(Person.worker_id)
                ):
                    sessions[worker] += held
            for worker, achieved in session.execute(
                select(Person.worker_id, func.count(Goal.id))
                .join(Goal, Goal.owner_id == Person.id)
                .where(Person.worker_id.in_(chunk), Goal.status == "achieved")
                .group_by(Person.worker_id)
            ):
                goals[worker] += achieved
    return {w: Progress(sessions.get(w, 0), goals.get(w, 0)) for w in worker_ids}


def post_scores(
    store: Store,
    client: AdvantageClient,
    course: Course,
    links: dict[str, Link],
    *,
    label: str,
    target: int,
    report: ScoreReport,
) -> None:
    """Post the changed scores of ``links`` (LMS user id → worker) to the course's line item."""
    if not course.lineitems_url:
        report.problems.append(
            f"course {course.context_id}: the platform gave no gradebook (AGS) for it; enable "
            "the tool's grade service in the LMS"
        )
        return
    line_item_url = course.lineitem_url or _find_or_create(client, course, label, target, report)
    if course.lineitem_url is None:
        with store.transaction() as session:
            row = session.get(LtiLineItem, course.id)
            if row is not None:
                row.lineitem_url = line_item_url
    progress = progress_of(store, sorted({link.worker_id for link in links.values()}))
    with store.reading() as session:
        posted = {
            row.subject: row
            for row in session.scalars(select(LtiScore).where(LtiScore.line_item_id == course.id))
        }
    for subject, link in sorted(links.items()):
        done = progress[link.worker_id]
        given = float(min(done.sessions, target))
        comment = (
            f"{done.sessions} of {target} reverse-mentoring sessions held; "
            f"{done.goals} goal{'s' if done.goals != 1 else ''} achieved"
        )
        last = posted.get(subject)
        if last is not None and (last.score_given, last.score_maximum, last.comment) == (
            given,
            float(target),
            comment,
        ):
            report.unchanged += 1
            continue
        try:
            client.post_json(
                _scores_url(line_item_url),
                {
                    "userId": subject,
                    "scoreGiven": given,
                    "scoreMaximum": float(target),
                    "comment": comment,
                    "timestamp": datetime.now(UTC).isoformat(timespec="milliseconds"),
                    "activityProgress": (
                        "Completed"
                        if done.sessions >= target
                        else "InProgress"
                        if done.sessions
                        else "Initialized"
                    ),
                    "gradingProgress": "FullyGraded",
                },
                scopes=(SCOPE_SCORE,),
                media_type=SCORE_MEDIA,
                what="score",
            )
        except SourceError as err:
            if isinstance(err, FatalError):  # credentials or scopes: no score will go
                raise
            report.problems.append(f"score of LMS user {subject}: {err}")
            continue  # not remembered: the next run posts it again
        _remember(store, course.id, subject, given, float(target), comment)
        report.posted += 1


def _find_or_create(
    client: AdvantageClient, course: Course, label: str, target: int, report: ScoreReport
) -> str:
    assert course.lineitems_url is not None
    url = _with_query(course.lineitems_url, f"tag={LINE_ITEM_TAG}")
    for body, page in client.get_pages(
        url, scopes=(SCOPE_LINEITEM,), accept=LINE_ITEMS_MEDIA, what="line items"
    ):
        report.line_item_pages = page
        for item in body if isinstance(body, list) else []:
            if item.get("tag") == LINE_ITEM_TAG or item.get("resourceId") == LINE_ITEM_TAG:
                return str(item["id"])
    created = client.post_json(
        course.lineitems_url,
        {
            "label": label,
            "scoreMaximum": float(target),
            "tag": LINE_ITEM_TAG,
            "resourceId": LINE_ITEM_TAG,
        },
        scopes=(SCOPE_LINEITEM,),
        media_type=LINE_ITEM_MEDIA,
        what="line item",
    )
    report.line_items_created += 1
    return str(created["id"])


def _remember(
    store: Store, line_item_id: int, subject: str, given: float, maximum: float, comment: str
) -> None:
    with store.transaction() as session:
        row = session.get(LtiScore, (line_item_id, subject))
        if row is None:
            row = LtiScore(line_item_id=line_item_id, subject=subject)
            session.add(row)
        row.score_given, row.score_maximum, row.comment = given, maximum, comment
        row.posted_at = utc_now()


def _scores_url(line_item_url: str) -> str:
    """``{line item}/scores``, keeping any query string where it belongs (Moodle puts the
    line item's type id in one)."""
    path, _, query = line_item_url.partition("?")
    return f"{path.rstrip('/')}/scores" + (f"?{query}" if query else "")


def _with_query(url: str, query: str) -> str:
    return f"{url}{'&' if '?' in url else '?'}{query}"
