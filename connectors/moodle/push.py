"""One push to Moodle: users, framework, enrolments, plans, evidence, milestones, in that
order, recorded as a sync run (``mentorbridge sync status`` shows it beside the HRIS's).

Each phase writes only what Moodle does not have yet, and remembers what it wrote as it goes:
a push that fails half-way is finished by the next, never duplicated by it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict

from mentorbridge.connectors.moodle.client import MoodleClient
from mentorbridge.connectors.moodle.competencies import sync_framework
from mentorbridge.connectors.moodle.errors import MoodleError
from mentorbridge.connectors.moodle.evidence import push_evidence
from mentorbridge.connectors.moodle.functions import missing_functions
from mentorbridge.connectors.moodle.milestones import push_milestones
from mentorbridge.connectors.moodle.plans import enrol_participants, find_course, sync_plans
from mentorbridge.connectors.moodle.provision import provision_users
from mentorbridge.connectors.moodle.report import PushReport
from mentorbridge.connectors.moodle.settings import MoodleSettings
from mentorbridge.plugin.errors import MentorbridgeError, SourcePermissionError
from mentorbridge.plugin.mapping.model import Mapping
from mentorbridge.plugin.store.base import utc_now
from mentorbridge.plugin.store.db import Store
from mentorbridge.plugin.store.sync_models import SyncRun

__all__ = ["push"]

CONNECTOR = "moodle"


def push(
    client: MoodleClient,
    store: Store,
    settings: MoodleSettings,
    mapping: Mapping,
    *,
    full: bool = False,
    dry_run: bool = False,
    on_phase: Callable[[str], None] | None = None,
    on_count: Callable[[str, int], None] | None = None,
) -> PushReport:
    """Bring Moodle in step with the store; the run is recorded unless it is a dry run.

    Raises:
        MentorbridgeError: the push had to stop (the token, a missing function or permission,
            the site); the run is recorded as failed with the reason.
    """
    report = PushReport(dry_run=dry_run, full=full, on_count=on_count)
    run_id = None if dry_run else _start(store, full)
    report.run_id = run_id

    def phase(name: str) -> None:
        if on_phase is not None:
            on_phase(name)

    try:
        phase("site")
        site = client.call("core_webservice_get_site_info")
        missing = missing_functions(site)
        if missing:
            raise SourcePermissionError(
                f"the external service lacks {len(missing)} function(s) the push needs: "
                f"{', '.join(missing)}; add them (Site administration > Server > Web services "
                "> External services > Functions), or run `mentorbridge moodle check`"
            )
        phase("users")
        users = provision_users(
            client, store, settings, report, service_user_id=site.get("userid"), full=full
        )
        course = find_course(client, settings)
        phase("framework")
        framework = sync_framework(
            client,
            store,
            settings,
            mapping,
            report,
            course_id=course.id if course else None,
            full=full,
        )
        if course is not None:
            phase("enrolments")
            enrol_participants(client, store, settings, course, users, report)
        phase("plans")
        plans = sync_plans(
            client, store, settings, mapping, framework.competencies, users, report, full=full
        )
        phase("evidence")
        push_evidence(
            client, store, settings, mapping, framework.competencies, users, plans, report
        )
        if course is not None:
            phase("milestones")
            push_milestones(client, store, settings, course, users, report)
    except (MentorbridgeError, MoodleError) as err:
        report.calls.update(client.calls)
        _finish(store, run_id, report, message=str(err))
        raise
    report.calls.update(client.calls)
    report.warnings.extend(asdict(w) for w in client.take_warnings())
    _finish(store, run_id, report)
    return report


def _start(store: Store, full: bool) -> int:
    with store.transaction() as session:
        run = SyncRun(connector=CONNECTOR, mode="full" if full else "incremental", dry_run=False)
        session.add(run)
        session.flush()
        return run.id


def _finish(
    store: Store, run_id: int | None, report: PushReport, message: str | None = None
) -> None:
    if run_id is None:
        return
    with store.transaction() as session:
        run = session.get(SyncRun, run_id)
        assert run is not None
        run.finished_at = utc_now()
        run.status = "succeeded" if report.ok and message is None else "failed"
        run.counts = report.counts_dict() | {"calls": dict(report.calls)}
        run.errors = [
            {"stream": p.phase, "key": p.record, "reason": p.message} for p in report.problems
        ]
        if message is None and report.problems:
            message = f"{len(report.problems)} record(s) not written; see the list below"
        run.message = message
