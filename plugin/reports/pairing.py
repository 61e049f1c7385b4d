"""The pairing report for a programme's sponsor: aggregates only, no group of fewer than k
people or pairs shown, never a name or an Employee ID.

It reads the programme's *current* pairs (proposals ``proposed``, ``locked`` or ``approved``)
and its *latest run* (the newest :class:`~plugin.store.pairing_models.PairingRun`), and shows:

- ``coverage`` (the main view): who the latest run could pair, the current pairs by status,
  and per side the people paired and, by kind of reason, those left unpaired;
- ``score_bands`` and ``score_summary``: pairs per score band, the mean and median score and
  each soft rule's mean points;
- ``diversity``: pairs crossing organisation, function and region, and (only when the
  programme uses protected attributes) pairs differing on them.

The tables are small (a handful of rows), so suppression runs on them in Python
(:mod:`.pairing_tables`, :mod:`.suppress`).
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import UTC, datetime

from sqlalchemy import select

from mentorbridge.plugin.pairing.programme import COMPONENTS, PairingProgramme
from mentorbridge.plugin.pairing.review import CURRENT
from mentorbridge.plugin.reports.filters import MIN_K, ReportFilterError
from mentorbridge.plugin.reports.pairing_tables import (
    COVERAGE_COLUMNS,
    CROSSING,
    DIVERSITY_COLUMNS,
    SCORE_BAND_COLUMNS,
    SCORE_SUMMARY_COLUMNS,
    CurrentPair,
    LatestRun,
    coverage_rows,
    diversity_rows,
    hidden_dimensions,
    score_band_rows,
    score_chart,
    score_summary_rows,
)
from mentorbridge.plugin.reports.table import Report, View
from mentorbridge.plugin.store.db import Store
from mentorbridge.plugin.store.pairing_models import PairingProposal, PairingRun

__all__ = ["PairingFilters", "pairing_report"]


@dataclass(frozen=True, slots=True)
class PairingFilters:
    """What a pairing report covers.

    Attributes:
        programme: the programme's key in the pairing file (required).
        k: the smallest group shown (at least :data:`~.filters.MIN_K`).
    """

    programme: str | None = None
    k: int = MIN_K

    def check(self, programmes: dict[str, PairingProgramme] | None = None) -> None:
        """Check the values (and, given the pairing file's programmes, that it is one).

        Raises:
            ReportFilterError: naming the filter and the fix.
        """
        known = ", ".join(sorted(programmes or {})) or "none"
        if not self.programme:
            raise ReportFilterError(
                "programme", f"the pairing report needs a programme: give one of {known}"
            )
        if programmes is not None and self.programme not in programmes:
            raise ReportFilterError(
                "programme",
                f"no programme {self.programme!r} in the pairing file: use one of {known}",
            )
        if self.k < MIN_K:
            raise ReportFilterError(
                "k", f"{self.k} is below {MIN_K}: groups smaller than {MIN_K} are never shown"
            )

    def as_strings(self) -> dict[str, str]:
        """The filters that are set, as text (for the report header and the audit row)."""
        return {
            f.name: str(getattr(self, f.name))
            for f in fields(self)
            if getattr(self, f.name) is not None
        }


def pairing_report(
    store: Store, programmes: dict[str, PairingProgramme], filters: PairingFilters
) -> Report:
    """Build the pairing report of ``filters.programme``, one of ``programmes`` (the pairing
    file's).

    Raises:
        ReportFilterError: no programme given, or one the pairing file does not have (the
            message lists those it has).
    """
    filters.check(programmes)
    programme = programmes[str(filters.programme)]
    started_at, run, pairs = _read(store, programme.key)
    k = filters.k
    dimensions = [(c, c) for c in CROSSING]
    components = [c for c in COMPONENTS if c != "protected"]
    if programme.protected_attributes:
        dimensions.append(
            ("protected", f"protected attributes ({', '.join(programme.protected_attributes)})")
        )
        components.append("protected")
    weights = {c: programme.weights.of(c) for c in COMPONENTS}
    bands = score_band_rows(pairs, k)
    counted = [c for c, _ in dimensions]
    hidden = hidden_dimensions(pairs, counted, k)
    summary = score_summary_rows(pairs, components, weights, counted, hidden, k)
    if run is None:
        latest = "The programme has no pairing run yet: the latest-run counts are empty."
    else:
        latest = (
            f"Latest run: started {started_at:%Y-%m-%d %H:%M} UTC. Its unpaired people are "
            "counted by the kind of reason it gave (the reason's first clause, numbers as N), "
            "leaving out anyone with a current pair now."
        )
    return Report(
        kind="pairing",
        title=f"Pairing report: {programme.name}",
        generated_at=datetime.now(UTC),
        filters=filters.as_strings(),
        views=[
            View(
                "coverage",
                "Coverage",
                COVERAGE_COLUMNS,
                iter(coverage_rows(run, pairs, k)),
                "Who the latest run could pair, the current pairs by status, and per side who "
                "is paired and, by kind of reason, who is not.",
            ),
            View(
                "score_bands",
                "Score distribution",
                SCORE_BAND_COLUMNS,
                iter(bands),
                "Current pairs per band of their score (points).",
            ),
            View(
                "score_summary",
                "Score and its parts",
                SCORE_SUMMARY_COLUMNS,
                iter(summary),
                "The mean and median score of the current pairs, and each soft rule's points.",
            ),
            View(
                "diversity",
                "Diversity mix",
                DIVERSITY_COLUMNS,
                iter(diversity_rows(pairs, dimensions, k)),
                "Current pairs whose two people differ on each dimension, in aggregate.",
            ),
        ],
        charts=[score_chart(bands, k)],
        notes=[
            f"Programme {programme.key}: {programme.purpose}".rstrip(": "),
            f"Aggregates only: no names or Employee IDs, and no group of fewer than {k} people "
            "or pairs is shown (marked), with other cells hidden so that none can be worked out "
            "from the totals.",
            "Current pairs are those proposed, locked or approved; superseded and rejected "
            "proposals are left out.",
            latest,
        ],
    )


def _read(store: Store, key: str) -> tuple[datetime | None, LatestRun | None, list[CurrentPair]]:
    """The latest run (when it started, and its counts) and the current pairs."""
    with store.reading() as session:
        newest = session.execute(
            select(
                PairingRun.started_at,
                PairingRun.mentees,
                PairingRun.mentors,
                PairingRun.unmatched,
            )
            .where(PairingRun.programme_key == key)
            .order_by(PairingRun.started_at.desc(), PairingRun.id.desc())
            .limit(1)
        ).first()
        found = session.execute(
            select(
                PairingProposal.mentee,
                PairingProposal.mentor,
                PairingProposal.status,
                PairingProposal.score,
                PairingProposal.breakdown,
            ).where(PairingProposal.programme_key == key, PairingProposal.status.in_(CURRENT))
        ).all()
    pairs = [
        CurrentPair(mentee, mentor, status, float(score), breakdown or {})
        for mentee, mentor, status, score, breakdown in found
    ]
    if newest is None:
        return None, None, pairs
    started_at, mentees, mentors, unmatched = newest
    run = LatestRun(
        int(mentees or 0), int(mentors or 0), [u for u in unmatched or [] if isinstance(u, dict)]
    )
    return started_at, run, pairs
