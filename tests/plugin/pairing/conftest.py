"""The pairing tests' shared tenant."""

from __future__ import annotations

from datetime import date

import pytest

from mentorbridge.plugin.store.db import Store
from tests.plugin.pairing.tenant import add_workers

EXECUTIVES = ["E1", "E2", "E3"]
JUNIORS = ["J1", "J2", "J3", "J4"]


@pytest.fixture
def tenant(store: Store) -> Store:
    """A CEO; three executives under them; four juniors under managers below E1 and E2."""
    add_workers(
        store,
        [
            {"employee_id": "CEO", "management_level": "1 Chief Executive"},
            *(
                {"employee_id": e, "management_level": "2 Senior Executive", "manager": "CEO"}
                for e in EXECUTIVES
            ),
            {"employee_id": "M1", "management_level": "5 Manager", "manager": "E1"},
            {"employee_id": "M2", "management_level": "5 Manager", "manager": "E2"},
            *(
                {
                    "employee_id": j,
                    "management_level": "6 Individual Contributor",
                    "manager": "M1" if k < 2 else "M2",
                    "hire_date": date(2026, 3, 1),
                }
                for k, j in enumerate(JUNIORS)
            ),
        ],
    )
    return store
