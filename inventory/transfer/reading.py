"""Reading an uploaded CSV or XLSX file into numbered rows of cells, within the upload's limits."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from core.errors import InvalidInput
from inventory.transfer.columns import MAX_ROWS, UPLOAD_SUFFIXES
from inventory.transfer.xlsx_limits import XlsxLimits, check_xlsx


def read_table(
    filename: str, content: bytes, limits: XlsxLimits | None = None
) -> list[tuple[int, list[Any]]]:
    """The rows of a .csv or .xlsx file as (line number, cells), header first, empty rows left out.

    Line numbers are the spreadsheet's row numbers: the header is line 1. Raises InvalidInput
    with a message for the person when the file cannot be read at all, or when an .xlsx is
    bigger inside than ``limits`` allow (checked before it is parsed: see inventory.transfer.xlsx_limits).
    """
    suffix = Path(filename or "").suffix.lower().lstrip(".")
    if suffix not in UPLOAD_SUFFIXES:
        raise InvalidInput(
            f"{filename or 'That file'} is not a .csv or .xlsx file. Save your spreadsheet as CSV "
            "(UTF-8) or as an Excel workbook (.xlsx) and upload that."
        )
    if not content:
        raise InvalidInput(f"{filename} is empty.")
    if suffix == "xlsx":
        rows = _read_xlsx(filename, content, limits or XlsxLimits())
    else:
        rows = _read_csv(filename, content)
    table: list[tuple[int, list[Any]]] = []
    for line, cells in rows:
        while cells and is_blank(cells[-1]):
            cells.pop()
        if not cells:
            continue
        table.append((line, cells))
        if len(table) > MAX_ROWS + 1:
            raise InvalidInput(
                f"{filename} has more than {MAX_ROWS:,} rows. Split it into files of at most "
                f"{MAX_ROWS:,} rows and import them one after another."
            )
    if not table:
        raise InvalidInput(f"{filename} has no rows.")
    if table[0][0] != 1:
        raise InvalidInput(f"The first row of {filename} must hold the column headers, such as Tag and Name.")
    return table


def is_blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _read_csv(filename: str, content: bytes) -> Iterator[tuple[int, list[Any]]]:
    if b"\x00" in content[:4096]:
        raise InvalidInput(
            f"{filename} is not a text file. Save your spreadsheet as CSV (UTF-8) and try again."
        )
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            text = content.decode("cp1252")  # what Excel on Windows writes as "CSV"
        except UnicodeDecodeError:
            raise InvalidInput(
                f"{filename} is neither UTF-8 nor Windows text. Save it as 'CSV UTF-8' and try again."
            ) from None
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        # The record number, not the physical line: a cell may span lines, a spreadsheet row does not.
        for line, cells in enumerate(reader, start=1):
            yield line, list(cells)
    except csv.Error as error:
        raise InvalidInput(f"{filename} is not valid CSV near row {reader.line_num}: {error}.") from None


def _read_xlsx(filename: str, content: bytes, limits: XlsxLimits) -> Iterator[tuple[int, list[Any]]]:
    # openpyxl (~0.1 s to import) is loaded only when a workbook is read or written, so no worker or
    # command pays for it otherwise: every openpyxl import in Kitshare is local for that reason.
    import openpyxl

    check_xlsx(filename, content, limits)  # before openpyxl builds anything from the file
    try:
        workbook = openpyxl.load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except Exception:  # openpyxl raises many kinds (zip, XML, KeyError) for files it cannot read
        raise InvalidInput(
            f"{filename} could not be read as an Excel workbook. Save it as .xlsx (or as CSV) and try again."
        ) from None
    try:
        if not workbook.worksheets:
            raise InvalidInput(f"{filename} has no sheets.")
        sheet = workbook.worksheets[0]
        # Some programs write a wrong size into the file; openpyxl would stop reading there.
        sheet.reset_dimensions()
        line = 0
        rows = sheet.iter_rows(values_only=True)
        while True:
            try:
                cells = next(rows, None)
            except Exception:  # a value openpyxl cannot convert (a number, a truth value, a date)
                raise InvalidInput(
                    f"{filename} could not be read near row {line + 1:,}: a cell there holds a value its "
                    "type does not allow. Save it again as .xlsx (or as CSV) and try again."
                ) from None
            if cells is None:
                break
            line += 1
            yield line, list(cells)
    finally:
        workbook.close()
