"""The forecast chart, drawn on the server as SVG: readable without JavaScript, named for screen
readers by its title and description, each bar labelled with its value in text (colour never
carries the meaning alone), and never the only place a number is: the totals table has them all.
Drawn twice, like the report's charts: wide (a column a year) and narrow (a row a year) for a
phone; the style sheet shows one.
"""

from __future__ import annotations

from markupsafe import Markup, escape

from core.money import format_short_pounds as _short_pounds
from core.money import format_whole_pounds
from planning.forecast import Forecast

BAR = "#0b5cad"  # the site's brand blue: 7:1 on white
BACKLOG = "#8a4b00"  # the backlog is also labelled in words
INK = "#1b1f24"
MUTED = "#4f5863"
LINE = "#c9d0d7"


def _text(x: float, y: float, content: str, anchor: str = "middle", fill: str = INK, size: int = 12) -> str:
    return (
        f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}" font-size="{size}" fill="{fill}" '
        f'font-family="system-ui, sans-serif">{escape(content)}</text>'
    )


def replacement_by_year(forecast: Forecast, chart_id: str = "chart-forecast") -> Markup:
    """Vertical bars: the replacement cost of the backlog and of each financial year (on a phone,
    horizontal ones)."""
    bars = [
        ("Backlog" if year.year is None else year.label, year.total.replacement_pence, year.year is None)
        for year in forecast.years
    ]
    highest = max((pence for _, pence, _ in bars), default=0) or 1
    left, top, plot_height, bottom_margin, column = 16, 28, 200, 44, 110
    width = left * 2 + column * len(bars)
    height = top + plot_height + bottom_margin
    base = top + plot_height
    body = [f'<line x1="{left}" y1="{base}" x2="{width - left}" y2="{base}" stroke="{MUTED}"/>']
    for index, (label, pence, backlog) in enumerate(bars):
        x = left + index * column
        bar = pence / highest * plot_height
        if pence:
            bar = max(bar, 1.0)
            body.append(
                f'<rect x="{x + column * 0.2:.1f}" y="{base - bar:.1f}" width="{column * 0.6:.1f}" height="{bar:.1f}" '
                f'fill="{BACKLOG if backlog else BAR}"/>'
            )
        body.append(_text(x + column / 2, base - bar - 6, _short_pounds(pence)))
        body.append(_text(x + column / 2, base + 16, label, fill=INK))
        if backlog:
            body.append(_text(x + column / 2, base + 31, "past end of life", fill=MUTED, size=11))
    description = "; ".join(
        f"{year.label}: {format_whole_pounds(year.total.replacement_pence)} for {len(year.total.assets)} assets"
        for year in forecast.years
    )
    return _svg(chart_id, description, width, height, body, "wide") + _svg(
        chart_id + "-narrow", description, *_narrow_bars(bars, highest), "narrow"
    )


def _narrow_bars(bars: list[tuple[str, int, bool]], highest: int) -> tuple[int, int, list[str]]:
    """The same bars on their side, a year a row, to fit a phone's width with readable text."""
    label_width, bar_width, value_width, row_height, top = 100, 150, 66, 40, 8
    width = label_width + bar_width + value_width
    height = top + row_height * len(bars) + 8
    body = [f'<line x1="{label_width}" y1="{top}" x2="{label_width}" y2="{height - 8}" stroke="{MUTED}"/>']
    for index, (label, pence, backlog) in enumerate(bars):
        y = top + index * row_height
        length = max(pence / highest * bar_width, 1.0) if pence else 0.0
        if pence:
            body.append(
                f'<rect x="{label_width}" y="{y + 8}" width="{length:.1f}" height="{row_height - 16}" '
                f'fill="{BACKLOG if backlog else BAR}"/>'
            )
        body.append(_text(label_width - 8, y + 25 - (6 if backlog else 0), label, "end", size=13))
        if backlog:
            body.append(_text(label_width - 8, y + 33, "past end of life", "end", MUTED, 11))
        body.append(_text(label_width + length + 6, y + 25, _short_pounds(pence), "start", size=13))
    return width, height, body


def _svg(chart_id: str, description: str, width: int, height: int, body: list[str], layout: str) -> Markup:
    return Markup(
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" viewBox="0 0 {width} {height}" width="{width}" '
        f'height="{height}" aria-labelledby="{chart_id}-title {chart_id}-desc" class="chart chart-{layout}">'
        f'<title id="{chart_id}-title">Replacement cost by financial year</title>'
        f'<desc id="{chart_id}-desc">{escape(description)}. The table of totals by year has the same figures.</desc>'
        + "".join(body)
        + "</svg>"
    )
