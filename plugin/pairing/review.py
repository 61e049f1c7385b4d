"""Proposals as drafts an admin reviews: propose (a run), lock, reject, approve.

A run supersedes the programme's earlier drafts and keeps its locked pairs; rejected pairs are
never proposed again. Approval turns pairs into ``pair.created`` events recorded by the event
processor in the same transaction as the proposals' new status, so a pair is created exactly
once even when two admins approve at the same moment: the second finds nothing left to approve.
Before anything is approved, every pair is checked again against the HRIS mirror as it is now;
one that breaks a rule stops the whole approval, naming it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from mentorbridge.plugin.errors import ConflictError, UnknownReferenceError
from mentorbridge.plugin.pairing.plan import PairingPlan, plan_pairs
from mentorbridge.plugin.pairing.pool import Directory, Pool, eligible_on, load_pool
from mentorbridge.plugin.pairing.programme import Objective, PairingProgramme
from mentorbridge.plugin.pairing.rules import hard_rules
from mentorbridge.plugin.pairing.score import Scorer
from mentorbridge.plugin.store.base import utc_now
from mentorbridge.plugin.store.db import Store
from mentorbridge.plugin.store.pairing_models import PairingProposal, PairingRun
from mentorbridge.plugin.webhooks.events import parse_event
from mentorbridge.plugin.webhooks.processor import EventProcessor

__all__ = [
    "CURRENT",
    "Approval",
    "approve",
    "current",
    "describe",
    "lock",
    "lock_pair",
    "propose",
    "reject",
]

#: The statuses of a programme's current pairs.
CURRENT = ("proposed", "locked", "approved")
_OPEN = ("proposed", "locked")
SOURCE = "mentorbridge-pairing"


def propose(
    store: Store,
    programme: PairingProgramme,
    *,
    today: date,
    objective: Objective | None = None,
    re_pair: bool = False,
) -> tuple[PairingRun, PairingPlan]:
    """Compute the programme's pairs and keep them as drafts (replacing earlier drafts)."""
    with store.reading() as session:
        pool = load_pool(session, programme, today=today, re_pair=re_pair)
    _check_sides(pool)
    plan = plan_pairs(pool, objective=objective)
    with store.transaction() as session:
        session.execute(
            update(PairingProposal)
            .where(
                PairingProposal.programme_key == programme.key,
                PairingProposal.status == "proposed",
            )
            .values(status="superseded", decided_at=utc_now())
        )
        run = PairingRun(
            programme_key=programme.key,
            objective=plan.objective,
            mentees=len(pool.mentees),
            mentors=len(pool.mentors),
            pairs=len(plan.pairs) + len(pool.locked),
            total_score=plan.total,
            unmatched=plan.unmatched,
        )
        session.add(run)
        session.flush()
        session.add_all(
            PairingProposal(
                run_id=run.id,
                programme_key=programme.key,
                mentee=pair.mentee,
                mentor=pair.mentor,
                status="proposed",
                score=pair.score,
                breakdown=pair.breakdown,
                rules=pair.rules,
            )
            for pair in plan.pairs
        )
        session.flush()
        session.expunge(run)
    return run, plan


def _check_sides(pool: Pool) -> None:
    """Refuse a run that could not pair anyone because a side is empty, saying why."""
    programme = pool.programme
    for name, people, side in (
        ("mentees", pool.mentees, programme.mentees),
        ("mentors", pool.mentors, programme.mentors),
    ):
        if people:
            continue
        held = sum(1 for p in pool.left_out if p["role"] == name[:-1])
        rules = (
            [f"management levels {', '.join(side.management_levels)}"]
            if (side.management_levels)
            else []
        )
        if side.min_tenure_days is not None:
            rules.append(f"at least {side.min_tenure_days} days of tenure")
        if side.max_tenure_days is not None:
            rules.append(f"at most {side.max_tenure_days} days of tenure")
        if side.organizations:
            rules.append(f"in {', '.join(side.organizations)}")
        rules.append(f"worker types {', '.join(side.worker_types)}")
        why = (
            f"all {held} eligible are already paired in it (ask for a re-pairing)"
            if held
            else "no active worker in the HRIS mirror matches " + "; ".join(rules)
        )
        raise ConflictError(
            f"programme {programme.key!r} has no {name} to pair: {why}; widen "
            f"[programmes.{programme.key}.{name}] in the pairing file or add people to its opt_in"
        )


def current(store: Store, programme_key: str) -> tuple[PairingRun | None, list[PairingProposal]]:
    """The latest run and the programme's current pairs, best first."""
    with store.reading() as session:
        run = session.scalar(
            select(PairingRun)
            .where(PairingRun.programme_key == programme_key)
            .order_by(PairingRun.id.desc())
            .limit(1)
        )
        proposals = session.scalars(
            select(PairingProposal)
            .where(
                PairingProposal.programme_key == programme_key,
                PairingProposal.status.in_(CURRENT),
            )
            .order_by(PairingProposal.score.desc(), PairingProposal.id)
        ).all()
        session.expunge_all()
    return run, list(proposals)


def describe(run: Any, proposals: list[Any]) -> dict[str, Any]:
    """The current pairs and the latest run as JSON (as the CLI's --json and the API show them)."""
    return {
        "run": None
        if run is None
        else {
            "id": run.id,
            "objective": run.objective,
            "started_at": run.started_at.isoformat(),
            "eligible_mentees": run.mentees,
            "eligible_mentors": run.mentors,
            "total_score": run.total_score,
            "unmatched": run.unmatched,
        },
        "pairs": [
            {
                "id": row.id,
                "status": row.status,
                "mentee": row.mentee,
                "mentor": row.mentor,
                "score": row.score,
                "breakdown": row.breakdown,
                "rules": row.rules,
                "pair_id": row.pair_key,
            }
            for row in proposals
        ],
    }


def lock(store: Store, programme_key: str, proposal_id: int) -> PairingProposal:
    """Keep a proposed pair through every re-run."""
    return _decide(store, programme_key, proposal_id, "locked", allowed=("proposed", "locked"))


def reject(store: Store, programme_key: str, proposal_id: int) -> PairingProposal:
    """Never propose this pair again (a locked pair may be rejected too)."""
    return _decide(store, programme_key, proposal_id, "rejected", allowed=(*_OPEN, "rejected"))


def lock_pair(
    store: Store, programme: PairingProgramme, mentee: str, mentor: str, *, today: date
) -> PairingProposal:
    """Pair two people by hand (a swap), locked; their other drafts are superseded.

    Raises:
        ConflictError: they are not eligible, have no capacity left, or break a hard rule.
    """
    with store.transaction() as session:
        pool = load_pool(session, programme, today=today)
        mentees = {p.employee_id: k for k, p in enumerate(pool.mentees)}
        mentors = {p.employee_id: k for k, p in enumerate(pool.mentors)}
        session.execute(
            update(PairingProposal)
            .where(
                PairingProposal.programme_key == programme.key,
                PairingProposal.status == "proposed",
                (PairingProposal.mentee == mentee) | (PairingProposal.mentor == mentor),
            )
            .values(status="superseded", decided_at=utc_now())
        )
        for who, index, role in ((mentee, mentees, "mentee"), (mentor, mentors, "mentor")):
            if who not in index:
                raise ConflictError(_not_available(session, pool, who, role, today))
        # Scored on its own: a pool of the two (the rest of the pool does not change a score).
        pair = Pool(
            programme,
            today,
            [pool.mentees[mentees[mentee]]],
            [pool.mentors[mentors[mentor]]],
        )
        try:
            score, breakdown, rules = Scorer(pair).explain(0, 0)
        except ValueError as err:
            raise ConflictError(f"{mentee} and {mentor} cannot be paired: {err}") from None
        row = PairingProposal(
            programme_key=programme.key,
            mentee=mentee,
            mentor=mentor,
            status="locked",
            score=score,
            breakdown=breakdown,
            rules=rules,
            decided_at=utc_now(),
        )
        session.add(row)
        session.flush()
        session.expunge(row)
        return row


def _decide(
    store: Store, programme_key: str, proposal_id: int, status: str, *, allowed: tuple[str, ...]
) -> PairingProposal:
    with store.transaction() as session:
        row = session.get(PairingProposal, proposal_id, with_for_update=True)
        if row is None or row.programme_key != programme_key:
            raise UnknownReferenceError(
                f"no proposal {proposal_id} in programme {programme_key!r}: "
                f"`mentorbridge pairing show {programme_key}` lists them",
                kind="proposal",
                key=str(proposal_id),
            )
        if row.status not in allowed:
            raise ConflictError(
                f"proposal {proposal_id} is {row.status}: only a "
                f"{' or '.join(a for a in allowed if a != status)} pair can be {status}"
            )
        row.status, row.decided_at = status, utc_now()
        session.flush()
        session.expunge(row)
        return row


@dataclass(frozen=True, slots=True)
class Approval:
    """What an approval did: the pairs it created and those already approved before."""

    created: list[str]
    already: list[str]


def approve(
    store: Store,
    processor: EventProcessor,
    programme: PairingProgramme,
    proposal_ids: list[int] | None,
    *,
    today: date,
    started_on: date | None = None,
) -> Approval:
    """Approve the given proposals (``None``: every proposed and locked pair of the programme):
    each becomes a ``pair.created`` event, all in one transaction. The pairs start
    ``started_on`` (default: ``today``).

    Raises:
        UnknownReferenceError: an id that is not a proposal of this programme.
        ConflictError: a rejected or superseded proposal, or a pair that now breaks a rule
            (nothing is approved).
    """
    with store.transaction() as session:
        query = select(PairingProposal).where(PairingProposal.programme_key == programme.key)
        if proposal_ids is None:
            query = query.where(PairingProposal.status.in_(_OPEN))
        else:
            query = query.where(PairingProposal.id.in_(proposal_ids))
        rows = session.scalars(query.order_by(PairingProposal.id).with_for_update()).all()
        if proposal_ids is not None:
            _check_approvable(programme.key, proposal_ids, rows)
        todo = [row for row in rows if row.status in _OPEN]
        _check_still_valid(session, programme, todo, today)
        created, already = [], [row.pair_key for row in rows if row.status == "approved"]
        for row in todo:
            key = f"{programme.key}-pair-{row.id}"
            claimed = session.execute(
                update(PairingProposal)
                .where(PairingProposal.id == row.id, PairingProposal.status.in_(_OPEN))
                .values(status="approved", pair_key=key, decided_at=utc_now())
                .execution_options(synchronize_session=False)
            ).rowcount
            if not claimed:
                continue  # approved by a concurrent approval first
            event = _pair_created(programme, row, key, started_on or today)
            processor.process_within(session, event)
            created.append(key)
    return Approval(created, [key for key in already if key])


def _pair_created(programme: PairingProgramme, row: PairingProposal, key: str, today: date) -> Any:
    themes = row.breakdown.get("themes", {}).get("shared", [])
    data: dict[str, Any] = {
        "pair_id": key,
        "programme_id": programme.key,
        "programme_name": programme.name,
        "mentee": row.mentee,
        "mentor": row.mentor,
        "started_on": today.isoformat(),
    }
    if programme.cadence:
        data["cadence"] = programme.cadence
    if themes:
        data["themes"] = themes[:20]
    document = {
        "id": f"pairing-{programme.key}-{row.id}",
        "type": "pair.created",
        "occurred_at": utc_now().replace(microsecond=0).isoformat().replace("+00:00", "Z"),
        "source": SOURCE,
        "data": data,
    }
    return parse_event(json.dumps(document).encode("utf-8"))


def _check_approvable(key: str, ids: list[int], rows: list[PairingProposal]) -> None:
    found = {row.id: row for row in rows}
    missing = [i for i in ids if i not in found]
    if missing:
        raise UnknownReferenceError(
            f"no proposal {', '.join(map(str, missing))} in programme {key!r}: "
            f"`mentorbridge pairing show {key}` lists them",
            kind="proposal",
            key=str(missing[0]),
        )
    closed = [row for row in rows if row.status in ("rejected", "superseded")]
    if closed:
        raise ConflictError(
            "nothing approved: "
            + "; ".join(f"proposal {row.id} is {row.status}" for row in closed)
            + "; approve only proposed or locked pairs (run `pairing propose` for new drafts)"
        )


def _check_still_valid(
    session: Session, programme: PairingProgramme, rows: list[PairingProposal], today: date
) -> None:
    """Every pair still passes the hard rules with the HRIS as it is now."""
    if not rows:
        return
    directory = Directory.read(session)
    problems = []
    for row in rows:
        people = []
        for who, side in ((row.mentee, programme.mentees), (row.mentor, programme.mentors)):
            worker = directory.workers.get(who)
            if worker is None:
                problems.append(f"proposal {row.id}: {who} is no longer an active worker")
            elif (why := eligible_on(side, worker, directory, today)) is not None:
                problems.append(f"proposal {row.id}: {who} is no longer eligible ({why})")
            else:
                people.append(directory.candidate(worker))
        if len(people) == 2:
            _, broken = hard_rules(programme, people[0], people[1], today)
            problems += [f"proposal {row.id} ({row.mentee} with {row.mentor}): {b}" for b in broken]
    if problems:
        raise ConflictError(
            "nothing approved, the HRIS changed since the proposal: "
            + "; ".join(problems)
            + "; reject those pairs or run `mentorbridge pairing propose` again"
        )


def _not_available(session: Session, pool: Pool, who: str, role: str, today: date) -> str:
    side = pool.programme.mentees if role == "mentee" else pool.programme.mentors
    directory = Directory.read(session)
    worker = directory.workers.get(who)
    if worker is None:
        return f"{who} is not an active worker in the HRIS mirror"
    why = eligible_on(side, worker, directory, today)
    if why is not None:
        return f"{who} is not eligible as a {role} in {pool.programme.key}: {why}"
    return f"{who} has no {role} capacity left in {pool.programme.key} (locked or approved pairs)"
