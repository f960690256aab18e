"""The sharing matrix's totals: what each School's assets were booked for, by whom, and how much
of it other Schools booked.

The matrix itself is the report's (``Report.sharing``: booked seconds of each owning School's
assets by the borrower's School, the borrower None for people with no home School). From it:

* **Row total** (per owner): every booked hour of the owner's assets.
* **Column total** (per borrower): every booked hour its people booked, of any School's assets.
* **Grand total**: every booked hour in the matrix (the sum of the rows, and of the columns).
* **Share lent to others** = hours booked by anyone not of the owning School (people of other
  Schools, and people with no home School) / the owner's booked hours; none when it booked none.

Sums are in seconds and rounded to hours only when shown, so the totals equal the report's figures.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from reports.figures import Report


@dataclass(frozen=True)
class OwnerTotal:
    owner_id: int
    booked_seconds: int  # the row total
    lent_seconds: int  # booked by people not of the owning School

    @property
    def share_lent(self) -> float | None:
        return self.lent_seconds / self.booked_seconds if self.booked_seconds else None


@dataclass(frozen=True)
class SharingTotals:
    owners: dict[int, OwnerTotal]
    borrowers: dict[int | None, int]  # the column totals, in seconds
    total_seconds: int


def sharing_totals(report: Report) -> SharingTotals:
    """Row, column and grand totals of the report's sharing matrix, and each owner's share lent."""
    booked: dict[int, int] = defaultdict(int)
    lent: dict[int, int] = defaultdict(int)
    borrowers: dict[int | None, int] = defaultdict(int)
    for (owner, borrower), seconds in report.sharing.items():
        booked[owner] += seconds
        borrowers[borrower] += seconds
        if borrower != owner:
            lent[owner] += seconds
    return SharingTotals(
        owners={owner: OwnerTotal(owner, seconds, lent[owner]) for owner, seconds in booked.items()},
        borrowers=dict(borrowers),
        total_seconds=sum(booked.values()),
    )
