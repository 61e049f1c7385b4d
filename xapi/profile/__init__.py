"""The reverse-mentoring xAPI profile (JSON-LD, xAPI Profiles 1.0) and its template rules.

The document ships as ``reverse-mentoring.jsonld`` under the default profile IRI;
:func:`load_profile` rebases it onto the IRI an installation configures. :func:`check_template`
evaluates a statement template's rules (the small JSONPath subset templates use), so every
statement is checked against its own template before it is queued.
"""

from __future__ import annotations

import json
import re
from functools import cache
from importlib import resources
from typing import Any

from mentorbridge.xapi.vocab import DEFAULT_PROFILE_IRI

__all__ = ["check_template", "load_profile", "template_names"]

_FILE = "reverse-mentoring.jsonld"


@cache
def load_profile(profile_iri: str = DEFAULT_PROFILE_IRI) -> dict[str, Any]:
    """The profile document with every IRI it defines rooted at ``profile_iri``."""
    text = resources.files(__name__).joinpath(_FILE).read_text("utf-8")
    if profile_iri != DEFAULT_PROFILE_IRI:
        text = text.replace(json.dumps(DEFAULT_PROFILE_IRI)[1:-1], json.dumps(profile_iri)[1:-1])
    return json.loads(text)


def template_names(profile: dict[str, Any]) -> list[str]:
    """Short names (``session-attended`` …) of the profile's statement templates."""
    return [t["id"].rsplit("/", 1)[1] for t in profile["templates"]]


def _template(profile: dict[str, Any], name: str) -> dict[str, Any]:
    for template in profile["templates"]:
        if template["id"].endswith("/templates/" + name):
            return template
    raise KeyError(f"the profile has no statement template named {name!r}")


def check_template(statement: dict[str, Any], profile: dict[str, Any], name: str) -> list[str]:
    """Check a statement against the named template: verb, activity types and every rule.

    Returns:
        One message per broken requirement; empty when the statement follows the template.
    """
    template = _template(profile, name)
    found: list[str] = []
    if statement.get("verb", {}).get("id") != template["verb"]:
        found.append(f"$.verb.id must be {template['verb']}")
    type_checks = {
        "objectActivityType": ["$.object.definition.type"],
        "contextGroupingActivityType": ["$.context.contextActivities.grouping[*].definition.type"],
        "contextParentActivityType": ["$.context.contextActivities.parent[*].definition.type"],
    }
    for key, (location,) in type_checks.items():
        if key in template:
            wanted = template[key] if isinstance(template[key], list) else [template[key]]
            got = _select(statement, location)
            missing = [t for t in wanted if t not in got]
            if missing:
                found.append(f"{location} must include {', '.join(missing)}")
    for rule in template.get("rules", []):
        found.extend(_check_rule(statement, rule))
    return found


def _check_rule(statement: dict[str, Any], rule: dict[str, Any]) -> list[str]:
    location, presence = rule["location"], rule.get("presence")
    values = _select(statement, location)
    if presence == "excluded":
        return [f"{location} must be absent"] if values else []
    if presence == "included" and not values:
        return [f"{location} must be present"]
    found = []
    if values and "any" in rule and not any(v in rule["any"] for v in values):
        found.append(f"{location} must include one of {rule['any']}")
    if values and "all" in rule and not all(v in rule["all"] for v in values):
        found.append(f"{location} may only hold {rule['all']}")
    if values and "none" in rule and any(v in rule["none"] for v in values):
        found.append(f"{location} may not hold {rule['none']}")
    return found


_STEP = re.compile(r"\.([A-Za-z_][\w-]*)|\[\*\]|\['([^']+)'\]|\[(\d+)\]")


def _select(document: Any, location: str) -> list[Any]:
    """Values at a JSONPath location: ``$``, ``.name``, ``['key']``, ``[n]`` and ``[*]`` only."""
    nodes = [document]
    for key, index, every in _steps(location):
        next_nodes: list[Any] = []
        for node in nodes:
            if key is not None and isinstance(node, dict) and key in node:
                next_nodes.append(node[key])
            elif index is not None and isinstance(node, list) and index < len(node):
                next_nodes.append(node[index])
            elif every and isinstance(node, list):
                next_nodes.extend(node)
        nodes = next_nodes
    return nodes


@cache
def _steps(location: str) -> tuple[tuple[str | None, int | None, bool], ...]:
    """A location parsed once into (key, index, every element) steps: every statement built
    is checked against its template's rules."""
    if not location.startswith("$"):
        raise ValueError(f"unsupported JSONPath {location!r}")
    steps = []
    position = 1
    while position < len(location):
        step = _STEP.match(location, position)
        if step is None:
            raise ValueError(f"unsupported JSONPath {location!r} at {location[position:]!r}")
        position = step.end()
        name, quoted, index = step.groups()
        steps.append(
            (name or quoted, int(index) if index is not None else None, step.group(0) == "[*]")
        )
    return tuple(steps)
