"""Small factories: arrange a test's world in a line or two, with sensible defaults."""

from __future__ import annotations

import datetime as dt
import itertools

from sqlalchemy.orm import Session

from accounts import service as accounts_service
from accounts.models import Role, User
from bookings.models import Booking, BookingStatus
from inventory.models import DEFAULT_WEEKLY_HOURS, Asset, BookableHours, Category, Location, School
from tests.conftest import PASSWORD

_counter = itertools.count(1)


def make_school(session: Session, code: str | None = None, name: str | None = None) -> School:
    n = next(_counter)
    code = code or f"S{n}"
    school = School(code=code, name=name or f"School of Testing {code}")
    session.add(school)
    session.commit()
    return school


def make_user(
    session: Session,
    school: School | None = None,
    *roles: Role,
    email: str | None = None,
    name: str | None = None,
    manages: list[School] | None = None,
    password: str = PASSWORD,
) -> User:
    n = next(_counter)
    manages = manages if manages is not None else ([school] if Role.MANAGER in roles and school else [])
    user = accounts_service.create_user(
        session,
        email=email or f"person{n}@test.ac.uk",
        name=name or f"Person {n}",
        password=password,
        home_school=school,
        roles=list(roles),
        managed_schools=manages,
    )
    session.commit()
    return user


def make_asset(session: Session, school: School, **fields: object) -> Asset:
    n = next(_counter)
    category = fields.pop("category", None)
    if category is None:
        category = Category(name=f"Category {n}")
    location = fields.pop("location", None)
    if location is None:
        location = Location(school=school, building=f"Building {n}", room="G.01")
    asset = Asset(
        school=school,
        tag=fields.pop("tag", f"{school.code}-{n:04d}"),
        name=fields.pop("name", f"Instrument {n}"),
        category=category,
        location=location,
        **fields,
    )
    asset.bookable_hours = [BookableHours(weekday=d, opens=o, closes=c) for d, o, c in DEFAULT_WEEKLY_HOURS]
    session.add(asset)
    session.commit()
    return asset


def replace_hours(session: Session, asset: Asset, hours: list[BookableHours]) -> None:
    """Give an asset new weekly hours the way the service does: the old spans are deleted before
    the new ones are written (the database refuses overlapping spans of a day, even for a moment)."""
    asset.bookable_hours.clear()
    session.flush()
    asset.bookable_hours.extend(hours)


def make_booking(
    session: Session,
    asset: Asset,
    requester: User,
    start: dt.datetime,
    hours: float = 1,
    status: BookingStatus = BookingStatus.CONFIRMED,
) -> Booking:
    end = start + dt.timedelta(hours=hours)
    booking = Booking(
        asset=asset,
        requester=requester,
        requester_school_id=requester.home_school_id,
        start_at=start,
        end_at=end,
        blocked_until=end + dt.timedelta(minutes=asset.turnaround_minutes),
        purpose="Testing",
        status=status,
    )
    session.add(booking)
    session.commit()
    return booking
