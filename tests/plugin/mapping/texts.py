"""A small valid mapping the mapping tests change one thing at a time."""

from __future__ import annotations

MINIMAL = """\
[rules]
recency_days = 365

[[rules.levels]]
name = "Emerging"
level = 0.25
min_sessions = 2

[[rules.levels]]
name = "Developing"
level = 0.5
min_sessions = 3
min_rating = 0.5

[competencies.digital-fluency]
name = "Digital Fluency"
category = "Technical"
workday_id = "SUCC-DIGI"
xapi_iri = "https://example.com/competencies/SUCC-DIGI"

[competencies.digital-fluency.mentee]
themes = { "generative AI at work" = 1.0, "social media" = 0.5 }
outcomes = { SUCC-DIGI = 1.0 }
goals = 1.0

[competencies.coaching]
name = "Coaching"
category = "Leadership"
workday_id = "COMP-COACH"
xapi_iri = "https://example.com/competencies/COMP-COACH"

[competencies.coaching.mentor]
themes = { "generative AI at work" = 1.0 }
"""


def changed(old: str, new: str, text: str = MINIMAL) -> str:
    """``text`` with its one occurrence of ``old`` replaced."""
    assert text.count(old) == 1, old
    return text.replace(old, new)


def line(text: str, fragment: str) -> int:
    """The (1-based) line on which the one occurrence of ``fragment`` in ``text`` starts."""
    assert text.count(fragment) == 1, fragment
    return text[: text.index(fragment)].count("\n") + 1
