"""Checking an uploaded .xlsx before openpyxl reads it, so a small hostile file cannot use up memory.

An .xlsx is a zip of XML parts. Compressed, a 100-million-character cell is 97 KB; openpyxl would
build that text (and its parser's copies) in memory before the import could look at it. So the
archive is checked first, reading every part as a stream and keeping only counters:

- the zip's own directory: how many parts, and the unpacked size each part declares;
- every XML part, unpacked in small pieces: its real size (counted, since a declared size can
  lie), no document type declaration (entity expansion), well-formed, no tag or text longer than
  a cell could need;
- the worksheets: how many rows and cells, how long each cell's text, and that a date cell
  (``t="d"``) holds a date;
- the shared strings: how many, and how long each.

Only a file that passes is handed to openpyxl (read-only mode, which streams the sheet), and
openpyxl itself parses through defusedxml. The limits are settings (config.py, README).
"""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass
from typing import Any
from xml.parsers import expat

from core.config import Config
from core.errors import InvalidInput
from inventory.transfer.columns import MAX_ROWS

#: Excel's own limits: columns on a sheet, and characters in a cell.
EXCEL_MAX_COLUMNS = 16_384
EXCEL_MAX_CELL_CHARS = 32_767
#: Unpacked in pieces of this size, so only one piece of a part is in memory at a time.
_PIECE = 256 * 1024
#: The XML parser holds a whole tag (or comment) in memory until its end arrives: no tag a
#: spreadsheet program writes comes near this many bytes, so a longer one is refused half-read.
_MAX_TOKEN_BYTES = 256 * 1024
_MB = 1024 * 1024


@dataclass(frozen=True)
class XlsxLimits:
    """How much of an uploaded .xlsx Kitshare reads (the KITSHARE_XLSX_* settings)."""

    # The defaults are Config's (core/config.py), where each lives once.
    max_part_bytes: int = Config.KITSHARE_XLSX_MAX_PART_BYTES
    max_total_bytes: int = Config.KITSHARE_XLSX_MAX_TOTAL_BYTES
    max_parts: int = Config.KITSHARE_XLSX_MAX_PARTS
    max_rows: int = Config.KITSHARE_XLSX_MAX_ROWS
    max_cells: int = Config.KITSHARE_XLSX_MAX_CELLS
    max_cell_chars: int = Config.KITSHARE_XLSX_MAX_CELL_CHARS

    @classmethod
    def from_config(cls, config: Config) -> XlsxLimits:
        return cls(
            max_part_bytes=config.KITSHARE_XLSX_MAX_PART_BYTES,
            max_total_bytes=config.KITSHARE_XLSX_MAX_TOTAL_BYTES,
            max_parts=config.KITSHARE_XLSX_MAX_PARTS,
            max_rows=config.KITSHARE_XLSX_MAX_ROWS,
            max_cells=config.KITSHARE_XLSX_MAX_CELLS,
            max_cell_chars=config.KITSHARE_XLSX_MAX_CELL_CHARS,
        )


def _size(n: int) -> str:
    return f"{n / _MB:,.0f} MB" if n >= _MB else f"{n:,} bytes"


def _resave() -> str:
    return "Save it again from your spreadsheet program as an Excel workbook (.xlsx), or as CSV, and upload that."


def check_xlsx(filename: str, content: bytes, limits: XlsxLimits) -> None:
    """Refuse, with InvalidInput and a message for the person, an .xlsx that is bigger inside than
    ``limits`` allow or is not what a spreadsheet program writes. Reads the file as a stream:
    its memory use does not grow with what the file would unpack to."""
    # Each part has a 46-byte entry in the zip's directory, which zipfile reads whole: count the
    # entries' signatures first (an over-count at worst), so the directory itself stays small.
    if content.count(b"PK\x01\x02") > limits.max_parts:
        raise InvalidInput(
            f"{filename} has more than {limits.max_parts:,} parts inside, far more than a spreadsheet "
            f"needs. {_resave()}"
        )
    try:
        archive = zipfile.ZipFile(io.BytesIO(content))
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, OSError, EOFError):
        raise InvalidInput(
            f"{filename} could not be read as an Excel workbook. Save it as .xlsx (or as CSV) and try again."
        ) from None
    with archive:
        parts = archive.infolist()
        declared_total = 0
        for part in parts:
            declared_total += part.file_size
            if part.file_size > limits.max_part_bytes:
                raise _too_big(filename, part.filename, limits.max_part_bytes)
        if declared_total > limits.max_total_bytes:
            raise _too_big_in_all(filename, limits.max_total_bytes)
        unpacked_total = 0
        for part in parts:
            if part.is_dir():
                continue
            unpacked_total += _scan_part(
                archive, part, filename, limits, limits.max_total_bytes - unpacked_total
            )


def _too_big(filename: str, part: str, limit: int) -> InvalidInput:
    return InvalidInput(
        f"{filename} is too big to import: its part {part} unpacks to more than {_size(limit)}, the most "
        "Kitshare reads of one part. Split the register into smaller files and import them one after another."
    )


def _too_big_in_all(filename: str, limit: int) -> InvalidInput:
    return InvalidInput(
        f"{filename} is too big to import: it unpacks to more than {_size(limit)} in all, the most Kitshare "
        "reads of one file. Split the register into smaller files and import them one after another."
    )


def _damaged(filename: str, part: str, why: str) -> InvalidInput:
    return InvalidInput(f"{filename} is damaged: {part} {why}. {_resave()}")


def _scan_part(
    archive: zipfile.ZipFile, part: zipfile.ZipInfo, filename: str, limits: XlsxLimits, room: int
) -> int:
    """Unpack one part piece by piece, counting its bytes; an XML part is also parsed, piece by
    piece, by ``_PartScan``. Returns the number of bytes the part unpacked to."""
    unpacked = 0
    scan: _PartScan | None = None
    try:
        with archive.open(part) as stream:
            while piece := stream.read(_PIECE):
                unpacked += len(piece)
                # The declared size was checked, but it may lie: count what really comes out.
                if unpacked > limits.max_part_bytes:
                    raise _too_big(filename, part.filename, limits.max_part_bytes)
                if unpacked > room:
                    raise _too_big_in_all(filename, limits.max_total_bytes)
                if scan is None:
                    if unpacked == len(piece) and not _looks_like_xml(piece):
                        # Pictures and other binary parts: openpyxl's read-only mode never parses
                        # them. Their size is still counted.
                        scan = _NOT_XML
                    else:
                        scan = _PartScan(filename, part.filename, limits)
                if scan is _NOT_XML:
                    continue
                scan.feed(piece)
            if scan is not None and scan is not _NOT_XML:
                scan.close()
    except (
        zipfile.BadZipFile,
        zipfile.LargeZipFile,
        EOFError,
        OSError,
        ValueError,
        NotImplementedError,
        RuntimeError,
    ):
        # zipfile stops at the declared size and then finds the checksum wrong: the file lied.
        raise _damaged(filename, part.filename, "does not unpack to what the file says it holds") from None
    return unpacked


_NOT_XML: Any = object()


def _looks_like_xml(piece: bytes) -> bool:
    start = piece.lstrip(b" \t\r\n")
    return not start or start.startswith((b"<", b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff"))


def _too_long(filename: str, part: str, limits: XlsxLimits, cell: str = "") -> InvalidInput:
    where = f"Cell {cell} of {filename}" if cell else f"A text in {filename} ({part})"
    return InvalidInput(
        f"{where} holds more than {limits.max_cell_chars:,} characters, the most a spreadsheet cell "
        "can hold. Shorten it and try again."
    )


def _local(name: str) -> str:
    """'x:row' -> 'row': names are compared without their namespace prefix."""
    return name.rpartition(":")[2]


class _Refused(Exception):
    """Raised inside the XML parser's handlers to stop it at once; carries the refusal."""

    def __init__(self, error: InvalidInput) -> None:
        super().__init__(error.message)
        self.error = error


class _PartScan:
    """Parse one XML part piece by piece with expat, keeping only counters.

    Expat calls the handlers as it goes; text comes in pieces, so a long text is counted, never
    held."""

    def __init__(self, filename: str, part: str, limits: XlsxLimits) -> None:
        self.filename, self.part, self.limits = filename, part, limits
        self.root: str | None = None
        self.rows = 0
        self.row_cells = 0
        self.cells = 0
        self.strings = 0
        self.text = 0  # characters of the current cell (worksheet), string (shared strings) or text
        self.grouping = False  # inside a <c> or <si>: its pieces of text add up
        self.cell_ref = ""
        self.date_cell = False
        self.in_value = False
        self.date_text: list[str] = []
        self.date_value = False
        self.fed = 0
        parser = expat.ParserCreate()
        parser.buffer_text = True
        parser.StartDoctypeDeclHandler = self._doctype
        parser.EntityDeclHandler = self._entity
        parser.StartElementHandler = self._start
        parser.EndElementHandler = self._other_end
        parser.CharacterDataHandler = self._text
        self.parser = parser

    def feed(self, piece: bytes) -> None:
        self._parse(piece, False)
        self.fed += len(piece)
        if self.fed - self.parser.CurrentByteIndex > _MAX_TOKEN_BYTES:
            # Nothing has come out of the parser for that long: it is holding one huge tag.
            raise _damaged(
                self.filename, self.part, "has a tag or comment longer than any spreadsheet program writes"
            )

    def close(self) -> None:
        self._parse(b"", True)

    def _parse(self, data: bytes, final: bool) -> None:
        try:
            self.parser.Parse(data, final)
        except _Refused as refused:
            raise refused.error from None
        except expat.ExpatError as error:
            raise _damaged(
                self.filename,
                self.part,
                f"is not well-formed XML ({expat.ErrorString(error.code)} at line {error.lineno}, "
                f"column {error.offset + 1})",
            ) from None

    def _refuse(self, error: InvalidInput) -> None:
        raise _Refused(error)

    def _doctype(self, *_: Any) -> None:
        # Excel never writes one; a DTD is how entity expansion ("billion laughs") gets in.
        self._refuse(
            InvalidInput(
                f"{self.filename} contains a document type declaration (DTD) in {self.part}, which spreadsheet "
                f"programs never write, so Kitshare does not read it. {_resave()}"
            )
        )

    def _entity(self, *_: Any) -> None:
        self._doctype()

    # The first element says what the part is; the handlers for the rest are chosen by it (they
    # run once for each of a sheet's elements: a 20,000-row sheet has about 1.5 million).

    def _start(self, name: str, attrs: dict[str, str]) -> None:
        self.root = _local(name)
        parser = self.parser
        if self.root == "worksheet":
            parser.StartElementHandler, parser.EndElementHandler = self._sheet_start, self._sheet_end
        elif self.root == "sst":
            parser.StartElementHandler, parser.EndElementHandler = self._strings_start, self._strings_end
        else:
            parser.StartElementHandler, parser.EndElementHandler = self._other_start, self._other_end
        self.text = 0

    def _other_start(self, name: str, attrs: dict[str, str]) -> None:
        self.text = 0

    def _other_end(self, name: str) -> None:
        self.text = 0

    def _sheet_start(self, name: str, attrs: dict[str, str]) -> None:
        if ":" in name:
            name = _local(name)
        if name == "c":
            self.cells += 1
            self.row_cells += 1
            if self.cells > self.limits.max_cells:
                self._refuse(self._too_many_cells())
            if self.row_cells > EXCEL_MAX_COLUMNS:
                self._refuse(
                    _damaged(self.filename, self.part, f"has a row of more than {EXCEL_MAX_COLUMNS:,} cells")
                )
            self.cell_ref = attrs.get("r", "")
            self.grouping, self.text = True, 0  # the pieces of a cell's text (runs, value) add up
            if attrs.get("t") == "d":
                self.date_cell, self.date_text, self.date_value = True, [], False
        elif name == "row":
            self._start_row(attrs)
            self.text = 0
        elif name == "v":
            if self.date_cell:
                self.in_value = self.date_value = True
        elif not self.grouping:
            self.text = 0

    def _sheet_end(self, name: str) -> None:
        if ":" in name:
            name = _local(name)
        if name == "c":
            if self.date_cell and self.date_value:  # openpyxl reads a date cell's <v>, if any
                self._check_date()
            self.grouping = self.date_cell = self.in_value = False
            self.text = 0
        elif name == "v":
            self.in_value = False
        elif not self.grouping:
            self.text = 0

    def _strings_start(self, name: str, attrs: dict[str, str]) -> None:
        if ":" in name:
            name = _local(name)
        if name == "si":
            self.strings += 1
            if self.strings > self.limits.max_cells:
                self._refuse(self._too_many_cells())
            self.grouping, self.text = True, 0  # the pieces of a string (rich-text runs) add up
        elif not self.grouping:
            self.text = 0

    def _strings_end(self, name: str) -> None:
        if ":" in name:
            name = _local(name)
        if name == "si":
            self.grouping, self.text = False, 0
        elif not self.grouping:
            self.text = 0

    def _start_row(self, attrs: dict[str, str]) -> None:
        self.rows += 1
        self.row_cells = 0
        number = attrs.get("r")
        if number is not None and not (number.isascii() and number.isdigit()):
            self._refuse(_damaged(self.filename, self.part, f"has a row numbered {number[:20]!r}"))
        if self.rows > self.limits.max_rows or (number is not None and int(number) > self.limits.max_rows):
            self._refuse(
                InvalidInput(
                    f"{self.filename} goes on past row {self.limits.max_rows:,} of its sheet (empty rows count "
                    f"too). An import takes at most {MAX_ROWS:,} rows: delete the rows below the register, or "
                    "split it into smaller files and import them one after another."
                )
            )

    def _too_many_cells(self) -> InvalidInput:
        return InvalidInput(
            f"{self.filename} has more than {self.limits.max_cells:,} cells (formatted empty cells count "
            "too). Delete the columns and rows the register does not use, or split it into smaller files "
            "and import them one after another."
        )

    def _text(self, data: str) -> None:
        self.text += len(data)
        if self.text > self.limits.max_cell_chars:
            cell = self.cell_ref[:20] if self.root == "worksheet" and self.grouping else ""
            self._refuse(_too_long(self.filename, self.part, self.limits, cell))
        if self.in_value:
            self.date_text.append(data)

    def _check_date(self) -> None:
        # openpyxl (~0.1 s to import) is loaded only when a workbook is read or written, so no worker or
        # command pays for it otherwise: every openpyxl import in Kitshare is local for that reason.
        from openpyxl.utils.datetime import from_ISO8601

        text = "".join(self.date_text).strip()
        try:
            from_ISO8601(text)
        except (ValueError, TypeError, OverflowError):
            where = f"Cell {self.cell_ref[:20]}" if self.cell_ref else "A cell"
            shown = text if len(text) <= 40 else text[:40] + "…"
            self._refuse(
                InvalidInput(
                    f"{where} of {self.filename} is marked as a date but holds {shown!r}, which is not a date. "
                    "Enter dates as YYYY-MM-DD and try again."
                )
            )
