"""What a value people type or send may be: the ranges the database's columns and the calendar
arithmetic hold, checked once at the edge.

PostgreSQL refuses a NUL character in text and a number beyond its integer columns (SQLite stores
both, and the arithmetic on them fails later); a year near 1 or 9999 overflows as soon as a
turnaround or a clock change is added. The forms (``web``), the API (``api/params.py``), the
import and the services all read and bound values with what is here.
"""

from __future__ import annotations

import datetime as dt

#: The largest whole number an integer column (an id, minutes, pence) holds.
MAX_INT = 2**31 - 1
#: Money columns are integer pence: £21,474,836.47 at most.
MAX_PENCE = MAX_INT
#: Minimum notice, longest booking, turnaround and no-show release: at most a year of minutes.
MAX_MINUTES = 366 * 24 * 60
#: Times (bookings, maintenance) lie in these years: nobody books equipment outside them, and the
#: arithmetic on them (adding turnaround, clock changes) stays inside Python's calendar.
MIN_YEAR, MAX_YEAR = 1970, 2999
#: Dates (purchases, inspections, training) reach further back: equipment bought long ago.
MIN_DATE_YEAR = 1900

MINUTES_TOO_MANY = f"Use at most {MAX_MINUTES:,} minutes (a year)."
PENCE_TOO_MANY = f"Enter at most £{MAX_PENCE // 100:,}.{MAX_PENCE % 100:02d}."
NUL_IN_TEXT = "This contains a NUL character, which cannot be stored: remove it."
TIME_OUT_OF_RANGE = f"Enter a date between the years {MIN_YEAR} and {MAX_YEAR}."
DATE_OUT_OF_RANGE = f"Enter a date between the years {MIN_DATE_YEAR} and {MAX_YEAR}."


def whole_number(text: object, low: int = -MAX_INT, high: int = MAX_INT) -> int:
    """A whole number written in ASCII digits (an optional sign, no '²', '٣' or '１', which
    ``int()`` would read or choke on), from ``low`` to ``high``. Raises ValueError."""
    if isinstance(text, bool):
        raise ValueError("Give a whole number.")
    if isinstance(text, int):
        number = text
    else:
        digits = str(text).strip()
        unsigned = digits[1:] if digits[:1] in ("-", "+") else digits
        if not (unsigned.isascii() and unsigned.isdecimal()) or len(unsigned) > 12:
            raise ValueError("Give a whole number.")
        number = int(digits)
    if not low <= number <= high:
        raise ValueError(f"Give a whole number from {low:,} to {high:,}.")
    return number


def has_nul(text: object) -> bool:
    return isinstance(text, str) and "\x00" in text


def time_in_range(moment: dt.datetime) -> bool:
    """Whether a date and time lies in the years times may have (MIN_YEAR to MAX_YEAR)."""
    return MIN_YEAR <= moment.year <= MAX_YEAR


def date_in_range(day: dt.date) -> bool:
    """Whether a date lies in the years dates may have (MIN_DATE_YEAR to MAX_YEAR)."""
    return MIN_DATE_YEAR <= day.year <= MAX_YEAR
