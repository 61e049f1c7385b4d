"""Small pieces the charts are drawn with: escaping, colour scales, axis ticks, number labels.

Charts are hand-written SVG rather than matplotlib output: three chart kinds do not need a
plotting library (matplotlib brings numpy, Pillow and fonttools, ~60 MB, and a second of import
time per process), and writing the SVG ourselves keeps its text as text, its marks as elements
the browser test can count, and every label escaped in one place.
"""

from __future__ import annotations

import html
import math

__all__ = [
    "CATEGORICAL",
    "contrast_text",
    "esc",
    "label",
    "nice_ticks",
    "number",
    "shape",
    "viridis",
]

# viridis at 0, 0.1, ..., 1: perceptually even and readable by colour-blind people.
_VIRIDIS = (
    (0x44, 0x01, 0x54), (0x48, 0x24, 0x75), (0x41, 0x44, 0x87), (0x35, 0x5F, 0x8D),
    (0x2A, 0x78, 0x8E), (0x21, 0x91, 0x8C), (0x22, 0xA8, 0x84), (0x44, 0xBF, 0x70),
    (0x7A, 0xD1, 0x51), (0xBD, 0xDF, 0x26), (0xFD, 0xE7, 0x25),
)  # fmt: skip

#: Okabe-Ito colours (without its yellow, too light on white): told apart with colour blindness.
CATEGORICAL = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000")


def esc(value: object) -> str:
    """``value`` as text safe in HTML and inline SVG, in element content or a quoted attribute."""
    return html.escape(str(value), quote=True)


def label(value: str, limit: int) -> str:
    """``value`` cut to ``limit`` characters with an ellipsis (the full text goes in a title)."""
    return value if len(value) <= limit else value[: limit - 1].rstrip() + "\u2026"


def viridis(level: float) -> str:
    """The viridis colour of a 0-1 level, as ``#rrggbb``."""
    level = min(max(level, 0.0), 1.0) * (len(_VIRIDIS) - 1)
    low = min(int(level), len(_VIRIDIS) - 2)
    part = level - low
    rgb = (round(a + (b - a) * part) for a, b in zip(_VIRIDIS[low], _VIRIDIS[low + 1], strict=True))
    return "#" + "".join(f"{channel:02x}" for channel in rgb)


def contrast_text(background: str) -> str:
    """Black or white, whichever contrasts more with ``background`` (``#rrggbb``, WCAG)."""

    def linear(channel: int) -> float:
        c = channel / 255
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (int(background[i : i + 2], 16) for i in (1, 3, 5))
    luminance = 0.2126 * linear(r) + 0.7152 * linear(g) + 0.0722 * linear(b)
    # Contrast with black is (L + 0.05) / 0.05, with white 1.05 / (L + 0.05): equal at ~0.179.
    return "#000000" if luminance > 0.179 else "#ffffff"


def nice_ticks(low: float, high: float, count: int = 5) -> list[float]:
    """Round tick values covering ``low``-``high`` (about ``count`` of them)."""
    if not (math.isfinite(low) and math.isfinite(high)):
        low, high = 0.0, 1.0
    if high <= low:
        high = low + 1.0
    raw = (high - low) / max(count - 1, 1)
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    start = math.floor(low / step) * step
    ticks, value = [], start
    while value < high + step * 0.5:
        ticks.append(round(value, 10))
        if value >= high:
            break
        value += step
    return ticks


def number(value: float) -> str:
    """A short label for a number: ``3``, ``0.25``, ``1,250``."""
    if float(value).is_integer():
        return f"{int(value):,}"
    return f"{value:,.2f}".rstrip("0").rstrip(".")


def shape(index: int, x: float, y: float, size: float = 4.5) -> tuple[str, str]:
    """A marker for group ``index`` at (x, y): an element name and its geometry attributes
    (circle, square, triangle, diamond, then again), so groups differ by more than colour."""
    match index % 4:
        case 0:
            return "circle", f'cx="{x:.1f}" cy="{y:.1f}" r="{size:.1f}"'
        case 1:
            s = size * 0.9
            return (
                "rect",
                f'x="{x - s:.1f}" y="{y - s:.1f}" width="{2 * s:.1f}" height="{2 * s:.1f}"',
            )
        case 2:
            s = size * 1.2
            points = (
                f"{x:.1f},{y - s:.1f} {x + s:.1f},{y + s * 0.8:.1f} {x - s:.1f},{y + s * 0.8:.1f}"
            )
            return "polygon", f'points="{points}"'
    s = size * 1.2
    points = f"{x:.1f},{y - s:.1f} {x + s:.1f},{y:.1f} {x:.1f},{y + s:.1f} {x - s:.1f},{y:.1f}"
    return "polygon", f'points="{points}"'
