"""Statement builders: every template valid by our schema, Ralph's model and the profile."""

from __future__ import annotations

import json
import re
from datetime import UTC, date, datetime, timedelta

import pytest
from ralph.models.xapi.base.statements import BaseXapiStatement

from mentorbridge import schemas
from mentorbridge.plugin.errors import StatementValidationError
from mentorbridge.xapi import statements, vocab
from mentorbridge.xapi.profile import check_template, load_profile, template_names
from mentorbridge.xapi.statements import (
    BuiltStatement,
    Event,
    PairContext,
    StatementBuilder,
    StatementSettings,
    format_duration,
    format_timestamp,
)
from tests.conftest import SETTINGS
from tests.fakes import NOW

WHEN = datetime(2026, 11, 3, 10, 2, 11, 123456, tzinfo=UTC)


def pair_context(builder: StatementBuilder) -> PairContext:
    return PairContext(
        key="pair-1",
        registration=builder.registration("pair-1"),
        programme="rm-2026",
        programme_name="Reverse mentoring 2026",
        mentee="p-mentee",
        mentor="p-mentor",
    )


def every_template(builder: StatementBuilder) -> dict[str, BuiltStatement]:
    """One statement per template, as the recorder would build them."""
    pair, event = pair_context(builder), Event(source="test", id="event-1")
    attended = builder.session_attended(
        event, pair, session="s-1", sequence=1, started_at=WHEN, duration=timedelta(minutes=47)
    )
    planned = builder.goal_planned(
        event,
        pair,
        goal="g-1",
        owner="p-mentee",
        target_date=date(2026, 12, 31),
        session="s-1",
        planned_at=WHEN,
    )
    built = [
        builder.session_scheduled(
            event,
            pair,
            session="s-1",
            sequence=1,
            planned_start=WHEN,
            planned_duration=timedelta(minutes=45),
            scheduled_at=WHEN,
        ),
        attended,
        builder.session_mentored(
            event, pair, session="s-1", sequence=1, started_at=WHEN, duration=timedelta(minutes=47)
        ),
        builder.reflection_submitted(
            event,
            pair,
            session="s-1",
            reflection="r-1",
            author="p-mentor",
            visibility="pair",
            submitted_at=WHEN,
        ),
        planned,
        builder.goal_achieved(
            event,
            pair,
            goal="g-1",
            owner="p-mentee",
            planned_statement_id=planned.id,
            achieved_at=WHEN,
        ),
        builder.competency_evidence(
            event,
            pair,
            session="s-1",
            competency_id="https://hr.example.com/competencies/digital",
            competency_name="Digital fluency",
            subject="p-mentee",
            rater="p-mentor",
            score=(4, 1, 5),
            evidence_statement_id=attended.id,
            rated_at=WHEN,
        ),
        builder.voiding(event, pair, target_id=attended.id, voided_at=WHEN),
    ]
    return {b.template: b for b in built} | {"competency-level": competency_level(builder)}


def competency_level(builder: StatementBuilder, level: float = 0.5) -> BuiltStatement:
    return builder.competency_level(
        Event(source="mapper", id="p-mentee/digital-fluency/mentee/1"),
        subject="p-mentee",
        competency_key="digital-fluency",
        competency_iri="https://hr.example.com/competencies/digital",
        competency_name="Digital fluency",
        side="mentee",
        level=level,
        level_name="Developing",
        reached_at=WHEN,
    )


def test_builders_cover_every_template_of_the_profile(builder: StatementBuilder) -> None:
    assert set(every_template(builder)) == set(template_names(builder.profile))


@pytest.mark.parametrize("template", template_names(load_profile()))
def test_statements_are_valid_by_schema_ralph_and_their_template(
    builder: StatementBuilder, template: str
) -> None:
    statement = every_template(builder)[template]
    data = json.loads(statement.payload)
    assert schemas.problems("xapi/statement", data) == []
    BaseXapiStatement(**data)  # Ralph's strict xAPI 1.0.3 model raises on any departure
    assert check_template(data, builder.profile, template) == []
    assert statement.verb == data["verb"]["id"]


@pytest.mark.parametrize("template", template_names(load_profile()))
def test_statements_carry_profile_version_and_pair_registration(
    builder: StatementBuilder, template: str
) -> None:
    data = json.loads(every_template(builder)[template].payload)
    category = [a["id"] for a in data["context"]["contextActivities"]["category"]]
    assert category == [f"{vocab.DEFAULT_PROFILE_IRI}/v{vocab.PROFILE_VERSION}"]
    if template == "competency-level":  # one person's record, across pairs and programmes
        registration = builder.evidence_registration("p-mentee", "digital-fluency", "mentee")
    else:
        registration = builder.registration("pair-1")
    assert data["context"]["registration"] == str(registration)


def test_a_competency_level_carries_the_level_its_name_and_the_side(
    builder: StatementBuilder,
) -> None:
    data = json.loads(competency_level(builder, level=0.75).payload)
    vocabulary = builder.vocabulary
    assert data["verb"]["id"] == vocab.ACHIEVED
    assert data["object"]["id"] == "https://hr.example.com/competencies/digital"
    assert data["object"]["definition"]["type"] == vocab.COMPETENCY
    assert data["result"] == {
        "score": {"scaled": 0.75},
        "extensions": {vocabulary.level_name: "Developing"},
    }
    assert data["context"]["extensions"] == {vocabulary.pair_side: "mentee"}
    assert data["actor"]["account"]["name"] == "p-mentee"
    assert "grouping" not in data["context"]["contextActivities"]


def test_a_competency_level_is_exactly_this_statement(builder: StatementBuilder) -> None:
    # Every field spelled out here.
    built = competency_level(builder)
    profile = vocab.DEFAULT_PROFILE_IRI
    assert json.loads(built.payload) == {
        "id": built.id,
        "actor": {
            "objectType": "Agent",
            "account": {"homePage": "https://id.example.com", "name": "p-mentee"},
        },
        "verb": {"id": vocab.ACHIEVED, "display": {"en": "achieved"}},
        "object": {
            "objectType": "Activity",
            "id": "https://hr.example.com/competencies/digital",
            "definition": {"type": vocab.COMPETENCY, "name": {"en": "Digital fluency"}},
        },
        "result": {
            "score": {"scaled": 0.5},
            "extensions": {f"{profile}/extensions/level-name": "Developing"},
        },
        "context": {
            "registration": str(
                builder.evidence_registration("p-mentee", "digital-fluency", "mentee")
            ),
            "platform": "mentorbridge",
            "language": "en",
            "contextActivities": {
                "category": [{"objectType": "Activity", "id": f"{profile}/v1.0"}]
            },
            "extensions": {f"{profile}/extensions/pair-side": "mentee"},
        },
        "timestamp": "2026-11-03T10:02:11.123Z",
    }
    assert built.id == builder.statement_id(
        Event(source="mapper", id="p-mentee/digital-fluency/mentee/1"), "competency-level"
    )
    assert (built.template, built.verb) == ("competency-level", vocab.ACHIEVED)


def test_a_competency_level_outside_0_to_1_is_refused(builder: StatementBuilder) -> None:
    with pytest.raises(ValueError, match=r"level 1\.5"):
        competency_level(builder, level=1.5)


def test_competency_levels_of_a_checked_shape_are_built_alike_and_still_refuse_bad_values(
    builder: StatementBuilder,
) -> None:
    # The builder checks the first statement of each shape fully and seals the rest of that
    # shape unchecked: what it seals must equal a fully checked build, and what the schema or
    # the clock would refuse must still be refused.
    def level(subject: str, reached_at: datetime = WHEN) -> BuiltStatement:
        return builder.competency_level(
            Event(source="mapper", id=f"{subject}/digital-fluency/mentee/1"),
            subject=subject,
            competency_key="digital-fluency",
            competency_iri="https://hr.example.com/competencies/digital",
            competency_name="Digital fluency",
            side="mentee",
            level=0.5,
            level_name="Developing",
            reached_at=reached_at,
        )

    level("p-first")
    second = level("p-second")
    fresh = StatementBuilder(SETTINGS, now=lambda: NOW)
    checked = fresh.competency_level(
        Event(source="mapper", id="p-second/digital-fluency/mentee/1"),
        subject="p-second",
        competency_key="digital-fluency",
        competency_iri="https://hr.example.com/competencies/digital",
        competency_name="Digital fluency",
        side="mentee",
        level=0.5,
        level_name="Developing",
        reached_at=WHEN,
    )
    assert second.payload == checked.payload
    with pytest.raises(StatementValidationError, match="name"):
        level("")
    with pytest.raises(StatementValidationError, match="future"):
        level("p-third", reached_at=NOW + timedelta(days=1))


def test_a_competency_level_is_voided_under_its_record_registration(
    builder: StatementBuilder,
) -> None:
    level = competency_level(builder)
    registration = builder.evidence_registration("p-mentee", "digital-fluency", "mentee")
    voiding = builder.voiding(
        Event(source="mapper", id="p-mentee/digital-fluency/mentee/2"),
        None,
        target_id=level.id,
        voided_at=WHEN,
        registration=registration,
    )
    data = json.loads(voiding.payload)
    assert data["object"] == {"objectType": "StatementRef", "id": level.id}
    assert data["context"]["registration"] == str(registration)
    with pytest.raises(ValueError, match="registration"):
        builder.voiding(voiding_event(), None, target_id=level.id, voided_at=WHEN)


def voiding_event() -> Event:
    return Event(source="mapper", id="x")


def test_no_version_utc_ms_timestamps_canonical_durations_uuid_ids(
    builder: StatementBuilder,
) -> None:
    data = json.loads(every_template(builder)["session-attended"].payload)
    assert "version" not in data
    assert data["timestamp"] == "2026-11-03T10:02:11.123Z"
    assert data["result"]["duration"] == "PT47M"
    achieved = json.loads(every_template(builder)["goal-achieved"].payload)
    for value in (
        achieved["id"],
        achieved["context"]["registration"],
        achieved["context"]["statement"]["id"],
    ):
        assert re.fullmatch(
            r"[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}", value
        )


@pytest.mark.parametrize(
    ("length", "text"),
    [
        (timedelta(minutes=47), "PT47M"),
        (timedelta(hours=1, minutes=5, seconds=30), "PT1H5M30S"),
        (timedelta(seconds=0.5), "PT0.5S"),
        (timedelta(days=1, hours=2), "P1DT2H"),
        (timedelta(0), "PT0S"),
        (timedelta(seconds=90.125), "PT1M30.125S"),
    ],
)
def test_durations_are_canonical(length: timedelta, text: str) -> None:
    assert format_duration(length) == text


def test_timestamps_are_utc_milliseconds_with_z() -> None:
    from zoneinfo import ZoneInfo

    local = datetime(2026, 3, 4, 11, 2, 11, 999999, tzinfo=ZoneInfo("Europe/Paris"))
    assert format_timestamp(local) == "2026-03-04T10:02:11.999Z"
    with pytest.raises(ValueError, match="timezone-aware"):
        format_timestamp(datetime(2026, 3, 4, 10, 0))


def test_statement_ids_are_deterministic_per_source_event_and_role(
    builder: StatementBuilder,
) -> None:
    again = StatementBuilder(SETTINGS, now=lambda: NOW)
    first, second = every_template(builder), every_template(again)
    assert {t: s.payload for t, s in first.items()} == {t: s.payload for t, s in second.items()}
    pair = pair_context(builder)
    other_event = builder.session_attended(
        Event(source="test", id="event-2"),
        pair,
        session="s-1",
        sequence=1,
        started_at=WHEN,
        duration=timedelta(minutes=47),
    )
    other_source = builder.session_attended(
        Event(source="calendar", id="event-1"),
        pair,
        session="s-1",
        sequence=1,
        started_at=WHEN,
        duration=timedelta(minutes=47),
    )
    ids = {
        first["session-attended"].id,
        first["session-mentored"].id,
        other_event.id,
        other_source.id,
    }
    assert len(ids) == 4


def test_people_appear_only_as_opaque_accounts(builder: StatementBuilder) -> None:
    for statement in every_template(builder).values():
        text = statement.payload.decode()
        assert "mbox" not in text and "openid" not in text
        data = json.loads(text)
        agents = [
            data["actor"],
            data.get("context", {}).get("instructor"),
            *data.get("context", {}).get("team", {}).get("member", []),
        ]
        for agent in filter(None, agents):
            assert set(agent) == {"objectType", "account"}
            assert agent["account"]["homePage"] == SETTINGS.identity_home_page


def test_activity_ids_do_not_reveal_our_keys(builder: StatementBuilder) -> None:
    payloads = b"".join(s.payload for s in every_template(builder).values())
    for key in (b"pair-1", b"s-1", b"g-1", b"r-1"):
        assert key not in payloads.replace(b"rm-2026", b"")


def test_an_invalid_statement_is_refused_with_the_field_named() -> None:
    bad = StatementBuilder(
        StatementSettings(
            identity_home_page="id.example.com", activity_base=SETTINGS.activity_base
        ),
        now=lambda: NOW,
    )
    pair = pair_context(bad)
    with pytest.raises(StatementValidationError) as caught:
        bad.session_attended(
            Event(source="t", id="1"),
            pair,
            session="s",
            sequence=1,
            started_at=WHEN,
            duration=timedelta(minutes=30),
        )
    assert "statement.actor.account.homePage" in str(caught.value)
    assert "http(s) URL" in str(caught.value)


def test_a_timestamp_in_the_future_is_refused(builder: StatementBuilder) -> None:
    pair = pair_context(builder)
    with pytest.raises(StatementValidationError, match=r"statement.timestamp.*in the future"):
        builder.session_attended(
            Event(source="t", id="1"),
            pair,
            session="s",
            sequence=1,
            started_at=NOW + timedelta(hours=1),
            duration=timedelta(minutes=30),
        )


def test_a_statement_breaking_its_template_is_refused(builder: StatementBuilder) -> None:
    """A reflection statement that carried text would break its template's exclusion rule."""
    data = json.loads(every_template(builder)["reflection-submitted"].payload)
    assert check_template(data, builder.profile, "reflection-submitted") == []
    data["result"] = {"response": "what the executive said"}
    assert check_template(data, builder.profile, "reflection-submitted") == [
        "$.result.response must be absent"
    ]


def test_the_score_must_lie_on_its_scale(builder: StatementBuilder) -> None:
    with pytest.raises(ValueError, match="not within"):
        builder.competency_evidence(
            Event(source="t", id="1"),
            pair_context(builder),
            session="s-1",
            competency_id="https://hr.example.com/c",
            competency_name="C",
            subject="p-mentee",
            rater="p-mentee",
            score=(6, 1, 5),
            evidence_statement_id="8140edef-efe3-5415-96a7-91a8d3e85623",
            rated_at=WHEN,
        )


def test_profile_rebases_onto_the_configured_iri() -> None:
    profile = load_profile("https://xapi.acme.com/rm")
    text = json.dumps(profile)
    assert vocab.DEFAULT_PROFILE_IRI not in text
    assert profile["id"] == "https://xapi.acme.com/rm"
    acme = StatementBuilder(
        StatementSettings(
            identity_home_page="https://id.acme.com",
            activity_base="https://xapi.acme.com/a",
            profile_iri="https://xapi.acme.com/rm",
        ),
        now=lambda: NOW,
    )
    data = json.loads(every_template(acme)["reflection-submitted"].payload)
    assert (
        data["context"]["contextActivities"]["category"][0]["id"] == "https://xapi.acme.com/rm/v1.0"
    )
    assert "https://xapi.acme.com/rm/extensions/visibility" in data["context"]["extensions"]


def test_session_statements_of_a_checked_shape_equal_checked_builds_and_refuse_bad_values(
    builder: StatementBuilder, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Every template goes through the same sealing: the first statement of a shape is checked
    # in full, the rest of that shape sealed with the clock check alone.
    def attended(b: StatementBuilder, n: int, mentee: str, started: datetime) -> BuiltStatement:
        pair = PairContext(
            key=f"pair-{n}",
            registration=b.registration(f"pair-{n}"),
            programme="rm-2026",
            programme_name="Reverse mentoring 2026",
            mentee=mentee,
            mentor=f"p-mentor-{n}",
        )
        return b.session_attended(
            Event(source="test", id=f"event-{n}"),
            pair,
            session=f"s-{n}",
            sequence=2,
            started_at=started,
            duration=timedelta(minutes=40 + n),
        )

    full_checks = []
    checked = statements.validate_statement
    monkeypatch.setattr(
        statements, "validate_statement", lambda *a, **k: full_checks.append(1) or checked(*a, **k)
    )
    attended(builder, 1, "p-mentee-1", WHEN)
    second = attended(builder, 2, "p-mentee-2", WHEN - timedelta(days=3))
    assert len(full_checks) == 1  # the second of the shape was not checked in full
    fresh = StatementBuilder(SETTINGS, now=lambda: NOW)
    assert second.payload == attended(fresh, 2, "p-mentee-2", WHEN - timedelta(days=3)).payload
    with pytest.raises(StatementValidationError, match="name"):
        attended(builder, 3, "", WHEN)
    with pytest.raises(StatementValidationError, match="future"):
        attended(builder, 4, "p-mentee-4", NOW + timedelta(days=1))


def session_cases() -> list[tuple[str, int, dict[str, object]]]:
    """Session statements of three pairs, alike but for the values the builder makes."""
    cases: list[tuple[str, int, dict[str, object]]] = []
    for n in range(60):
        started = WHEN - timedelta(days=n, minutes=7 * n, microseconds=1013 * n)
        common: dict[str, object] = {"session": f"s-{n}", "sequence": n + 1}
        cases.append(
            (
                "session_attended",
                n % 3,
                {**common, "started_at": started, "duration": timedelta(minutes=n, seconds=n % 7)},
            )
        )
        cases.append(
            (
                "session_mentored",
                n % 3,
                {**common, "started_at": started, "duration": timedelta(hours=n % 4)},
            )
        )
        cases.append(
            (
                "session_scheduled",
                n % 3,
                {
                    **common,
                    "planned_start": started + timedelta(days=30),
                    "planned_duration": None if n % 2 else timedelta(minutes=30 + n),
                    "scheduled_at": started,
                },
            )
        )
    return cases


def session_pair(builder: StatementBuilder, n: int) -> PairContext:
    return PairContext(
        key=f"pair-{n}",
        registration=builder.registration(f"pair-{n}"),
        programme="rm-2026",
        programme_name=f"Reverse mentoring {{2026}} «{n}»",
        mentee=f"p-mentee-{n}",
        mentor=f"p-mentor-{n}",
    )


def test_session_statements_filled_in_from_their_compiled_form_equal_fresh_builds(
    builder: StatementBuilder, monkeypatch: pytest.MonkeyPatch
) -> None:
    # After the first statement of a template and pair, the builder fills in a compiled form:
    # every later statement must be byte for byte what a fresh builder makes of it.
    full_checks = []
    checked = statements.validate_statement
    monkeypatch.setattr(
        statements, "validate_statement", lambda *a, **k: full_checks.append(1) or checked(*a, **k)
    )
    for method, n, values in session_cases():
        event = Event(source="test", id=f"{method}-{values['session']}")
        built = getattr(builder, method)(event, session_pair(builder, n), **values)
        fresh = StatementBuilder(SETTINGS, now=lambda: NOW)
        reference = getattr(fresh, method)(event, session_pair(fresh, n), **values)
        assert built == reference
    # Forms were filled in: about one full check per template, pair and absent value (the
    # fresh builders' checks counted too, one per case).
    assert len(full_checks) - len(session_cases()) <= 3 * 4


def test_a_statement_filled_in_from_its_form_is_still_refused_for_a_future_timestamp(
    builder: StatementBuilder,
) -> None:
    pair = session_pair(builder, 1)

    def attended(n: int, started: datetime) -> BuiltStatement:
        return builder.session_attended(
            Event(source="test", id=f"e-{n}"),
            pair,
            session=f"s-{n}",
            sequence=n,
            started_at=started,
            duration=timedelta(minutes=40),
        )

    attended(1, WHEN)
    assert json.loads(attended(2, WHEN - timedelta(days=1)).payload)["object"]["definition"][
        "name"
    ] == {"en": "Reverse-mentoring session 2"}
    with pytest.raises(StatementValidationError, match="future"):
        attended(3, NOW + timedelta(days=1))


@pytest.mark.parametrize("name", ["pair/p-1", "webhook/evt-1/session-attended", "é/ü/中", ""])
def test_statement_and_activity_ids_are_standard_uuid5(
    builder: StatementBuilder, name: str
) -> None:
    import uuid

    assert statements._uuid5(builder.namespace, name) == str(uuid.uuid5(builder.namespace, name))


def test_a_completed_session_is_its_attended_and_mentored_statements(
    builder: StatementBuilder,
) -> None:
    pair, event = session_pair(builder, 1), Event(source="test", id="e-1")
    values = {
        "session": "s-1",
        "sequence": 3,
        "started_at": WHEN,
        "duration": timedelta(minutes=50),
    }
    fresh = StatementBuilder(SETTINGS, now=lambda: NOW)
    assert builder.session_completed(event, pair, **values) == (
        fresh.session_attended(event, pair, **values),
        fresh.session_mentored(event, pair, **values),
    )
