"""Reading a mapping file: every problem named with its file, line, key path and fix."""

from __future__ import annotations

from pathlib import Path

import pytest

from mentorbridge.connectors.workday.sample import catalogue
from mentorbridge.plugin.demo import sample
from mentorbridge.plugin.errors import ConfigError, MappingError
from mentorbridge.plugin.mapping.file import default_text, load_mapping, parse_mapping
from tests.plugin.mapping.texts import MINIMAL, changed, line


def problems_of(text: str) -> list[tuple[int | None, str, str]]:
    with pytest.raises(MappingError) as raised:
        parse_mapping(text, "talent/mapping.toml")
    return raised.value.problems


def only_problem(text: str) -> tuple[int | None, str, str]:
    (problem,) = problems_of(text)
    return problem


def test_a_valid_file_becomes_the_model() -> None:
    mapping = parse_mapping(MINIMAL, "talent/mapping.toml")
    assert mapping.source == "talent/mapping.toml"
    assert list(mapping.competencies) == ["digital-fluency", "coaching"]
    digital = mapping.competencies["digital-fluency"]
    assert digital.workday_id == "SUCC-DIGI" and digital.moodle_idnumber is None
    assert dict(digital.mentee.themes) == {"generative AI at work": 1.0, "social media": 0.5}
    assert dict(digital.mentee.outcomes) == {"SUCC-DIGI": 1.0}
    assert digital.mentee.goals == 1.0 and digital.mentor is None
    assert mapping.competencies["coaching"].mentee is None
    assert [(lv.name, lv.level, lv.min_rating) for lv in mapping.rules.levels] == [
        ("Emerging", 0.25, None),
        ("Developing", 0.5, 0.5),
    ]
    assert mapping.rules.recency_days == 365 and mapping.rules.half_life_days is None
    assert mapping.moodle_scale == ("Not yet competent", "Competent")
    assert mapping.moodle_map.thresholds == () and mapping.proficient_level == 0.5


def test_a_competencys_own_rules_replace_only_what_they_name() -> None:
    text = (
        MINIMAL + '\n[competencies.coaching.rules]\nlevels = [{ name = "Active", level = 0.4 }]\n'
    )
    mapping = parse_mapping(text, "m.toml")
    own = mapping.rules_for(mapping.competencies["coaching"])
    assert [lv.name for lv in own.levels] == ["Active"]
    assert own.recency_days == 365  # from [rules]
    assert mapping.rules_for(mapping.competencies["digital-fluency"]) is mapping.rules


@pytest.mark.parametrize(
    ("old", "new", "where", "key", "message"),
    [
        pytest.param(
            "goals = 1.0",
            'goals = "often"',
            'goals = "often"',
            "competencies.digital-fluency.mentee.goals",
            '"often" is not valid: expected the weight of each goal achieved in a pair on one '
            "of the themes, 0 to 100",
            id="wrong type",
        ),
        pytest.param(
            "outcomes = { SUCC-DIGI = 1.0 }",
            "outcome = { SUCC-DIGI = 1.0 }",
            "outcome = ",
            "competencies.digital-fluency.mentee.outcome",
            "unknown key 'outcome': did you mean outcomes? (the keys here are themes, outcomes, "
            "goals)",
            id="unknown key",
        ),
        pytest.param(
            'category = "Leadership"\n',
            "",
            "[competencies.coaching]",
            "competencies.coaching.category",
            "missing: add category, a category to group competencies by in reports",
            id="missing required key",
        ),
        pytest.param(
            '"social media" = 0.5',
            '"social media" = 0',
            '"social media" = 0',
            'competencies.digital-fluency.mentee.themes."social media"',
            "0 is not valid: expected a weight above 0 and at most 100",
            id="weight not above 0",
        ),
        pytest.param(
            "min_rating = 0.5",
            "min_rating = 3",
            "min_rating = 3",
            "rules.levels[1].min_rating",
            "3 is not valid: expected the weighted mean of released ratings needed, normalised "
            "0 to 1 (a rating of 3 on a 1 to 5 scale is 0.5)",
            id="value in an array of tables",
        ),
    ],
)
def test_schema_errors_name_the_line_the_key_path_and_the_fix(
    old: str, new: str, where: str, key: str, message: str
) -> None:
    text = changed(old, new)
    found_line, found_key, found_message = only_problem(text)
    assert (found_line, found_key) == (line(text, where), key)
    assert found_message.startswith(message), found_message


def test_a_key_that_is_not_a_valid_competency_key_is_named_with_its_line() -> None:
    text = MINIMAL.replace("competencies.coaching", "competencies.Coaching")
    found = problems_of(text)
    assert found[0] == (
        line(text, "[competencies.Coaching]"),
        "competencies.Coaching",
        "the key is not valid: expected a key of 1 to 128 lowercase letters, digits and . _ - "
        "(starting with a letter or digit), such as digital-fluency",
    )


def test_the_error_message_reads_file_line_key_and_fix() -> None:
    text = changed("goals = 1.0", "goals = -1")
    with pytest.raises(MappingError) as raised:
        parse_mapping(text, "talent/mapping.toml")
    assert str(raised.value).splitlines() == [
        "mapping file talent/mapping.toml is invalid (1 problem):",
        f"  talent/mapping.toml:{line(text, 'goals = -1')}: "
        "competencies.digital-fluency.mentee.goals: -1 is not valid: expected the weight of each "
        "goal achieved in a pair on one of the themes, 0 to 100 (0 or left out: goals do not "
        "count)",
    ]
    assert isinstance(raised.value, ConfigError)  # the CLI exits 2


def test_a_toml_syntax_error_names_its_line_and_column() -> None:
    text = changed('category = "Technical"', "category = Technical")
    found_line, key, message = only_problem(text)
    assert found_line == line(text, "category = Technical")
    assert key == "(TOML)"
    assert message.startswith("not valid TOML: Invalid value at column 12; text values need quotes")


def test_a_missing_table_has_no_line_but_its_key() -> None:
    text = MINIMAL[MINIMAL.index("[competencies.digital-fluency]") :]
    assert only_problem(text) == (
        None,
        "rules",
        "missing: add rules, a [rules] table with [[rules.levels]] and optionally recency_days, "
        "half_life_days and minimum_level",
    )


def test_every_problem_is_reported_at_once_in_line_order() -> None:
    text = changed("goals = 1.0", "goals = -1", changed("level = 0.5", "level = 2"))
    found = problems_of(text)
    assert [(ln, key) for ln, key, _ in found] == [
        (line(text, "level = 2"), "rules.levels[1].level"),
        (line(text, "goals = -1"), "competencies.digital-fluency.mentee.goals"),
    ]


@pytest.mark.parametrize(
    ("old", "new", "where", "key", "message"),
    [
        pytest.param(
            "level = 0.5",
            "level = 0.25",
            "level = 0.25\nmin_sessions = 3",
            "rules.levels[1].level",
            "0.25 (Developing) does not rise above 0.25 (Emerging): list levels lowest first",
            id="levels not rising",
        ),
        pytest.param(
            'name = "Developing"',
            'name = "emerging"',
            'name = "emerging"',
            "rules.levels[1].name",
            "'emerging' is already the name of levels[0]: give each level its own name",
            id="level names not unique",
        ),
        pytest.param(
            "recency_days = 365",
            "recency_days = 365\nminimum_level = 0.75",
            "minimum_level",
            "rules.minimum_level",
            "0.75 is above the highest level (0.5): nothing could ever be rated",
            id="minimum above every level",
        ),
        pytest.param(
            'workday_id = "COMP-COACH"',
            'workday_id = "SUCC-DIGI"',
            'workday_id = "SUCC-DIGI"\nxapi_iri = "https://example.com/competencies/COMP-COACH"',
            "competencies.coaching.workday_id",
            "'SUCC-DIGI' is already the workday_id of competencies.digital-fluency",
            id="workday id twice",
        ),
        pytest.param(
            '[competencies.coaching.mentor]\nthemes = { "generative AI at work" = 1.0 }\n',
            "",
            "[competencies.coaching]",
            "competencies.coaching",
            "counts nothing: add a [competencies.coaching.mentee] or "
            "[competencies.coaching.mentor] table",
            id="no side",
        ),
        pytest.param(
            'themes = { "generative AI at work" = 1.0 }\n',
            "goals = 1.0\n",
            "[competencies.coaching.mentor]",
            "competencies.coaching.mentor",
            'counts nothing: add themes = { "THEME" = 1.0 } and/or outcomes',
            id="side counting nothing",
        ),
        pytest.param(
            '"social media" = 0.5 }',
            '"social media" = 0.5, "Social Media" = 1.0 }',
            '"Social Media"',
            'competencies.digital-fluency.mentee.themes."Social Media"',
            "the same theme as 'social media' (themes are compared ignoring case): keep one",
            id="theme twice in another case",
        ),
        pytest.param(
            "min_sessions = 2",
            "min_rating = 0.25",
            "[competencies.coaching.mentor]",
            "competencies.coaching.mentor",
            "no evidence level can ever be reached: each one needs a rating, goals or sessions "
            "this side does not count",
            id="unreachable levels",
        ),
    ],
)
def test_what_a_schema_cannot_say_is_checked_too(
    old: str, new: str, where: str, key: str, message: str
) -> None:
    text = changed(old, new)
    found_line, found_key, found_message = only_problem(text)
    assert (found_line, found_key) == (line(text, where), key)
    assert found_message.startswith(message), found_message


def test_goals_without_themes_could_never_count() -> None:
    text = changed('themes = { "generative AI at work" = 1.0, "social media" = 0.5 }\n', "")
    found = problems_of(text)
    assert (
        line(text, "goals = 1.0"),
        "competencies.digital-fluency.mentee.goals",
        "goals count only in pairs on one of the side's themes, and there are none: add themes "
        "or leave goals out",
    ) in found
    assert [key for _, key, _ in found] == [  # and no level needs no sessions
        "competencies.digital-fluency.mentee",
        "competencies.digital-fluency.mentee.goals",
    ]


@pytest.mark.parametrize(
    ("moodle", "where", "key", "message"),
    [
        (
            '[moodle]\nthresholds = [\n    { min_level = 0.25, item = "Not yet competent" },\n'
            '    { min_level = 0.75, item = "Competant" },\n]\n',
            '"Competant"',
            "moodle.thresholds[1].item",
            "'Competant' is not an item of moodle.scale: did you mean 'Competent'?",
        ),
        (
            '[moodle]\nthresholds = [\n    { min_level = 0.5, item = "Not yet competent" },\n'
            '    { min_level = 0.5, item = "Competent" },\n]\n',
            'min_level = 0.5, item = "Competent"',
            "moodle.thresholds[1].min_level",
            "0.5 does not rise above 0.5: list thresholds lowest first",
        ),
        (
            '[moodle]\nthresholds = [\n    { min_level = 0.25, item = "Competent" },\n'
            '    { min_level = 0.75, item = "Not yet competent" },\n]\n',
            'item = "Not yet competent"',
            "moodle.thresholds[1].item",
            "'Not yet competent' is not above the item of the threshold before it",
        ),
        (
            "[workday.scales.ACME_PROF_4]\nthresholds = [\n"
            '    { min_level = 0.5, level_id = "AWARE" },\n'
            '    { min_level = 0.25, level_id = "SKILLED" },\n]\n',
            "min_level = 0.25",
            "workday.scales.ACME_PROF_4.thresholds[1].min_level",
            "0.25 does not rise above 0.5: list thresholds lowest first",
        ),
    ],
)
def test_scale_thresholds_rise_and_name_scale_items(
    moodle: str, where: str, key: str, message: str
) -> None:
    text = MINIMAL + "\n" + moodle
    found_line, found_key, found_message = only_problem(text)
    assert (found_line, found_key) == (line(text, where), key)
    assert found_message.startswith(message), found_message


def test_the_default_mapping_covers_the_programme_the_demo_runs() -> None:
    mapping = load_mapping(None)
    assert mapping.source == "default"
    mentee = {k for k, c in mapping.competencies.items() if c.mentee}
    mentor = {k for k, c in mapping.competencies.items() if c.mentor}
    assert {
        "digital-fluency",
        "ai-literacy",
        "customer-insight",
        "inclusive-leadership",
        "sustainability",
    } <= mentee
    assert mentor == {"coaching", "influencing", "strategic-awareness"}
    library = {row[0]: row[4] for row in catalogue.COMPETENCIES}
    for competency in mapping.competencies.values():
        assert library[competency.workday_id] is False, competency.key  # synced and active
    outcomes = {o for c in mapping.competencies.values() if c.mentee for o in c.mentee.outcomes}
    assert {code for code, _ in sample.COMPETENCIES} <= outcomes
    themes = {
        t
        for c in mapping.competencies.values()
        for s in (c.mentee, c.mentor)
        if s
        for t in s.themes
    }
    assert {theme for pair in sample.THEMES for theme in pair} <= themes
    assert mapping.moodle_map.thresholds[-1] == (0.75, "Competent")


def test_the_digest_is_of_the_content_not_the_bytes() -> None:
    text = default_text()
    digest = parse_mapping(text, "a").digest
    assert len(digest) == 64
    reworded = "# a new comment\n\n" + text.replace("# and a year-old", "#   a year-old")
    reordered = changed(
        'name = "Emerging"\nlevel = 0.25\n', 'level = 0.25\nname = "Emerging"\n', reworded
    )
    assert parse_mapping(reordered, "b").digest == digest
    spelt_out = changed("min_sessions = 2\n", "min_sessions = 2.0\nmin_goals = 0\n", text)
    assert parse_mapping(spelt_out, "c").digest == digest  # the defaults, written out
    reweighted = changed("TECH-GENAI = 0.5", "TECH-GENAI = 0.6", text)
    assert parse_mapping(reweighted, "d").digest != digest


def test_load_mapping_reads_a_file_and_names_one_it_cannot_read(tmp_path: Path) -> None:
    path = tmp_path / "mapping.toml"
    path.write_text(MINIMAL)
    assert load_mapping(path).source == str(path)
    with pytest.raises(MappingError) as raised:
        load_mapping(tmp_path / "missing.toml")
    assert str(raised.value) == (
        f"mapping file {tmp_path / 'missing.toml'} is invalid (1 problem):\n"
        f"  {tmp_path / 'missing.toml'}: (file): cannot read it (No such file or directory); "
        "expected a readable UTF-8 TOML file (unset mapping.file to use the shipped default)"
    )
