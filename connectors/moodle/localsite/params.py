"""Form fields in PHP's bracket notation, and Moodle's external parameter validation.

``parse_fields`` does what PHP does to ``users[0][username]=x`` before Moodle sees it (nested
arrays, kept as ordered dicts). ``validate`` walks a description the way
``external_api::validate_parameters`` does: declared key order, required / optional / default
keys, unexpected keys refused, each scalar cleaned and refused if cleaning would change it, and
the same error texts (generic message, the path to the faulty value in ``debuginfo``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from .errors import WSError, invalid_parameter

__all__ = [
    "Multiple",
    "Single",
    "Value",
    "as_lists",
    "default",
    "optional",
    "parse_fields",
    "required",
    "validate",
]

REQUIRED, OPTIONAL, DEFAULT = 1, 0, 2

_KEY = re.compile(r"([^\[\]]+)((?:\[[^\[\]]*\])*)")
_PART = re.compile(r"\[([^\[\]]*)\]")


def parse_fields(pairs: Iterable[tuple[str, str]]) -> dict[str, Any]:
    """Nest ``a[b][0]=v`` pairs into dicts, as PHP builds ``$_POST``; later pairs win."""
    root: dict[str, Any] = {}
    for key, value in pairs:
        match = _KEY.fullmatch(key)
        parts = [match.group(1), *_PART.findall(match.group(2))] if match else [key]
        node = root
        for depth, part in enumerate(parts):
            if part == "":  # name[] appends
                numeric = [int(k) for k in node if k.isdigit()]
                part = str(max(numeric) + 1 if numeric else 0)
            if depth == len(parts) - 1:
                node[part] = value
            else:
                child = node.get(part)
                if not isinstance(child, dict):
                    child = {}
                    node[part] = child
                node = child
    return root


def as_lists(value: Any) -> Any:
    """The parsed form with every dict keyed 0..n-like turned into a list (for ``.calls``)."""
    if isinstance(value, dict):
        if value and all(k.isdigit() for k in value):
            return [as_lists(v) for v in value.values()]
        return {k: as_lists(v) for k, v in value.items()}
    return value


@dataclass(frozen=True)
class Value:
    """``external_value``: one scalar of a ``PARAM_*`` type (named as Moodle names them)."""

    type: str
    presence: int = REQUIRED
    default: Any = None


@dataclass(frozen=True)
class Single:
    """``external_single_structure``: named keys."""

    keys: Mapping[str, Value | Single | Multiple] = field(default_factory=dict)
    presence: int = REQUIRED
    default: Any = None


@dataclass(frozen=True)
class Multiple:
    """``external_multiple_structure``: a list of one content description."""

    content: Value | Single | Multiple
    presence: int = REQUIRED
    default: Any = None


Description = Value | Single | Multiple


def required(type_: str) -> Value:
    """A required scalar."""
    return Value(type_, REQUIRED)


def optional(type_: str) -> Value:
    """An optional scalar: left out of the validated params when not sent."""
    return Value(type_, OPTIONAL)


def default(type_: str, value: Any) -> Value:
    """A scalar with a default."""
    return Value(type_, DEFAULT, value)


def validate(description: Description, params: Any) -> Any:
    """The cleaned params, or :class:`WSError` ``invalidparameter`` as Moodle words it."""
    if params is None and isinstance(description, Value):
        return None  # external_value allows null unless told otherwise
    if isinstance(description, Value):
        if isinstance(params, dict):
            raise invalid_parameter("Scalar type expected, array or object received.")
        return _validate_value(description.type, params)
    if not isinstance(params, dict | list):
        raise invalid_parameter(f"Only arrays accepted. The bad value is: '{params}'")
    if isinstance(description, Multiple):
        items = params.values() if isinstance(params, dict) else params
        return [validate(description.content, item) for item in items]
    remaining = dict(params) if isinstance(params, dict) else dict(enumerate(params))
    result: dict[str, Any] = {}
    for key, sub in description.keys.items():
        if key not in remaining:
            if sub.presence == REQUIRED:
                raise invalid_parameter(f"Missing required key in single structure: {key}")
            if sub.presence == DEFAULT:
                result[key] = _nested(key, sub, sub.default)
            continue
        result[key] = _nested(key, sub, remaining.pop(key))
    if remaining:
        raise invalid_parameter(
            "Unexpected keys (" + ", ".join(map(str, remaining)) + ") detected in parameter array."
        )
    return result


def _nested(key: str, description: Description, value: Any) -> Any:
    try:
        return validate(description, value)
    except WSError as err:
        if err.errorcode != "invalidparameter":
            raise
        raise invalid_parameter(f"{key} => {err.message}: {err.debuginfo}") from None


def _validate_value(type_: str, value: Any) -> Any:
    if type_ == "bool" and (isinstance(value, bool) or value in (0, 1, "0", "1")):
        return bool(int(value))
    text = _php_string(value)
    debuginfo = (
        f'Invalid external api parameter: the value is "{text}", '
        f'the server was expecting "{type_}" type'
    )
    if type_ == "float":
        if isinstance(value, int | float) or re.fullmatch(
            r"[+-]?[0-9]*\.?[0-9]*(e[-+]?[0-9]+)?", text, re.IGNORECASE
        ):
            try:
                return float(value)
            except ValueError:
                pass
        raise invalid_parameter(debuginfo)
    cleaned = _clean(type_, text)
    if str(cleaned) != text:
        raise invalid_parameter(debuginfo)
    return cleaned


def _php_string(value: Any) -> str:
    if isinstance(value, bool):
        return "1" if value else ""
    return str(value)


_TAG = re.compile(r"<(?=[A-Za-z/!?])[^>]*(?:>|$)")
_PLUGIN = re.compile(r"[a-z](?:[a-z0-9_](?!__))*[a-z0-9]+")
_TIMEZONE = re.compile(
    r"(([+-]?(0?[0-9](\.[5|0])?|1[0-3](\.0)?|1[0-2]\.5))|(99)|[A-Za-z0-9]+(/?[A-Za-z_-])+)"
)
#: Language packs installed on the site (only English, as on the recorded one).
INSTALLED_LANGS = frozenset({"en"})


def _clean(type_: str, text: str) -> Any:
    """``clean_param`` for the types the site's functions declare."""
    if type_ == "int":
        match = re.match(r"\s*([+-]?\d+)", text)
        return int(match.group(1)) if match else 0
    if type_ == "bool":
        lowered = text.lower()
        if lowered in ("on", "yes", "true"):
            return 1
        if lowered in ("off", "no", "false"):
            return 0
        return 0 if text in ("", "0") else 1
    if type_ == "alpha":
        return re.sub(r"[^a-zA-Z]", "", text)
    if type_ == "alphanum":
        return re.sub(r"[^a-zA-Z0-9]", "", text)
    if type_ in ("alphanumext", "safedir"):
        return re.sub(r"[^a-zA-Z0-9_-]", "", text)
    if type_ == "sequence":
        return re.sub(r"[^0-9,]", "", text)
    if type_ == "username":
        return re.sub(r"[^-.@_a-z0-9]", "", text.strip().lower().replace(" ", ""))
    if type_ == "raw_trimmed":
        return text.strip()
    if type_ in ("text", "notags"):
        return _TAG.sub("", text)
    if type_ in ("plugin", "theme", "auth"):
        return text if _PLUGIN.fullmatch(text) else ""
    if type_ == "lang":
        return text if text in INSTALLED_LANGS else ""
    if type_ == "timezone":
        return text if _TIMEZONE.fullmatch(text) else ""
    return text  # raw, cleanhtml (no HTML purifier here), url
