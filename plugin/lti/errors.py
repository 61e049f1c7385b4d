"""Why the tool refused a launch or a registration, as one error with a code (for API callers)
and a message naming what is wrong and what to fix (for the page a person sees)."""

from __future__ import annotations

from mentorbridge.plugin.errors import MentorbridgeError

__all__ = ["LaunchRefused", "RegistrationRefused"]


class LaunchRefused(MentorbridgeError):
    """A login or launch the tool will not accept; nothing of it is stored.

    ``code`` is stable for API callers (``unknown_platform``, ``bad_signature``,
    ``replayed``, ``missing_claim`` ...); ``status`` the HTTP status of the answer.
    """

    def __init__(self, code: str, message: str, *, status: int = 400) -> None:
        super().__init__(message)
        self.code = code
        self.status = status


class RegistrationRefused(LaunchRefused):
    """A dynamic registration the tool will not make."""
