"""Who takes part in a pairing run: each side's eligible people, read from the HRIS mirror and
the intake, with what the rules need to know about them.

Eligibility follows the programme's sides (management level, tenure, worker type, organisation
scope) plus the opt-in lists; people already paired in the programme keep only their remaining
capacity unless a re-pairing is asked for. Locked proposals take capacity too, and rejected
pairs are never proposed again.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from mentorbridge.plugin.errors import ValidationError
from mentorbridge.plugin.pairing.programme import PairingProgramme, Side
from mentorbridge.plugin.store.hris_models import HrisOrganization, HrisWorker
from mentorbridge.plugin.store.models import Pair, Person, Programme
from mentorbridge.plugin.store.pairing_models import PairingIntake, PairingProposal

__all__ = ["Candidate", "Directory", "Pool", "eligible_on", "load_pool"]


@dataclass(slots=True)
class Candidate:
    """One eligible person, as the rules and scores see them."""

    employee_id: str
    organisation: str | None
    function: str | None
    region: str | None
    time_zone: str | None
    manager: str | None
    #: Everyone above them in the reporting chain (Employee IDs).
    ancestors: frozenset[str]
    #: Intake themes in the programme's spelling (an executive's most important first).
    themes: tuple[str, ...] = ()
    languages: frozenset[str] = frozenset()
    #: Protected attributes, only those the programme uses and only with consent.
    protected: dict[str, str] = field(default_factory=dict)
    capacity: int = 1
    #: Active pairs they mentor in, in any programme.
    mentoring: int = 0


@dataclass(slots=True)
class Pool:
    """The people of one pairing run and the decisions it must respect."""

    programme: PairingProgramme
    today: date
    mentees: list[Candidate]
    mentors: list[Candidate]
    #: (mentee, mentor) Employee IDs of locked proposals: kept as they are.
    locked: list[tuple[str, str]] = field(default_factory=list)
    rejected: set[tuple[str, str]] = field(default_factory=set)
    #: ``{employee_id, role, reason}`` for eligible people with no capacity left.
    left_out: list[dict[str, str]] = field(default_factory=list)


@dataclass(slots=True)
class Directory:
    """The mirror's active workers and organisations, as eligibility and the rules need them."""

    workers: dict[str, tuple]  # employee_id -> row of _WORKER_COLUMNS
    managers: dict[str, str | None]
    organisation_of: dict[str, str]  # any id of an organisation -> its organization_id
    parent: dict[str, str | None]

    @classmethod
    def read(cls, session: Session) -> Directory:
        workers = {
            row.employee_id: row
            for row in session.execute(select(*_WORKER_COLUMNS).where(HrisWorker.active.is_(True)))
        }
        organisation_of: dict[str, str] = {}
        parent: dict[str, str | None] = {}
        for org in session.execute(
            select(
                HrisOrganization.organization_id,
                HrisOrganization.workday_id,
                HrisOrganization.reference_id,
                HrisOrganization.superior_organization_id,
            )
        ):
            for alias in (org.organization_id, org.workday_id, org.reference_id):
                if alias:
                    organisation_of[alias] = org.organization_id
            parent[org.organization_id] = org.superior_organization_id
        parent = {
            key: organisation_of.get(value, value) if value else None
            for key, value in parent.items()
        }
        managers = {employee_id: row.manager_employee_id for employee_id, row in workers.items()}
        return cls(workers, managers, organisation_of, parent)

    def ancestors(self, employee_id: str) -> frozenset[str]:
        """Everyone above a worker (a cycle in HRIS data is cut where it closes)."""
        above: list[str] = []
        seen = {employee_id}
        current = self.managers.get(employee_id)
        while current is not None and current not in seen:
            above.append(current)
            seen.add(current)
            current = self.managers.get(current)
        return frozenset(above)

    def candidate(self, row: tuple) -> Candidate:
        """The worker of ``row`` as the hard rules see them (no intake, full capacity)."""
        return Candidate(
            employee_id=row.employee_id,
            organisation=self.organisation_of.get(
                row.supervisory_organization_id, row.supervisory_organization_id
            ),
            function=self.function(row.supervisory_organization_id),
            region=row.country or _area(row.time_zone),
            time_zone=row.time_zone,
            manager=row.manager_employee_id,
            ancestors=self.ancestors(row.employee_id),
        )

    def organisations_above(self, organisation: str | None) -> list[str]:
        """The organisation and every one above it, nearest first."""
        chain: list[str] = []
        current = self.organisation_of.get(organisation, organisation) if organisation else None
        while current is not None and current not in chain:
            chain.append(current)
            current = self.parent.get(current)
        return chain

    def function(self, organisation: str | None) -> str | None:
        """The top-level organisation below the company's root that holds ``organisation``."""
        chain = self.organisations_above(organisation)
        if not chain:
            return None
        return chain[-2] if len(chain) >= 2 else chain[-1]


_WORKER_COLUMNS = (
    HrisWorker.employee_id,
    HrisWorker.worker_type,
    HrisWorker.management_level,
    HrisWorker.hire_date,
    HrisWorker.supervisory_organization_id,
    HrisWorker.manager_employee_id,
    HrisWorker.country,
    HrisWorker.time_zone,
    HrisWorker.sensitive,
)


def eligible_on(side: Side, row: tuple, directory: Directory, today: date) -> str | None:
    """Why the worker of ``row`` is not eligible on ``side``; ``None`` when they are."""
    if row.employee_id in side.opt_in:
        return None
    if row.worker_type not in side.worker_types:
        return f"a {row.worker_type} worker (the programme takes {', '.join(side.worker_types)})"
    level = row.management_level or ""
    if side.management_levels and not any(
        level == wanted or level.startswith(wanted + " ") for wanted in side.management_levels
    ):
        return f"management level {level or '(none)'} is not one the programme takes"
    if side.min_tenure_days is not None or side.max_tenure_days is not None:
        if row.hire_date is None:
            return "the HRIS gives no hire date, and the programme has a tenure rule"
        tenure = (today - row.hire_date).days
        if side.min_tenure_days is not None and tenure < side.min_tenure_days:
            return f"{tenure} days of tenure, fewer than {side.min_tenure_days}"
        if side.max_tenure_days is not None and tenure > side.max_tenure_days:
            return f"{tenure} days of tenure, more than {side.max_tenure_days}"
    if side.organizations:
        scope = {directory.organisation_of.get(o, o) for o in side.organizations}
        if not scope.intersection(directory.organisations_above(row.supervisory_organization_id)):
            return "works outside the organisations the programme covers"
    return None


def load_pool(
    session: Session, programme: PairingProgramme, *, today: date, re_pair: bool = False
) -> Pool:
    """The pool of ``programme`` as the store has it now.

    Raises:
        ValidationError: an opt-in list names someone the HRIS mirror has no active worker for.
    """
    directory = Directory.read(session)
    _check_opt_in(programme, directory)
    intake = {
        (row.employee_id, row.role): row
        for row in session.scalars(
            select(PairingIntake).where(PairingIntake.programme_key == programme.key)
        )
    }
    in_programme = Counter[tuple[str, str]]()
    if not re_pair:
        for mentee, mentor in _active_pairs(session, programme.key):
            in_programme[(mentee, "mentee")] += 1
            in_programme[(mentor, "mentor")] += 1
    mentoring = Counter(mentor for _, mentor in _active_pairs(session, None))
    proposals = session.execute(
        select(PairingProposal.mentee, PairingProposal.mentor, PairingProposal.status).where(
            PairingProposal.programme_key == programme.key,
            PairingProposal.status.in_(("locked", "rejected")),
        )
    ).all()
    locked = [(p.mentee, p.mentor) for p in proposals if p.status == "locked"]
    for mentee, mentor in locked:
        in_programme[(mentee, "mentee")] += 1
        in_programme[(mentor, "mentor")] += 1
    pool = Pool(
        programme,
        today,
        mentees=[],
        mentors=[],
        locked=locked,
        rejected={(p.mentee, p.mentor) for p in proposals if p.status == "rejected"},
    )
    for role, side, people in (
        ("mentee", programme.mentees, pool.mentees),
        ("mentor", programme.mentors, pool.mentors),
    ):
        for employee_id in sorted(directory.workers):
            row = directory.workers[employee_id]
            if eligible_on(side, row, directory, today) is not None:
                continue
            capacity = side.capacity - in_programme[(employee_id, role)]
            if capacity <= 0:
                pool.left_out.append(
                    {
                        "employee_id": employee_id,
                        "role": role,
                        "reason": "already paired in this programme (locked or approved); "
                        "ask for a re-pairing to pair them again",
                    }
                )
                continue
            people.append(
                _candidate(
                    row,
                    directory,
                    programme,
                    intake.get((employee_id, role)),
                    capacity,
                    mentoring[employee_id],
                )
            )
    return pool


def _candidate(
    row: tuple,
    directory: Directory,
    programme: PairingProgramme,
    intake: PairingIntake | None,
    capacity: int,
    mentoring: int,
) -> Candidate:
    consent = intake is not None and intake.protected_consent
    sensitive = row.sensitive or {}
    return replace(
        directory.candidate(row),
        themes=tuple(intake.themes) if intake is not None else (),
        languages=frozenset(x.casefold() for x in intake.languages) if intake else frozenset(),
        protected={
            name: str(sensitive[name])
            for name in programme.protected_attributes
            if consent and sensitive.get(name)
        },
        capacity=capacity,
        mentoring=mentoring,
    )


def _area(time_zone: str | None) -> str | None:
    """``Europe/Berlin`` -> ``Europe``: the region when the HRIS gives no country."""
    return time_zone.split("/", 1)[0] if time_zone and "/" in time_zone else time_zone


def _active_pairs(session: Session, programme_key: str | None) -> Iterable[tuple[str, str]]:
    mentee, mentor = Person.__table__.alias("mentee"), Person.__table__.alias("mentor")
    query = (
        select(mentee.c.worker_id, mentor.c.worker_id)
        .select_from(Pair)
        .join(mentee, mentee.c.id == Pair.mentee_id)
        .join(mentor, mentor.c.id == Pair.mentor_id)
        .where(Pair.status == "active")
    )
    if programme_key is not None:
        query = query.join(Programme, Programme.id == Pair.programme_id).where(
            Programme.key == programme_key
        )
    return [(a, b) for a, b in session.execute(query)]


def _check_opt_in(programme: PairingProgramme, directory: Directory) -> None:
    problems = [
        (
            f"programmes.{programme.key}.{side}.opt_in",
            f"{employee_id} is not an active worker in the HRIS mirror: remove them, or run "
            "`mentorbridge sync workday` if they joined since the last sync",
        )
        for side, spec in (("mentees", programme.mentees), ("mentors", programme.mentors))
        for employee_id in spec.opt_in
        if employee_id not in directory.workers
    ]
    if problems:
        raise ValidationError("the pairing file", problems)
