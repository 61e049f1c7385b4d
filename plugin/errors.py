"""Every error Mentorbridge raises, sorted by what the caller does next.

::

    MentorbridgeError
    ├── FatalError               stop and tell the operator; retrying cannot help
    │   ├── ConfigError          bad config file, env override or secret (CLI exit 2)
    │   │   └── CheckedFileError  a hand-written TOML file: file, line, key path, fix
    │   │       ├── MappingError     the competency mapping file
    │   │       └── PairingFileError  the pairing programmes file
    │   ├── StoreNotMigratedError
    │   │   └── StoreMissingError  no SQLite file or PostgreSQL database yet: `db upgrade`
    │   ├── StoreAccessError     the store refuses us: login, role, host name, SQLite folder
    │   ├── LRSAuthError         401/403: wrong credentials or scope
    │   ├── LRSEndpointError     404/405/…: the endpoint is not an xAPI statements resource
    │   ├── SourceAuthError      an HRIS/LMS refused our credentials (after one token renewal)
    │   ├── SourcePermissionError  the credentials work but lack a permission (domain, scope)
    │   ├── SourceRequestError   the request is wrong: tenant, report, version, a validation fault
    │   ├── SyncFailedError      a sync ran every stream but some failed (``report``, ``failed``)
    │   └── ListenError          `serve` cannot listen on its address (in use, not ours, privileged)
    ├── RetriableError           the same work may succeed later
    │   ├── StoreUnavailableError  PostgreSQL not listening, starting up, timing out
    │   ├── LRSUnavailableError  429, 5xx, timeouts, connection errors (``retry_after``)
    │   ├── LRSPayloadTooLargeError  413: send the same statements in smaller batches
    │   ├── SourceUnavailableError  HRIS/LMS throttling, 5xx, maintenance, malformed pages
    │   │   └── SourceUnreachableError  no connection at all: host name, refused, TLS (``url``)
    │   └── ServiceUnreachableError  a CLI client cannot reach the webhook service (``url``)
    └── RejectedError            this one input is bad; set it aside and carry on
        ├── ValidationError      names the field, the value and what is expected
        │   └── StatementValidationError
        ├── UnknownReferenceError  names a pair, session, goal or person we do not know
        ├── ConflictError        contradicts what is already recorded
        └── LRSRejectedError     400/409/422 for one statement: park it as a dead letter

Errors raised at an HTTP boundary carry ``response=`` (an ``httpx.Response``); foreign
errors are wrapped with ``raise … from err``.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "CheckedFileError",
    "ConfigError",
    "ConflictError",
    "FatalError",
    "LRSAuthError",
    "LRSEndpointError",
    "LRSError",
    "LRSPayloadTooLargeError",
    "LRSRejectedError",
    "LRSUnavailableError",
    "ListenError",
    "MappingError",
    "MentorbridgeError",
    "PairingFileError",
    "RejectedError",
    "RetriableError",
    "ServiceUnreachableError",
    "SourceAuthError",
    "SourceError",
    "SourcePermissionError",
    "SourceRequestError",
    "SourceUnavailableError",
    "SourceUnreachableError",
    "StatementValidationError",
    "StoreAccessError",
    "StoreError",
    "StoreMissingError",
    "StoreNotMigratedError",
    "StoreUnavailableError",
    "SyncFailedError",
    "UnknownReferenceError",
    "ValidationError",
]


class MentorbridgeError(Exception):
    """Root of every error raised by Mentorbridge."""


# -- abort ----------------------------------------------------------------------------------


class FatalError(MentorbridgeError):
    """Stop: an operator has to change something before this can work."""


class ConfigError(FatalError):
    """The configuration (file, environment override or secret) is invalid.

    Attributes:
        key: dotted config key (``lrs.endpoint``) or environment variable at fault.
    """

    def __init__(self, message: str, *, key: str | None = None) -> None:
        super().__init__(message)
        self.key = key


class CheckedFileError(ConfigError):
    """A TOML file an admin wrote is invalid: TOML, schema or sense.

    Attributes:
        source: the file (or ``"default"``, the shipped one).
        problems: one ``(line, key path, message)`` per problem; line ``None`` where the file
            has no line for it (a key left out at the top level).
    """

    what = "file"

    def __init__(self, source: str, problems: list[tuple[int | None, str, str]]) -> None:
        self.source = source
        self.problems = sorted(problems, key=lambda p: (p[0] or 0, p[1]))
        lines = [
            f"{source}:{line}: {key}: {message}" if line else f"{source}: {key}: {message}"
            for line, key, message in self.problems
        ]
        count = len(lines)
        head = f"{self.what} {source} is invalid ({count} problem{'s' if count > 1 else ''}):"
        super().__init__("\n  ".join([head, *lines]), key=self.problems[0][1] if problems else None)


class MappingError(CheckedFileError):
    """The competency mapping file is invalid."""

    what = "mapping file"


class PairingFileError(CheckedFileError):
    """The pairing programmes file is invalid."""

    what = "pairing file"


class StoreNotMigratedError(FatalError):
    """The store's schema is older (or newer) than this version of Mentorbridge expects."""


class StoreError(MentorbridgeError):
    """Mixin base for failures to open the store.

    Attributes:
        url: the store URL, password masked.
    """

    def __init__(self, message: str, *, url: str | None = None) -> None:
        super().__init__(message)
        self.url = url


class StoreMissingError(StoreError, StoreNotMigratedError):
    """The store does not exist yet: no SQLite file, or no such PostgreSQL database."""


class StoreAccessError(StoreError, FatalError):
    """The store cannot be opened as configured: login refused, unknown role or host, an
    SQLite folder that is missing or not writable."""


class LRSError(MentorbridgeError):
    """Mixin base for errors that come from talking to a Learning Record Store."""

    def __init__(self, message: str, *, response: Any = None) -> None:
        super().__init__(message)
        self.response = response


class LRSAuthError(LRSError, FatalError):
    """The LRS refused our credentials (401) or our rights (403)."""


class LRSEndpointError(LRSError, FatalError):
    """The LRS answered in a way that means the endpoint itself is wrong (404, 405, …)."""


class SourceError(MentorbridgeError):
    """Mixin base for errors from a system of record (HRIS, LMS)."""

    def __init__(self, message: str, *, response: Any = None) -> None:
        super().__init__(message)
        self.response = response


class SourceAuthError(SourceError, FatalError):
    """The source refused our credentials, even after renewing the access token."""


class SourcePermissionError(SourceError, FatalError):
    """The credentials work, but lack a permission the request needs."""


class SourceRequestError(SourceError, FatalError):
    """The source says the request itself is wrong (unknown tenant or report, a bad parameter)."""


class SyncFailedError(FatalError):
    """A sync ran every stream it could, but one or more failed.

    Attributes:
        report: the run's report (counts, skips and the failures), for the caller to show.
        failed: the failed streams' names, with what went wrong in each.
    """

    def __init__(self, message: str, *, report: Any = None, failed: dict[str, str]) -> None:
        super().__init__(message)
        self.report, self.failed = report, failed


class ListenError(FatalError):
    """The web service cannot listen where it is told to (address in use, not this machine's,
    a privileged port)."""


# -- retry ----------------------------------------------------------------------------------


class RetriableError(MentorbridgeError):
    """Try the same work again later."""


class StoreUnavailableError(StoreError, RetriableError):
    """PostgreSQL is not listening, still starting or not answering in time."""


class LRSUnavailableError(LRSError, RetriableError):
    """The LRS is down, overloaded or slow.

    Attributes:
        retry_after: seconds the LRS asked us to wait (``Retry-After``), if it said.
    """

    def __init__(
        self, message: str, *, response: Any = None, retry_after: float | None = None
    ) -> None:
        super().__init__(message, response=response)
        self.retry_after = retry_after


class LRSPayloadTooLargeError(LRSError, RetriableError):
    """The LRS refused the request body as too large (413)."""


class SourceUnavailableError(SourceError, RetriableError):
    """The source is throttling, down, in maintenance or sent a malformed answer.

    Attributes:
        retry_after: seconds the source asked us to wait, if it said.
    """

    def __init__(
        self, message: str, *, response: Any = None, retry_after: float | None = None
    ) -> None:
        super().__init__(message, response=response)
        self.retry_after = retry_after


class SourceUnreachableError(SourceUnavailableError):
    """No connection to the source at all: the host name is unknown, the connection is refused
    or times out, TLS fails. A sync retries it; a check reports it at once.

    Attributes:
        url: the URL that could not be reached (without its query).
    """

    def __init__(self, message: str, *, url: str, response: Any = None) -> None:
        super().__init__(message, response=response)
        self.url = url


class ServiceUnreachableError(RetriableError):
    """A command line client (``events send``) cannot reach the webhook service.

    Attributes:
        url: the URL it tried.
    """

    def __init__(self, message: str, *, url: str) -> None:
        super().__init__(message)
        self.url = url


# -- skip -----------------------------------------------------------------------------------


class RejectedError(MentorbridgeError):
    """This one input is bad; set it aside and carry on with the rest."""


class ValidationError(RejectedError):
    """An input failed its schema.

    Attributes:
        problems: one ``(path, message)`` pair per failing field, path in JSONPath form.
    """

    def __init__(self, subject: str, problems: list[tuple[str, str]]) -> None:
        self.subject = subject
        self.problems = problems
        lines = "\n".join(f"  {path}: {message}" for path, message in problems)
        super().__init__(f"{subject} is invalid:\n{lines}")


class StatementValidationError(ValidationError):
    """A built xAPI statement failed the strict statement schema; it is never queued."""


class UnknownReferenceError(RejectedError):
    """The input refers to something (a person, pair, session, goal) we do not know.

    Attributes:
        kind: what is unknown (``worker``, ``pair``, ``session``, ``goal``, ``programme``).
        key: its key as the input gave it.
    """

    def __init__(self, message: str, *, kind: str | None = None, key: str | None = None) -> None:
        super().__init__(message)
        self.kind = kind
        self.key = key


class ConflictError(RejectedError):
    """The input contradicts what is already recorded (completing a cancelled session …)."""


class LRSRejectedError(LRSError, RejectedError):
    """The LRS rejected the statement content (400, 409, 422)."""
