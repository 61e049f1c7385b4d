"""Hypothesis strategies drawn from our own JSON Schemas (the subset they use: objects with
required and optional properties, strings by pattern or length, enums, bounded numbers, arrays).
"""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st


def from_schema(schema: dict[str, Any]) -> st.SearchStrategy[Any]:
    """Values valid by ``schema``; raises for a keyword it does not know, so a schema that
    outgrows it fails loudly instead of being fuzzed less than it seems."""
    if "enum" in schema:
        return st.sampled_from(schema["enum"])
    kind = schema.get("type")
    if isinstance(kind, list):
        return st.one_of([from_schema({**schema, "type": k}) for k in kind])
    match kind:
        case "object":
            return _object(schema)
        case "string":
            if "pattern" in schema:
                return st.from_regex(schema["pattern"], fullmatch=True)
            return st.text(
                min_size=schema.get("minLength", 0), max_size=min(schema.get("maxLength", 40), 40)
            )
        case "integer":
            return st.integers(schema.get("minimum"), schema.get("maximum"))
        case "number":
            low = schema.get("minimum", schema.get("exclusiveMinimum"))
            return st.floats(
                low,
                schema.get("maximum"),
                exclude_min="exclusiveMinimum" in schema,
                allow_nan=False,
                allow_infinity=False,
            )
        case "boolean":
            return st.booleans()
        case "array":
            return st.lists(
                from_schema(schema["items"]),
                min_size=schema.get("minItems", 0),
                max_size=min(schema.get("maxItems", 5), 5),
                unique=schema.get("uniqueItems", False),
            )
    raise ValueError(f"no strategy for schema {schema}")


def _object(schema: dict[str, Any]) -> st.SearchStrategy[dict[str, Any]]:
    properties = schema.get("properties", {})
    required = set(schema.get("required", ()))
    return st.fixed_dictionaries(
        {name: from_schema(properties[name]) for name in properties if name in required},
        optional={name: from_schema(s) for name, s in properties.items() if name not in required},
    )
