"""Long tables on a page, a page of rows at a time (the downloads have every row).

Each table pages on its own query parameter (``assets_page=2``), and its links keep the rest of the
query (the period, the Schools, the other tables' pages), so a link is a plain GET that works
without JavaScript and can be shared.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

#: Rows a page of a long table shows.
PER_PAGE = 50


@dataclass(frozen=True)
class PageLink:
    number: int
    href: str
    current: bool


@dataclass(frozen=True)
class TablePage:
    """One page of a table's rows, with the links to the others."""

    key: str
    rows: list[Any]
    total: int  # rows in the whole table
    page: int
    pages: int
    first: int  # the number of the first row shown (1-based; 0 when there are none)
    last: int
    links: list[PageLink]
    asked: bool  # the query named a page of this table: the page opens it

    @property
    def previous(self) -> PageLink | None:
        return self.links[self.page - 2] if self.page > 1 else None

    @property
    def next(self) -> PageLink | None:
        return self.links[self.page] if self.page < self.pages else None

    @property
    def nearby(self) -> list[PageLink | None]:
        """The links to show: the first, the last and three either side of this page; None
        where pages are skipped."""
        shown: list[PageLink | None] = []
        for link in self.links:
            if link.number in (1, self.pages) or abs(link.number - self.page) <= 3:
                shown.append(link)
            elif shown and shown[-1] is not None:
                shown.append(None)
        return shown


def page_param(key: str) -> str:
    return f"{key}_page"


def paginate(
    key: str,
    rows: Sequence[Any],
    query: Iterable[tuple[str, str]],
    path: str,
    per_page: int | None = None,
    anchor: str = "",
) -> TablePage:
    """The page of ``rows`` the query asks for (``<key>_page``; the first when it names none or
    one out of range), with links to every page that keep the rest of the query."""
    per_page = per_page or PER_PAGE
    pairs = list(query)
    name = page_param(key)
    asked = [value for param, value in pairs if param == name]
    pages = max(1, -(-len(rows) // per_page))
    try:
        page = int(asked[-1]) if asked else 1
    except ValueError:
        page = 1
    page = min(max(page, 1), pages)
    others = [(param, value) for param, value in pairs if param != name]

    def href(number: int) -> str:
        return f"{path}?{urlencode([*others, (name, str(number))])}" + (f"#{anchor}" if anchor else "")

    start = (page - 1) * per_page
    shown = list(rows[start : start + per_page])
    return TablePage(
        key=key,
        rows=shown,
        total=len(rows),
        page=page,
        pages=pages,
        first=start + 1 if shown else 0,
        last=start + len(shown),
        links=[PageLink(number, href(number), number == page) for number in range(1, pages + 1)],
        asked=bool(asked),
    )


def page_of_table(
    table: Any, query: Iterable[tuple[str, str]], path: str, per_page: int | None = None
) -> tuple[Any, TablePage]:
    """A copy of a ``reports.render.Table`` holding one page of its rows, and the page."""
    paging = paginate(table.key, table.rows, query, path, per_page, anchor=table.key)
    return dataclasses.replace(table, rows=paging.rows), paging
