"""Mappings built directly (no file) for the evidence tests, and their rules."""

from __future__ import annotations

import hashlib
from dataclasses import replace

from mentorbridge.plugin.mapping.model import (
    Competency,
    EvidenceRules,
    Level,
    Mapping,
    SideRule,
)

#: Three sessions on a theme make Developing; add a released rating of 3 of 5 (0.5) or more
#: for Proficient; an achieved goal on top of that for Advanced. Nothing below 0.25.
RULES = EvidenceRules(
    levels=(
        Level("Aware", 0.1, min_sessions=1),
        Level("Developing", 0.5, min_sessions=3),
        Level("Proficient", 0.75, min_sessions=3, min_rating=0.5),
        Level("Advanced", 1.0, min_sessions=3, min_rating=0.5, min_goals=1),
    ),
    minimum_level=0.25,
)

DIGITAL = Competency(
    key="digital-fluency",
    name="Digital Fluency",
    category="Executive",
    workday_id="COMP-DIGI",
    moodle_idnumber="DIGI",
    xapi_iri="https://hr.example.com/competencies/digital-fluency",
    mentee=SideRule(
        themes={"Generative AI at work": 1.0, "social media": 0.5},
        outcomes={"SUCC-DIGI": 1.0},
        goals=1.0,
    ),
)
COACHING = Competency(
    key="coaching",
    name="Coaching",
    category="Junior mentor",
    workday_id=None,
    moodle_idnumber=None,
    xapi_iri="https://hr.example.com/competencies/coaching",
    mentor=SideRule(themes={"generative AI at work": 1.0}, outcomes={"SUCC-COACH": 1.0}, goals=1.0),
)


def mapping(rules: EvidenceRules = RULES, *competencies: Competency) -> Mapping:
    chosen = competencies or (DIGITAL, COACHING)
    digest = hashlib.sha256(repr((rules, chosen)).encode()).hexdigest()
    return Mapping(
        source="test",
        digest=digest,
        competencies={c.key: c for c in chosen},
        rules=rules,
        moodle_scale=("Not yet competent", "Developing", "Competent"),
    )


def with_rules(**changes: object) -> Mapping:
    return mapping(replace(RULES, **changes))
