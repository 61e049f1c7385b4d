"""A pairing programme as the pairing file describes it: who is eligible on each side, the hard
rules every pair must pass, and the weights of the soft rules."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

__all__ = [
    "COMPONENTS",
    "Objective",
    "PairingProgramme",
    "Side",
    "Weights",
]

Objective = Literal["best", "most"]

#: The soft rules, in the order explanations list them.
COMPONENTS = ("themes", "organisation", "function", "region", "first_time_mentor", "protected")


@dataclass(frozen=True, slots=True)
class Side:
    """Who may take part on one side (executive mentees, or junior mentors)."""

    management_levels: tuple[str, ...] = ()
    min_tenure_days: int | None = None
    max_tenure_days: int | None = None
    worker_types: tuple[str, ...] = ("employee",)
    organizations: tuple[str, ...] = ()
    opt_in: tuple[str, ...] = ()
    capacity: int = 1


@dataclass(frozen=True, slots=True)
class Weights:
    """Points each soft rule is worth when fully met (a pair's score is their weighted sum)."""

    themes: float = 60.0
    organisation: float = 10.0
    function: float = 10.0
    region: float = 10.0
    first_time_mentor: float = 10.0
    protected: float = 0.0

    def of(self, component: str) -> float:
        return float(getattr(self, component))


@dataclass(frozen=True, slots=True)
class PairingProgramme:
    """One programme Mentorbridge proposes pairs for.

    Attributes:
        key: the programme id its pairs are created in (``pair.created``'s ``programme_id``).
        themes: the programme's themes, as written (compared ignoring case).
        working_hours: the local working day, in minutes after midnight (start, end).
        protected_attributes: sensitive fields used for diversity, with consent only.
        candidates: how many of each mentee's best mentors the solver considers.
    """

    key: str
    name: str
    purpose: str
    themes: tuple[str, ...]
    mentees: Side
    mentors: Side
    cadence: str | None = "monthly"
    min_overlap_hours: float = 2.0
    working_hours: tuple[int, int] = (9 * 60, 17 * 60)
    shared_language: bool = False
    weights: Weights = Weights()
    protected_attributes: tuple[str, ...] = ()
    objective: Objective = "best"
    candidates: int = 200

    def theme_key(self, theme: str) -> str | None:
        """The programme's spelling of ``theme`` (any case), ``None`` if it is not one."""
        wanted = theme.casefold()
        return next((t for t in self.themes if t.casefold() == wanted), None)
