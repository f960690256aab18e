"""Money is integer pence inside Kitshare; pounds only at the edges."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from core.bounds import MAX_PENCE, PENCE_TOO_MANY


def parse_pounds(text: str | None) -> int | None:
    """'1,234.50' or '£1234.5' -> 123450 pence; '' -> None. Raises ValueError for anything else,
    including negative amounts, fractions of a penny and more than a money column holds."""
    cleaned = (text or "").strip().replace(",", "").removeprefix("£").strip()
    if not cleaned:
        return None
    try:
        amount = Decimal(cleaned)
    except InvalidOperation:
        raise ValueError(f"'{text}' is not an amount in pounds, such as 1250.00.") from None
    if not amount.is_finite() or amount < 0:
        raise ValueError("Enter an amount of zero or more.")
    if amount > Decimal(MAX_PENCE) / 100:  # before multiplying: Decimal('1e999999999') * 100 overflows
        raise ValueError(PENCE_TOO_MANY)
    pence = amount * 100
    if pence != pence.to_integral_value():
        raise ValueError("Enter whole pence: at most two decimal places.")
    return int(pence)


def format_pounds(pence: int | None, symbol: bool = True) -> str:
    """123456 -> '£1,234.56' (or '1234.56' without the symbol, for forms and files)."""
    if pence is None:
        return ""
    sign = "-" if pence < 0 else ""
    pounds, remainder = divmod(abs(pence), 100)
    if symbol:
        return f"{sign}£{pounds:,}.{remainder:02d}"
    return f"{sign}{pounds}.{remainder:02d}"


def whole_pounds(pence: int) -> int:
    """Pence to the nearest pound, half a pound up (away from zero)."""
    pounds, remainder = divmod(abs(pence), 100)
    pounds += 1 if remainder >= 50 else 0
    return -pounds if pence < 0 else pounds


def format_whole_pounds(pence: int | None) -> str:
    """Money on pages and in summaries, to the pound: 155848215 -> '£1,558,482'. The exports keep
    the pence (``format_pounds``)."""
    if pence is None:
        return ""
    pounds = whole_pounds(pence)
    return f"{'-' if pounds < 0 else ''}£{abs(pounds):,}"


def format_short_pounds(pence: int | None) -> str:
    """Money on a chart, where space is short: '£1.56m', '£12k', '£950'."""
    if pence is None:
        return ""
    pounds = whole_pounds(pence)
    sign, size = ("-" if pounds < 0 else ""), abs(pounds)
    if size >= 999_500:  # what would round to £1000k
        return f"{sign}£{size / 1_000_000:.2f}m"
    if size >= 10_000:
        return f"{sign}£{size / 1000:.0f}k"
    if size >= 1000:
        return f"{sign}£{size / 1000:.1f}k"
    return f"{sign}£{size:,}"


def format_hours(hours: float | None) -> str:
    """Hours on pages, to one decimal: 1234.56 -> '1,234.6'. The exports keep two decimals."""
    if hours is None:
        return ""
    return f"{hours:,.1f}"
