"""The pairing report's tables: columns, and rows suppressed for k-anonymity, built from the
programme's current pairs and its latest run (already read; nothing here touches the store).

Every table of counts with a total is suppressed as a whole with :func:`~.suppress.suppress`,
so a hidden count can never be worked out from its row's total and the counts shown beside it;
a share is hidden with its count or its total. Where one table's figure is in effect another's
(the executives paired are the pairs when each has one; the executives of the latest run are
usually all the executives), the two are hidden together, so no small group shows as a
difference between views. The mean points of a soft rule tell how many pairs met it; such a
mean is hidden with the count it would tell (:func:`score_summary_rows`).
"""

from __future__ import annotations

import re
import statistics
from collections import Counter
from collections.abc import Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from mentorbridge.plugin.reports.suppress import Suppression, suppress
from mentorbridge.plugin.reports.table import SUPPRESSED, Column, LineChart

__all__ = [
    "BANDS",
    "COVERAGE_COLUMNS",
    "CROSSING",
    "DIVERSITY_COLUMNS",
    "SCORE_BAND_COLUMNS",
    "SCORE_SUMMARY_COLUMNS",
    "CurrentPair",
    "LatestRun",
    "coverage_rows",
    "diversity_rows",
    "hidden_dimensions",
    "reason_kind",
    "score_band_rows",
    "score_chart",
    "score_summary_rows",
]

ALL = "all"
#: Score bands, lower bound included; the last also holds 100 (and anything above it, when a
#: programme's weights add up to more than 100).
BANDS = ("0-20", "20-40", "40-60", "60-80", "80-100")
#: The dimensions whose breakdown value is 1.0 when the two differ (unknown counts as same).
CROSSING = ("organisation", "function", "region")
_ROLES = (("mentee", "executives"), ("mentor", "mentors"))
_STATUSES = ("proposed", "locked", "approved")

COVERAGE_COLUMNS = (
    Column(
        "section",
        "Section",
        "str",
        "latest run (who it could pair), pairs (the current ones by status), executives or "
        "mentors (paired or not, and why not).",
    ),
    Column(
        "measure",
        "Measure",
        "str",
        "What is counted; 'unpaired: …' is a kind of reason the latest run gave (its first "
        "clause, numbers as N); 'all': the section's total.",
    ),
    Column(
        "count",
        "Count",
        "int",
        "People or pairs; '<5' where fewer than 5, or hidden so that such a count cannot be "
        "worked out from the total.",
    ),
    Column(
        "share",
        "Share",
        "level",
        "Of the section's total (executives paired: the share of executives with a current "
        "pair); hidden with its count or its total.",
    ),
)

SCORE_BAND_COLUMNS = (
    Column("band", "Score band", "str", "Points, lower bound included; 'all': every pair."),
    Column("pairs", "Pairs", "int", "Current pairs (proposed, locked, approved) in the band."),
    Column("share", "Share of pairs", "level"),
)

SCORE_SUMMARY_COLUMNS = (
    Column(
        "measure",
        "Measure",
        "str",
        "score (the pair's total), or a soft rule (themes, organisation, function, region, "
        "first_time_mentor, protected) and the points it gave.",
    ),
    Column(
        "out_of",
        "Out of",
        "float",
        "The programme's weight for the rule (the most points it gives); for the score, their sum.",
    ),
    Column("pairs", "Pairs", "int", "Current pairs the mean and median are over."),
    Column(
        "mean",
        "Mean points",
        "float",
        "Hidden with fewer than 5 pairs, and for a rule whose mean would tell a count of pairs "
        "under 5 (or one the diversity view hides), with one more (the themes where they give "
        "points) so that it cannot be worked out from the mean score.",
    ),
    Column("median", "Median points", "float"),
)

DIVERSITY_COLUMNS = (
    Column(
        "dimension",
        "Dimension",
        "str",
        "organisation (supervisory), function (top-level organisation), region (country), or "
        "the programme's protected attributes (only when it uses any; consented people only).",
    ),
    Column("pairs_different", "Pairs crossing", "int", "Pairs whose two people differ on it."),
    Column(
        "pairs_same",
        "Pairs not crossing",
        "int",
        "Pairs whose two people are the same on it, or where either is unknown (or, for "
        "protected attributes, did not consent).",
    ),
    Column("pairs", "Pairs", "int", "Current pairs."),
    Column("share_different", "Share crossing", "level"),
)


@dataclass(frozen=True, slots=True)
class CurrentPair:
    """A current pair as the report needs it (the ids are only ever compared, never shown)."""

    mentee: str
    mentor: str
    status: str
    score: float
    breakdown: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class LatestRun:
    """The programme's newest proposal run."""

    mentees: int
    mentors: int
    unmatched: Sequence[Mapping[str, Any]]


_CUT = re.compile(r"[(:;]")
_NUMBER = re.compile(r"\d+(?:[.,]\d+)?")


def reason_kind(reason: Any, ids: Collection[str] = ()) -> str:
    """The kind of an unpaired person's reason: its first clause (up to the first ``(``, ``:``
    or ``;``), numbers written ``N``, so people are counted by kind. A kind that would quote one
    of ``ids`` (the Employee IDs the report reads) is ``other``: nobody is named."""
    text = " ".join(_CUT.split(str(reason or ""), maxsplit=1)[0].split()).rstrip(" ,.")
    if not text:
        return "no reason given"
    if any(_names(text, employee_id) for employee_id in ids):
        return "other"
    return _NUMBER.sub("N", text)


def _names(text: str, employee_id: str) -> bool:
    return (
        bool(employee_id)
        and re.search(rf"(?<![\w-]){re.escape(employee_id)}(?![\w-])", text) is not None
    )


def _share(count: int, total: int, hidden: bool) -> Any:
    if hidden:
        return SUPPRESSED
    return round(count / total, 4) if total else None


def _shown(value: int, hidden: bool) -> Any:
    return SUPPRESSED if hidden else value


def _one_row(counts: Sequence[int], k: int) -> tuple[list[bool], bool]:
    """Counts with their total shown, as one suppressed row: which cells hide, and whether
    the total does."""
    hidden = suppress([list(counts)], k, column_totals=False, grand_total=False)
    return [(0, j) in hidden.cells for j in range(len(counts))], 0 in hidden.row_totals


@dataclass(slots=True)
class _Side:
    """One side's people (executives or mentors): the paired, and the unpaired by kind of
    reason, with what to hide."""

    section: str
    paired: int
    kinds: list[tuple[str, int]]
    paired_hidden: bool = False
    kinds_hidden: list[bool] | None = None
    unpaired_hidden: bool = False
    total_hidden: bool = False

    @property
    def unpaired(self) -> int:
        return sum(n for _, n in self.kinds)

    @property
    def total(self) -> int:
        return self.paired + self.unpaired

    def hide(self, k: int, paired_shown_elsewhere: bool) -> None:
        """Suppress the side's row. When its paired count is shown elsewhere (it equals the
        pairs shown in the pairs section), only the unpaired kinds and their total are left to
        hide, and the side's total hides with that total (it would be paired plus unpaired)."""
        counts = [n for _, n in self.kinds]
        if paired_shown_elsewhere:
            if counts:
                self.kinds_hidden, self.unpaired_hidden = _one_row(counts, k)
            self.total_hidden = self.unpaired_hidden
            return
        cells, self.total_hidden = _one_row([self.paired, *counts], k)
        self.paired_hidden, self.kinds_hidden = cells[0], cells[1:]
        # All minus paired: shown exactly when both are, and then 0 or at least k (the
        # suppression keeps the sum of hidden kinds, all else in the row shown, at k or more).
        self.unpaired_hidden = self.paired_hidden or self.total_hidden

    def rows(self) -> Iterator[tuple[Any, ...]]:
        total, total_hidden = self.total, self.total_hidden
        yield (
            self.section,
            "paired",
            _shown(self.paired, self.paired_hidden),
            _share(self.paired, total, self.paired_hidden or total_hidden),
        )
        hidden = self.kinds_hidden or [False] * len(self.kinds)
        for (kind, n), is_hidden in zip(self.kinds, hidden, strict=True):
            yield (
                self.section,
                f"unpaired: {kind}",
                _shown(n, is_hidden),
                _share(n, total, is_hidden or total_hidden),
            )
        rest, rest_hidden = self.unpaired, self.unpaired_hidden
        yield (
            self.section,
            "unpaired: all",
            _shown(rest, rest_hidden),
            _share(rest, total, rest_hidden or total_hidden),
        )
        yield self.section, ALL, _shown(total, total_hidden), None


def coverage_rows(
    run: LatestRun | None, pairs: Sequence[CurrentPair], k: int
) -> list[tuple[Any, ...]]:
    """Who the latest run could pair, the current pairs by status, and per side who is paired
    and, by kind of reason, who is not.

    A side's people are those with a current pair and those the latest run left unpaired; the
    unpaired are those of them with no current pair now (a pair locked by hand since counts).
    """
    statuses = [sum(1 for pair in pairs if pair.status == s) for s in _STATUSES]
    status_hidden, pairs_hidden = _one_row(statuses, k)
    unmatched = list(run.unmatched) if run is not None else []
    ids = {p.mentee for p in pairs} | {p.mentor for p in pairs}
    ids |= {str(u.get("employee_id")) for u in unmatched if u.get("employee_id") is not None}
    sides = []
    for role, section in _ROLES:
        paired = {p.mentee if role == "mentee" else p.mentor for p in pairs}
        unpaired: dict[Any, str] = {}
        for number, entry in enumerate(unmatched):
            person = entry.get("employee_id")
            key = number if person is None else str(person)
            if entry.get("role") != role or key in paired or key in unpaired:
                continue
            unpaired[key] = reason_kind(entry.get("reason"), ids)
        side = _Side(section, len(paired), sorted(Counter(unpaired.values()).items()))
        side.hide(k, paired_shown_elsewhere=not pairs_hidden and len(paired) == len(pairs))
        sides.append(side)
    rows: list[tuple[Any, ...]] = []
    eligible = (None, None) if run is None else (int(run.mentees), int(run.mentors))
    for side, count in zip(sides, eligible, strict=True):
        label = f"eligible {side.section}"
        if count is None:
            rows.append(("latest run", label, None, None))
            continue
        # The latest run's eligible people are usually the side's people, or nearly (those
        # whose locked pairs kept them out of it): hidden with the side's total, and when
        # the two differ by a group under k.
        gap = abs(count - side.total)
        hidden = 0 < count < k or 0 < gap < k or (gap == 0 and side.total_hidden)
        rows.append(("latest run", label, _shown(count, hidden), None))
    total = len(pairs)
    for status, n, is_hidden in zip(_STATUSES, statuses, status_hidden, strict=True):
        rows.append(
            ("pairs", status, _shown(n, is_hidden), _share(n, total, is_hidden or pairs_hidden))
        )
    rows.append(("pairs", ALL, _shown(total, pairs_hidden), None))
    for side in sides:
        rows.extend(side.rows())
    return rows


def _band(score: float) -> int:
    return min(max(int(score // 20), 0), len(BANDS) - 1)


def score_band_rows(pairs: Sequence[CurrentPair], k: int) -> list[tuple[Any, ...]]:
    """Current pairs per score band, with the total."""
    counts = [0] * len(BANDS)
    for pair in pairs:
        counts[_band(float(pair.score))] += 1
    total = len(pairs)
    cells, total_hidden = _one_row(counts, k)
    rows: list[tuple[Any, ...]] = [
        (band, _shown(count, hidden), _share(count, total, hidden or total_hidden))
        for band, count, hidden in zip(BANDS, counts, cells, strict=True)
    ]
    rows.append((ALL, _shown(total, total_hidden), _share(total, total, total_hidden)))
    return rows


def _value(pair: CurrentPair, component: str) -> float:
    part = pair.breakdown.get(component)
    if not isinstance(part, Mapping):
        return 0.0
    try:
        return float(part.get("value") or 0.0)
    except (TypeError, ValueError):
        return 0.0


def _points(pair: CurrentPair, component: str) -> float:
    part = pair.breakdown.get(component)
    if not isinstance(part, Mapping):
        return 0.0
    try:
        return float(part.get("points") or 0.0)
    except (TypeError, ValueError):
        return 0.0


def _differ(pair: CurrentPair, component: str) -> bool:
    """Whether the pair crosses ``component``: 1.0 for organisation, function and region; any
    protected attribute differing (a share above 0) for protected."""
    value = _value(pair, component)
    return value > 0 if component == "protected" else value >= 1.0


def _diversity(
    pairs: Sequence[CurrentPair], dimensions: Sequence[str], k: int
) -> tuple[list[list[int]], Suppression | None]:
    """Per dimension ``[crossing, not crossing]``, and what to hide (row totals shown)."""
    cells = []
    for dimension in dimensions:
        crossing = sum(1 for pair in pairs if _differ(pair, dimension))
        cells.append([crossing, len(pairs) - crossing])
    if not cells or not pairs:
        return cells, None
    return cells, suppress(cells, k, column_totals=False, grand_total=False)


def hidden_dimensions(pairs: Sequence[CurrentPair], dimensions: Sequence[str], k: int) -> set[str]:
    """The dimensions with a count hidden in the diversity view."""
    _, hidden = _diversity(pairs, dimensions, k)
    if hidden is None:
        return set()
    return {dimensions[i] for i, _ in hidden.cells} | {dimensions[i] for i in hidden.row_totals}


def diversity_rows(
    pairs: Sequence[CurrentPair], dimensions: Sequence[tuple[str, str]], k: int
) -> list[tuple[Any, ...]]:
    """Per dimension (its breakdown component and its label), pairs crossing it or not."""
    cells, hidden = _diversity(pairs, [c for c, _ in dimensions], k)
    rows = []
    for i, (_, label) in enumerate(dimensions):
        crossing, same = cells[i]
        total = crossing + same
        is_cell = [hidden is not None and (i, j) in hidden.cells for j in (0, 1)]
        total_hidden = hidden is not None and i in hidden.row_totals
        rows.append(
            (
                label,
                _shown(crossing, is_cell[0]),
                _shown(same, is_cell[1]),
                _shown(total, total_hidden),
                _share(crossing, total, is_cell[0] or total_hidden),
            )
        )
    return rows


def score_summary_rows(
    pairs: Sequence[CurrentPair],
    components: Sequence[str],
    weights: Mapping[str, float],
    diversity: Sequence[str],
    hidden_in_diversity: Collection[str],
    k: int,
) -> list[tuple[Any, ...]]:
    """The mean and median score, and of each soft rule's points.

    A rule's mean points are its weight times the share of pairs meeting it, so for the rules
    the diversity view counts (``diversity``) the mean tells that count, and for
    ``first_time_mentor`` the pairs whose mentor mentors no one else. Such a mean is hidden
    when that count, or the count of pairs not meeting the rule, is under k (or hidden there).
    The mean score is the sum of the rules' means, so one more is hidden with them: the themes
    (a share of priorities, which no other figure tells), else another rule no other view
    counts, else the mean score itself.
    """
    n = len(pairs)
    out_of = sum(weights.get(c, 0.0) for c in components)
    if n == 0 or n < k:
        empty: Any = None if n == 0 else SUPPRESSED
        return [
            ("score", out_of, _shown(n, n > 0), empty, empty),
            *((c, weights.get(c, 0.0), _shown(n, n > 0), empty, empty) for c in components),
        ]
    points = {c: [_points(pair, c) for pair in pairs] for c in components}
    means = {c: statistics.fmean(values) for c, values in points.items()}
    hidden = {c for c in hidden_in_diversity if c in components and means[c] > 0}
    if "first_time_mentor" in components:
        first = sum(1 for pair in pairs if _value(pair, "first_time_mentor") >= 1.0)
        if 0 < first < k or 0 < n - first < k:
            hidden.add("first_time_mentor")
    score_hidden = False
    if hidden:
        # Rules whose mean no other figure tells (a diversity count shown tells its rule's).
        free = [
            c
            for c in components
            if c not in hidden and c not in diversity and weights.get(c, 0.0) > 0
        ]
        free.sort(key=lambda c: (c != "themes", means[c]))
        if free:
            hidden.add(free[0])
        else:
            score_hidden = True
    scores = [float(pair.score) for pair in pairs]
    rows: list[tuple[Any, ...]] = [
        (
            "score",
            out_of,
            n,
            SUPPRESSED if score_hidden else round(statistics.fmean(scores), 2),
            round(statistics.median(scores), 2),
        )
    ]
    for c in components:
        hide = c in hidden
        rows.append(
            (
                c,
                weights.get(c, 0.0),
                n,
                SUPPRESSED if hide else round(means[c], 2),
                SUPPRESSED if hide else round(statistics.median(points[c]), 2),
            )
        )
    return rows


def score_chart(band_rows: Sequence[tuple[Any, ...]], k: int) -> LineChart:
    """Current pairs per score band; a band whose count is hidden is a gap."""
    counts = {band: pairs for band, pairs, _ in band_rows}
    return LineChart(
        title="Current pairs by score",
        x_label="Score band (points)",
        y_label="Pairs",
        periods=list(BANDS),
        series={"pairs": [v if isinstance(v, int) else None for v in (counts[b] for b in BANDS)]},
        caption=f"Proposed, locked and approved pairs per score band. Fewer than {k} pairs "
        "(or a count hidden with such a band): a gap.",
    )
