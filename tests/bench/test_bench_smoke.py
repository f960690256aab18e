"""The benchmark's generator and floor, at a size small enough for the suite (bench/README.md)."""

import datetime as dt

import sqlalchemy as sa

from bench.floor import Floor
from bench.generate import SMOKE, overlapping_active_bookings, populate
from bookings.models import Booking, BookingStatusChange
from tests.factories import make_asset, make_school, make_user

UTC = dt.UTC
NOW = dt.datetime(2029, 12, 28, 12, tzinfo=UTC)


def test_the_generator_builds_the_asked_number_of_bookings_each_with_its_history(session):
    engine = session.get_bind()
    populate(engine, SMOKE, NOW)
    session.rollback()
    assert session.scalar(sa.select(sa.func.count()).select_from(Booking)) == SMOKE.bookings
    first_steps = session.scalar(
        sa.select(sa.func.count(sa.distinct(BookingStatusChange.booking_id))).where(
            BookingStatusChange.from_status.is_(None)
        )
    )
    assert first_steps == SMOKE.bookings


def test_the_generated_active_bookings_of_an_asset_never_overlap(session):
    engine = session.get_bind()
    populate(engine, SMOKE, NOW)
    with engine.connect() as conn:
        assert overlapping_active_bookings(conn) == 0


def test_the_floor_refuses_an_overlap_with_the_turnaround_and_books_after_it(session):
    school = make_school(session)
    person = make_user(session, school)
    asset = make_asset(session, school, turnaround_minutes=15)
    floor = Floor(session.get_bind().url.render_as_string(hide_password=False))
    ten = dt.datetime(2030, 1, 7, 10, tzinfo=UTC)  # a Monday, 10:00 in London (UTC in winter)
    try:
        first = floor.create_booking(person.id, asset.id, ten, ten + dt.timedelta(hours=1), "Imaging", NOW)
        in_turnaround = floor.create_booking(
            person.id, asset.id, ten + dt.timedelta(minutes=70), ten + dt.timedelta(hours=2), "Imaging", NOW
        )
        after = floor.create_booking(
            person.id, asset.id, ten + dt.timedelta(minutes=75), ten + dt.timedelta(hours=2), "Imaging", NOW
        )
    finally:
        floor.close()
    session.rollback()
    assert first is not None and in_turnaround is None and after is not None
    assert (
        session.scalar(sa.select(sa.func.count()).select_from(Booking).where(Booking.asset_id == asset.id))
        == 2
    )
