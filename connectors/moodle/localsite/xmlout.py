"""The REST server's XML answers (``moodlewsrestformat`` missing or ``xml``).

Moodle writes the return value as ``RESPONSE``/``SINGLE``/``KEY``/``VALUE``/``MULTIPLE`` and an
error as ``EXCEPTION``/``ERRORCODE``/``MESSAGE``[``/DEBUGINFO``], one element per line. Moodle walks
the function's return description; here the value itself is walked, and ``null_keys`` names the
optional top-level keys Moodle's description has but the value lacks (they print as null).
"""

from __future__ import annotations

from typing import Any

from .errors import WSError

__all__ = ["xml_error", "xml_response"]

_HEAD = '<?xml version="1.0" encoding="UTF-8" ?>\n'


def _escape(text: str) -> str:
    """``htmlspecialchars(..., ENT_COMPAT)``: single quotes stay as they are."""
    return (
        text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")
    )


def _xmlize(value: Any) -> str:
    if isinstance(value, dict):
        keys = "".join(f'<KEY name="{key}">{_xmlize(item)}</KEY>\n' for key, item in value.items())
        return f"<SINGLE>\n{keys}</SINGLE>\n"
    if isinstance(value, list):
        return "<MULTIPLE>\n" + "".join(_xmlize(item) for item in value) + "</MULTIPLE>\n"
    if value is None:
        return '<VALUE null="null"/>\n'
    if isinstance(value, bool):
        value = int(value)
    return f"<VALUE>{_escape(str(value))}</VALUE>\n"


def xml_response(value: Any, null_keys: tuple[str, ...] = ()) -> str:
    """A successful answer; a function without a return value gives an empty ``RESPONSE``."""
    if isinstance(value, dict) and null_keys:
        value = {**value, **{key: None for key in null_keys if key not in value}}
    body = "" if value is None else _xmlize(value)
    return f"{_HEAD}<RESPONSE>\n{body}</RESPONSE>\n"


def xml_error(error: WSError, *, debug: bool) -> str:
    """An error answer, ``DEBUGINFO`` only with debugging on."""
    lines = [
        f'<EXCEPTION class="{error.exception}">',
        f"<ERRORCODE>{_escape(error.errorcode)}</ERRORCODE>",
        f"<MESSAGE>{_escape(error.message)}</MESSAGE>",
    ]
    if debug and error.debuginfo is not None:
        lines.append(f"<DEBUGINFO>{_escape(error.debuginfo)}</DEBUGINFO>")
    lines.append("</EXCEPTION>")
    return _HEAD + "\n".join(lines) + "\n"
