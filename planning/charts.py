"""The forecast chart, drawn on the server as SVG: readable without JavaScript, named for screen
readers by its title and description, each bar labelled with its value in text (colour never
carries the meaning alone), and never the only place a number is: the totals table has them all.
"""

from __future__ import annotations

from markupsafe import Markup, escape

from money import format_pounds
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


def _short_pounds(pence: int) -> str:
    pounds = pence / 100
    if pounds >= 1_000_000:
        return f"£{pounds / 1_000_000:.2f}m"
    if pounds >= 10_000:
        return f"£{pounds / 1000:.0f}k"
    return format_pounds(pence).split(".")[0]


def replacement_by_year(forecast: Forecast, chart_id: str = "chart-forecast") -> Markup:
    """Vertical bars: the replacement cost of the backlog and of each financial year."""
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
        f"{year.label}: {format_pounds(year.total.replacement_pence)} for {len(year.total.assets)} assets"
        for year in forecast.years
    )
    return Markup(
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" viewBox="0 0 {width} {height}" width="{width}" '
        f'height="{height}" aria-labelledby="{chart_id}-title {chart_id}-desc" class="chart">'
        f'<title id="{chart_id}-title">Replacement cost by financial year</title>'
        f'<desc id="{chart_id}-desc">{escape(description)}. The table of totals by year has the same figures.</desc>'
        + "".join(body)
        + "</svg>"
    )
