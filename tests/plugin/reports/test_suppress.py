"""Complementary suppression: no group under k shows, and no hidden count can be derived from
what is shown (checked by exact linear algebra over every published total)."""

from __future__ import annotations

from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mentorbridge.plugin.reports.suppress import Suppression, suppress

K = 5


def extended(cells: list[list[int]]) -> list[list[int]]:
    grid = [[*row, sum(row)] for row in cells]
    grid.append([sum(row[j] for row in grid) for j in range(len(cells[0]) + 1)])
    return grid


def unknowns(cells: list[list[int]], result: Suppression, published: tuple[bool, bool, bool]):
    """The grid entries an observer does not see."""
    rows, columns = len(cells), len(cells[0])
    hidden = set(result.cells)
    hidden |= {(i, columns) for i in result.row_totals}
    hidden |= {(rows, j) for j in result.column_totals}
    if result.grand_total:
        hidden.add((rows, columns))
    row_totals, column_totals, grand = published
    if not row_totals:
        hidden |= {(i, columns) for i in range(rows)}
    if not column_totals:
        hidden |= {(rows, j) for j in range(columns)}
    if not grand:
        hidden.add((rows, columns))
    return hidden


def rank(matrix: list[list[Fraction]]) -> int:
    rows = [list(r) for r in matrix]
    found = 0
    width = len(rows[0]) if rows else 0
    for column in range(width):
        pivot = next((r for r in range(found, len(rows)) if rows[r][column] != 0), None)
        if pivot is None:
            continue
        rows[found], rows[pivot] = rows[pivot], rows[found]
        for r in range(len(rows)):
            if r != found and rows[r][column] != 0:
                factor = rows[r][column] / rows[found][column]
                rows[r] = [a - factor * b for a, b in zip(rows[r], rows[found], strict=True)]
        found += 1
    return found


def derivable(cells: list[list[int]], unknown: set[tuple[int, int]]) -> set[tuple[int, int]]:
    """Unknown entries fixed by the published ones: every row and column of the grid sums
    to its total, so an entry is derivable exactly when its unit vector lies in the span of
    those equations restricted to the unknowns."""
    rows, columns = len(cells) + 1, len(cells[0]) + 1
    order = sorted(unknown)
    index = {e: n for n, e in enumerate(order)}
    equations = []
    lines = [[(i, j) for j in range(columns)] for i in range(rows)]
    lines += [[(i, j) for i in range(rows)] for j in range(columns)]
    for line in lines:
        row = [Fraction(0)] * len(order)
        for e in line:
            if e in index:
                row[index[e]] = Fraction(-1 if e == line[-1] else 1)
        if any(row):
            equations.append(row)
    base = rank(equations) if equations else 0
    fixed = set()
    for e in order:
        unit = [Fraction(0)] * len(order)
        unit[index[e]] = Fraction(1)
        if rank([*equations, unit]) == base:
            fixed.add(e)
    return fixed


tables = st.integers(1, 5).flatmap(
    lambda rows: st.integers(1, 5).flatmap(
        lambda columns: st.lists(
            st.lists(
                st.one_of(st.integers(0, 6), st.integers(0, 40)),
                min_size=columns,
                max_size=columns,
            ),
            min_size=rows,
            max_size=rows,
        )
    )
)


@settings(max_examples=300, deadline=None)
@given(tables, st.tuples(st.booleans(), st.booleans(), st.booleans()))
def test_no_small_group_shows_and_no_hidden_count_is_derivable(
    cells: list[list[int]], published: tuple[bool, bool, bool]
) -> None:
    row_totals, column_totals, grand = published
    result = suppress(
        cells, K, row_totals=row_totals, column_totals=column_totals, grand_total=grand
    )
    grid = extended(cells)
    unknown = unknowns(cells, result, published)
    shown = {(i, j) for i in range(len(grid)) for j in range(len(grid[0])) if (i, j) not in unknown}
    assert all(not 0 < grid[i][j] < K for i, j in shown)
    secret = unknown - unknowns(
        cells, Suppression(frozenset(), frozenset(), frozenset(), False), published
    )
    assert not secret & derivable(cells, unknown)


def test_a_lone_small_cell_takes_the_smallest_complements_with_it() -> None:
    cells = [[3, 20, 9], [30, 40, 8], [50, 60, 70]]
    result = suppress(cells, K)
    assert result.cells == {(0, 0), (0, 2), (1, 0), (1, 2)}
    assert not result.row_totals and not result.column_totals and not result.grand_total


def test_a_table_without_small_groups_hides_nothing() -> None:
    result = suppress([[5, 6], [7, 8]], K)
    assert result == Suppression(frozenset(), frozenset(), frozenset(), False)


def test_a_small_total_is_hidden_and_protected() -> None:
    cells = [[1, 2], [30, 40]]
    result = suppress(cells, K)
    assert 0 in result.row_totals
    grid_unknown = unknowns(cells, result, (True, True, True))
    assert not derivable(cells, grid_unknown) & grid_unknown


def test_hidden_cells_adding_up_to_a_small_group_take_one_more() -> None:
    # (0,0)=1 and (0,1)=2 hidden together would still show a group of 3 in that row.
    cells = [[1, 2, 10, 10], [10, 10, 10, 10], [10, 10, 10, 10]]
    result = suppress(cells, K)
    hidden_in_row = [j for i, j in result.cells if i == 0]
    assert len(hidden_in_row) >= 3 or 0 in result.row_totals


def test_cells_forced_hidden_are_protected_like_small_ones() -> None:
    cells = [[10, 20], [30, 40]]
    result = suppress(cells, K, primary=[(0, 0)])
    assert result.cells == {(0, 0), (0, 1), (1, 0), (1, 1)}


@pytest.mark.parametrize("cells", [[[1, 2], [3]], [[-1]]])
def test_bad_tables_are_refused(cells: list[list[int]]) -> None:
    with pytest.raises(ValueError):
        suppress(cells, K)
