"""Money is integer pence inside Kitshare; pounds only at the edges."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from bounds import MAX_PENCE, PENCE_TOO_MANY


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
