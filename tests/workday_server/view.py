"""Lookups and rendered fragments built once per revision of a tenant.

Serving 100,000 workers page by page must not rescan the tenant per request: the sorted worker
list, the indexes and every rendered worker (JSON for REST, XML for SOAP) are built lazily and
kept until the tenant changes (:attr:`Tenant.revision` moves on).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any

from mentorbridge.connectors.workday.sample.tenant import Change, Tenant

__all__ = ["TenantView"]

Record = dict[str, Any]


class TenantView:
    """Indexes and caches over one revision of a tenant (safe to share between threads)."""

    def __init__(self, tenant: Tenant) -> None:
        self.tenant = tenant
        self.revision = tenant.revision
        self.workers = sorted(tenant.workers, key=lambda w: w["employee_id"])
        self.by_employee_id = {w["employee_id"]: w for w in tenant.workers}
        self.by_wid = {w["workday_id"]: w for w in tenant.workers}
        self.organizations = sorted(tenant.organizations, key=lambda o: o["organization_id"])
        self.organization = {o["organization_id"]: o for o in tenant.organizations}
        self.changes: dict[str, list[Change]] = {}
        for change in tenant.changes:
            self.changes.setdefault(change.workday_id, []).append(change)
        self.profile_names = {
            p["job_profile_id"]: p["job_profile"] for p in tenant.job_profile_competencies
        }
        for worker in tenant.workers:
            self.profile_names.setdefault(worker["job_profile_id"], worker["job_profile"])
        self._fragments: dict[Hashable, str] = {}
        self._selections: OrderedDict[Hashable, list[Record]] = OrderedDict()
        self._lock = threading.Lock()

    def fragment(self, key: Hashable, render: Callable[[], str]) -> str:
        """A rendered fragment, made by ``render`` the first time ``key`` is asked for."""
        found = self._fragments.get(key)
        if found is None:
            # Two threads may render the same fragment: harmless, the results are equal.
            found = self._fragments[key] = render()
        return found

    def selection(self, key: Hashable, select: Callable[[], list[Record]]) -> list[Record]:
        """A filtered worker list, kept for the few most recent distinct queries (paging a
        query asks for the same selection once per page)."""
        with self._lock:
            found = self._selections.get(key)
            if found is not None:
                self._selections.move_to_end(key)
                return found
        found = select()
        with self._lock:
            self._selections[key] = found
            while len(self._selections) > 16:
                self._selections.popitem(last=False)
        return found
