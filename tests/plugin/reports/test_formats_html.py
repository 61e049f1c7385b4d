"""The HTML report: one self-contained, escaped, accessible page whose charts render in a real
headless Chromium with the network off."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from mentorbridge.plugin.reports.formats import FORMATS
from mentorbridge.plugin.reports.formats.charts import (
    MAX_HEATMAP_COLUMNS,
    MAX_HEATMAP_ROWS,
    render_chart,
)
from mentorbridge.plugin.reports.formats.to_html import write_html
from mentorbridge.plugin.reports.table import Column, Heatmap, Report, ScatterChart, View

from .test_formats import GENERATED, sample_report

#: Marks the sample report's charts plot: 3 x 4 heatmap cells, the line chart's 4 values that
#: are not gaps, 5 scatter points.
EXPECTED_MARKS = {"heatmap": 12, "line": 4, "scatter": 5}


def page(report: Report | None = None, **options: Any) -> tuple[str, int]:
    stream = io.BytesIO()
    if options:
        count = write_html(report or sample_report(), stream, **options)
    else:
        count = FORMATS["html"].write(report or sample_report(), stream)
    return stream.getvalue().decode("utf-8"), count


# -- the file ----------------------------------------------------------------------------------


def test_formats_html_loads_nothing_from_anywhere() -> None:
    html, _ = page()
    # The formula-looking name's URL is in the page as text only, never as a reference.
    assert "http://evil.example" in html
    references = re.findall(
        r"""(?:src|href|xlink:href|action|srcset)\s*=\s*["']?([^"'\s>]*)""", html
    )
    assert references == []
    assert not re.search(r"<(?:script|link|iframe|object|embed|img|base)\b", html, re.I)
    assert "@import" not in html
    assert set(re.findall(r"url\(([^)]*)\)", html)) == {"#chart1-hatch", "#chart1-scale"}
    # And the page tells the browser to refuse anything else: its policy allows its own sheet.
    policy = re.search(r'<meta http-equiv="Content-Security-Policy" content="([^"]+)">', html)
    assert policy and policy.group(1).startswith("default-src 'none'; style-src 'sha256-")
    style = re.search(r"<style>(.*?)</style>", html, re.S).group(1)
    digest = base64.b64encode(hashlib.sha256(style.encode()).digest()).decode()
    assert f"'sha256-{digest}'" in policy.group(1)


def test_formats_html_escapes_everything_from_the_report() -> None:
    html, _ = page()
    assert "<script>" not in html and "<b>" not in html and "<i>" not in html
    assert "Ann &quot;Jo&quot; &lt;script&gt;alert(1)&lt;/script&gt;, Jr.\nII" in html
    assert "<title>Succession &amp; mentoring evidence &lt;Q1&gt;</title>" in html
    assert "<dt>organization</dt><dd>ORG-7 &lt;Sales &amp; Ops&gt;</dd>" in html
    assert "Coaching &lt;b&gt;" in html and "Zoë &lt;i&gt;" in html  # chart labels too
    assert "Zoë Ñúñez 李雷" in html


def test_formats_html_is_accessible_and_has_a_header() -> None:
    html, count = page()
    assert count == 7
    assert html.startswith('<!doctype html>\n<html lang="en"><head><meta charset="utf-8">')
    assert '<time datetime="2026-03-01T14:05:09Z">2026-03-01 14:05 UTC</time>' in html
    assert "<li>Groups of fewer than 5 people are shown as &lt;5.</li>" in html
    assert html.count("<caption>") == 3 + 3  # each view, and each chart's data table
    assert (
        '<th scope="col">Evidence</th>' in html and '<th scope="row">Digital fluency</th>' in html
    )
    for kind, marks in EXPECTED_MARKS.items():
        svg = re.search(
            rf'<svg class="chart" data-chart="{kind}" data-marks="(\d+)" ([^>]*)>', html
        )
        assert svg and int(svg.group(1)) == marks
        assert 'role="img"' in svg.group(2) and "aria-labelledby" in svg.group(2)
    assert html.count('class="mark ') == sum(EXPECTED_MARKS.values())
    # Cells read as the people reading the report expect them.
    assert '<td class="num">75%</td>' in html and '<td class="num">2.25</td>' in html
    assert '<td class="suppressed" title="hidden: fewer than 5 people' in html
    assert "<td>yes</td>" in html and ">2026-03-01 09:30 UTC</time>" in html
    assert '<td class="empty" colspan="2">No rows.</td>' in html
    assert "style=" not in html  # the policy would refuse inline style attributes


def test_formats_html_shows_the_first_rows_and_counts_the_rest() -> None:
    columns = [Column("worker_id", "Worker", "str"), Column("level", "Level", "level")]
    rows = ((f"W{n:05}", n / 1000) for n in range(1, 1001))
    report = Report("succession", "Big", GENERATED, {}, [View("people", "People", columns, rows)])
    html, count = page(report, max_rows=25)
    assert count == 1000
    assert html.count("<tr><td>W") == 25 and "W00025" in html and "W00026" not in html
    assert "Showing the first 25 of 1,000 rows; 975 more are in the CSV" in html


# -- in a browser ------------------------------------------------------------------------------

# Added to a copy of the page only: measures each chart as laid out, then rasterises its SVG on
# a canvas and reads back the pixel under each mark; the result goes into the DOM Chromium dumps.
CHECK_SCRIPT = """
(async () => {
  const out = {charts: [], resources: performance.getEntriesByType('resource').map(e => e.name)};
  for (const svg of document.querySelectorAll('svg.chart')) {
    const box = svg.getBoundingClientRect();
    const marks = [...svg.querySelectorAll('.mark')];
    const laidOut = marks.filter(m => {
      const b = m.getBoundingClientRect(), style = getComputedStyle(m);
      return b.width > 0 && b.height > 0 && style.visibility !== 'hidden'
        && style.display !== 'none' && style.opacity !== '0' && style.fill !== 'none'
        && b.left >= box.left - 1 && b.right <= box.right + 1
        && b.top >= box.top - 1 && b.bottom <= box.bottom + 1;
    });
    const [, , w, h] = svg.getAttribute('viewBox').split(' ').map(Number);
    const canvas = Object.assign(document.createElement('canvas'), {width: w, height: h});
    const context = canvas.getContext('2d');
    const image = new Image();
    image.src = 'data:image/svg+xml;charset=utf-8,'
      + encodeURIComponent(new XMLSerializer().serializeToString(svg));
    let painted = 0, error = null;
    try {
      await image.decode();
      context.fillStyle = '#ffffff';
      context.fillRect(0, 0, w, h);
      context.drawImage(image, 0, 0, w, h);
      for (const m of marks) {
        const b = m.getBBox();
        const [x, y] = m.tagName === 'rect' ? [b.x + 2, b.y + 2]
          : [b.x + b.width / 2, b.y + b.height / 2];
        const [r, g, bl] = context.getImageData(Math.round(x), Math.round(y), 1, 1).data;
        const fill = m.getAttribute('fill');
        const want = /^#[0-9a-f]{6}$/i.test(fill)
          ? [1, 3, 5].map(i => parseInt(fill.slice(i, i + 2), 16)) : null;
        const ok = want ? [r, g, bl].every((c, i) => Math.abs(c - want[i]) <= 10)
          : !(r === 255 && g === 255 && bl === 255);
        if (ok) painted += 1;
      }
    } catch (e) { error = String(e); }
    out.charts.push({kind: svg.dataset.chart, width: box.width, height: box.height,
                     marks: marks.length, laid_out: laidOut.length, painted, error});
  }
  const pre = document.createElement('pre');
  pre.id = 'render-check';
  pre.textContent = JSON.stringify(out);
  document.body.append(pre);
})();
"""


def render_check(html: str, folder: Path) -> dict[str, Any]:
    """Load ``html`` (plus the check script) from a file in headless Chromium with the
    network off, and return what the script measured."""
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    assert browser, "the browser check needs Chromium: apt-get install -y chromium"
    digest = base64.b64encode(hashlib.sha256(CHECK_SCRIPT.encode()).digest()).decode()
    # The page's own policy still applies, widened only to run the check and rasterise.
    test_copy = html.replace(
        "default-src 'none';", f"default-src 'none'; script-src 'sha256-{digest}'; img-src data:;"
    ).replace("</body>", f"<script>{CHECK_SCRIPT}</script></body>")
    path = folder / "report.html"
    path.write_text(test_copy, encoding="utf-8")
    result = subprocess.run(
        [
            *(browser, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars"),
            # No network: names resolve nowhere and any connection goes to a closed port.
            *("--host-resolver-rules=MAP * ~NOTFOUND", "--proxy-server=127.0.0.1:9"),
            *("--window-size=1280,2000", "--run-all-compositor-stages-before-draw"),
            *("--virtual-time-budget=5000", "--dump-dom", path.as_uri()),
        ],
        capture_output=True,
        text=True,
        timeout=90,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    found = re.search(r'<pre id="render-check">(.*?)</pre>', result.stdout, re.S)
    assert found, "the check script did not run:\n" + result.stderr[-2000:]
    return json.loads(found.group(1).replace("&quot;", '"').replace("&amp;", "&"))


def test_formats_html_charts_render_offline_in_chromium(tmp_path: Path) -> None:
    html, _ = page()
    check = render_check(html, tmp_path)
    assert check["resources"] == []  # the page asked for nothing
    assert [chart["kind"] for chart in check["charts"]] == ["heatmap", "line", "scatter"]
    for chart in check["charts"]:
        expected = EXPECTED_MARKS[chart["kind"]]
        assert chart["error"] is None, chart
        assert chart["width"] > 200 and chart["height"] > 100, chart
        assert (chart["marks"], chart["laid_out"], chart["painted"]) == (expected,) * 3, chart


@pytest.mark.parametrize(
    ("breakage", "kind"),
    [
        # marks with no size
        (lambda html: html.replace('r="3.5"', 'r="0"'), "line"),
        # marks drawn outside the chart
        (lambda html: html.replace('class="mark point" points="', 'class="mark point" '
                                   'transform="translate(5000,0)" points="'), "scatter"),
        # an SVG that does not parse as an image: its cells are never painted
        (lambda html: html.replace('<rect class="mark cell" ', '<rect class="mark cell" x=" ', 1),
         "heatmap"),
    ],
)  # fmt: skip
def test_formats_html_render_check_fails_when_a_chart_does_not_render(
    tmp_path: Path, breakage: Any, kind: str
) -> None:
    html, _ = page()
    broken = breakage(html)
    assert broken != html
    charts = {chart["kind"]: chart for chart in render_check(broken, tmp_path)["charts"]}
    expected = EXPECTED_MARKS[kind]
    assert (charts[kind]["laid_out"], charts[kind]["painted"]) != (expected, expected)


def test_formats_html_heatmap_draws_at_most_its_limits_and_says_so() -> None:
    people = [f"W{n:04}" for n in range(MAX_HEATMAP_COLUMNS + 15)]
    competencies = [f"Competency {n}" for n in range(MAX_HEATMAP_ROWS + 2)]
    chart = Heatmap("Big", competencies, people, [[0.5] * len(people) for _ in competencies])
    report = Report("succession", "t", GENERATED, {}, [], charts=[chart])
    html, _ = page(report)
    assert html.count('class="mark cell"') == MAX_HEATMAP_ROWS * MAX_HEATMAP_COLUMNS
    assert (
        f"(showing the first {MAX_HEATMAP_ROWS} of {MAX_HEATMAP_ROWS + 2} rows and first "
        f"{MAX_HEATMAP_COLUMNS} of {MAX_HEATMAP_COLUMNS + 15} columns)"
    ) in html
    # The data table behind the chart has them all.
    assert f'<th scope="col">W{MAX_HEATMAP_COLUMNS + 14:04}</th>' in html


def test_scatter_labels_crowding_points_are_left_to_the_tooltip() -> None:
    crowded = [(f"candidate {n}", 0.0, 0.75, "Ready Now") for n in range(10)]
    apart = [("far away", 1.0, 0.25, "Ready Now")]
    svg = render_chart(ScatterChart("Readiness", "evidence", "required", crowded + apart), "s")
    assert svg.count('class="mark point"') == 11  # every point is drawn
    labels = re.findall(r'class="point-label"[^>]*>([^<]*)<', svg)
    assert labels == ["candidate 0", "far away"]  # one label per crowded spot
    assert all(f"<title>candidate {n} (Ready Now)" in svg for n in range(10))
