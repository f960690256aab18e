"""A hand-built week for the utilisation report: every figure is worked out by hand below.

The week is Monday 19 to Sunday 25 October 2026 in London. The clocks go back at 02:00 BST on
Sunday 25 October (to 01:00 GMT), so that Sunday has 25 hours. Until then London is UTC+1.

Schools CHEM, PHYS and BIO. Assets (all bookable unless said otherwise):

A  "Confocal"  CHEM, category Microscopes, £30.00/h, needs check-in, Mon-Fri 09:00-17:00.
   Maintenance Wed 21 13:00-15:00.            available = 5 x 8 - 2 = 38 h
   a1 chemist   completed  Mon 19 10:00-12:00, checked in 10:15   booked 2, actual 1.75
   a2 physicist completed  Tue 20 09:00-13:00, checked in 08:50   booked 4, actual 4 (from the start)
   a3 chemist   confirmed  Wed 21 12:00-14:00 (the maintenance was added later: 13:00-14:00 is
                           not available)                         booked 1
   a4 chemist   cancelled  Thu 22 09:00-17:00, cancelled Wed 21 15:00: 18 working hours before
                           the start, under 24: late
   a5 physicist cancelled  Fri 23 09:00-11:00, cancelled Mon 19 09:00: 96 working hours: not late
   a6 physicist pending    Fri 23 14:00-16:00                     not counted
   a7 chemist   no-show    Fri 23 11:00-12:00                     due, a no-show
   unmet: rejected (physicist) Fri 23 14:00-16:00 = 2 h; refused (biologist) Thu 22
          10:00-13:00 for ["overlap", "min_notice"] = 3 h          unmet 5 h, 2 requests
   booked 7 h, utilisation 7/38; actual 5.75/38; bookings 3 (a1-a3), users 2; due 4 (a1-a3, a7),
   no-shows 1; cancellation base 6 (a1-a5, a7), late 1; cost 7 x 3000 = 21000 p;
   borrowers CHEM 3 h, PHYS 4 h. Not saturated: a rejection, and a refusal for overlap and
   notice, are not demand turned away for want of free time alone.

B  "Plotter"  CHEM, category Printers, £12.50/h, portable (lent out), open every day 00:00-24:00.
   available = 6 x 24 + 25 (Sunday 25, the clock change) = 169 h
   b1 physicist loan completed Sat 17 12:00 to Tue 20 12:00, handed over and returned then: it
                           straddles the period's start: booked and used Mon 19 00:00 to
                           Tue 20 12:00 = 36 h
   b2 chemist   confirmed  Sun 25 22:00 GMT to Mon 26 10:00 GMT: straddles the end: 2 h in the week
   booked 38 h, utilisation 38/169; actual 36/169; bookings 2, users 2; due 1 (b2), cancellation
   base 1 (b2); cost 38 x 1250 = 47500 p; borrowers CHEM 2 h, PHYS 36 h.

C  "Old centrifuge"  PHYS, category Microscopes, no rate, Mon-Fri 09:00-17:00, retired on
   Thu 22 at 15:00: in service Mon-Wed only.   available = 3 x 8 = 24 h
   c1 chemist completed Tue 20 09:00-11:00 (CHEM borrows from PHYS)   booked 2 h
   utilisation 2/24 = 8.3 %: idle. bookings 1, users 1, due 1, base 1.

D  "Balance"  BIO, category Balances, £5.00/h, bought Wed 21 (in service Wed-Fri), Mon-Fri
   09:00-17:00, never booked.                  available = 3 x 8 = 24 h, utilisation 0: idle.

E  "Archive scope"  CHEM, not bookable in Kitshare: left out of the report.

Totals: available 38 + 169 + 24 + 24 = 255 h; booked 7 + 38 + 2 = 47 h.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pytest

from accounts.models import Role
from bookings.models import BookingStatus, BookingStatusChange, DemandSource, UnmetDemand
from inventory.models import AssetStatus, BookableHours, Category, MaintenanceWindow
from tests.factories import make_asset, make_booking, make_school, make_user, replace_hours

UTC = dt.UTC
BST = dt.timezone(dt.timedelta(hours=1))
GMT = UTC
MONDAY = dt.date(2026, 10, 19)
SUNDAY = dt.date(2026, 10, 25)
#: The report is run after the week: every booking of it is due.
AFTER = dt.datetime(2026, 11, 2, 12, tzinfo=UTC)


def bst(day: int, hour: int, minute: int = 0) -> dt.datetime:
    """A wall-clock time in London in October 2026 before the clocks go back."""
    return dt.datetime(2026, 10, day, hour, minute, tzinfo=BST)


def hours(n: float) -> dt.timedelta:
    return dt.timedelta(hours=n)


@dataclass
class Week:
    chem: object
    phys: object
    bio: object
    chemist: object
    physicist: object
    biologist: object
    confocal: object
    plotter: object
    centrifuge: object
    balance: object
    archive: object


def _booking(session, asset, person, start, end, status, **fields):
    booking = make_booking(session, asset, person, start, (end - start).total_seconds() / 3600, status)
    for name, value in fields.items():
        setattr(booking, name, value)
    session.commit()
    return booking


def _cancel(session, booking, at):
    booking.history.append(
        BookingStatusChange(
            from_status=BookingStatus.CONFIRMED,
            to_status=BookingStatus.CANCELLED,
            at=at,
            reason="No longer needed",
        )
    )
    session.commit()


def _always_open(asset):
    return [BookableHours(weekday=day, opens=dt.time(0), closes=dt.time(23, 59)) for day in range(7)]


@pytest.fixture
def week(session) -> Week:
    chem, phys, bio = make_school(session, "CHEM"), make_school(session, "PHYS"), make_school(session, "BIO")
    microscopes, printers, balances = (
        Category(name="Microscopes"),
        Category(name="Printers"),
        Category(name="Balances"),
    )
    chemist = make_user(session, chem, name="Chloe Chemist")
    physicist = make_user(session, phys, name="Priya Physicist")
    biologist = make_user(session, bio, name="Ben Biologist")
    long_ago = dt.date(2020, 1, 1)

    confocal = make_asset(
        session,
        chem,
        name="Confocal",
        tag="CHEM-A",
        category=microscopes,
        hourly_rate_pence=3000,
        checkin_required=True,
        purchase_date=long_ago,
    )
    plotter = make_asset(
        session,
        chem,
        name="Plotter",
        tag="CHEM-B",
        category=printers,
        hourly_rate_pence=1250,
        portable=True,
        purchase_date=long_ago,
    )
    replace_hours(session, plotter, _always_open(plotter))
    centrifuge = make_asset(
        session,
        phys,
        name="Old centrifuge",
        tag="PHYS-C",
        category=microscopes,
        purchase_date=long_ago,
        status=AssetStatus.RETIRED,
        retired_at=bst(22, 15),
    )
    balance = make_asset(
        session,
        bio,
        name="Balance",
        tag="BIO-D",
        category=balances,
        hourly_rate_pence=500,
        purchase_date=dt.date(2026, 10, 21),
    )
    archive = make_asset(
        session, chem, name="Archive scope", tag="CHEM-E", bookable=False, purchase_date=long_ago
    )
    session.add(
        MaintenanceWindow(
            asset_id=confocal.id, start_at=bst(21, 13), end_at=bst(21, 15), reason="Laser service"
        )
    )
    session.commit()

    # A
    _booking(
        session,
        confocal,
        chemist,
        bst(19, 10),
        bst(19, 12),
        BookingStatus.COMPLETED,
        checked_in_at=bst(19, 10, 15),
    )
    _booking(
        session,
        confocal,
        physicist,
        bst(20, 9),
        bst(20, 13),
        BookingStatus.COMPLETED,
        checked_in_at=bst(20, 8, 50),
    )
    _booking(session, confocal, chemist, bst(21, 12), bst(21, 14), BookingStatus.CONFIRMED)
    late = _booking(session, confocal, chemist, bst(22, 9), bst(22, 17), BookingStatus.CANCELLED)
    _cancel(session, late, bst(21, 15))
    early = _booking(session, confocal, physicist, bst(23, 9), bst(23, 11), BookingStatus.CANCELLED)
    _cancel(session, early, bst(19, 9))
    rejected = _booking(session, confocal, physicist, bst(23, 14), bst(23, 16), BookingStatus.PENDING)
    _booking(session, confocal, chemist, bst(23, 11), bst(23, 12), BookingStatus.NO_SHOW)
    session.add_all(
        [
            UnmetDemand(
                asset_id=confocal.id,
                requester_id=physicist.id,
                requester_school_id=phys.id,
                start_at=bst(23, 14),
                end_at=bst(23, 16),
                minutes=120,
                source=DemandSource.REJECTED,
                reasons=["rejected"],
                booking_id=rejected.id,
            ),
            UnmetDemand(
                asset_id=confocal.id,
                requester_id=biologist.id,
                requester_school_id=bio.id,
                start_at=bst(22, 10),
                end_at=bst(22, 13),
                minutes=180,
                source=DemandSource.REFUSED,
                reasons=["overlap", "min_notice"],
            ),
        ]
    )
    session.commit()
    # B
    _booking(
        session,
        plotter,
        physicist,
        bst(17, 12),
        bst(20, 12),
        BookingStatus.COMPLETED,
        handed_over_at=bst(17, 12),
        returned_at=bst(20, 12),
    )
    _booking(
        session,
        plotter,
        chemist,
        dt.datetime(2026, 10, 25, 22, tzinfo=GMT),
        dt.datetime(2026, 10, 26, 10, tzinfo=GMT),
        BookingStatus.CONFIRMED,
    )
    # C
    _booking(session, centrifuge, chemist, bst(20, 9), bst(20, 11), BookingStatus.COMPLETED)
    return Week(
        chem, phys, bio, chemist, physicist, biologist, confocal, plotter, centrifuge, balance, archive
    )


@pytest.fixture
def finance(session):
    return make_user(session, None, Role.FINANCE, name="Fiona Finance", email="finance@test.ac.uk")
