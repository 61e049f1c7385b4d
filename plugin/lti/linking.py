"""Who an LMS user is in the HRIS: linked by the configured claims, in order (``lti.link_by``),
and remembered per platform, so a later launch without the claim (or the roster read) still
finds them.

* ``custom``: the custom parameter ``lti.custom_parameter`` (dynamic registration asks the LMS
  to fill it with the user's ID number, ``$Person.sourcedId``; the Moodle push sets a user's
  ID number to their Employee ID);
* ``lis_person_sourcedid``: the LIS claim (Moodle sends the ID number there too);
* ``email``: the work email in the HRIS mirror, only if exactly one worker has it. Every link
  made this way is reported (`mentorbridge lti links --by email`): an email can be reused.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from mentorbridge.plugin.store.base import utc_now
from mentorbridge.plugin.store.db import Store
from mentorbridge.plugin.store.hris_models import HrisWorker
from mentorbridge.plugin.store.lti_models import LtiUserLink

__all__ = ["Identity", "Link", "link_user"]


@dataclass(frozen=True)
class Identity:
    """What a platform says about one of its users (from a launch or the roster)."""

    subject: str
    custom_employee_id: str | None = None
    person_sourcedid: str | None = None
    email: str | None = None


@dataclass(frozen=True)
class Link:
    worker_id: str
    linked_by: str


def link_user(
    store: Store, platform_id: int, identity: Identity, link_by: Sequence[str]
) -> Link | None:
    """The HRIS worker of ``identity``, linked (and remembered) by the first claim in
    ``link_by`` that names a worker; else the link remembered from before; else ``None``."""
    with store.transaction() as session:
        found = _resolve(session, identity, link_by)
        link = session.scalars(
            select(LtiUserLink).where(
                LtiUserLink.platform_id == platform_id, LtiUserLink.subject == identity.subject
            )
        ).first()
        if found is None:
            return Link(link.worker_id, link.linked_by) if link is not None else None
        worker_id, how = found
        if link is None:
            session.add(
                LtiUserLink(
                    platform_id=platform_id,
                    subject=identity.subject,
                    worker_id=worker_id,
                    linked_by=how,
                )
            )
        elif (link.worker_id, link.linked_by) != (worker_id, how):
            link.worker_id, link.linked_by, link.updated_at = worker_id, how, utc_now()
        return Link(worker_id, how)


def _resolve(
    session: Session, identity: Identity, link_by: Sequence[str]
) -> tuple[str, str] | None:
    for how in link_by:
        if how == "custom":
            candidate = _usable(identity.custom_employee_id)
            if candidate and _known(session, candidate):
                return candidate, how
        elif how == "lis_person_sourcedid":
            candidate = _usable(identity.person_sourcedid)
            if candidate and _known(session, candidate):
                return candidate, how
        elif how == "email" and identity.email:
            matches = session.scalars(
                select(HrisWorker.employee_id)
                .where(func.lower(HrisWorker.work_email) == identity.email.strip().lower())
                .distinct()
                .limit(2)
            ).all()
            if len(matches) == 1:
                return matches[0], how
    return None


def _usable(value: str | None) -> str | None:
    """A claim value, unless empty or an LMS substitution variable left unsubstituted
    (``$Person.sourcedId`` when the user has no ID number)."""
    value = (value or "").strip()
    return value if value and not value.startswith("$") else None


def _known(session: Session, employee_id: str) -> bool:
    return (
        session.scalar(select(HrisWorker.id).where(HrisWorker.employee_id == employee_id).limit(1))
        is not None
    )
