"""Proposals are drafts: locked pairs survive a re-run, rejected ones never come back, and
approval creates each pair exactly once (also when two approvals race), after checking the pairs
against the HRIS as it is now. Also through the command line."""

from __future__ import annotations

import threading
from dataclasses import replace
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select, update

from mentorbridge.plugin.cli import cli
from mentorbridge.plugin.errors import ConflictError
from mentorbridge.plugin.pairing.review import approve, current, lock, lock_pair, propose, reject
from mentorbridge.plugin.recorder import Recorder
from mentorbridge.plugin.store.db import Store
from mentorbridge.plugin.store.hris_models import HrisWorker
from mentorbridge.plugin.store.models import Pair
from mentorbridge.plugin.store.pairing_models import PairingRun
from mentorbridge.plugin.store.webhook_models import WebhookEvent
from mentorbridge.plugin.webhooks.processor import EventProcessor
from mentorbridge.xapi.statements import StatementBuilder
from tests.conftest import SETTINGS, keys_env
from tests.plugin.pairing.tenant import TODAY, programme


def _processor(store: Store) -> EventProcessor:
    return EventProcessor(Recorder(store, StatementBuilder(SETTINGS)))


def _count(store: Store, what) -> int:
    with store.reading() as session:
        return session.scalar(select(func.count()).select_from(what))


def test_a_run_proposes_pairs_outside_every_reporting_chain(tenant: Store) -> None:
    run, plan = propose(tenant, programme(), today=TODAY)
    assert run.mentees == 3 and run.mentors == 4
    pairs = {(p.mentee, p.mentor) for p in plan.pairs}
    assert len(pairs) == 3
    for mentee, mentor in pairs:  # J1, J2 report (through M1) to E1; J3, J4 to E2
        assert (mentee, mentor) not in {("E1", "J1"), ("E1", "J2"), ("E2", "J3"), ("E2", "J4")}
    _, proposals = current(tenant, "rm-2026")
    assert {(p.mentee, p.mentor) for p in proposals} == pairs
    assert all(p.status == "proposed" for p in proposals)


def test_locked_pairs_survive_a_rerun_and_rejected_ones_never_return(tenant: Store) -> None:
    spec = programme()
    propose(tenant, spec, today=TODAY)
    _, first = current(tenant, spec.key)
    kept, dropped = first[0], first[1]
    lock(tenant, spec.key, kept.id)
    reject(tenant, spec.key, dropped.id)
    run, plan = propose(tenant, spec, today=TODAY)
    _, second = current(tenant, spec.key)
    assert kept.id in {p.id for p in second}  # the locked row itself, untouched
    assert [p.status for p in second if p.id == kept.id] == ["locked"]
    assert (kept.mentee, kept.mentor) not in {(p.mentee, p.mentor) for p in plan.pairs}
    assert all(p.mentee != kept.mentee and p.mentor != kept.mentor for p in plan.pairs)
    assert (dropped.mentee, dropped.mentor) not in {(p.mentee, p.mentor) for p in second}
    assert run.pairs == len(plan.pairs) + 1
    assert sum(1 for p in second if p.mentee == kept.mentee) == 1


def test_a_pair_locked_by_hand_must_pass_the_rules(tenant: Store) -> None:
    spec = programme()
    with pytest.raises(ConflictError, match=r"reports .* to the executive"):
        lock_pair(tenant, spec, "E1", "J1", today=TODAY)
    with pytest.raises(ConflictError, match="not eligible as a mentor"):
        lock_pair(tenant, spec, "E1", "M2", today=TODAY)
    row = lock_pair(tenant, spec, "E1", "J3", today=TODAY)
    assert row.status == "locked" and row.rules["reporting_chain"]
    _, plan = propose(tenant, spec, today=TODAY)
    assert "E1" not in {p.mentee for p in plan.pairs}


def test_approval_creates_each_pair_once(tenant: Store) -> None:
    spec = programme()
    propose(tenant, spec, today=TODAY)
    processor = _processor(tenant)
    done = approve(tenant, processor, spec, None, today=TODAY)
    assert len(done.created) == 3
    assert _count(tenant, Pair) == 3
    again = approve(tenant, processor, spec, None, today=TODAY)
    assert again.created == [] and _count(tenant, Pair) == 3
    _, proposals = current(tenant, spec.key)
    ids = [p.id for p in proposals]
    by_id = approve(tenant, processor, spec, ids, today=TODAY)
    assert by_id.created == [] and sorted(by_id.already) == sorted(done.created)
    with tenant.reading() as session:
        events = session.scalars(select(WebhookEvent.type)).all()
        pairs = session.scalars(select(Pair)).all()
    assert events == ["pair.created"] * 3
    assert {p.key for p in pairs} == set(done.created)
    # Everyone is paired in this programme now: a run says so, unless re-pairing is asked.
    with pytest.raises(ConflictError, match="all 3 eligible are already paired"):
        propose(tenant, spec, today=TODAY)
    _, plan = propose(tenant, spec, today=TODAY, re_pair=True)
    assert len(plan.pairs) == 3


def test_two_approvals_at_once_create_each_pair_once(tenant: Store) -> None:
    spec = programme()
    propose(tenant, spec, today=TODAY)
    results, errors = [], []
    barrier = threading.Barrier(2)

    def run() -> None:
        barrier.wait()
        try:
            results.append(approve(tenant, _processor(tenant), spec, None, today=TODAY))
        except Exception as err:
            errors.append(err)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    # SQLite may refuse the loser as busy; then nothing of it was written.
    assert len(results) + len(errors) == 2 and results
    created = [key for r in results for key in r.created]
    assert len(created) == len(set(created)) == 3
    assert _count(tenant, Pair) == 3
    assert _count(tenant, WebhookEvent) == 3


def test_a_programme_with_no_eligible_mentors_is_refused_with_the_fix(tenant: Store) -> None:
    spec = programme(mentors=replace(programme().mentors, management_levels=("7",)))
    with pytest.raises(ConflictError) as refused:
        propose(tenant, spec, today=TODAY)
    message = str(refused.value)
    assert "has no mentors to pair" in message and "management levels 7" in message
    assert "[programmes.rm-2026.mentors]" in message
    assert _count(tenant, PairingRun) == 0


def test_approval_checks_the_hris_again_and_approves_nothing_if_a_pair_broke(
    tenant: Store,
) -> None:
    spec = programme()
    _, plan = propose(tenant, spec, today=TODAY)
    mentee, mentor = plan.pairs[0].mentee, plan.pairs[0].mentor
    with tenant.transaction() as session:  # the mentor now reports to the executive
        session.execute(
            update(HrisWorker)
            .where(HrisWorker.employee_id == mentor)
            .values(manager_employee_id=mentee)
        )
    with pytest.raises(ConflictError, match="nothing approved, the HRIS changed"):
        approve(tenant, _processor(tenant), spec, None, today=TODAY)
    assert _count(tenant, Pair) == 0
    _, proposals = current(tenant, spec.key)
    assert {p.status for p in proposals} == {"proposed"}


def test_the_command_line_proposes_shows_locks_and_approves(
    tenant: Store, store_url: str, tmp_path: Path
) -> None:
    env = {
        "XDG_CONFIG_HOME": str(tmp_path / "cfg"),
        "MENTORBRIDGE_STORE_URL": store_url,
        **keys_env(store_url),
    }
    pairing_file = tmp_path / "pairing.toml"
    pairing_file.write_text(
        '[programmes.rm-test]\nname = "Test"\nthemes = ["AI", "digital"]\n'
        '[programmes.rm-test.mentees]\nmanagement_levels = ["2"]\n'
        '[programmes.rm-test.mentors]\nmanagement_levels = ["6"]\n',
        encoding="utf-8",
    )
    env["MENTORBRIDGE_PAIRING_FILE"] = str(pairing_file)

    def run(*args: str):
        return CliRunner().invoke(cli, list(args), env=env)

    assert run("pairing", "check").exit_code == 0
    proposed = run("pairing", "propose", "rm-test")
    assert proposed.exit_code == 0, proposed.output
    assert "3 pair(s) proposed for rm-test" in proposed.output
    shown = run("pairing", "show", "rm-test", "--explain")
    assert shown.exit_code == 0 and "passed reporting_chain" in shown.output
    first = int(shown.output.split()[0])
    assert run("pairing", "lock", "rm-test", str(first)).exit_code == 0
    unknown = run("pairing", "propose", "rm-nope")
    assert unknown.exit_code == 1 and "no programme 'rm-nope'" in unknown.output
    approved = run("pairing", "approve", "rm-test", "--all")
    assert approved.exit_code == 0 and "approved 3 pair(s)" in approved.output
    assert _count(tenant, Pair) == 3
    pairing_file.write_text("[programmes.x]\nname = 1\n", encoding="utf-8")
    broken = run("pairing", "check")
    assert broken.exit_code == 2 and "pairing file" in broken.output
