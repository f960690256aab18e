"""Charts drawn on the server as SVG: readable without JavaScript, by screen readers through their
title and description, and never the only place a number is (the page's tables have them all).

Colours are presentation attributes, not inline styles, so the Content-Security-Policy holds.
Each bar is labelled with its value in text: colour never carries the meaning alone.

Each chart is drawn twice: a wide one for a desktop and a narrow one (about 320 px, horizontal bars)
for a phone, where the wide one shrunk to fit would leave its text a few pixels high. The style
sheet shows one of them (``chart-wide`` / ``chart-narrow``); the other is not displayed, so a
screen reader meets one image.
"""

from __future__ import annotations

from typing import Any

from markupsafe import Markup, escape

from reports.render import NO_VALUE, percent

BAR = "#0b5cad"  # the site's brand blue: 7:1 on white
INK = "#1b1f24"
MUTED = "#4f5863"
LINE = "#c9d0d7"
IDLE = "#8a4b00"
SATURATED = "#b3261e"


def _text(
    x: float, y: float, content: str, anchor: str = "start", fill: str = INK, size: int = 14, weight: str = ""
) -> str:
    bold = ' font-weight="bold"' if weight else ""
    # A white halo keeps a label readable where it crosses a threshold line.
    return (
        f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}" font-size="{size}" fill="{fill}"{bold} '
        f'stroke="#ffffff" stroke-width="4" paint-order="stroke" stroke-linejoin="round" '
        f'font-family="system-ui, sans-serif">{escape(content)}</text>'
    )


def _svg(
    chart_id: str,
    title: str,
    description: str,
    width: int,
    height: int,
    body: list[str],
    layout: str = "wide",
) -> Markup:
    return Markup(
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
        f'aria-labelledby="{chart_id}-title {chart_id}-desc" class="chart chart-{layout}">'
        f'<title id="{chart_id}-title">{escape(title)}</title>'
        f'<desc id="{chart_id}-desc">{escape(description)}</desc>' + "".join(body) + "</svg>"
    )


def _threshold_lines(
    x0: float, width: float, top: float, bottom: float, settings: dict[str, Any], scale: float
) -> list[str]:
    body = []
    for value, label, colour in (
        (settings["idle_threshold"], "idle", IDLE),
        (settings["saturated_threshold"], "saturated", SATURATED),
    ):
        x = x0 + min(value, scale) / scale * width
        body.append(
            f'<line x1="{x:.1f}" y1="{top:.1f}" x2="{x:.1f}" y2="{bottom:.1f}" stroke="{colour}" stroke-width="2" '
            f'stroke-dasharray="6 4"/>'
        )
        body.append(_text(x, top - 8, f"{label} {percent(value)}", "middle", colour, 13))
    return body


def _utilisation_bars(
    rows: list[tuple[str, float | None]],
    settings: dict[str, Any] | None,
    label_width: int,
    bar_width: int,
    value_width: int,
    label_size: int = 14,
) -> tuple[int, int, list[str]]:
    """Horizontal bars from 0 to 100% utilisation, one a row, each labelled with its value; with
    ``settings``, the idle and saturated thresholds as dashed lines. Width, height and the body."""
    row_height, top = 34, 36 if settings else 8
    width = label_width + bar_width + value_width
    height = top + row_height * len(rows) + 26
    x0 = label_width
    body = [f'<line x1="{x0}" y1="{top - 2}" x2="{x0}" y2="{height - 24}" stroke="{MUTED}"/>']
    if settings:
        body += _threshold_lines(x0, bar_width, top, height - 24, settings, 1.0)
    for tick in (0, 0.25, 0.5, 0.75, 1.0):
        x = x0 + tick * bar_width
        body.append(
            f'<line x1="{x:.1f}" y1="{height - 24}" x2="{x:.1f}" y2="{height - 19}" stroke="{MUTED}"/>'
        )
        body.append(_text(x, height - 4, percent(tick).replace(".0", ""), "middle", MUTED, 12))
    for index, (label, value) in enumerate(rows):
        y = top + index * row_height
        body.append(_text(x0 - 8, y + 22, label, "end", INK, label_size, "bold" if label == "All" else ""))
        if value is None:
            body.append(_text(x0 + 6, y + 22, "no hours available", "start", MUTED, 13))
            continue
        length = max(min(value, 1.0) * bar_width, 1.0)
        body.append(
            f'<rect x="{x0}" y="{y + 6}" width="{length:.1f}" height="{row_height - 12}" fill="{BAR}"/>'
        )
        body.append(_text(x0 + length + 6, y + 22, percent(value), "start", INK))
    return width, height, body


def utilisation_by_school(figures: dict[str, Any], chart_id: str = "chart-schools") -> Markup:
    """Horizontal bars: each School's utilisation, and all of them together, against the idle
    and saturated thresholds; wide for a desktop, narrow for a phone."""
    rows = [(s["code"], s["utilisation"]) for s in figures["schools"]] + [
        ("All", figures["totals"]["utilisation"])
    ]
    title = "Utilisation by School"
    description = "; ".join(
        f"{label}: {percent(value) if value is not None else 'no value'}" for label, value in rows
    )
    description += ". The table of Schools has the same figures."
    charts = []
    for layout, widths, suffix in (("wide", (100, 520, 80), ""), ("narrow", (64, 196, 60), "-narrow")):
        width, height, body = _utilisation_bars(rows, figures["settings"], *widths)
        charts.append(_svg(chart_id + suffix, title, description, width, height, body, layout))
    return Markup("").join(charts)


def monthly_trend(figures: dict[str, Any], chart_id: str = "chart-trend") -> Markup:
    """Vertical bars: utilisation of all the report's assets, month by month; on a phone,
    horizontal bars, a month a row."""
    months = figures["totals"]["months"]
    left, bottom_margin, top = 48, 40, 28
    column = max(36, min(90, 560 // max(len(months), 1)))
    plot_height = 200
    width = max(left + column * len(months) + 10, 320)
    height = top + plot_height + bottom_margin
    base = top + plot_height
    body = [f'<line x1="{left}" y1="{base}" x2="{width - 10}" y2="{base}" stroke="{MUTED}"/>']
    for tick in (0, 0.5, 1.0):
        y = base - tick * plot_height
        body.append(f'<line x1="{left - 4}" y1="{y:.1f}" x2="{width - 10}" y2="{y:.1f}" stroke="{LINE}"/>')
        body.append(_text(left - 8, y + 4, percent(tick).replace(".0", ""), "end", MUTED, 11))
    for index, month in enumerate(months):
        x = left + index * column
        value = month["utilisation"]
        body.append(_text(x + column / 2, base + 16, month["label"].split()[0], "middle", INK, 12))
        body.append(_text(x + column / 2, base + 31, month["label"].split()[1], "middle", MUTED, 10))
        if value is None:
            body.append(_text(x + column / 2, base - 6, NO_VALUE, "middle", MUTED, 12))
            continue
        bar = max(min(value, 1.0) * plot_height, 1.0)
        body.append(
            f'<rect x="{x + column * 0.2:.1f}" y="{base - bar:.1f}" width="{column * 0.6:.1f}" height="{bar:.1f}" fill="{BAR}"/>'
        )
        body.append(_text(x + column / 2, base - bar - 5, percent(value), "middle", INK, 11))
    description = "; ".join(
        f"{m['label']}: {percent(m['utilisation']) if m['utilisation'] is not None else 'no value'}"
        for m in months
    )
    title = "Utilisation month by month"
    description += ". The month-by-month table has the same figures."
    rows = [(month["label"], month["utilisation"]) for month in months]
    narrow_width, narrow_height, narrow_body = _utilisation_bars(rows, None, 80, 186, 54, label_size=13)
    return _svg(chart_id, title, description, width, height, body) + _svg(
        chart_id + "-narrow", title, description, narrow_width, narrow_height, narrow_body, "narrow"
    )


#: Each School's line: a colour and a dash pattern, so no line is told apart by colour alone; each
#: line is also named in text at its end. All the Schools together: the thick dark line.
SERIES_STYLES = [
    ("#0b5cad", ""),
    ("#8a4b00", "8 4"),
    ("#146c2e", "2 4"),
    ("#6b2d9e", "10 4 2 4"),
    ("#b3261e", "4 4"),
    ("#00696b", "12 3"),
    ("#5b5b00", "1 3"),
    ("#9c2762", "6 2 2 2"),
]


def _spread(
    labels: list[tuple[float, str, str]], gap: float, low: float, high: float
) -> list[tuple[float, str, str]]:
    """Move the line-end labels apart vertically (at least ``gap``), keeping them in bounds."""
    placed: list[tuple[float, str, str]] = []
    for y, text, colour in sorted(labels):
        y = max(y, placed[-1][0] + gap) if placed else y
        placed.append((y, text, colour))
    overflow = placed[-1][0] - high if placed else 0
    if overflow > 0:
        placed = [(max(low, y - overflow), text, colour) for y, text, colour in placed]
    return placed


def trend_lines(
    months: list[dict[str, Any]], series: list[tuple[str, str, list[Any]]], chart_id: str = "chart-twelve"
) -> Markup:
    """Lines: utilisation of each School and of all of them, month by month (``reports.trend``);
    drawn wide for a desktop and narrow for a phone. A month with no hours available leaves a gap."""
    highest = max((c.utilisation or 0 for _, _, cells in series for c in cells), default=0)
    scale = 1.0 if highest > 0.5 else 0.5 if highest > 0.25 else 0.25  # the top of the axis
    description = (
        "; ".join(
            f"{code}: "
            + ", ".join(
                f"{m['label']} {percent(c.utilisation) if c.utilisation is not None else 'no value'}"
                for m, c in zip(months, cells)
            )
            for code, _, cells in series
        )
        + ". The table below has the same figures."
    )
    title = "Utilisation by month, per School and overall"
    charts = []
    for layout, width, height, font, suffix in (
        ("wide", 860, 340, 13, ""),
        ("narrow", 320, 300, 13, "-narrow"),
    ):
        left, right, top, bottom = 44, 64 if layout == "wide" else 52, 16, 40
        plot_w, plot_h = width - left - right, height - top - bottom
        step = plot_w / max(len(months) - 1, 1)
        body = []
        for tick in (0, 0.5, 1.0):
            y = top + plot_h - tick * plot_h
            body.append(f'<line x1="{left}" y1="{y:.1f}" x2="{left + plot_w}" y2="{y:.1f}" stroke="{LINE}"/>')
            body.append(
                _text(left - 6, y + 4, percent(tick * scale).replace(".0%", "%"), "end", MUTED, font - 1)
            )
        for index, month in enumerate(months):
            x = left + index * step
            if (
                layout == "wide" or (len(months) - 1 - index) % 2 == 0
            ):  # a phone: every other month, to the last
                name, year = month["label"].split()
                body.append(_text(x, top + plot_h + 16, name, "middle", INK, font - 1))
                if layout == "wide" and (index == 0 or name == "Jan"):
                    body.append(_text(x, top + plot_h + 31, year, "middle", MUTED, font - 2))
        ends = []
        for number, (code, _, cells) in enumerate(series):
            overall = code == "All"
            colour, dash = (INK, "") if overall else SERIES_STYLES[number % len(SERIES_STYLES)]
            points = []
            segments: list[list[str]] = [[]]
            for index, cell in enumerate(cells):
                if cell.utilisation is None:
                    segments.append([])
                    continue
                x = left + index * step
                y = top + plot_h - min(cell.utilisation, scale) / scale * plot_h
                segments[-1].append(f"{x:.1f},{y:.1f}")
                points.append((x, y))
            stroke = 4 if overall else 2
            dashes = f' stroke-dasharray="{dash}"' if dash else ""
            for segment in segments:
                if len(segment) > 1:
                    body.append(
                        f'<polyline points="{" ".join(segment)}" fill="none" stroke="{colour}" stroke-width="{stroke}"{dashes}/>'
                    )
                elif segment:
                    x, y = segment[0].split(",")
                    body.append(f'<circle cx="{x}" cy="{y}" r="3" fill="{colour}"/>')
            if points:
                ends.append((points[-1][1] + 4, code, colour))
        for y, code, colour in _spread(ends, font + 1, top + 4, top + plot_h + 4):
            body.append(_text(left + plot_w + 6, y, code, "start", colour, font, "bold"))
        charts.append(_svg(chart_id + suffix, title, description, width, height, body, layout))
    return Markup("").join(charts)
