"""Every shipped schema is a valid draft 2020-12 schema, and what we ship validates against it."""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator

from mentorbridge import schemas
from mentorbridge.plugin.config import load_config
from mentorbridge.xapi.profile import load_profile, template_names
from mentorbridge.xapi.vocab import DEFAULT_PROFILE_IRI, PROFILE_VERSION, ProfileVocabulary


@pytest.mark.parametrize("name", schemas.all_schema_names())
def test_every_schema_is_valid_draft_2020_12(name: str) -> None:
    Draft202012Validator.check_schema(schemas.load(name))


def test_the_schemas_we_rely_on_are_shipped() -> None:
    assert {"config", "xapi/statement"} <= set(schemas.all_schema_names())


def test_the_embedded_defaults_satisfy_the_config_schema(tmp_path: Path) -> None:
    config = load_config(environ={"XDG_CONFIG_HOME": str(tmp_path)})
    assert schemas.problems("config", config.as_dict()) == []


def test_problems_name_the_field_and_what_is_expected() -> None:
    found = schemas.problems("xapi/statement", {"actor": {}, "verb": {"id": "x"}}, root="s")
    paths = [path for path, _ in found]
    assert "s.verb.id" in paths
    assert any("required property" in message for _, message in found)
    assert dict(found)["s.verb.id"].startswith('"x" is not valid: expected an absolute IRI')


class TestProfileDocument:
    """The JSON-LD profile is well formed and agrees with the vocabulary module."""

    profile = load_profile()
    vocabulary = ProfileVocabulary(DEFAULT_PROFILE_IRI)

    def test_it_is_an_xapi_profile(self) -> None:
        assert self.profile["@context"] == "https://w3id.org/xapi/profiles/context"
        assert self.profile["type"] == "Profile"
        assert self.profile["conformsTo"] == "https://w3id.org/xapi/profiles#1.0"
        assert [v["id"] for v in self.profile["versions"]] == [self.vocabulary.version]
        assert self.vocabulary.version.endswith(f"/v{PROFILE_VERSION}")

    def test_every_concept_and_template_is_in_scheme(self) -> None:
        for part in (
            *self.profile["concepts"],
            *self.profile["templates"],
            *self.profile["patterns"],
        ):
            assert part["inScheme"] == self.vocabulary.version
            assert part["id"].startswith(DEFAULT_PROFILE_IRI + "/")
            assert part["prefLabel"]["en"] and part["definition"]["en"]

    def test_the_concepts_it_defines_are_the_vocabulary_modules(self) -> None:
        defined = {c["id"] for c in self.profile["concepts"]}
        v = self.vocabulary
        assert defined == {
            v.programme,
            v.pair,
            v.reflection,
            v.target_date,
            v.visibility,
            v.evidence_source,
            v.pair_side,
            v.level_name,
        }
        for concept in self.profile["concepts"]:
            if "inlineSchema" in concept:
                Draft202012Validator.check_schema(json.loads(concept["inlineSchema"]))

    def test_the_primary_pattern_covers_every_template(self) -> None:
        patterns = {p["id"]: p for p in self.profile["patterns"]}
        primary = [p for p in patterns.values() if p.get("primary")]
        assert [p["id"] for p in primary] == [self.vocabulary.pattern]
        alternates = patterns[primary[0]["zeroOrMore"]]["alternates"]
        assert alternates == [self.vocabulary.template(n) for n in template_names(self.profile)]

    def test_statement_ref_templates_point_at_templates_of_this_profile(self) -> None:
        ids = {t["id"] for t in self.profile["templates"]}
        for template in self.profile["templates"]:
            for key in ("objectStatementRefTemplate", "contextStatementRefTemplate"):
                assert set(template.get(key, [])) <= ids

    def test_it_ships_as_package_data(self) -> None:
        assert (
            resources.files("mentorbridge.xapi.profile")
            .joinpath("reverse-mentoring.jsonld")
            .is_file()
        )
