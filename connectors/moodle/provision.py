"""Users: find or create each person's Moodle user, keep names and email in step, suspend
leavers and unsuspend rehires.

A person is looked up by ``idnumber`` = Employee ID, then (if configured, and reported when
used) by email or username; a user found that way gets the Employee ID as idnumber, so the
next lookup is direct. Lookups, creations and updates go in batches of ``moodle.batch_size``.
Once a person's user is known, only a change to what Mentorbridge writes (names, email,
suspension) makes another call: a re-run with nothing changed calls nothing here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, select

from mentorbridge.connectors.moodle.batches import chunks, isolate
from mentorbridge.connectors.moodle.client import MoodleClient
from mentorbridge.connectors.moodle.errors import MoodleError
from mentorbridge.connectors.moodle.people import (
    DesiredUser,
    desired_users,
    unknown_scope_organisations,
)
from mentorbridge.connectors.moodle.report import PushReport
from mentorbridge.connectors.moodle.settings import MoodleSettings
from mentorbridge.plugin.errors import SourcePermissionError
from mentorbridge.plugin.store.base import utc_now
from mentorbridge.plugin.store.db import Store
from mentorbridge.plugin.store.lms_models import MoodleUser

__all__ = ["KnownUser", "provision_users"]

UNKNOWN_SCOPE = (
    "no organisation with this id is in the HRIS mirror, so its workers were left out: "
    "correct moodle.scope_organisations (a Workday ID or reference id such as SUP_...), or "
    "run `mentorbridge sync workday` if it is new"
)

PHASE = "users"


@dataclass(frozen=True, slots=True)
class KnownUser:
    """A person's Moodle user, as later phases need it."""

    person_id: int
    moodle_id: int
    suspended: bool
    enrolled: bool
    sides: frozenset[str]


def provision_users(
    client: MoodleClient,
    store: Store,
    settings: MoodleSettings,
    report: PushReport,
    *,
    service_user_id: int | None,
    full: bool = False,
) -> dict[int, KnownUser]:
    """Bring Moodle's users in step with the people who should have one.

    Returns:
        every person with a Moodle user after the run, by person id (in a dry run: those
        already known, plus those found).
    """
    with store.reading() as session:
        desired = desired_users(session, settings)
        unscoped = unknown_scope_organisations(session, settings)
        rows = {row.person_id: row for row in session.scalars(select(MoodleUser))}
    for reference in unscoped:
        report.problem(PHASE, f"moodle.scope_organisations {reference}", UNKNOWN_SCOPE)
    known = {pid: _as_known(row, desired[pid].sides) for pid, row in rows.items() if pid in desired}
    report.count(PHASE, "people", len(desired))
    if full:
        unknown = list(desired.values())  # look everyone up again and compare with Moodle
    else:
        unknown = [d for d in desired.values() if d.person_id not in rows]
    stale = [
        d
        for d in desired.values()
        if d.person_id in rows and not full and rows[d.person_id].digest != d.digest()
    ]
    found = _look_up(client, unknown, settings, report)
    updates: list[tuple[DesiredUser, dict[str, Any], str]] = []
    matched: list[tuple[DesiredUser, dict[str, Any], str]] = []
    for person in unknown:
        match = found.get(person.person_id)
        if match is None:
            continue
        user, how = match
        if how == "conflict":
            continue
        if service_user_id is not None and user["id"] == service_user_id:
            report.problem(
                PHASE,
                person.employee_id,
                "matches the integration user itself; give the integration user another "
                "idnumber and email than any worker's",
            )
            continue
        changes = _differences(person, user)
        if changes:
            updates.append((person, {"id": user["id"], **changes}, how))
        else:
            matched.append((person, user, how))
            report.count(PHASE, "matched")
    known.update((k.person_id, k) for k in _record(store, matched, report))
    for person in stale:
        row = rows[person.person_id]
        user = {"id": row.moodle_id}
        changes: dict[str, Any] = {
            "firstname": person.firstname,
            "lastname": person.lastname,
            "idnumber": person.employee_id,
        }
        if row.suspended != person.suspended:
            changes["suspended"] = person.suspended
        if person.email:
            changes["email"] = person.email
        updates.append((person, {"id": row.moodle_id, **changes}, row.matched_by))
    _update(client, store, updates, report, known)
    missing = [p for p in unknown if p.person_id not in found]
    _create(client, store, settings, missing, report, known)
    return known


def _as_known(row: MoodleUser, sides: frozenset[str]) -> KnownUser:
    return KnownUser(row.person_id, row.moodle_id, row.suspended, row.enrolled, sides)


def _look_up(
    client: MoodleClient,
    people: Sequence[DesiredUser],
    settings: MoodleSettings,
    report: PushReport,
) -> dict[int, tuple[dict[str, Any], str]]:
    """Moodle users for ``people``, by person id, with how each was found."""
    found: dict[int, tuple[dict[str, Any], str]] = {}
    taken: set[int] = set()
    for field in ("idnumber", *settings.match_fallback):
        remaining = [p for p in people if p.person_id not in found and _key(p, field)]
        if not remaining:
            continue
        for batch in chunks(remaining, settings.batch_size):
            values = [_key(p, field) for p in batch]
            users = client.call("core_user_get_users_by_field", field=field, values=values)
            by_value: dict[str, list[dict[str, Any]]] = {}
            for user in users:
                if field not in user:
                    raise _hidden_field(field)
                by_value.setdefault(str(user[field]).lower(), []).append(user)
            for person in batch:
                candidates = by_value.get(_key(person, field).lower(), [])
                if field != "idnumber":
                    # Someone else's account (another Employee ID) is never taken over.
                    candidates = [
                        u for u in candidates if u.get("idnumber", "") in ("", person.employee_id)
                    ]
                if len(candidates) > 1:
                    ids = ", ".join(str(u["id"]) for u in candidates)
                    report.problem(
                        PHASE,
                        person.employee_id,
                        f"several Moodle users have this {field} (ids {ids}); keep one "
                        f"(Site administration > Users > Browse list of users) and clear the "
                        f"{field} of the others",
                    )
                    found[person.person_id] = ({}, "conflict")
                elif candidates and candidates[0]["id"] in taken:
                    report.problem(
                        PHASE,
                        person.employee_id,
                        f"Moodle user {candidates[0]['id']} was already matched to another "
                        f"person; give it the right idnumber in Moodle",
                    )
                    found[person.person_id] = ({}, "conflict")
                elif candidates:
                    found[person.person_id] = (candidates[0], field)
                    taken.add(candidates[0]["id"])
                    if field != "idnumber":
                        report.count(PHASE, f"matched_by_{field}")
    return found


def _key(person: DesiredUser, field: str) -> str:
    if field == "idnumber":
        return person.employee_id
    if field == "email":
        return (person.email or "").lower()
    return person.username


def _hidden_field(field: str) -> SourcePermissionError:
    return SourcePermissionError(
        f"core_user_get_users_by_field returned users without their {field}: the integration "
        "role lacks moodle/user:viewalldetails (idnumber) or moodle/course:useremail (email); "
        "add them to the role (Site administration > Users > Define roles)"
    )


def _differences(person: DesiredUser, user: dict[str, Any]) -> dict[str, Any]:
    """What to write to ``user`` so it is ``person``: only fields Moodle showed and differ."""
    changes: dict[str, Any] = {}
    if user.get("idnumber", "") != person.employee_id:
        changes["idnumber"] = person.employee_id
    if "firstname" in user:
        if user["firstname"] != person.firstname:
            changes["firstname"] = person.firstname
        if user.get("lastname") != person.lastname:
            changes["lastname"] = person.lastname
    elif user.get("fullname") != f"{person.firstname} {person.lastname}":
        # Without moodle/site:viewfullnames only fullname comes back (`moodle check` says so).
        changes["firstname"], changes["lastname"] = person.firstname, person.lastname
    if person.email and str(user.get("email", "")).lower() != person.email.lower():
        changes["email"] = person.email
    if bool(user.get("suspended", False)) != person.suspended:
        changes["suspended"] = person.suspended
    return changes


def _record(
    store: Store, found: Sequence[tuple[DesiredUser, dict[str, Any], str]], report: PushReport
) -> list[KnownUser]:
    """Remember the Moodle user of each person in ``found`` (person, user, how matched), in
    one transaction."""
    if report.dry_run or not found:
        return [
            KnownUser(person.person_id, user["id"], person.suspended, False, person.sides)
            for person, user, _how in found
        ]
    recorded = []
    with store.transaction() as session:
        rows = {
            row.person_id: row
            for ids in chunks([person.person_id for person, _, _ in found], 500)
            for row in session.scalars(select(MoodleUser).where(MoodleUser.person_id.in_(ids)))
        }
        for person, user, how in found:
            row = rows.get(person.person_id)
            if row is None:
                row = MoodleUser(
                    person_id=person.person_id,
                    moodle_id=user["id"],
                    username=user.get("username", person.username),
                    matched_by=how,
                    enrolled=False,
                )
                session.add(row)
            row.digest = person.digest()
            row.suspended = person.suspended
            row.updated_at = utc_now()
            enrolled = row.enrolled
            recorded.append(
                KnownUser(person.person_id, user["id"], person.suspended, enrolled, person.sides)
            )
    return recorded


def _update(
    client: MoodleClient,
    store: Store,
    updates: list[tuple[DesiredUser, dict[str, Any], str]],
    report: PushReport,
    known: dict[int, KnownUser],
) -> None:
    for batch in chunks(updates, 100):
        for _person, changes, _how in batch:
            if "suspended" in changes:
                report.count(PHASE, "suspended" if changes["suspended"] else "unsuspended")
            others = set(changes) - {"id", "suspended"}
            if others:
                report.count(PHASE, "updated")
        if report.dry_run:
            for person, changes, _how in batch:
                known[person.person_id] = KnownUser(
                    person.person_id, changes["id"], person.suspended, False, person.sides
                )
            continue
        answer = client.call("core_user_update_users", users=[c for _, c, _ in batch])
        refused = {
            w.get("itemid"): w for w in (answer or {}).get("warnings", []) if w.get("itemid")
        }
        updated = [(p, {"id": c["id"]}, how) for p, c, how in batch if c["id"] not in refused]
        known.update((k.person_id, k) for k in _record(store, updated, report))
        for person, changes, _how in batch:
            warning = refused.get(changes["id"])
            if warning is None:
                continue
            report.problem(
                PHASE,
                person.employee_id,
                f"Moodle refused the update of user {changes['id']} "
                f"({warning.get('warningcode')}: {warning.get('message')})",
            )
            if warning.get("warningcode") == "invaliduserid" and not report.dry_run:
                # Deleted in Moodle: forget it, the next run looks the person up again.
                with store.transaction() as session:
                    session.execute(
                        delete(MoodleUser).where(MoodleUser.person_id == person.person_id)
                    )


def _create(
    client: MoodleClient,
    store: Store,
    settings: MoodleSettings,
    people: list[DesiredUser],
    report: PushReport,
    known: dict[int, KnownUser],
) -> None:
    creatable = []
    for person in people:
        if person.suspended:
            continue  # a leaver Moodle never knew needs no account
        if not person.email:
            report.problem(
                PHASE,
                person.employee_id,
                "has no work email in the HRIS, and Moodle needs one to create a user; add it "
                "in Workday (or create the user in Moodle with this idnumber)",
            )
            continue
        creatable.append(person)
    if report.dry_run:
        report.count(PHASE, "created", len(creatable))
        return

    def send(batch: Sequence[DesiredUser]) -> Any:
        return client.call("core_user_create_users", users=[_new_user(p, settings) for p in batch])

    for batch in chunks(creatable, settings.batch_size):
        done, refused = isolate(batch, send)
        made = [
            (person, created, "created")
            for sent, answer in done
            for person, created in zip(sent, answer, strict=True)
        ]
        known.update((k.person_id, k) for k in _record(store, made, report))
        report.count(PHASE, "created", len(made))
        for person, error in refused:
            report.problem(PHASE, person.employee_id, _refusal(person, error))


def _new_user(person: DesiredUser, settings: MoodleSettings) -> dict[str, Any]:
    user: dict[str, Any] = {
        "username": person.username,
        "firstname": person.firstname,
        "lastname": person.lastname,
        "email": person.email,
        "idnumber": person.employee_id,
        "auth": settings.auth,
    }
    if settings.auth == "manual":
        user["createpassword"] = True  # Moodle emails a password that meets its policy
    return user


def _refusal(person: DesiredUser, error: MoodleError) -> str:
    return f"Moodle refused to create user {person.username!r}: {error}"
