"""Where a key is in a TOML text: the line a message about it should point at.

:mod:`tomllib` parses to plain dicts without positions, so a schema error knows its key path
(``competencies.digital-fluency.mentee.themes``) but not its line. :func:`key_lines` scans the
text once for table headers (``[a.b]``, ``[[a.b]]``), ``key = value`` lines and the elements of
arrays laid out one per line, and :func:`line_of` answers with the line of the longest known
prefix of a path. It only reads text ``tomllib`` has already accepted.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence

__all__ = ["Path", "key_lines", "line_of", "show_path"]

#: A key path as :mod:`jsonschema` reports it: table keys and array indexes.
Path = tuple[str | int, ...]

_BARE = re.compile(r"^[A-Za-z0-9_-]+$")


def show_path(path: Sequence[str | int]) -> str:
    """``("competencies", "digital-fluency", "mentee")`` -> ``competencies.digital-fluency.mentee``;
    indexes as ``[2]``, keys that are not bare TOML keys quoted."""
    shown = ""
    for part in path:
        if isinstance(part, int):
            shown += f"[{part}]"
        else:
            key = part if _BARE.match(part) else '"' + part.replace('"', '\\"') + '"'
            shown += f".{key}" if shown else key
    return shown or "(top level)"


def line_of(lines: dict[Path, int], path: Sequence[str | int]) -> int | None:
    """The line of ``path``, else of its longest prefix the text shows; ``None`` if none."""
    for end in range(len(path), 0, -1):
        found = lines.get(tuple(path[:end]))
        if found is not None:
            return found
    return None


def key_lines(text: str) -> dict[Path, int]:
    """Every key path the text spells out, with the (1-based) line it first appears on."""
    lines: dict[Path, int] = {}
    table: Path = ()
    tables_seen: dict[Path, int] = {}
    array: tuple[Path, int, int] | None = None  # (path, next index, open brackets)
    in_string: str | None = None  # inside a multi-line string: its delimiter

    def note(path: Path, number: int) -> None:
        for end in range(1, len(path) + 1):
            lines.setdefault(path[:end], number)

    for number, raw in enumerate(text.splitlines(), 1):
        if in_string is not None:
            if raw.count(in_string) % 2 == 1:
                in_string = None
            continue
        line = _strip_comment(raw).strip()
        if not line:
            continue
        if array is not None:
            path, index, depth = array
            if line.startswith("{") or (depth == 1 and not line.startswith("]")):
                note((*path, index), number)
                index += _elements(line)
            depth += _depth_change(line)
            array = (path, index, depth) if depth > 0 else None
            continue
        if line.startswith("[["):
            base = tuple(_split_keys(line[2 : line.index("]]")]))
            index = tables_seen.get(base, 0)
            tables_seen[base] = index + 1
            table = (*base, index)
            note(table, number)
        elif line.startswith("["):
            table = tuple(_split_keys(line[1 : line.rindex("]")]))
            note(table, number)
        elif "=" in line:
            key_text, value = _split_assignment(line)
            path = (*table, *_split_keys(key_text))
            note(path, number)
            value = value.strip()
            for delimiter in ('"""', "'''"):
                if value.count(delimiter) % 2 == 1:
                    in_string = delimiter
            if value.startswith("{"):
                for inner in re.finditer(r"[{,]\s*([A-Za-z0-9_-]+|\"[^\"]*\"|'[^']*')\s*=", value):
                    note((*path, *_split_keys(inner.group(1))), number)
            elif value.startswith("["):
                depth = _depth_change(value)
                if depth > 0:
                    array = (path, _elements(value[1:]), depth)
    return lines


def _strip_comment(line: str) -> str:
    quote: str | None = None
    escaped = False
    for position, char in enumerate(line):
        if quote == '"' and escaped:
            escaped = False
        elif quote == '"' and char == "\\":
            escaped = True
        elif quote is not None:
            if char == quote:
                quote = None
        elif char in "\"'":
            quote = char
        elif char == "#":
            return line[:position]
    return line


def _outside_strings(text: str) -> str:
    """``text`` with quoted strings blanked, so brackets and braces in them do not count."""
    return re.sub(r"\"(?:[^\"\\]|\\.)*\"|'[^']*'", '""', text)


def _depth_change(text: str) -> int:
    bare = _outside_strings(text)
    return bare.count("[") - bare.count("]")


def _elements(text: str) -> int:
    """How many array elements start on this line (inline tables and plain values)."""
    bare = _outside_strings(text).strip().rstrip(",")
    if not bare or bare.startswith("]"):
        return 0
    if bare.startswith("{"):
        return bare.count("{")
    return bare.count(",") + 1


def _split_assignment(line: str) -> tuple[str, str]:
    quote: str | None = None
    for position, char in enumerate(line):
        if quote is not None:
            if char == quote:
                quote = None
        elif char in "\"'":
            quote = char
        elif char == "=":
            return line[:position], line[position + 1 :]
    return line, ""


def _unquote(token: str) -> str:
    try:
        return json.loads(token)
    except ValueError:  # a TOML escape JSON lacks (\U0001F600): close enough for a line number
        return token[1:-1]


def _split_keys(text: str) -> list[str]:
    """A dotted TOML key (``a."b.c".d``) as its parts."""
    parts: list[str] = []
    for match in re.finditer(r"\s*(\"(?:[^\"\\]|\\.)*\"|'[^']*'|[A-Za-z0-9_-]+)\s*(?:\.|$)", text):
        token = match.group(1)
        if token.startswith('"'):
            token = _unquote(token)
        elif token.startswith("'"):
            token = token[1:-1]
        parts.append(token)
    return parts
