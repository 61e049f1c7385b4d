"""What one web service call runs with: the state, the site's URL, the time, who is calling."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .params import Single
from .state import WS_USER_ID, SiteState

__all__ = ["Call", "Function"]


@dataclass
class Call:
    """The context of one call.

    Attributes:
        state: the site's records (the caller holds its lock).
        url: the site's base URL (``http://127.0.0.1:PORT``), as Moodle's ``wwwroot``.
        moment: the site clock's reading, in seconds (``now`` is its integer part).
        viewfullnames: whether the integration role has ``moodle/site:viewfullnames``.
        functions: the functions of the token's service, in service order.
        userid: the token's user (the integration user).
    """

    state: SiteState
    url: str
    moment: float
    viewfullnames: bool
    functions: tuple[str, ...]
    userid: int = WS_USER_ID

    @property
    def now(self) -> int:
        return int(self.moment)


@dataclass(frozen=True)
class Function:
    """One web service function the site implements.

    Attributes:
        params: its parameter description (``external_function_parameters``).
        handler: runs it on the validated params; returns the answer or raises ``WSError``.
        competency: a competency function (refused when competencies are disabled).
        xml_nulls: optional top-level return keys that XML prints as null when absent.
    """

    params: Single
    handler: Callable[[Call, dict[str, Any]], Any]
    competency: bool = False
    xml_nulls: tuple[str, ...] = ()
