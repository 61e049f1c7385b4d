r"""JSON Schema files shipped with Mentorbridge, and the one way to check data against them.

Schemas are draft 2020-12 documents loaded with :mod:`importlib.resources`, so they work from
a wheel as well as a checkout. Leaf schemas carry a ``description`` saying what is expected;
:func:`problems` uses it so every error names the field, the value and the fix.

:func:`check` is for hot paths (every statement built): it runs the schema compiled to Python
by ``fastjsonschema`` (about twenty times faster) and asks ``jsonschema`` for the full,
explained list of problems only when that finds one. Schemas therefore keep to what both
engines read the same way: no keyword beside a ``$ref`` (draft 7 would ignore it), no
``unevaluated*``; a test checks that the two agree.

A ``pattern``'s ``$`` means the end of the string, as in ECMA-262 (which JSON Schema
specifies) and in ``fastjsonschema``; Python's ``$`` would also match before a final newline,
so ``"evt-1\n"`` would pass ``^[a-z0-9-]+$``. Both engines therefore read ``$`` as ``\Z``,
and the schema files keep portable ECMA-262 patterns.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from functools import cache
from importlib import resources
from typing import Any

import fastjsonschema
from jsonschema import Draft202012Validator, validators
from jsonschema.exceptions import ValidationError as _SchemaError

__all__ = ["all_schema_names", "check", "load", "problems", "validator"]


def all_schema_names() -> list[str]:
    """Every schema shipped, as names for :func:`load` (``"xapi/statement"``)."""
    root = resources.files(__name__)
    names: list[str] = []

    def walk(node: Any, prefix: str) -> None:
        for child in node.iterdir():
            if child.is_dir():
                walk(child, f"{prefix}{child.name}/")
            elif child.name.endswith(".schema.json"):
                names.append(prefix + child.name.removesuffix(".schema.json"))

    walk(root, "")
    return sorted(names)


@cache
def load(name: str) -> dict[str, Any]:
    """Load the schema ``schemas/<name>.schema.json``."""
    text = resources.files(__name__).joinpath(f"{name}.schema.json").read_text("utf-8")
    return json.loads(text)


#: An unescaped ``$``, the one ``fastjsonschema`` reads as ``\Z`` in a ``pattern``.
_DOLLAR = re.compile(r"(?<!\\)\$")


@cache
def _end_anchored(pattern: str) -> re.Pattern[str]:
    return re.compile(_DOLLAR.sub(r"\\Z", pattern))


def _pattern(
    validator: Any, pattern: str, instance: Any, schema: dict[str, Any]
) -> Iterator[_SchemaError]:
    if validator.is_type(instance, "string") and not _end_anchored(pattern).search(instance):
        yield _SchemaError(f"{instance!r} does not match {pattern!r}")


_Validator = validators.extend(Draft202012Validator, {"pattern": _pattern})


@cache
def validator(name: str) -> Draft202012Validator:
    """A compiled validator for the named schema (cached: compiling is the slow part)."""
    schema = load(name)
    Draft202012Validator.check_schema(schema)
    return _Validator(schema)


@cache
def _compiled(name: str) -> Any:
    return fastjsonschema.compile(load(name))


def check(name: str, instance: Any, *, root: str = "$") -> list[tuple[str, str]]:
    """Like :func:`problems`, fast when ``instance`` is valid (the usual case)."""
    try:
        _compiled(name)(instance)
    except fastjsonschema.JsonSchemaValueException as err:
        found = problems(name, instance, root=root)
        if found:
            return found
        # The engines disagree: trust the stricter answer rather than let the instance through.
        return [(root + "".join(f".{p}" for p in err.path[1:]), err.message)]
    return []


def problems(name: str, instance: Any, *, root: str = "$") -> list[tuple[str, str]]:
    """Check ``instance`` against the named schema.

    Returns:
        ``(path, message)`` per failing field, sorted by path; empty when valid. Paths are
        JSONPath (``$.context.registration``) with ``$`` replaced by ``root``.
    """
    found = []
    for error in validator(name).iter_errors(instance):
        leaf = _deepest(error)
        found.append((root + leaf.json_path[1:], _explain(leaf)))
    return sorted(set(found))


def _deepest(error: _SchemaError) -> _SchemaError:
    """For ``oneOf``/``anyOf`` failures, the branch error that got furthest into the data.

    A ``oneOf`` that carries its own ``description`` explains itself better than any branch.
    """
    while error.context and "description" not in error.schema:
        error = max(error.context, key=lambda e: (len(e.absolute_path), -len(e.message)))
    return error


def _explain(error: _SchemaError) -> str:
    expected = error.schema.get("description") if isinstance(error.schema, dict) else None
    if error.validator in ("required", "additionalProperties", "unevaluatedProperties"):
        return error.message
    if "propertyNames" in error.absolute_schema_path:
        return f"key {_show(error.instance)} is not valid: expected {expected or error.message}"
    if expected:
        return f"{_show(error.instance)} is not valid: expected {expected}"
    return error.message


def _show(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= 80 else text[:77] + "..."
