"""The exceptions the local site answers with, shaped as Moodle's REST server sends them.

Each carries what Moodle's ``generate_error`` reads off a PHP exception: its class name, its
``errorcode``, its localised message and the ``debuginfo`` shown only with developer debugging.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "ACCESS_DEBUGINFO",
    "WSError",
    "access_exception",
    "coding_error",
    "invalid_parameter",
    "invalid_persistent",
    "invalid_token",
    "missing_record",
    "moodle_exception",
]

#: Moodle's debuginfo for a function the token's service lacks (fixture 071), verbatim.
ACCESS_DEBUGINFO = (
    "Access to the function {function}() is not allowed.\n"
    "                     There could be multiple reasons for this:\n"
    "                     1. The service linked to the user token does not contain the function.\n"
    "                     2. The service is user-restricted and the user is not listed.\n"
    "                     3. The service is IP-restricted and the user IP is not listed.\n"
    "                     4. The service is time-restricted and the time has expired.\n"
    "                     5. The token is time-restricted and the time has expired.\n"
    "                     6. The service requires a specific capability which the user does not"
    " have.\n"
    "                     7. The function is called with username/password (no user token is"
    " sent)\n"
    "                     and none of the services has the function to allow the user.\n"
    "                     These settings can be found in Administration > Site administration\n"
    "                     > Server > Web services > External services and Manage tokens."
)


class WSError(Exception):
    """One error answer: ``{"exception", "errorcode", "message"[, "debuginfo"]}``."""

    def __init__(
        self, exception: str, errorcode: str, message: str, debuginfo: str | None = None
    ) -> None:
        super().__init__(message)
        self.exception = exception
        self.errorcode = errorcode
        self.message = message
        self.debuginfo = debuginfo

    def as_dict(self, *, debug: bool) -> dict[str, Any]:
        """The JSON body; ``debuginfo`` only when debugging is on and there is one."""
        body: dict[str, Any] = {
            "exception": self.exception,
            "errorcode": self.errorcode,
            "message": self.message,
        }
        if debug and self.debuginfo is not None:
            body["debuginfo"] = self.debuginfo
        return body


def moodle_exception(errorcode: str, message: str, debuginfo: str | None = None) -> WSError:
    """A plain ``moodle_exception``."""
    return WSError("moodle_exception", errorcode, message, debuginfo)


def invalid_parameter(debuginfo: str) -> WSError:
    """``invalid_parameter_exception``: the message is always generic, the detail is debuginfo."""
    return WSError(
        "invalid_parameter_exception",
        "invalidparameter",
        "Invalid parameter value detected",
        debuginfo,
    )


def coding_error(hint: str, debuginfo: str | None = None) -> WSError:
    """``coding_exception``: the hint goes in the message (no debuginfo unless given)."""
    return WSError(
        "coding_exception",
        "codingerror",
        f"Coding error detected, it must be fixed by a programmer: {hint}",
        debuginfo,
    )


def invalid_persistent(errors: dict[str, str]) -> WSError:
    """``core\\invalid_persistent_exception``: the validation messages joined."""
    return WSError(
        "core\\invalid_persistent_exception",
        "invalidpersistenterror",
        "Error: " + ", ".join(errors.values()),
        " - ".join(f"{key}: {message}" for key, message in errors.items()),
    )


def missing_record(table: str, value: Any, column: str = "id") -> WSError:
    """``dml_missing_record_exception`` for a ``MUST_EXIST`` read, with Moodle's per-table codes."""
    debuginfo = (
        f"SELECT * FROM {{{table}}} WHERE {column} = ?\n[array (\n  0 => {_php_export(value)},\n)]"
    )
    if table == "user":
        return WSError("dml_missing_record_exception", "invaliduser", "Invalid user", debuginfo)
    if table == "course_modules":
        return WSError(
            "dml_missing_record_exception",
            "invalidcoursemodule",
            "Invalid course module ID",
            debuginfo,
        )
    return WSError(
        "dml_missing_record_exception",
        "invalidrecord",
        f"Can't find data record in database table {table}.",
        debuginfo,
    )


def invalid_token() -> WSError:
    """An unknown (or missing) ``wstoken``."""
    return moodle_exception("invalidtoken", "Invalid token - token not found")


def access_exception(function: str) -> WSError:
    """A function that exists in Moodle but not in the token's service."""
    return WSError(
        "webservice_access_exception",
        "accessexception",
        "Access control exception",
        ACCESS_DEBUGINFO.format(function=function),
    )


def _php_export(value: Any) -> str:
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return "'" + str(value).replace("\\", "\\\\").replace("'", "\\'") + "'"
