"""k-anonymity for two-way tables of people counts: which cells to hide.

A cell counting fewer than ``k`` people (but some) is hidden (primary suppression). With totals
published, a lone hidden cell in a row is the row total minus the visible cells, so more cells
are hidden (complementary suppression) until no hidden value can be derived.

The table with its totals is an ``(R+1) x (C+1)`` grid whose every row and column sums to zero
once the totals are negated. Hidden values can then be changed together, without changing
anything published, exactly along cycles of the bipartite graph whose vertices are the grid's
rows and columns and whose edges are its unknown entries (hidden, or totals not published). A
hidden entry on no cycle (a bridge) is derivable by subtraction; one on a cycle is not. So the
fixed point sought is: no hidden entry is a bridge. A row with a single hidden cell makes that
cell a bridge, so this includes the usual "at least two hidden per row and column" rule.

Two more guards: the hidden cells of a row (or column) whose other entries are all published
sum to a known number, which must not itself be a group of fewer than ``k`` people; and the
complements chosen are the smallest counts that close a cycle, so as little as possible is lost.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

__all__ = ["Suppression", "suppress"]

Entry = tuple[int, int]


@dataclass(frozen=True, slots=True)
class Suppression:
    """What to hide in a table and its totals.

    Attributes:
        cells: ``(row, column)`` of the inner cells to hide.
        row_totals: rows whose total is hidden.
        column_totals: columns whose total is hidden.
        grand_total: whether the grand total is hidden.
    """

    cells: frozenset[Entry]
    row_totals: frozenset[int]
    column_totals: frozenset[int]
    grand_total: bool


def suppress(
    cells: Sequence[Sequence[int]],
    k: int = 5,
    *,
    row_totals: bool = True,
    column_totals: bool = True,
    grand_total: bool = True,
    primary: Iterable[Entry] = (),
) -> Suppression:
    """The cells (and totals) to hide so that no group of fewer than ``k`` people shows and
    no hidden count can be derived from what is shown.

    Args:
        cells: the people counts, ``R`` rows of ``C`` non-negative integers.
        k: the smallest group that may show.
        row_totals, column_totals, grand_total: which totals (sums of the cells) are
            published beside the table; unpublished ones are unknowns, which help hide.
        primary: inner cells to hide whatever their count (such as a rate whose complement
            group is small).

    Returns:
        the entries to hide; published totals of fewer than ``k`` are among them.

    Raises:
        ValueError: a ragged table, a negative count or ``k < 1``.
    """
    if k < 1:
        raise ValueError(f"k must be at least 1, not {k}")
    grid = _extended(cells)
    rows, columns = len(grid), len(grid[0])
    unpublished = {(i, columns - 1) for i in range(rows - 1) if not row_totals}
    unpublished |= {(rows - 1, j) for j in range(columns - 1) if not column_totals}
    if not grand_total:
        unpublished.add((rows - 1, columns - 1))
    hidden = {
        (i, j)
        for i in range(rows)
        for j in range(columns)
        if 0 < grid[i][j] < k and (i, j) not in unpublished
    }
    hidden |= {(i, j) for i, j in primary if grid[i][j] > 0}
    while True:
        added = _protect_sums(grid, hidden, unpublished, k) or _break_bridges(
            grid, hidden, unpublished
        )
        if not added:
            break
        hidden |= added
    return Suppression(
        cells=frozenset((i, j) for i, j in hidden if i < rows - 1 and j < columns - 1),
        row_totals=frozenset(i for i, j in hidden if j == columns - 1 and i < rows - 1),
        column_totals=frozenset(j for i, j in hidden if i == rows - 1 and j < columns - 1),
        grand_total=(rows - 1, columns - 1) in hidden,
    )


def _extended(cells: Sequence[Sequence[int]]) -> list[list[int]]:
    """The table with its row totals as a last column and column totals as a last row."""
    width = len(cells[0]) if cells else 0
    if any(len(row) != width for row in cells):
        raise ValueError("every row of the table must have the same number of cells")
    if any(v < 0 for row in cells for v in row):
        raise ValueError("people counts cannot be negative")
    grid = [[*row, sum(row)] for row in cells]
    grid.append([sum(row[j] for row in grid) for j in range(width + 1)])
    return grid


def _lines(rows: int, columns: int) -> Iterable[list[Entry]]:
    """Every row and column of the grid; a line's last entry is its total."""
    for i in range(rows):
        yield [(i, j) for j in range(columns)]
    for j in range(columns):
        yield [(i, j) for i in range(rows)]


def _protect_sums(
    grid: list[list[int]], hidden: set[Entry], unpublished: set[Entry], k: int
) -> set[Entry]:
    """One more entry for each line whose hidden cells add up to a known group under ``k``."""
    added: set[Entry] = set()
    for line in _lines(len(grid), len(grid[0])):
        total, inner = line[-1], line[:-1]
        if total in hidden or any(e in unpublished for e in line):
            continue
        secret = [e for e in inner if e in hidden]
        known = sum(grid[i][j] for i, j in secret)
        if secret and 0 < known < k:
            visible = [e for e in line if e not in hidden and grid[e[0]][e[1]] > 0]
            if visible:
                added.add(min(visible, key=lambda e: (grid[e[0]][e[1]], e == total, e)))
    return added


def _break_bridges(
    grid: list[list[int]], hidden: set[Entry], unpublished: set[Entry]
) -> set[Entry]:
    """Entries whose hiding puts a hidden bridge (a derivable entry) on a cycle."""
    rows, columns = len(grid), len(grid[0])
    edges = hidden | unpublished
    for bridge in _bridges(rows, columns, edges):
        if bridge not in hidden:
            continue  # an unpublished total may be derivable: it is a sum, not a secret
        return _close_cycle(grid, bridge, edges)
    return set()


def _vertex(entry: Entry, rows: int) -> tuple[int, int]:
    """The grid entry as an edge between its row vertex and its column vertex."""
    return entry[0], rows + entry[1]


def _bridges(rows: int, columns: int, edges: set[Entry]) -> list[Entry]:
    """The bridges of the bipartite graph of rows and columns joined by ``edges`` (Tarjan's
    algorithm, iteratively), in a stable order."""
    adjacent: dict[int, list[tuple[int, Entry]]] = {v: [] for v in range(rows + columns)}
    for entry in sorted(edges):
        a, b = _vertex(entry, rows)
        adjacent[a].append((b, entry))
        adjacent[b].append((a, entry))
    order: dict[int, int] = {}
    low: dict[int, int] = {}
    found: list[Entry] = []
    for root in adjacent:
        if root in order:
            continue
        order[root] = low[root] = len(order)
        stack: list[tuple[int, Entry | None, int]] = [(root, None, 0)]
        while stack:
            vertex, via, index = stack.pop()
            if index < len(adjacent[vertex]):
                stack.append((vertex, via, index + 1))
                neighbour, entry = adjacent[vertex][index]
                if entry == via:
                    continue
                if neighbour in order:
                    low[vertex] = min(low[vertex], order[neighbour])
                else:
                    order[neighbour] = low[neighbour] = len(order)
                    stack.append((neighbour, entry, 0))
            elif via is not None:
                parent = stack[-1][0]
                low[parent] = min(low[parent], low[vertex])
                if low[vertex] > order[parent]:
                    found.append(via)
    return sorted(found)


def _close_cycle(grid: list[list[int]], bridge: Entry, edges: set[Entry]) -> set[Entry]:
    """The cheapest entries to hide so that ``bridge`` lies on a cycle: one entry joining the
    two sides the bridge separates, else a rectangle through it."""
    rows, columns = len(grid), len(grid[0])
    row_vertex, column_vertex = _vertex(bridge, rows)
    one = _component(rows, edges - {bridge}, row_vertex)
    other = _component(rows, edges - {bridge}, column_vertex)

    def cost(entries: Iterable[Entry]) -> tuple[int, int]:
        new = [e for e in entries if e not in edges]
        return sum(grid[i][j] for i, j in new), len(new)

    singles = [
        (i, j)
        for i in range(rows)
        for j in range(columns)
        if (i, j) not in edges
        and ((i in one and rows + j in other) or (i in other and rows + j in one))
    ]
    if singles:
        best = min(singles, key=lambda e: (grid[e[0]][e[1]] == 0, grid[e[0]][e[1]], e))
        return {best}
    r, c = bridge
    rectangles = [
        [(r, j), (i, c), (i, j)] for i in range(rows) for j in range(columns) if i != r and j != c
    ]
    best_rectangle = min(rectangles, key=lambda rect: (*cost(rect), rect))
    return {e for e in best_rectangle if e not in edges}


def _component(rows: int, edges: set[Entry], start: int) -> set[int]:
    """The vertices reachable from ``start``."""
    adjacent: dict[int, set[int]] = {}
    for entry in edges:
        a, b = _vertex(entry, rows)
        adjacent.setdefault(a, set()).add(b)
        adjacent.setdefault(b, set()).add(a)
    seen, todo = {start}, [start]
    while todo:
        for neighbour in adjacent.get(todo.pop(), ()):
            if neighbour not in seen:
                seen.add(neighbour)
                todo.append(neighbour)
    return seen
