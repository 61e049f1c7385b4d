"""The report's charts as inline SVG: a competency x person heatmap, series over periods, and
labelled points in groups.

Every mark a chart plots (a heatmap cell, a line's point, a scatter point) has the class
``mark``; each chart is an ``<svg class="chart" data-chart="<kind>" data-marks="<n>">`` with
``role="img"``, a ``<title>`` and a ``<desc>``. Text stays text (selectable, searchable, read by
screen readers) and is styled by the page's stylesheet; no ``style`` attributes, so the page's
Content-Security-Policy can forbid inline styles other than its own sheet.
"""

from __future__ import annotations

from ..table import Chart, Heatmap, LineChart, ScatterChart
from .svg import CATEGORICAL, contrast_text, esc, label, nice_ticks, number, shape, viridis

__all__ = ["MAX_HEATMAP_COLUMNS", "MAX_HEATMAP_ROWS", "render_chart"]

#: A heatmap draws at most this many rows (competencies) and columns (people); the caption
#: says how many it left out, and the tables and other formats have them all.
MAX_HEATMAP_ROWS, MAX_HEATMAP_COLUMNS = 40, 60

_CELL_W, _CELL_H = 38, 24


def render_chart(chart: Chart, key: str) -> str:
    """``chart`` as an ``<svg>`` element; ``key`` makes its ids unique in the page."""
    match chart:
        case Heatmap():
            return _heatmap(chart, key)
        case LineChart():
            return _line_chart(chart, key)
        case ScatterChart():
            return _scatter_chart(chart, key)
    raise TypeError(f"not a chart: {type(chart).__name__}")


def _open(kind: str, key: str, width: float, height: float, title: str, desc: str, marks: int):
    return (
        f'<svg class="chart" data-chart="{kind}" data-marks="{marks}" role="img" '
        f'viewBox="0 0 {width:.0f} {height:.0f}" width="{width:.0f}" height="{height:.0f}" '
        f'aria-labelledby="{key}-title {key}-desc">'
        f'<title id="{key}-title">{esc(title)}</title><desc id="{key}-desc">{esc(desc)}</desc>'
    )


def _heatmap(chart: Heatmap, key: str) -> str:
    rows = list(chart.row_labels)[:MAX_HEATMAP_ROWS]
    columns = list(chart.column_labels)[:MAX_HEATMAP_COLUMNS]
    left = 12 + 6.2 * max((len(label(r, 32)) for r in rows), default=4)
    top = 16 + 4.6 * max((len(label(c, 24)) for c in columns), default=4)
    grid_w, grid_h = len(columns) * _CELL_W, len(rows) * _CELL_H
    # Column labels lean right (-55 degrees): the last ones reach past the grid.
    reach = 3.8 * max((len(label(c, 24)) for c in columns[-3:]), default=0)
    width = max(left + grid_w + reach, left + 320) + 20
    height = top + grid_h + 70
    marks = len(rows) * len(columns)
    left_out = []
    if len(chart.row_labels) > len(rows):
        left_out.append(f"first {len(rows)} of {len(chart.row_labels)} rows")
    if len(chart.column_labels) > len(columns):
        left_out.append(f"first {len(columns)} of {len(chart.column_labels)} columns")
    desc = (
        f"Heatmap of {len(rows)} rows by {len(columns)} columns; each cell shows a level "
        "from 0% to 100%, hatched where there is no evidence"
        + (f" (showing the {' and '.join(left_out)})" if left_out else "")
    )
    parts = [
        _open("heatmap", key, width, height, chart.title, desc, marks),
        f'<defs><pattern id="{key}-hatch" width="6" height="6" patternUnits="userSpaceOnUse" '
        'patternTransform="rotate(45)"><rect width="6" height="6" fill="#f2f2f2"/>'
        '<line x1="0" y1="0" x2="0" y2="6" stroke="#8c8c8c" stroke-width="2"/></pattern>'
        f'<linearGradient id="{key}-scale">'
        + "".join(f'<stop offset="{i * 10}%" stop-color="{viridis(i / 10)}"/>' for i in range(11))
        + "</linearGradient></defs>",
    ]
    for c, name in enumerate(columns):
        x, y = left + c * _CELL_W + _CELL_W / 2, top - 6
        parts.append(
            f'<text class="col-label" transform="translate({x:.1f},{y:.1f}) rotate(-55)">'
            f"<title>{esc(name)}</title>{esc(label(name, 24))}</text>"
        )
    for r, row_name in enumerate(rows):
        y = top + r * _CELL_H
        parts.append(
            f'<text class="row-label" x="{left - 6:.1f}" y="{y + _CELL_H / 2 + 4:.1f}" '
            f'text-anchor="end"><title>{esc(row_name)}</title>{esc(label(row_name, 32))}</text>'
        )
        values = list(chart.values[r]) if r < len(chart.values) else []
        for c, column_name in enumerate(columns):
            value = values[c] if c < len(values) else None
            x = left + c * _CELL_W
            where = f"{row_name} \u00b7 {column_name}"
            geometry = f'x="{x:.1f}" y="{y:.1f}" width="{_CELL_W - 2}" height="{_CELL_H - 2}"'
            if value is None:
                parts.append(
                    f'<rect class="mark cell empty" {geometry} fill="url(#{key}-hatch)">'
                    f"<title>{esc(where)}: no evidence</title></rect>"
                )
                continue
            fill = viridis(value)
            shown = f"{round(value * 100)}%"
            parts.append(
                f'<rect class="mark cell" {geometry} fill="{fill}">'
                f"<title>{esc(where)}: {shown}</title></rect>"
                f'<text class="cell-value" x="{x + (_CELL_W - 2) / 2:.1f}" '
                f'y="{y + _CELL_H / 2 + 3:.1f}" text-anchor="middle" '
                f'fill="{contrast_text(fill)}" aria-hidden="true">{shown}</text>'
            )
    # The legend: the colour scale from 0% to 100%, and the hatch for no evidence.
    ly = top + grid_h + 28
    parts.append(
        f'<g class="legend"><rect x="{left:.1f}" y="{ly:.1f}" width="200" height="10" '
        f'fill="url(#{key}-scale)"/>'
        + "".join(
            f'<text x="{left + share * 200:.1f}" y="{ly + 24:.1f}" text-anchor="middle">'
            f"{round(share * 100)}%</text>"
            for share in (0, 0.25, 0.5, 0.75, 1)
        )
        + f'<rect x="{left + 230:.1f}" y="{ly - 2:.1f}" width="14" height="14" '
        f'fill="url(#{key}-hatch)"/><text x="{left + 250:.1f}" y="{ly + 9:.1f}">no evidence'
        "</text></g></svg>"
    )
    return "".join(parts)


class _Plot:
    """A rectangular plot area with linear x and y scales."""

    def __init__(self, width: float, height: float, left: float, right: float, y_ticks: list):
        self.width, self.height = width, height
        self.left, self.right, self.top, self.bottom = left, width - right, 24.0, height - 56.0
        self.y_ticks = y_ticks

    def y(self, value: float) -> float:
        low, high = self.y_ticks[0], self.y_ticks[-1]
        return self.bottom - (value - low) / (high - low) * (self.bottom - self.top)

    def frame(self, x_label: str, y_label: str) -> str:
        parts = [
            f'<line class="axis" x1="{self.left}" y1="{self.bottom}" x2="{self.right}" '
            f'y2="{self.bottom}" stroke="#333333"/>'
        ]
        for tick in self.y_ticks:
            y = self.y(tick)
            parts.append(
                f'<line class="grid" x1="{self.left}" y1="{y:.1f}" x2="{self.right}" '
                f'y2="{y:.1f}" stroke="#dddddd"/>'
                f'<text x="{self.left - 6}" y="{y + 4:.1f}" text-anchor="end">'
                f"{number(tick)}</text>"
            )
        middle = (self.top + self.bottom) / 2
        parts.append(
            f'<text class="axis-label" x="{(self.left + self.right) / 2:.1f}" '
            f'y="{self.height - 8}" text-anchor="middle">{esc(x_label)}</text>'
            f'<text class="axis-label" text-anchor="middle" '
            f'transform="translate(14,{middle:.1f}) rotate(-90)">{esc(y_label)}</text>'
        )
        return "".join(parts)


def _legend(names: list[str], x: float, top: float, line: bool) -> str:
    parts = ['<g class="legend">']
    for index, name in enumerate(names):
        y = top + index * 20
        colour = CATEGORICAL[index % len(CATEGORICAL)]
        if line:
            parts.append(
                f'<line x1="{x}" y1="{y}" x2="{x + 18}" y2="{y}" stroke="{colour}" '
                'stroke-width="2.5"/>'
            )
        element, geometry = shape(0 if line else index, x + 9, y)
        parts.append(f'<{element} {geometry} fill="{colour}"/>')
        parts.append(
            f'<text x="{x + 24}" y="{y + 4}"><title>{esc(name)}</title>'
            f"{esc(label(name, 18))}</text>"
        )
    parts.append("</g>")
    return "".join(parts)


def _value_ticks(values: list[float]) -> list[float]:
    if not values:
        return [0.0, 1.0]
    low, high = min(min(values), 0.0), max(values)
    if low >= 0 and high <= 1:
        return [0.0, 0.25, 0.5, 0.75, 1.0]
    return nice_ticks(low, high)


def _line_chart(chart: LineChart, key: str) -> str:
    periods = list(chart.periods)
    names = list(chart.series)
    present = [v for series in chart.series.values() for v in series if v is not None]
    plot = _Plot(680, 340, 64, 170, _value_ticks(present))
    span = plot.right - plot.left

    def x(index: int) -> float:
        return plot.left + (span / 2 if len(periods) < 2 else index * span / (len(periods) - 1))

    span_text = f" ({periods[0]} to {periods[-1]})" if periods else ""
    desc = (
        f"Line chart of {len(names)} series over {len(periods)} periods{span_text}; "
        "gaps are periods with no data or hidden data"
    )
    parts = [_open("line", key, plot.width, plot.height, chart.title, desc, len(present))]
    parts.append(plot.frame(chart.x_label, chart.y_label))
    every = max(1, round(len(periods) / 10))
    for index, period in enumerate(periods):
        if index % every == 0:
            parts.append(
                f'<text x="{x(index):.1f}" y="{plot.bottom + 18}" text-anchor="middle">'
                f"{esc(label(period, 12))}</text>"
            )
    for number_, name in enumerate(names):
        colour = CATEGORICAL[number_ % len(CATEGORICAL)]
        values = list(chart.series[name])[: len(periods)]
        path, pen_down = [], False
        for index, value in enumerate(values):
            if value is None:
                pen_down = False
                continue
            path.append(f"{'L' if pen_down else 'M'}{x(index):.1f},{plot.y(value):.1f}")
            pen_down = True
        parts.append(
            f'<g class="series"><path class="line" d="{" ".join(path)}" fill="none" '
            f'stroke="{colour}" stroke-width="2"/>'
        )
        for index, value in enumerate(values):
            if value is None:
                continue
            parts.append(
                f'<circle class="mark point" cx="{x(index):.1f}" cy="{plot.y(value):.1f}" r="3.5" '
                f'fill="{colour}"><title>{esc(name)}, {esc(periods[index])}: '
                f"{number(value)}</title></circle>"
            )
        parts.append("</g>")
    parts.append(_legend(names, plot.right + 20, plot.top + 6, line=True))
    parts.append("</svg>")
    return "".join(parts)


def _scatter_chart(chart: ScatterChart, key: str) -> str:
    points = list(chart.points)
    groups = list(dict.fromkeys(group for *_, group in points))
    plot = _Plot(680, 420, 64, 170, _value_ticks([y for _, _, y, _ in points]))
    x_ticks = _value_ticks([x for _, x, _, _ in points])
    low, high = x_ticks[0], x_ticks[-1]

    def x(value: float) -> float:
        return plot.left + (value - low) / (high - low) * (plot.right - plot.left)

    desc = f"Scatter chart of {len(points)} labelled points in {len(groups)} groups"
    parts = [_open("scatter", key, plot.width, plot.height, chart.title, desc, len(points))]
    parts.append(plot.frame(chart.x_label, chart.y_label))
    for tick in x_ticks:
        parts.append(
            f'<line class="grid" x1="{x(tick):.1f}" y1="{plot.top}" x2="{x(tick):.1f}" '
            f'y2="{plot.bottom}" stroke="#dddddd"/><text x="{x(tick):.1f}" y="{plot.bottom + 18}" '
            f'text-anchor="middle">{number(tick)}</text>'
        )
    placed: list[tuple[float, float, float, float]] = []
    for name, px, py, group in points:
        index = groups.index(group)
        right = x(px) > plot.left + (plot.right - plot.left) * 0.75  # label to the left
        element, geometry = shape(index, x(px), plot.y(py))
        parts.append(
            f'<{element} class="mark point" {geometry} '
            f'fill="{CATEGORICAL[index % len(CATEGORICAL)]}" stroke="#ffffff" stroke-width="1">'
            f"<title>{esc(name)} ({esc(group)}): {number(px)}, {number(py)}</title></{element}>"
        )
        text = label(name, 20)
        box = _label_box(x(px), plot.y(py), len(text), right)
        if any(_overlap(box, other) for other in placed):
            continue  # points that crowd keep their name in the tooltip and the data table
        placed.append(box)
        parts.append(
            f'<text class="point-label" x="{x(px) + (-7 if right else 7):.1f}" '
            f'y="{plot.y(py) - 6:.1f}" text-anchor="{"end" if right else "start"}">'
            f"{esc(text)}</text>"
        )
    parts.append(_legend(groups, plot.right + 20, plot.top + 6, line=False))
    parts.append("</svg>")
    return "".join(parts)


def _label_box(
    x: float, y: float, characters: int, left: bool
) -> tuple[float, float, float, float]:
    """Roughly where a point's label lands (11 px text, about 6.5 px a character)."""
    width = characters * 6.5
    start = x - 7 - width if left else x + 7
    return (start, y - 17, start + width, y - 4)


def _overlap(a: tuple[float, float, float, float], b: tuple[float, float, float, float]) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]
