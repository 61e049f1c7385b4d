"""The bytes of every template are pinned: an LRS holds them, and a redelivery repeats them."""

from __future__ import annotations

import json

import pytest

from mentorbridge.xapi.statements import StatementBuilder
from tests.xapi.statement_cases import GOLDEN, payloads

EXPECTED: dict[str, str] = json.loads(GOLDEN.read_text())


def test_every_case_is_pinned(builder: StatementBuilder) -> None:
    assert sorted(payloads(builder)) == sorted(EXPECTED)


@pytest.mark.parametrize("case", sorted(EXPECTED))
def test_a_statement_is_exactly_its_pinned_bytes(builder: StatementBuilder, case: str) -> None:
    assert payloads(builder)[case] == EXPECTED[case]
