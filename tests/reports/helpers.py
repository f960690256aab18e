"""Reading back what the report renderers wrote: a page's tables, the CSV's sections, the XLSX."""

from __future__ import annotations

import csv
import io
from html.parser import HTMLParser

from openpyxl import load_workbook


class _Tables(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tables: dict[str, list[list[str]]] = {}
        self._table: str | None = None
        self._row: list[str] | None = None
        self._cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "table":
            self._table = dict(attrs).get("id") or f"table-{len(self.tables)}"
            self.tables[self._table] = []
        elif tag == "tr" and self._table:
            self._row = []
        elif tag in ("td", "th") and self._row is not None:
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self._cell is not None and self._row is not None:
            self._row.append(" ".join("".join(self._cell).split()))
            self._cell = None
        elif tag == "tr" and self._row is not None and self._table:
            self.tables[self._table].append(self._row)
            self._row = None
        elif tag == "table":
            self._table = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)


def page_tables(html: str) -> dict[str, list[list[str]]]:
    """Each table's rows (the heading row first) by the table's id, e.g. 'table-schools'."""
    parser = _Tables()
    parser.feed(html)
    return parser.tables


def csv_sections(text: str) -> dict[str, list[list[str]]]:
    """The CSV's summary (key 'Summary') and each table's rows (headings first) by its title."""
    sections: dict[str, list[list[str]]] = {"Summary": []}
    current = "Summary"
    rows = list(csv.reader(io.StringIO(text.removeprefix("\ufeff"))))  # the BOM Excel needs
    index = 0
    while index < len(rows):
        row = rows[index]
        if not row:
            current = rows[index + 1][0]
            sections[current] = []
            index += 2
            continue
        sections[current].append(row)
        index += 1
    return sections


def xlsx_sheets(data: bytes) -> dict[str, list[list[object]]]:
    workbook = load_workbook(io.BytesIO(data))
    return {
        sheet.title: [list(row) for row in sheet.iter_rows(values_only=True)] for sheet in workbook.worksheets
    }


def xlsx_formats(data: bytes, sheet: str) -> list[list[str]]:
    workbook = load_workbook(io.BytesIO(data))
    return [[cell.number_format for cell in row] for row in workbook[sheet].iter_rows()]


def to_the_pound(plain: str) -> str:
    """'1234.50' (a CSV's pounds) as a page shows it: '£1,235' (half a pound up)."""
    from decimal import ROUND_HALF_UP, Decimal

    pounds = Decimal(plain).quantize(Decimal(1), ROUND_HALF_UP)
    return f"{'-' if pounds < 0 else ''}£{abs(pounds):,}"


def to_one_decimal(plain: str) -> str:
    """'1234.56' (a CSV's hours) as a page shows it: '1,234.6'."""
    from decimal import ROUND_HALF_EVEN, Decimal

    return f"{Decimal(plain).quantize(Decimal('0.1'), ROUND_HALF_EVEN):,}"
