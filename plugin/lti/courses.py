"""The courses the tool was launched from, with their roster (NRPS) and gradebook (AGS)
service URLs as the launch claims gave them, kept so the roster and scores can be read and
posted later, outside any launch."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from mentorbridge.plugin.lti.claims import Launch
from mentorbridge.plugin.store.db import Store
from mentorbridge.plugin.store.lti_models import LtiLineItem

__all__ = ["Course", "courses", "remember_course"]


@dataclass(frozen=True)
class Course:
    id: int
    platform_id: int
    context_id: str
    deployment_id: str
    lineitems_url: str | None
    lineitem_url: str | None
    memberships_url: str | None


def remember_course(store: Store, platform_id: int, launch: Launch) -> None:
    """Keep (or refresh) the service URLs of the launch's course."""
    if launch.context_id is None:
        return
    lineitems = (launch.ags or {}).get("lineitems")
    memberships = (launch.nrps or {}).get("context_memberships_url")
    if not lineitems and not memberships:
        return
    values = {
        "lineitems_url": lineitems or "",
        "memberships_url": memberships,
        "deployment_id": launch.deployment_id,
    }
    for _attempt in range(2):  # two first launches of one course may race
        try:
            with store.transaction() as session:
                row = session.scalars(
                    select(LtiLineItem).where(
                        LtiLineItem.platform_id == platform_id,
                        LtiLineItem.context_id == launch.context_id,
                    )
                ).first()
                if row is None:
                    session.add(
                        LtiLineItem(platform_id=platform_id, context_id=launch.context_id, **values)
                    )
                else:
                    for name, value in values.items():
                        if value and getattr(row, name) != value:
                            setattr(row, name, value)
            return
        except IntegrityError:
            continue


def courses(store: Store, platform_id: int | None = None) -> list[Course]:
    with store.reading() as session:
        query = select(LtiLineItem).order_by(LtiLineItem.id)
        if platform_id is not None:
            query = query.where(LtiLineItem.platform_id == platform_id)
        return [
            Course(
                id=row.id,
                platform_id=row.platform_id,
                context_id=row.context_id,
                deployment_id=row.deployment_id,
                lineitems_url=row.lineitems_url or None,
                lineitem_url=row.lineitem_url,
                memberships_url=row.memberships_url,
            )
            for row in session.scalars(query)
        ]
