"""Names and Role Provisioning: read a course's roster and link its members to HRIS workers in
bulk (by their LIS person sourcedid, else their email, as ``lti.link_by`` allows), reporting
who could not be linked."""

from __future__ import annotations

from dataclasses import dataclass, field

from mentorbridge.plugin.lti.advantage import AdvantageClient
from mentorbridge.plugin.lti.courses import Course
from mentorbridge.plugin.lti.linking import Identity, Link, link_user
from mentorbridge.plugin.store.db import Store

__all__ = ["NRPS_MEDIA_TYPE", "NRPS_SCOPE", "Member", "RosterReport", "read_roster", "sync_roster"]

NRPS_SCOPE = "https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly"
NRPS_MEDIA_TYPE = "application/vnd.ims.lti-nrps.v2.membershipcontainer+json"


@dataclass(frozen=True)
class Member:
    subject: str
    name: str | None
    email: str | None
    person_sourcedid: str | None
    roles: tuple[str, ...]
    active: bool


@dataclass
class RosterReport:
    members: int = 0
    pages: int = 0
    linked: dict[str, int] = field(default_factory=dict)
    #: Members no claim linked: (LMS user id, name).
    unlinked: list[tuple[str, str | None]] = field(default_factory=list)


def read_roster(client: AdvantageClient, course: Course, report: RosterReport) -> list[Member]:
    """Every member of the course, over all pages."""
    if not course.memberships_url:
        return []
    members = []
    for body, page in client.get_pages(
        course.memberships_url, scopes=(NRPS_SCOPE,), accept=NRPS_MEDIA_TYPE, what="roster"
    ):
        report.pages = page
        for entry in (body or {}).get("members", []):
            if not isinstance(entry, dict) or not isinstance(entry.get("user_id"), str):
                continue
            members.append(
                Member(
                    subject=entry["user_id"],
                    name=entry.get("name"),
                    email=entry.get("email"),
                    person_sourcedid=entry.get("lis_person_sourcedid"),
                    roles=tuple(entry.get("roles") or ()),
                    active=entry.get("status", "Active") == "Active",
                )
            )
    report.members += len(members)
    return members


def sync_roster(
    store: Store,
    client: AdvantageClient,
    course: Course,
    link_by: list[str],
    report: RosterReport,
) -> dict[str, Link]:
    """Link the course's members; returns each linked member's link by LMS user id."""
    links: dict[str, Link] = {}
    for member in read_roster(client, course, report):
        identity = Identity(
            subject=member.subject, person_sourcedid=member.person_sourcedid, email=member.email
        )
        link = link_user(store, course.platform_id, identity, [m for m in link_by if m != "custom"])
        if link is None:
            report.unlinked.append((member.subject, member.name))
            continue
        links[member.subject] = link
        report.linked[link.linked_by] = report.linked.get(link.linked_by, 0) + 1
    return links
