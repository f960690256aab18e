"""Turning one imported cell (text, number, date, yes/no) into the value the register stores."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from typing import Any

from core.money import parse_pounds
from inventory.models import AssetStatus
from inventory.transfer.formula_guard import restore_cell


def cell_text(value: Any) -> str:
    """A cell as text: numbers without a spurious '.0', quotes added by exports taken off."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else f"{value:.15g}"
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time(0) else value.isoformat(sep=" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    if not isinstance(value, str):
        return str(value).strip()
    return restore_cell(value.strip().replace("\r\n", "\n"))


def cell_date(value: Any) -> dt.date | None:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    text = cell_text(value)
    if not text:
        return None
    for pattern in ("%Y-%m-%d", "%d/%m/%Y"):
        try:
            return dt.datetime.strptime(text, pattern).date()
        except ValueError:
            continue
    raise ValueError(f"'{text}' is not a date; use YYYY-MM-DD, such as 2024-03-31.")


def cell_pence(value: Any) -> int | None:
    if isinstance(value, bool):
        raise ValueError(f"'{cell_text(value)}' is not an amount in pounds, such as 1250.00.")
    if isinstance(value, float):
        # Spreadsheets keep 15 significant digits; beyond that a float is noise, not pence.
        value = format(Decimal(f"{value:.15g}"), "f")
    elif isinstance(value, (int, Decimal)):
        value = format(Decimal(value), "f")
    return parse_pounds(cell_text(value))


def cell_minutes(value: Any) -> int | None:
    if isinstance(value, bool):
        raise ValueError("Enter a whole number of minutes, such as 30.")
    if isinstance(value, int):
        number = value
    elif isinstance(value, float) and value.is_integer():
        number = int(value)
    else:
        text = cell_text(value)
        if not text:
            return None
        if not re.fullmatch(r"-?\d+", text):
            raise ValueError(f"'{text}' is not a whole number of minutes, such as 30.")
        number = int(text)
    return number


_YES = {"yes", "y", "true", "1"}
_NO = {"no", "n", "false", "0"}


def cell_boolean(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = cell_text(value).lower()
    if text in _YES:
        return True
    if text in _NO:
        return False
    raise ValueError(f"'{cell_text(value)}' is not yes or no.")


def cell_status(value: Any) -> AssetStatus:
    text = re.sub(r"[\s-]+", "_", cell_text(value).lower())
    try:
        return AssetStatus(text)
    except ValueError:
        choices = ", ".join(status.value for status in AssetStatus)
        raise ValueError(f"'{cell_text(value)}' is not a status; use one of {choices}.") from None
