"""The pairing file: every problem at once with its line and fix; contradictions a schema
cannot see; opt-in lists naming people the HRIS does not have."""

from __future__ import annotations

from dataclasses import replace

import pytest

from mentorbridge.plugin.errors import PairingFileError, UnknownReferenceError, ValidationError
from mentorbridge.plugin.pairing.file import load_programmes, parse_programmes, programme_named
from mentorbridge.plugin.pairing.pool import load_pool
from mentorbridge.plugin.store.db import Store
from tests.plugin.pairing.tenant import TODAY, add_workers, programme

GOOD = """
[programmes.rm-x]
name = "X"
themes = ["AI"]
[programmes.rm-x.mentees]
management_levels = ["2"]
[programmes.rm-x.mentors]
management_levels = ["6"]
"""


def _problems(text: str) -> list[tuple[int | None, str, str]]:
    with pytest.raises(PairingFileError) as raised:
        parse_programmes(text, "pairing.toml")
    return raised.value.problems


def test_the_shipped_default_is_valid() -> None:
    [spec] = load_programmes(None).values()
    assert spec.key == "rm-2026" and spec.mentees.management_levels == ("2", "3")


def test_a_capacity_of_zero_is_refused_with_its_line() -> None:
    text = GOOD + "capacity = 0\n"
    [(line, key, message)] = _problems(text)
    assert line == text.splitlines().index("capacity = 0") + 1
    assert key == "programmes.rm-x.mentors.capacity"
    assert "1 to 20" in message


def test_contradictions_are_named_with_their_fix() -> None:
    text = GOOD.replace(
        '[programmes.rm-x.mentors]\nmanagement_levels = ["6"]\n',
        '[programmes.rm-x.mentors]\nmanagement_levels = ["6"]\nmin_tenure_days = 900\n'
        'max_tenure_days = 100\nopt_in = ["10001"]\n',
    ).replace("[programmes.rm-x.mentees]\n", '[programmes.rm-x.mentees]\nopt_in = ["10001"]\n')
    text += '[programmes.rm-x.rules]\nworking_hours = ["09:00", "10:00"]\nmin_overlap_hours = 2\n'
    messages = {key: message for _, key, message in _problems(text)}
    assert "nobody could be eligible" in messages["programmes.rm-x.mentors.min_tenure_days"]
    assert "keep them on one side" in messages["programmes.rm-x.mentors.opt_in"]
    assert "no pair could pass" in messages["programmes.rm-x.rules.min_overlap_hours"]


def test_unknown_keys_and_bad_toml_point_at_the_fix() -> None:
    [(_, key, message)] = _problems(GOOD + "objectiv = 'best'\n")
    assert key == "programmes.rm-x.mentors.objectiv" or "did you mean" in message
    [(line, key, message)] = _problems("[programmes.rm-x\n")
    assert key == "(TOML)" and line == 1 and "[programmes.KEY]" in message


def test_an_unknown_programme_lists_the_known_ones() -> None:
    with pytest.raises(UnknownReferenceError, match="use one of rm-2026"):
        programme_named(load_programmes(None), "rm-1999")


def test_an_opt_in_naming_an_unknown_worker_is_refused(store: Store) -> None:
    add_workers(store, [{"employee_id": "E1", "management_level": "2 Senior Executive"}])
    spec = programme()
    spec = replace(spec, mentors=replace(spec.mentors, opt_in=("99999",)))
    with store.reading() as session, pytest.raises(ValidationError) as refused:
        load_pool(session, spec, today=TODAY)
    [(where, message)] = refused.value.problems
    assert where == "programmes.rm-2026.mentors.opt_in"
    assert "99999 is not an active worker" in message and "sync workday" in message
