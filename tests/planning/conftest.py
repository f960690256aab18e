"""A small university for capital planning, on Wednesday 18 March 2026.

Its assets were added to Kitshare on 2 January 2024 (``asset``), so a year of their use is known.

The financial year starts on 1 August, so today is in 2025/26 (1 August 2025 to 31 July 2026).
The evidence year runs from 18 March 2025 to 17 March 2026 (365 days: 261 weekdays, so an asset
open Monday to Friday 09:00-17:00 has 2,088 hours available in it).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pytest
import time_machine

from accounts.models import Role
from bookings.models import Booking, BookingStatus, DemandSource, UnmetDemand
from core.config import Config
from core.timeutil import local_to_utc
from inventory.models import Category
from tests.factories import make_asset, make_school, make_user

UTC = dt.UTC
TODAY = dt.date(2026, 3, 18)
NOW = dt.datetime(2026, 3, 18, 12, 0, tzinfo=UTC)
YEAR_FROM, YEAR_TO = dt.date(2025, 3, 18), dt.date(2026, 3, 17)
REGISTERED = dt.datetime(2024, 1, 2, 9, 0, tzinfo=UTC)

#: The settings these tests assume (the defaults, stated so a changed default cannot hide here).
CONFIG = Config(
    KITSHARE_FINANCIAL_YEAR_START="08-01",
    KITSHARE_INFLATION_RATE="0.03",
    KITSHARE_DEFAULT_USEFUL_LIFE_YEARS=10,
    KITSHARE_PLANNING_NEAR_END_MONTHS=12,
    KITSHARE_PLANNING_WELL_USED=0.5,
    KITSHARE_PLANNING_INVEST_SCHOOLS=2,
    KITSHARE_PLANNING_FAILED_INSPECTIONS=2,
    KITSHARE_IDLE_THRESHOLD=0.10,
    KITSHARE_SATURATED_THRESHOLD=0.80,
)


@pytest.fixture
def on_today():
    """Requests see 18 March 2026, 12:00 UTC."""
    with time_machine.travel(NOW, tick=False):
        yield


@dataclass
class People:
    chem: object
    phys: object
    bio: object
    microscopes: Category
    centrifuges: Category
    printers: Category
    finance: object
    admin: object
    chem_manager: object
    phys_manager: object
    technician: object
    chemist: object
    physicist: object
    biologist: object


@pytest.fixture
def people(session) -> People:
    chem, phys, bio = make_school(session, "CHEM"), make_school(session, "PHYS"), make_school(session, "BIO")
    microscopes = Category(name="Microscopes", default_useful_life_years=10)
    centrifuges = Category(name="Centrifuges", default_useful_life_years=8)
    printers = Category(name="Printers")  # no life of its own: the default, 10 years
    session.add_all([microscopes, centrifuges, printers])
    session.commit()
    return People(
        chem,
        phys,
        bio,
        microscopes,
        centrifuges,
        printers,
        finance=make_user(session, None, Role.FINANCE, name="Fiona Finance"),
        admin=make_user(session, None, Role.ADMIN, name="Ada Admin"),
        chem_manager=make_user(session, chem, Role.MANAGER, name="Carl Chem-Manager"),
        phys_manager=make_user(session, phys, Role.MANAGER, name="Pat Phys-Manager"),
        technician=make_user(session, chem, name="Tess Technician"),
        chemist=make_user(session, chem, name="Chloe Chemist"),
        physicist=make_user(session, phys, name="Priya Physicist"),
        biologist=make_user(session, bio, name="Ben Biologist"),
    )


def asset(session, school, **fields):
    """An asset on Kitshare's register since 2 January 2024 (unless ``created_at`` says otherwise)."""
    fields.setdefault("created_at", REGISTERED)
    return make_asset(session, school, **fields)


def local(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return local_to_utc(dt.datetime.combine(day, dt.time(hour, minute)))


def book_weekdays(session, asset, person, first: dt.date, last: dt.date, opens: int, closes: int) -> None:
    """A completed booking from ``opens`` to ``closes`` o'clock (local) every weekday."""
    day, bookings = first, []
    while day <= last:
        if day.weekday() < 5:
            start, end = local(day, opens), local(day, closes)
            bookings.append(
                Booking(
                    asset_id=asset.id,
                    requester_id=person.id,
                    requester_school_id=person.home_school_id,
                    start_at=start,
                    end_at=end,
                    blocked_until=end,
                    purpose="Research",
                    status=BookingStatus.COMPLETED,
                )
            )
        day += dt.timedelta(days=1)
    session.add_all(bookings)
    session.commit()


def turned_away(session, asset, person, day: dt.date, hours: int, reasons: list[str]) -> UnmetDemand:
    """A request of ``person`` for ``hours`` from 09:00 on ``day``, refused for ``reasons``."""
    row = UnmetDemand(
        asset_id=asset.id,
        requester_id=person.id,
        requester_school_id=person.home_school_id,
        start_at=local(day, 9),
        end_at=local(day, 9 + hours),
        minutes=hours * 60,
        source=DemandSource.REFUSED,
        reasons=reasons,
    )
    session.add(row)
    session.commit()
    return row
