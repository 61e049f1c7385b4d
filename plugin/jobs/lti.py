"""Course gradebooks in step with the programme: the worker posts changed scores (LTI AGS)
after each mapper run that touched people (their sessions and goals changed), and at least
hourly; one run at a time across instances."""

from __future__ import annotations

import logging
import time
from datetime import timedelta

from mentorbridge.plugin.config import Config
from mentorbridge.plugin.errors import ConflictError, MentorbridgeError
from mentorbridge.plugin.lti.courses import courses
from mentorbridge.plugin.lti.services_run import CourseRun, run_courses
from mentorbridge.plugin.lti.tool import LtiTool
from mentorbridge.plugin.mapping.run import EvidenceRun
from mentorbridge.plugin.store.db import Store
from mentorbridge.plugin.store.leases import hold_lease

__all__ = ["LtiScoresJob"]

log = logging.getLogger(__name__)

LEASE = "lti:scores"
QUIET_POST_EVERY = timedelta(hours=1)


class LtiScoresJob:
    """Posts scores for every course the tool was launched from; failures are logged and the
    worker goes on (unposted scores are posted by the next run)."""

    def __init__(self, config: Config, store: Store) -> None:
        self.tool = LtiTool(config, store)
        self.last_run: float | None = None

    def after_mapper(self, run: EvidenceRun) -> list[CourseRun] | None:
        quiet_for = None if self.last_run is None else time.monotonic() - self.last_run
        if run.people or quiet_for is None or quiet_for >= QUIET_POST_EVERY.total_seconds():
            return self()
        return None

    def __call__(self) -> list[CourseRun] | None:
        self.last_run = time.monotonic()
        if not courses(self.tool.store):
            return None  # no launch yet: nothing to post to
        try:
            with hold_lease(self.tool.store, LEASE):
                runs = run_courses(self.tool, scores=True)
        except ConflictError:
            return None  # another instance is posting
        except MentorbridgeError as err:
            log.error("LTI scores failed: %s", err)
            return None
        for course in runs:
            if course.error:
                log.error("LTI scores for %s course %s failed: %s", course.platform,
                          course.context_id, course.error)  # fmt: skip
            elif course.scores is not None and (course.scores.posted or course.scores.problems):
                log.info(
                    "LTI scores for %s course %s: %d posted, %d not (%s)",
                    course.platform,
                    course.context_id,
                    course.scores.posted,
                    len(course.scores.problems),
                    "; ".join(course.scores.problems[:3]) or "none",
                )
        return runs
