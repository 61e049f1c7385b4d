"""The mirror's log of management-level and job-profile changes (what promotions are counted
from), and its migration (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, datetime

from alembic import command
from sqlalchemy import inspect, select

from mentorbridge.plugin.store.db import Store
from mentorbridge.plugin.store.hris import HrisMirror
from mentorbridge.plugin.store.hris_models import HrisWorker, WorkerChange
from mentorbridge.plugin.store.migrate import (
    _alembic_config,
    current_revision,
    head_revision,
    upgrade,
)
from tests.plugin.test_hris_mirror import start, worker, write


def changes(store: Store) -> list[tuple[str, str, str | None, datetime]]:
    with store.reading() as session:
        rows = session.scalars(select(WorkerChange).order_by(WorkerChange.id)).all()
    return [(r.field, r.old_value, r.new_value, r.changed_at) for r in rows]


def test_a_new_management_level_or_job_profile_is_logged_with_the_old_value(
    store: Store,
) -> None:
    mirror = HrisMirror(store)
    run = start(mirror)
    write(mirror, "workers", [worker(1), worker(2)], run=run)
    promoted = worker(
        1,
        management_level="5 Manager",
        job_profile_id="JP-2",
        last_updated="2026-11-02T09:00:00+00:00",
    )
    write(mirror, "workers", [promoted, worker(2, business_title="Lead")], run=run)
    changed = datetime(2026, 11, 2, 9, tzinfo=UTC)
    assert changes(store) == [
        ("management_level", "6 Individual Contributor", "5 Manager", changed),
        ("job_profile_id", "JP-1", "JP-2", changed),
    ]
    with store.reading() as session:
        logged = session.scalars(select(WorkerChange.worker_id)).all()
        assert set(logged) == {
            session.scalar(select(HrisWorker.id).where(HrisWorker.employee_id == "10001"))
        }


def test_first_values_and_unchanged_ones_are_not_changes(store: Store) -> None:
    mirror = HrisMirror(store)
    run = start(mirror)
    write(mirror, "workers", [worker(1, management_level=None)], run=run)
    write(mirror, "workers", [worker(1, management_level="5 Manager")], run=run)
    write(mirror, "workers", [worker(1, management_level="5 Manager", location="Leeds")], run=run)
    assert changes(store) == []


def test_a_dry_run_logs_no_change(store: Store) -> None:
    mirror = HrisMirror(store)
    run = start(mirror)
    write(mirror, "workers", [worker(1)], run=run)
    write(mirror, "workers", [worker(1, job_profile_id="JP-9")], run=run, dry_run=True)
    assert changes(store) == []


def test_the_change_log_migration_downgrades_and_upgrades_again(store_url: str) -> None:
    with Store(store_url) as store:
        config = _alembic_config()
        with store.engine.begin() as connection:
            config.attributes["connection"] = connection
            command.downgrade(config, "0009")
        assert current_revision(store) == "0009"
        assert "hris_worker_change" not in inspect(store.engine).get_table_names()
        upgrade(store)
        assert current_revision(store) == head_revision()
        assert "hris_worker_change" in inspect(store.engine).get_table_names()
