"""The worker's Moodle push: after a mapper run that changed evidence (and at least hourly),
one push at a time across processes, failures logged without the token."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from mentorbridge.connectors.moodle.localsite import LocalMoodleSite
from mentorbridge.plugin.config import Config, load_config
from mentorbridge.plugin.errors import ConflictError
from mentorbridge.plugin.jobs.moodle import LEASE, QUIET_PUSH_EVERY, MoodlePushJob, push_moodle
from mentorbridge.plugin.mapping.run import EvidenceRun
from mentorbridge.plugin.store.db import Store
from mentorbridge.plugin.store.leases import hold_lease
from tests.conftest import keys_env
from tests.connectors.moodle.programme import build


def mapper_run(changed: int) -> EvidenceRun:
    return EvidenceRun(
        full=False, reason=None, people=changed, created=0, changed=changed, withdrawn=0,
        statements=changed,
    )  # fmt: skip


@pytest.fixture
def site() -> Iterator[LocalMoodleSite]:
    with LocalMoodleSite() as running:
        yield running


@pytest.fixture
def config(tmp_path: Path, store_url: str, store: Store, site: LocalMoodleSite) -> Config:
    build(store)
    return load_config(
        environ={
            "XDG_CONFIG_HOME": str(tmp_path / "cfg"),
            "MENTORBRIDGE_STORE_URL": store_url,
            "MENTORBRIDGE_MOODLE_URL": site.url,
            "MENTORBRIDGE_MOODLE_TOKEN": site.token,
            "MENTORBRIDGE_MOODLE_SCALE_ID": "2",
            "MENTORBRIDGE_MOODLE_COURSE": "RMP",
            **keys_env(store_url),
        }
    )


def test_the_job_pushes_after_changed_evidence_and_hourly_otherwise(
    config: Config, store: Store, site: LocalMoodleSite
) -> None:
    job = MoodlePushJob(config, store)
    first = job.after_mapper(mapper_run(changed=0))  # the worker's first run always pushes
    assert first is not None and first.counts["evidence"]["written"] == 6
    assert job.after_mapper(mapper_run(changed=0)) is None  # nothing new, pushed a moment ago
    site.reset_calls()
    assert job.after_mapper(mapper_run(changed=2)) is not None  # new evidence: push now
    assert site.calls  # it really reached the site
    assert job.last_push is not None
    job.last_push -= QUIET_PUSH_EVERY.total_seconds()  # an hour without evidence changes
    assert job.after_mapper(mapper_run(changed=0)) is not None


def test_a_failed_push_is_logged_without_the_token_and_the_worker_goes_on(
    config: Config, store: Store, site: LocalMoodleSite, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    site.webservices_enabled = False
    assert MoodlePushJob(config, store)() is None
    assert "Moodle push failed" in caplog.text and "web services" in caplog.text.lower()
    assert site.token not in caplog.text


def test_one_push_at_a_time_across_processes(config: Config, store: Store) -> None:
    with hold_lease(store, LEASE), pytest.raises(ConflictError):
        push_moodle(config, store)


def test_a_push_another_worker_is_running_is_left_to_it_quietly(
    config: Config, store: Store, site: LocalMoodleSite, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    with hold_lease(store, LEASE):
        assert MoodlePushJob(config, store)() is None
    assert caplog.records == [] and site.calls == []
