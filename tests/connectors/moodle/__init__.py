"""Moodle connector tests; the recordings of a real Moodle 4.3 site live in the shared fixtures
folder next to the repository (``../shared/fixtures/moodle``)."""

from __future__ import annotations

import itertools
import json
import re
from functools import cache
from pathlib import Path
from typing import Any

#: The recordings: ``{"wsfunction", "request", "http_status", "response", ...}`` per file.
FIXTURES = Path(__file__).resolve().parents[4] / "shared" / "fixtures" / "moodle"
SITE = "https://lms.example.com"
ENDPOINT = f"{SITE}/webservice/rest/server.php"
TOKEN = "5f2b9c0e7d4a41b3a8e6c1d2f3a4b5c6"  # a made-up token; tests check it never leaks

_KEY = re.compile(r"([^\[\]]+)((?:\[[^\[\]]*\])*)")


@cache
def recording(prefix: str) -> dict[str, Any]:
    """The recording whose file name starts with ``prefix`` (``"002"``)."""
    (path,) = FIXTURES.glob(f"{prefix}_*.json")
    return json.loads(path.read_text(encoding="utf-8"))


def recording_ids() -> list[str]:
    """Every recording's number, in order."""
    return sorted(path.name[:3] for path in FIXTURES.glob("[0-9][0-9][0-9]_*.json"))


def body_of(rec: dict[str, Any]) -> str:
    """The answer's body as Moodle sent it."""
    if "response_raw" in rec:
        return rec["response_raw"]
    if rec.get("response_is_raw_text"):
        return rec["response"]
    return json.dumps(rec["response"])


def content_type_of(rec: dict[str, Any]) -> str:
    return rec.get("response_content_type", "application/json; charset=utf-8")


def is_error(rec: dict[str, Any]) -> bool:
    """Whether the recording is an answer that is not a result."""
    response = rec["response"]
    return (
        rec["http_status"] != 200
        or bool(rec.get("response_is_raw_text"))
        or (isinstance(response, dict) and "exception" in response)
    )


def nest(fields: dict[str, str]) -> dict[str, Any]:
    """Bracket-notation form fields (``users[0][idnumber]``) back into nested dicts and lists,
    the way PHP reads them."""
    root: dict[str, Any] = {}
    for key, value in fields.items():
        match = _KEY.fullmatch(key)
        assert match, key
        path = [match.group(1), *re.findall(r"\[([^\[\]]*)\]", match.group(2))]
        node: Any = root
        for here, following in itertools.pairwise(path):
            child = [] if following.isdigit() else {}
            if isinstance(node, list):
                index = int(here)
                while len(node) <= index:
                    node.append(None)
                node[index] = child if node[index] is None else node[index]
                node = node[index]
            else:
                node = node.setdefault(here, child)
        last = path[-1]
        if isinstance(node, list):
            index = int(last)
            while len(node) <= index:
                node.append(None)
            node[index] = value
        else:
            node[last] = value
    return root
