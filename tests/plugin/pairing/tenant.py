"""Small tenants for pairing tests: people as the rules see them, and workers in a store."""

from __future__ import annotations

import hashlib
from dataclasses import replace
from datetime import date
from typing import Any

from sqlalchemy import insert

from mentorbridge.plugin.pairing.file import load_programmes
from mentorbridge.plugin.pairing.pool import Candidate, Pool
from mentorbridge.plugin.pairing.programme import PairingProgramme
from mentorbridge.plugin.store.db import Store
from mentorbridge.plugin.store.hris_models import HrisWorker
from mentorbridge.plugin.store.models import Person

TODAY = date(2026, 12, 6)
THEMES = ("AI", "digital", "sustainability", "customer", "inclusion")


def programme(**changes: Any) -> PairingProgramme:
    """The shipped default programme with the test themes (and ``changes``)."""
    base = load_programmes(None)["rm-2026"]
    return replace(base, **{"themes": THEMES, **changes})


def person(employee_id: str, **fields: Any) -> Candidate:
    """Someone in London with no manager, reporting to nobody, unless told otherwise."""
    values: dict[str, Any] = {
        "organisation": None,
        "function": None,
        "region": None,
        "time_zone": "Europe/London",
        "manager": None,
        "ancestors": frozenset(),
    }
    values.update(fields)
    return Candidate(employee_id=employee_id, **values)


def pool(mentees: list[Candidate], mentors: list[Candidate], **changes: Any) -> Pool:
    return Pool(programme(**changes), TODAY, mentees, mentors)


def add_workers(store: Store, workers: list[dict[str, Any]]) -> None:
    """Active employees in the HRIS mirror: each dict needs ``employee_id`` and may set
    management_level, manager, hire_date, time_zone, organisation."""
    with store.transaction() as session:
        for number, worker in enumerate(workers):
            employee_id = worker["employee_id"]
            person_id = session.execute(
                insert(Person)
                .values(worker_id=employee_id, opaque_id=f"opaque-{employee_id}", active=True)
                .returning(Person.id)
            ).scalar_one()
            session.execute(
                insert(HrisWorker).values(
                    workday_id=hashlib.sha256(employee_id.encode()).hexdigest()[:32],
                    employee_id=employee_id,
                    person_id=person_id,
                    worker_type="employee",
                    legal_name=f"Worker {number}",
                    management_level=worker.get("management_level"),
                    supervisory_organization_id=worker.get("organisation"),
                    manager_employee_id=worker.get("manager"),
                    time_zone=worker.get("time_zone", "Europe/London"),
                    hire_date=worker.get("hire_date", date(2026, 1, 1)),
                    active=True,
                    additional_jobs=[],
                    record_hash="x" * 64,
                )
            )
