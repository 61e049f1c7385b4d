"""HTML: one self-contained, printable page: a header (title, generation time, filters, notes),
the charts as inline SVG each with the data behind it, then each view as a table.

Nothing is loaded from anywhere: no external stylesheet, script, font or image, and the page's
own Content-Security-Policy (``default-src 'none'``, its one stylesheet allowed by hash) makes
a browser refuse any that slipped in, and any script. Every text from the report is escaped
(names come from the HRIS). A view longer than ``max_rows`` shows its first rows and says how
many more there are and which formats have them all.
"""

from __future__ import annotations

import base64
import hashlib
import math
from collections.abc import Iterable
from datetime import date, datetime
from typing import Any, BinaryIO

from ..table import Chart, Column, Heatmap, LineChart, Report, ScatterChart, View
from .cells import is_suppressed, iso, utc
from .charts import render_chart
from .svg import esc, number

__all__ = ["HTML_MAX_ROWS", "write_html"]

#: Rows of each view the page shows; the rest are counted, and are in the other formats.
HTML_MAX_ROWS = 500

_CSS = """
:root{color-scheme:light}
body{font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"Noto Sans",sans-serif;
color:#1a1a1a;background:#fff;margin:0 auto;padding:24px 32px;max-width:1200px}
h1{font-size:1.6em;margin:0 0 .3em}h2{font-size:1.25em;margin:1.6em 0 .4em}
header{border-bottom:2px solid #1a1a1a;padding-bottom:12px}
.meta{color:#404040;margin:.2em 0}
dl.filters{display:grid;grid-template-columns:max-content auto;gap:2px 12px;margin:.6em 0}
dl.filters dt{font-weight:600}dl.filters dd{margin:0}
.notes{background:#f3f6fa;border-left:4px solid #0b5cab;padding:8px 12px 8px 28px;margin:12px 0}
figure{margin:24px 0;break-inside:avoid}
figcaption{color:#404040;margin-top:4px}
svg.chart{max-width:100%;height:auto;display:block}
svg text{font:11px system-ui,sans-serif}svg text:not(.cell-value){fill:#1a1a1a}
svg text.cell-value{font-size:10px;font-weight:600}
svg text.axis-label{font-size:12px;font-weight:600}
svg text.point-label{font-size:10px;fill:#404040}
.table-wrap{overflow-x:auto}
table{border-collapse:collapse;margin:8px 0;font-size:13px;min-width:40%}
caption{text-align:left;font-weight:600;font-size:1.05em;padding:4px 0;caption-side:top}
th,td{border:1px solid #c8c8c8;padding:4px 8px;text-align:left;vertical-align:top}
thead th{background:#eef1f5}
tbody tr:nth-child(even){background:#f7f7f7}
td.num{text-align:right;font-variant-numeric:tabular-nums}
td.suppressed{text-align:right;color:#4d4d4d;font-style:italic}
.more{color:#404040;font-style:italic}
.empty{color:#404040}
details{margin:6px 0 0}summary{cursor:pointer;color:#0b5cab}
dfn{font-style:normal;font-weight:600}
@media print{body{padding:0;max-width:none}details{display:block}
thead{display:table-header-group}tr,figure{break-inside:avoid}.table-wrap{overflow:visible}}
"""
_CSS_HASH = base64.b64encode(hashlib.sha256(_CSS.encode()).digest()).decode()
_POLICY = f"default-src 'none'; style-src 'sha256-{_CSS_HASH}'; base-uri 'none'; form-action 'none'"

_OTHER_FORMATS = "the CSV (main view), XLSX, JSON and Parquet formats"


def write_html(report: Report, stream: BinaryIO, *, max_rows: int = HTML_MAX_ROWS) -> int:
    """Write ``report`` as one HTML page to ``stream``.

    Returns:
        How many data rows the report's views hold, including those past ``max_rows`` that
        the page counts but does not show.
    """
    write = _Writer(stream)
    write(
        '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{_POLICY}">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f'<meta name="generator" content="mentorbridge"><title>{esc(report.title)}</title>'
        f"<style>{_CSS}</style></head><body>\n"
    )
    write(_header(report))
    write("<main>\n")
    if report.charts:
        write('<section aria-labelledby="charts-heading"><h2 id="charts-heading">Charts</h2>\n')
        for index, chart in enumerate(report.charts, 1):
            write(_figure(chart, f"chart{index}"))
        write("</section>\n")
    count = 0
    for index, view in enumerate(report.views, 1):
        count += _view(write, view, f"view{index}", max_rows)
    write("</main></body></html>\n")
    write.flush()
    return count


class _Writer:
    """Buffers small strings and writes UTF-8 to the stream in chunks of about 64 KB."""

    def __init__(self, stream: BinaryIO) -> None:
        self.stream, self.parts, self.size = stream, [], 0

    def __call__(self, text: str) -> None:
        self.parts.append(text)
        self.size += len(text)
        if self.size > 65536:
            self.flush()

    def flush(self) -> None:
        self.stream.write("".join(self.parts).encode("utf-8"))
        self.parts, self.size = [], 0


def _header(report: Report) -> str:
    generated = utc(report.generated_at)
    parts = [
        f"<header><h1>{esc(report.title)}</h1>"
        f'<p class="meta">Generated <time datetime="{iso(generated)}">'
        f"{generated:%Y-%m-%d %H:%M} UTC</time> \u00b7 {esc(report.kind)} report</p>"
    ]
    if report.filters:
        parts.append('<dl class="filters" aria-label="Filters">')
        for key, value in report.filters.items():
            parts.append(f"<dt>{esc(key)}</dt><dd>{esc(value)}</dd>")
        parts.append("</dl>")
    else:
        parts.append('<p class="meta">No filters: everyone the report may show.</p>')
    if report.notes:
        parts.append('<ul class="notes" aria-label="Notes">')
        parts.extend(f"<li>{esc(note)}</li>" for note in report.notes)
        parts.append("</ul>")
    parts.append("</header>\n")
    return "".join(parts)


def _figure(chart: Chart, key: str) -> str:
    caption = f"<figcaption>{esc(chart.caption)}</figcaption>" if chart.caption else ""
    return (
        f'<figure aria-labelledby="{key}-heading"><h3 id="{key}-heading">{esc(chart.title)}</h3>'
        f"{render_chart(chart, key)}{caption}"
        f"<details><summary>Data behind this chart</summary>{_chart_table(chart)}</details>"
        "</figure>\n"
    )


def _chart_table(chart: Chart) -> str:
    def table(head: Iterable[str], rows: Iterable[tuple[str, Iterable[str]]]) -> str:
        header = "".join(f'<th scope="col">{esc(cell)}</th>' for cell in head)
        body = "".join(
            f'<tr><th scope="row">{esc(name)}</th>'
            + "".join(f'<td class="num">{cell}</td>' for cell in cells)
            + "</tr>"
            for name, cells in rows
        )
        return (
            f'<div class="table-wrap"><table><caption>{esc(chart.title)}: data</caption>'
            f"<thead><tr>{header}</tr></thead><tbody>{body}</tbody></table></div>"
        )

    def level(value: float | None) -> str:
        return "no evidence" if value is None else f"{round(value * 100)}%"

    match chart:
        case Heatmap():
            return table(
                ["", *chart.column_labels],
                (
                    (name, map(level, values))
                    for name, values in zip(chart.row_labels, chart.values, strict=False)
                ),
            )
        case LineChart():
            return table(
                [chart.x_label, *chart.series],
                (
                    (period, ("" if s[i] is None else number(s[i]) for s in chart.series.values()))
                    for i, period in enumerate(chart.periods)
                ),
            )
        case ScatterChart():
            return table(
                ["", "Group", chart.x_label, chart.y_label],
                ((name, (esc(group), number(x), number(y))) for name, x, y, group in chart.points),
            )
    return ""


def _view(write: _Writer, view: View, key: str, max_rows: int) -> int:
    columns = list(view.columns)
    write(f'<section aria-labelledby="{key}-heading"><h2 id="{key}-heading">{esc(view.title)}</h2>')
    if view.description:
        write(f"<p>{esc(view.description)}</p>")
    described = [column for column in columns if column.description]
    if described:
        write("<details><summary>What the columns mean</summary><dl>")
        for column in described:
            write(
                f"<dt><dfn>{esc(column.title)}</dfn> ({esc(column.key)})</dt>"
                f"<dd>{esc(column.description)}</dd>"
            )
        write("</dl></details>")
    write(
        f'<div class="table-wrap"><table><caption>{esc(view.title)}</caption><thead><tr>'
        + "".join(f'<th scope="col">{esc(column.title)}</th>' for column in columns)
        + "</tr></thead><tbody>\n"
    )
    count = 0
    for row in view.rows:
        count += 1
        if count <= max_rows:
            cells = "".join(_cell(c, v) for c, v in zip(columns, row, strict=True))
            write(f"<tr>{cells}</tr>\n")
    if count == 0:
        write(f'<tr><td class="empty" colspan="{max(len(columns), 1)}">No rows.</td></tr>')
    write("</tbody></table></div>")
    if count > max_rows:
        write(
            f'<p class="more">Showing the first {max_rows:,} of {count:,} rows; '
            f"{count - max_rows:,} more are in {_OTHER_FORMATS}.</p>"
        )
    write("</section>\n")
    return count


def _cell(column: Column, value: Any) -> str:
    match value:
        case None:
            return "<td></td>"
        case _ if is_suppressed(value):
            return (
                '<td class="suppressed" title="hidden: fewer than 5 people, or it would let a '
                f'hidden figure be worked out">{esc(value)}</td>'
            )
        case bool():
            return f"<td>{'yes' if value else 'no'}</td>"
        case datetime():
            return f'<td><time datetime="{iso(value)}">{utc(value):%Y-%m-%d %H:%M} UTC</time></td>'
        case date():
            return f'<td><time datetime="{iso(value)}">{iso(value)}</time></td>'
        case float() if not math.isfinite(value):
            return "<td></td>"
        case int() | float() if column.type == "level":
            return f'<td class="num">{value * 100:.0f}%</td>'
        case int() | float():
            return f'<td class="num">{number(value)}</td>'
    return f"<td>{esc(value)}</td>"
