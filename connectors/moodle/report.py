"""What a Moodle push did, per phase, and what it could not do (and what would fix it)."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from mentorbridge.connectors.moodle.client import is_read_function

__all__ = ["Problem", "PushReport"]

#: The phases of a push, in order.
PHASES = ("users", "framework", "enrolments", "plans", "evidence", "milestones")


@dataclass(frozen=True, slots=True)
class Problem:
    """One record the push could not write, or a step it had to skip."""

    phase: str
    record: str
    message: str

    def as_dict(self) -> dict[str, str]:
        return {"phase": self.phase, "record": self.record, "message": self.message}


@dataclass
class PushReport:
    """Counts per phase (``created``, ``updated``, ``written`` ...), problems, and the HTTP
    calls made per Moodle function."""

    dry_run: bool = False
    full: bool = False
    counts: dict[str, Counter[str]] = field(default_factory=lambda: {p: Counter() for p in PHASES})
    problems: list[Problem] = field(default_factory=list)
    warnings: list[dict[str, Any]] = field(default_factory=list)
    calls: Counter[str] = field(default_factory=Counter)
    run_id: int | None = None
    #: Called with a phase and its records handled so far, after every count (progress bars).
    on_count: Callable[[str, int], None] | None = field(default=None, repr=False, compare=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def count(self, phase: str, what: str, n: int = 1) -> None:
        if n:
            with self._lock:  # phases count from several calls in flight
                self.counts[phase][what] += n
                done = self.counts[phase].total()
            if self.on_count is not None:
                self.on_count(phase, done)

    def problem(self, phase: str, record: str, message: str) -> None:
        with self._lock:
            self.problems.append(Problem(phase, record, message))
        self.count(phase, "failed")

    @property
    def ok(self) -> bool:
        """Nothing was skipped: a run with problems never reports plain success."""
        return not self.problems

    def counts_dict(self) -> dict[str, dict[str, int]]:
        return {phase: dict(counted) for phase, counted in self.counts.items() if counted}

    def writes(self) -> int:
        """HTTP calls that changed something in Moodle."""
        return sum(n for name, n in self.calls.items() if not is_read_function(name))
