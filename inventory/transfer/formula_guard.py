"""The CSV-injection guard: spreadsheet programs run cells that start with ``=``, ``+``, ``-`` or
``@`` as formulas, so exports prefix such text with a single quote and imports take it off again.
"""

from __future__ import annotations

#: What makes a spreadsheet read a cell as a formula (OWASP: = + - @, tab and carriage return),
#: plus the quote itself, so that neutralising is exactly undone by ``restore_cell``.
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralise_cell(text: str) -> str:
    """Prefix text a spreadsheet would run as a formula with a single quote."""
    if text and text[0] in (*_FORMULA_STARTS, "'"):
        return "'" + text
    return text


def restore_cell(text: str) -> str:
    """Undo ``neutralise_cell``: '\\'=SUM(A1)' -> '=SUM(A1)'; other text is left alone."""
    if len(text) > 1 and text[0] == "'" and text[1] in (*_FORMULA_STARTS, "'"):
        return text[1:]
    return text
