"""Reading a TOML file people write by hand: TOML, then its JSON Schema, then checks a schema
cannot express, every problem at once with its line, key path and fix.

The mapping file (:mod:`plugin.mapping.file`) and the pairing file (:mod:`plugin.pairing.file`)
are read this way; each raises its own :class:`~plugin.errors.CheckedFileError`.
"""

from __future__ import annotations

import difflib
import json
import re
import tomllib
from collections.abc import Callable
from typing import Any

from mentorbridge import schemas
from mentorbridge.plugin.errors import CheckedFileError
from mentorbridge.plugin.mapping.lines import key_lines, line_of, show_path

__all__ = ["KeyProblem", "Problem", "parse_checked", "schema_problems"]

Problem = tuple[int | None, str, str]
KeyProblem = tuple[tuple[str | int, ...], str]

_POSITION = re.compile(r"\s*\(at line (\d+), column (\d+)\)$")


def parse_checked(
    text: str,
    source: str,
    schema: str,
    error: type[CheckedFileError],
    *,
    sense: Callable[[dict[str, Any]], list[KeyProblem]] | None = None,
    example_table: str = "[competencies.KEY]",
) -> dict[str, Any]:
    """The TOML in ``text`` (the contents of ``source``), valid against ``schemas/<schema>``
    and, if the schema holds, against ``sense``.

    Raises:
        CheckedFileError: of type ``error``, naming ``source``, each problem's line and key
            path, and the fix.
    """
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise error(source, [_syntax_problem(err, example_table)]) from None
    lines = key_lines(text)

    def at(path: tuple[str | int, ...], message: str) -> Problem:
        return (line_of(lines, path), show_path(path), message)

    found = [at(path, message) for path, message in schema_problems(schema, data)]
    if not found and sense is not None:
        found = [at(path, message) for path, message in sense(data)]
    if found:
        raise error(source, found)
    return data


def _syntax_problem(err: tomllib.TOMLDecodeError, example_table: str) -> Problem:
    message = str(err)
    position = _POSITION.search(message)
    line = int(position.group(1)) if position else None
    column = f" at column {position.group(2)}" if position else ""
    reason = _POSITION.sub("", message)
    return (
        line,
        "(TOML)",
        f"not valid TOML: {reason}{column}; text values need quotes, tables are written "
        f'{example_table}, key/value pairs key = "value" (https://toml.io)',
    )


def schema_problems(schema_name: str, data: dict[str, Any]) -> list[KeyProblem]:
    """Every way ``data`` breaks ``schemas/<schema_name>``, as (key path, message with fix)."""
    found = []
    definitions = schemas.load(schema_name).get("$defs", {})

    def describe(schema: dict[str, Any]) -> str:
        if "$ref" in schema:
            schema = definitions[schema["$ref"].rsplit("/", 1)[-1]]
        return schema.get("description", "")

    for error in schemas.validator(schema_name).iter_errors(data):
        path = tuple(error.absolute_path)
        schema = error.schema if isinstance(error.schema, dict) else {}
        match error.validator:
            case "additionalProperties":
                known = list(schema.get("properties", {}))
                for key in error.instance:
                    if key not in known:
                        found.append(((*path, key), _unknown_key(key, known)))
            case "required":
                for key in schema.get("required", []):
                    if key not in error.instance:
                        wanted = describe(schema["properties"][key])
                        found.append(((*path, key), f"missing: add {key}, {wanted}"))
            case _ if "propertyNames" in error.absolute_schema_path:
                expected = describe(schema) or error.message
                found.append(
                    ((*path, error.instance), f"the key is not valid: expected {expected}")
                )
            case _:
                expected = describe(schema)
                shown = json.dumps(error.instance, ensure_ascii=False)
                if len(shown) > 80:
                    shown = shown[:77] + "..."
                if expected:
                    found.append((path, f"{shown} is not valid: expected {expected}"))
                else:
                    found.append((path, error.message))
    return sorted(set(found), key=lambda p: [str(part) for part in p[0]])


def _unknown_key(key: str, known: list[str]) -> str:
    close = difflib.get_close_matches(key, known, n=1, cutoff=0.6)
    hint = f"did you mean {close[0]}?" if close else "remove it"
    return f"unknown key {key!r}: {hint} (the keys here are {', '.join(known)})"
