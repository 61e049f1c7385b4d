"""The sample Workday tenant: generated people and talent data, and its custom-report files.

``connectors/workday/sample/data/`` holds the 500-worker tenant as report files (regenerate
with ``python -m connectors.workday.sample``); ``mentorbridge demo`` reads them through the
file source. Tests and benchmarks generate tenants of any size with :func:`generate_tenant`.
"""

from __future__ import annotations

from mentorbridge.connectors.workday.sample.tenant import (
    STREAMS,
    Change,
    Tenant,
    change_workers,
    generate_tenant,
    is_active,
    rehire,
    terminate,
)

__all__ = [
    "STREAMS",
    "Change",
    "Tenant",
    "change_workers",
    "generate_tenant",
    "is_active",
    "rehire",
    "terminate",
]
