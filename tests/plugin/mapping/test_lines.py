"""Where a key is in a TOML text, for messages that point at a line."""

from __future__ import annotations

import tomllib

from mentorbridge.plugin.mapping.lines import key_lines, line_of, show_path

TEXT = """\
# a comment with [brackets] and key = value in it
title = "a # that is no comment"

[competencies."digital fluency"]   # a quoted key
name = "Digital Fluency"
mentee.themes = { "AI at work" = 1.0, 'social media' = 0.5 }

[[rules.levels]]
name = "Emerging"

[[rules.levels]]
name = "Developing"
notes = \"\"\"
name = "not a key"
\"\"\"
level = 0.5

[workday.scales.S]
thresholds = [
    { min_level = 0.25, level_id = "A" },
    { min_level = 0.5, level_id = "B" },  # [not] an array
]
after = 1
"""


def test_key_lines_finds_tables_dotted_and_quoted_keys_and_array_elements() -> None:
    tomllib.loads(TEXT)  # the scanner only ever reads valid TOML
    lines = key_lines(TEXT)
    assert lines[("title",)] == 2
    assert lines[("competencies", "digital fluency")] == 4
    assert lines[("competencies", "digital fluency", "mentee", "themes")] == 6
    assert lines[("competencies", "digital fluency", "mentee", "themes", "social media")] == 6
    assert lines[("rules", "levels", 0, "name")] == 9
    assert lines[("rules", "levels", 1)] == 11
    assert lines[("rules", "levels", 1, "name")] == 12
    assert lines[("rules", "levels", 1, "level")] == 16  # not the line inside the string
    assert lines[("workday", "scales", "S", "thresholds", 1)] == 21
    assert lines[("workday", "scales", "S", "after")] == 23


def test_line_of_falls_back_to_the_longest_known_prefix() -> None:
    lines = key_lines(TEXT)
    assert line_of(lines, ("workday", "scales", "S", "thresholds", 1, "level_id")) == 21
    assert line_of(lines, ("rules", "levels", 1, "min_rating")) == 11
    assert line_of(lines, ("moodle", "scale")) is None


def test_show_path_writes_keys_as_toml_would() -> None:
    assert show_path(("competencies", "digital-fluency", "mentee", "themes")) == (
        "competencies.digital-fluency.mentee.themes"
    )
    assert show_path(("rules", "levels", 2, "name")) == "rules.levels[2].name"
    assert show_path(("themes", 'say "hi" now')) == 'themes."say \\"hi\\" now"'
    assert show_path(()) == "(top level)"
