"""Explanations point at the sessions, goals, released ratings and statements a level rests on."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import select

from mentorbridge.plugin.errors import UnknownReferenceError
from mentorbridge.plugin.mapping.explain import explain, explain_text
from mentorbridge.plugin.mapping.run import update_evidence
from mentorbridge.plugin.recorder import Recorder
from mentorbridge.plugin.store.db import Store
from mentorbridge.plugin.store.models import Goal, MentoringSession, Outcome
from mentorbridge.xapi.statements import StatementBuilder
from tests.fakes import NOW
from tests.plugin.mapping.activity import T0, event, rate, release, sessions
from tests.plugin.mapping.mappings import mapping


@pytest.fixture
def recorded(recorder: Recorder, store: Store, builder: StatementBuilder) -> Store:
    """EXEC-1 and JUN-1: three sessions on generative AI, a released rating of 4 of 5 for the
    mentee; JUN-1 achieves a goal in a second pair, on generative AI."""
    sessions(recorder, 3)
    rate(recorder)
    recorder.create_pair(
        key="pair-3",
        programme="rm-test",
        mentee="EXEC-2",
        mentor="JUN-1",
        started_on=T0.date(),
        themes=("Generative AI at work",),
    )
    recorder.set_goal(
        event("goal"),
        pair="pair-3",
        goal_key="g-1",
        owner="JUN-1",
        title="Secret goal wording",
        target_date=None,
        session_key=None,
        set_at=T0,
    )
    recorder.achieve_goal(event("achieved"), goal_key="g-1", achieved_at=T0 + timedelta(5))
    update_evidence(store, mapping(), now=NOW, builder=builder)
    return store


def statement_ids(store: Store) -> dict[str, str]:
    with store.reading() as session:
        found = {
            key: (attended, mentored)
            for key, attended, mentored in session.execute(
                select(
                    MentoringSession.key,
                    MentoringSession.attended_statement_id,
                    MentoringSession.mentored_statement_id,
                )
            )
        }
        found["o-1"] = session.scalar(select(Outcome.evidence_statement_id))
        found["g-1"] = session.scalar(select(Goal.achieved_statement_id))
    return found


def test_explain_names_the_sessions_rating_and_their_statements(recorded: Store) -> None:
    ids = statement_ids(recorded)
    found = explain(recorded, mapping(), "EXEC-1", "digital-fluency")
    assert found["worker_id"] == "EXEC-1"
    assert found["competency"]["workday_id"] == "COMP-DIGI"
    (mentee,) = found["sides"]
    assert (mentee["side"], mentee["level_name"], mentee["level"]) == ("mentee", "Proficient", 0.75)
    assert mentee["counts"] == {"sessions": 3.0, "goals": 0.0, "rating": 0.75}
    assert [(s["kind"], s["key"], s["statement_id"]) for s in mentee["sources"]] == [
        ("session", "s-1", ids["s-1"][0]),
        ("session", "s-2", ids["s-2"][0]),
        ("session", "s-3", ids["s-3"][0]),
        ("outcome", "o-1", ids["o-1"]),
    ]
    outcome = mentee["sources"][-1]
    assert (outcome["raw_rating"], outcome["scale"], outcome["rating"]) == (4, [1, 5], 0.75)
    assert (mentee["moodle_value"], mentee["moodle_name"]) == (2, "Developing")  # 0.75 >= 2/3
    json.dumps(found)  # JSON-ready as it is


def test_explain_on_the_mentor_side_points_at_mentored_statements_and_the_goal(
    recorded: Store,
) -> None:
    ids = statement_ids(recorded)
    (mentor,) = explain(recorded, mapping(), "JUN-1", "Coaching")["sides"]
    assert [(s["kind"], s["key"], s["statement_id"]) for s in mentor["sources"]] == [
        ("session", "s-1", ids["s-1"][1]),
        ("session", "s-2", ids["s-2"][1]),
        ("session", "s-3", ids["s-3"][1]),
        ("goal", "g-1", ids["g-1"]),
    ]


def test_explain_text_says_it_in_plain_words(recorded: Store) -> None:
    text = explain_text(recorded, mapping(), "EXEC-1", "digital-fluency")
    assert (
        "Digital Fluency, mentee side: Proficient (0.75) since 2026-11-20 because 3 completed "
        "sessions on 'generative AI at work' and a released rating of 4 of 5 on 2026-11-12."
    ) in text
    assert statement_ids(recorded)["o-1"] in text
    mentor = explain_text(recorded, mapping(), "JUN-1", "coaching")
    assert "1 achieved goal" in mentor and "Secret goal wording" not in mentor


def test_explain_says_when_evidence_was_withdrawn(
    recorded: Store, recorder: Recorder, builder: StatementBuilder
) -> None:
    release(recorder, False)
    for key in ("s-1", "s-2"):
        recorder.cancel_session(event(f"cancel-{key}"), session_key=key, cancelled_at=NOW)
    update_evidence(recorded, mapping(), now=NOW, builder=builder)
    found = explain(recorded, mapping(), "EXEC-1", "digital-fluency")["sides"][0]
    assert (found["status"], found["sources"]) == ("withdrawn", [])
    text = explain_text(recorded, mapping(), "EXEC-1", "digital-fluency")
    assert "withdrawn since 2026-11-20 (it was Proficient)" in text


def test_a_side_without_evidence_says_so(recorded: Store) -> None:
    found = explain(recorded, mapping(), "EXEC-2", "digital-fluency")
    assert found["sides"] == [{"side": "mentee", "status": "none", "level": None, "sources": []}]
    assert "mentee side: no evidence yet." in explain_text(
        recorded, mapping(), "EXEC-2", "digital-fluency"
    )


def test_an_unknown_worker_is_named_with_the_closest(recorded: Store) -> None:
    with pytest.raises(UnknownReferenceError, match=r"worker 'EXEC-11' .*did you mean 'EXEC-1'"):
        explain(recorded, mapping(), "EXEC-11", "digital-fluency")


def test_an_unknown_competency_is_named_with_the_closest(recorded: Store) -> None:
    with pytest.raises(
        UnknownReferenceError, match=r"competency 'digital-fluncy' .*did you mean 'digital-fluency'"
    ):
        explain(recorded, mapping(), "EXEC-1", "digital-fluncy")
