"""Small inline SVG charts for the HTML report: no JavaScript, no fonts, no external files.

Hand-written SVG keeps the report one self-contained file that renders the same in any
browser, stays a few kilobytes per chart, and needs no plotting backend at report time.
Every function returns an `<svg>` string sized by its `viewBox`, so it scales with the page.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from html import escape

PALETTE = ("#3b5bdb", "#e8590c", "#2b8a3e", "#ae3ec9", "#1098ad", "#f59f00", "#c2255c")
INK = "#343a40"
MUTED = "#868e96"
GRID = "#e9ecef"
_FONT = 'font-family="system-ui,-apple-system,Segoe UI,Roboto,sans-serif"'


def pct(value: float) -> str:
    return f"{value * 100:.0f}%"


def _svg(width: float, height: float, body: list[str], label: str) -> str:
    return (
        f'<svg class="chart" width="{width:.0f}" viewBox="0 0 {width:.0f} {height:.0f}" role="img" '
        f'aria-label="{escape(label)}" {_FONT} font-size="11">' + "".join(body) + "</svg>"
    )


def _text(x: float, y: float, text: str, *, anchor: str = "start", fill: str = INK,
          size: int | None = None, weight: str | None = None) -> str:
    extra = f' font-size="{size}"' if size else ""
    extra += f' font-weight="{weight}"' if weight else ""
    return (f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}" fill="{fill}"{extra}>'
            f"{escape(text)}</text>")


def _legend(names: Sequence[str], colors: Sequence[str], x: float, y: float,
            max_x: float = 10_000) -> tuple[list[str], float]:
    """Coloured keys left to right, wrapping before `max_x`; returns (elements, last row y)."""
    out, cursor = [], x
    for name, color in zip(names, colors, strict=False):
        step = 24 + 6.8 * len(name)
        if cursor > x and cursor + step > max_x:
            cursor, y = x, y + 15
        out.append(f'<rect x="{cursor:.1f}" y="{y - 9:.1f}" width="10" height="10" rx="2" '
                   f'fill="{color}"/>')
        out.append(_text(cursor + 14, y, name))
        cursor += step
    return out, y


def hbars(
    rows: Sequence[tuple[str, float]],
    *,
    color: str = PALETTE[0],
    fmt=pct,
    max_value: float | None = None,
    width: int = 460,
    label: str = "bar chart",
    colors: Sequence[str] | None = None,
) -> str:
    """Horizontal bars, one per (label, value); values drawn as text at the bar's end."""
    if not rows:
        return ""
    left = min(170, 12 + 6.6 * max(len(r[0]) for r in rows))
    bar_w = width - left - 60
    top = max((v for _, v in rows), default=0.0)
    scale = max_value if max_value is not None else (top or 1.0)
    row_h, height = 20, 20 * len(rows) + 8
    body = []
    for i, (name, value) in enumerate(rows):
        y = 4 + i * row_h
        w = 0.0 if scale <= 0 else max(0.0, min(1.0, value / scale)) * bar_w
        fill = colors[i] if colors else color
        body.append(_text(left - 6, y + 13, name, anchor="end"))
        body.append(f'<rect x="{left}" y="{y + 3}" width="{bar_w}" height="13" rx="3" '
                    f'fill="{GRID}"/>')
        body.append(f'<rect x="{left}" y="{y + 3}" width="{w:.1f}" height="13" rx="3" '
                    f'fill="{fill}"/>')
        body.append(_text(left + bar_w + 6, y + 13, fmt(value), fill=MUTED))
    return _svg(width, height, body, label)


def hbar_pairs(
    rows: Sequence[tuple[str, float, float]],
    *,
    names: tuple[str, str] = ("asked", "produced"),
    fmt=pct,
    width: int = 460,
    label: str = "asked versus produced",
) -> str:
    """Two bars per row (e.g. the share asked for and the share produced), with a legend."""
    if not rows:
        return ""
    left = min(170, 12 + 6.6 * max(len(r[0]) for r in rows))
    bar_w = width - left - 60
    scale = max(max(a, b) for _, a, b in rows) or 1.0
    row_h = 28
    height = 22 + row_h * len(rows) + 4
    colors = ("#adb5bd", PALETTE[0])
    body, _ = _legend(names, colors, left, 12)
    for i, (name, a, b) in enumerate(rows):
        y = 22 + i * row_h
        body.append(_text(left - 6, y + 16, name, anchor="end"))
        for k, value in enumerate((a, b)):
            w = max(0.0, value / scale) * bar_w
            body.append(f'<rect x="{left}" y="{y + 3 + k * 11}" width="{w:.1f}" height="10" '
                        f'rx="2" fill="{colors[k]}"/>')
            body.append(_text(left + w + 4, y + 12 + k * 11, fmt(value), fill=MUTED, size=10))
    return _svg(width, height, body, label)


def boxes(
    groups: Sequence[tuple[str, Sequence[float]]],
    *,
    bands: dict[str, tuple[float, float]] | None = None,
    max_value: float | None = None,
    unit: str = "",
    width: int = 460,
    label: str = "distribution per group",
) -> str:
    """One horizontal box per group (quartiles, median line, whiskers at the 5th and 95th
    percentiles), over a shaded band per group (e.g. the years an age group covers)."""
    groups = [(name, list(values)) for name, values in groups if len(values)]
    if not groups:
        return ""
    names = [f"{name} ({len(values)})" for name, values in groups]
    left = min(190, 12 + 6.6 * max(len(name) for name in names))
    plot_w = width - left - 16
    top = max_value or max(max(v) for _, v in groups) or 1.0
    row_h = 22
    height = 8 + row_h * len(groups) + 22

    def sx(v: float) -> float:
        return left + max(0.0, min(1.0, v / top)) * plot_w

    body = []
    for tick in _ticks(0.0, top):
        x = sx(tick)
        body.append(f'<line x1="{x:.1f}" y1="4" x2="{x:.1f}" y2="{height - 18}" '
                    f'stroke="{GRID}"/>')
        body.append(_text(x, height - 6, f"{_fmt_tick(tick)}{unit}", anchor="middle",
                          fill=MUTED, size=10))
    for i, (name, values) in enumerate(groups):
        y = 6 + i * row_h
        band = (bands or {}).get(name)
        if band is not None:
            x0, x1 = sx(band[0]), sx(min(band[1], top))
            body.append(f'<rect x="{x0:.1f}" y="{y + 1}" width="{max(x1 - x0, 1):.1f}" '
                        f'height="{row_h - 4}" fill="{PALETTE[2]}" opacity="0.15"/>')
        p5, q1, med, q3, p95 = (float(v) for v in _percentiles(values, (5, 25, 50, 75, 95)))
        mid = y + row_h / 2 - 1
        body.append(_text(left - 6, mid + 4, names[i], anchor="end"))
        body.append(f'<line x1="{sx(p5):.1f}" y1="{mid:.1f}" x2="{sx(p95):.1f}" y2="{mid:.1f}" '
                    f'stroke="{MUTED}"/>')
        box_w = max(sx(q3) - sx(q1), 1.0)
        body.append(f'<rect x="{sx(q1):.1f}" y="{mid - 6:.1f}" width="{box_w:.1f}" '
                    f'height="12" rx="2" fill="{PALETTE[0]}" opacity="0.75"/>')
        body.append(f'<line x1="{sx(med):.1f}" y1="{mid - 7:.1f}" x2="{sx(med):.1f}" '
                    f'y2="{mid + 7:.1f}" stroke="{INK}" stroke-width="2"/>')
    return _svg(width, height, body, label)


def _percentiles(values: Sequence[float], qs: Sequence[float]) -> list[float]:
    ordered = sorted(values)
    out = []
    for q in qs:
        pos = (len(ordered) - 1) * q / 100.0
        lo, hi = math.floor(pos), math.ceil(pos)
        out.append(ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo))
    return out


def _ticks(lo: float, hi: float, n: int = 4) -> list[float]:
    if hi <= lo:
        return [lo]
    raw = (hi - lo) / n
    mag = 10 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw)
    start = math.ceil(lo / step) * step
    out, value = [], start
    while value <= hi + 1e-9:
        out.append(round(value, 10))
        value += step
    return out


def _fmt_tick(v: float) -> str:
    return f"{v:.0f}" if abs(v) >= 10 or v == int(v) else f"{v:.2g}"


def line_chart(
    series: dict[str, Sequence[float | None]],
    *,
    width: int = 440,
    height: int = 210,
    y_range: tuple[float, float] | None = None,
    x_label: str = "epoch",
    label: str = "line chart",
) -> str:
    """Lines over epochs (x = 1..n); None values leave gaps."""
    values = [v for s in series.values() for v in s if v is not None and math.isfinite(v)]
    n = max((len(s) for s in series.values()), default=0)
    if not values or n == 0:
        return ""
    lo, hi = y_range if y_range else (min(0.0, min(values)), max(values))
    if hi <= lo:
        hi = lo + 1.0
    legend, legend_y = _legend(list(series), PALETTE, 40, 12, max_x=width - 10)
    left, right, top, bottom = 40, 10, int(legend_y) + 12, 30
    height += top - 24
    pw, ph = width - left - right, height - top - bottom

    def sx(i: int) -> float:
        return left + (pw * (i / (n - 1)) if n > 1 else pw / 2)

    def sy(v: float) -> float:
        return top + ph * (1 - (v - lo) / (hi - lo))

    body = legend
    for t in _ticks(lo, hi):
        body.append(f'<line x1="{left}" x2="{left + pw}" y1="{sy(t):.1f}" y2="{sy(t):.1f}" '
                    f'stroke="{GRID}"/>')
        body.append(_text(left - 4, sy(t) + 4, _fmt_tick(t), anchor="end", fill=MUTED))
    for t in _ticks(1, n, 5) if n > 1 else [1]:
        i = int(round(t)) - 1
        body.append(_text(sx(i), height - bottom + 14, str(int(round(t))), anchor="middle",
                          fill=MUTED))
    body.append(_text(left + pw / 2, height - 4, x_label, anchor="middle", fill=MUTED))
    for k, points in enumerate(series.values()):
        body += _line(points, sx, sy, PALETTE[k % len(PALETTE)])
    return _svg(width, height, body, label)


def _line(points: Sequence[float | None], sx: Callable[[int], float],
          sy: Callable[[float], float], color: str) -> list[str]:
    """One series: a polyline per run of values, a dot for a value alone between gaps."""
    runs: list[list[str]] = [[]]
    for i, v in enumerate(points):
        if v is None or not math.isfinite(v):
            runs.append([])
            continue
        runs[-1].append(f"{sx(i):.1f},{sy(v):.1f}")
    out = []
    for run in runs:
        if len(run) > 1:
            out.append(f'<polyline points="{" ".join(run)}" fill="none" stroke="{color}" '
                       f'stroke-width="2" stroke-linejoin="round"/>')
        elif len(run) == 1:
            x, y = run[0].split(",")
            out.append(f'<circle cx="{x}" cy="{y}" r="2.5" fill="{color}"/>')
    return out


def histogram(
    series: dict[str, Sequence[float]],
    *,
    bins: int = 30,
    value_range: tuple[float, float] | None = None,
    threshold: float | None = None,
    width: int = 520,
    height: int = 220,
    x_label: str = "score",
    label: str = "histogram",
) -> str:
    """Overlaid, normalised histograms (density), with an optional threshold line."""
    values = [v for s in series.values() for v in s if math.isfinite(v)]
    if not values:
        return ""
    lo, hi = value_range if value_range else (min(values), max(values))
    if hi <= lo:
        hi = lo + 1.0
    counts = {name: _density(s, bins, lo, hi) for name, s in series.items()}
    top_v = max(max(c) for c in counts.values()) or 1.0
    body, legend_y = _legend(list(series), PALETTE, 40, 12, max_x=width - 10)
    left, right, top, bottom = 40, 10, int(legend_y) + 12, 30
    height += top - 24
    pw, ph = width - left - right, height - top - bottom
    for t in _ticks(0, top_v, 3):
        y = top + ph * (1 - t / top_v)
        body.append(f'<line x1="{left}" x2="{left + pw}" y1="{y:.1f}" y2="{y:.1f}" '
                    f'stroke="{GRID}"/>')
        body.append(_text(left - 4, y + 4, pct(t), anchor="end", fill=MUTED))
    bw = pw / bins
    for k, c in enumerate(counts.values()):
        color = PALETTE[k % len(PALETTE)]
        body += [f'<rect x="{left + i * bw:.1f}" y="{top + ph - h:.1f}" '
                 f'width="{max(bw - 1, 0.5):.1f}" height="{h:.1f}" fill="{color}" '
                 f'fill-opacity="0.55"/>'
                 for i, v in enumerate(c) if v > 0 for h in [ph * v / top_v]]
    for t in _ticks(lo, hi, 5):
        x = left + pw * (t - lo) / (hi - lo)
        body.append(_text(x, height - bottom + 14, _fmt_tick(t), anchor="middle", fill=MUTED))
    body.append(_text(left + pw / 2, height - 4, x_label, anchor="middle", fill=MUTED))
    if threshold is not None and lo <= threshold <= hi:
        x = left + pw * (threshold - lo) / (hi - lo)
        body.append(f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{top}" y2="{top + ph}" '
                    f'stroke="{INK}" stroke-dasharray="4 3"/>')
        body.append(_text(x + 4, top + 10, f"threshold {threshold:.2f}", fill=INK, size=10))
    return _svg(width, height, body, label)


def _density(values: Sequence[float], bins: int, lo: float, hi: float) -> list[float]:
    """The share of the finite values in each of `bins` equal bins over [lo, hi] (outliers in
    the end bins)."""
    counts = [0.0] * bins
    finite = [v for v in values if math.isfinite(v)]
    for v in finite:
        counts[min(bins - 1, max(0, int((v - lo) / ((hi - lo) / bins))))] += 1
    return [x / len(finite) for x in counts] if finite else counts


def heat_color(ratio: float | None) -> str:
    """Background for a plan-versus-achieved cell: red (nothing) to green (target met)."""
    if ratio is None:
        return "#f1f3f5"
    r = max(0.0, min(1.0, ratio))
    if r >= 1.0:
        return "#b2f2bb"
    # interpolate #ffc9c9 (0) -> #ffec99 (0.5) -> #d8f5a2 (0.99)
    stops = ((0.0, (255, 201, 201)), (0.5, (255, 236, 153)), (1.0, (216, 245, 162)))
    for (a, ca), (b, cb) in zip(stops, stops[1:], strict=False):
        if r <= b:
            t = (r - a) / (b - a)
            rgb = tuple(round(x + (y - x) * t) for x, y in zip(ca, cb, strict=True))
            return "#{:02x}{:02x}{:02x}".format(*rgb)
    return "#d8f5a2"


def count_color(value: float, top: float) -> str:
    """Background for a count cell: white (0) to deep orange (the largest count)."""
    if value <= 0 or top <= 0:
        return "#ffffff"
    t = 0.15 + 0.85 * min(1.0, value / top)
    base, full = (255, 255, 255), (255, 120, 120)
    rgb = tuple(round(b + (f - b) * t) for b, f in zip(base, full, strict=True))
    return "#{:02x}{:02x}{:02x}".format(*rgb)
