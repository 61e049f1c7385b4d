"""Who should exist in Moodle, as the HRIS mirror and the programme say, and as what.

Everyone who takes part in a pair (either side), plus the workers of the organisations in
``moodle.scope_organisations``. The Moodle user is keyed by ``idnumber`` = the Workday
Employee ID; usernames are lowercase (Moodle refuses anything else); leavers are suspended,
never deleted (deleting anonymises the user and loses their evidence history).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import defaultdict
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from mentorbridge.connectors.moodle.settings import MoodleSettings
from mentorbridge.plugin.reports.sql import in_subtree, organisation_subtree
from mentorbridge.plugin.store.hris_models import HrisWorker
from mentorbridge.plugin.store.hris_orgs import resolve_organization
from mentorbridge.plugin.store.models import Pair

__all__ = ["DesiredUser", "desired_users", "split_name", "unknown_scope_organisations"]

_USERNAME_UNSAFE = re.compile(r"[^a-z0-9_.@-]")


@dataclass(frozen=True, slots=True)
class DesiredUser:
    """A person as their Moodle user should be."""

    person_id: int
    employee_id: str
    username: str
    firstname: str
    lastname: str
    email: str | None
    suspended: bool
    #: The sides of their pairs (``mentee``, ``mentor``); empty for scope-only workers.
    sides: frozenset[str]

    @property
    def participant(self) -> bool:
        return bool(self.sides)

    def digest(self) -> str:
        """Changes when anything written to Moodle for them would change."""
        fields = [self.employee_id, self.firstname, self.lastname, self.email, self.suspended]
        return hashlib.sha256(json.dumps(fields).encode()).hexdigest()


def split_name(name: str) -> tuple[str, str]:
    """First and last name from the HRIS's full name, split at the last space (the mirror
    keeps one name; ``Ada King Lovelace`` -> ``Ada King``, ``Lovelace``)."""
    parts = name.split()
    if len(parts) < 2:
        return (parts[0] if parts else "-"), "-"
    return " ".join(parts[:-1]), parts[-1]


def _username(worker: HrisWorker, settings: MoodleSettings) -> str:
    source = (worker.work_email or worker.employee_id).lower()
    if settings.username_from == "email_local_part":
        source = source.split("@", 1)[0]
    return _USERNAME_UNSAFE.sub("", source)[:100]


def desired_users(session: Session, settings: MoodleSettings) -> dict[int, DesiredUser]:
    """Every person who should have a Moodle user, by person id."""
    sides: dict[int, set[str]] = defaultdict(set)
    for mentee_id, mentor_id in session.execute(select(Pair.mentee_id, Pair.mentor_id)):
        sides[mentee_id].add("mentee")
        sides[mentor_id].add("mentor")
    people: set[int] = set(sides)
    for reference in settings.scope_organisations:
        organisation = resolve_organization(session, reference)
        if organisation is None:
            continue  # reported (unknown_scope_organisations); the participants go through
        tree = organisation_subtree(organisation.id)
        people.update(
            session.scalars(
                select(HrisWorker.person_id).where(
                    in_subtree(HrisWorker.supervisory_organization_id, tree)
                )
            )
        )
    workers: dict[int, HrisWorker] = {}
    for chunk in _chunks(sorted(people), 500):
        for worker in session.scalars(
            select(HrisWorker).where(HrisWorker.person_id.in_(chunk)).order_by(HrisWorker.id)
        ):
            held = workers.get(worker.person_id)
            if held is None or (worker.active and not held.active):
                workers[worker.person_id] = worker  # an active position wins over a past one
    desired = {}
    for person_id, worker in workers.items():
        first, last = split_name(worker.preferred_name or worker.legal_name)
        desired[person_id] = DesiredUser(
            person_id=person_id,
            employee_id=worker.employee_id,
            username=_username(worker, settings),
            firstname=first,
            lastname=last,
            email=worker.work_email.strip() if worker.work_email else None,
            suspended=not worker.active,
            sides=frozenset(sides.get(person_id, ())),
        )
    return desired


def unknown_scope_organisations(session: Session, settings: MoodleSettings) -> list[str]:
    """The ``moodle.scope_organisations`` entries the HRIS mirror does not know."""
    return [
        reference
        for reference in settings.scope_organisations
        if resolve_organization(session, reference) is None
    ]


def _chunks(values: list[int], size: int) -> list[list[int]]:
    return [values[i : i + size] for i in range(0, len(values), size)]
