"""What the database itself guarantees, whatever the application code does."""

import datetime as dt

import pytest
from sqlalchemy.exc import IntegrityError

from accounts import service as accounts_service
from accounts.models import User
from bookings.models import BookingStatus
from core.errors import InvalidInput
from inventory.models import Asset, School
from tests.conftest import TEST_DB, see_committed
from tests.factories import make_asset, make_booking, make_school, make_user

MONDAY_10 = dt.datetime(2030, 1, 7, 10, tzinfo=dt.UTC)


def test_email_is_unique_whatever_its_case(session):
    session.add(User(email="ann@test.ac.uk", name="Ann"))
    session.commit()
    session.add(User(email="ANN@Test.ac.uk", name="Ann again"))
    with pytest.raises(IntegrityError):
        session.commit()


def test_the_service_refuses_a_duplicate_email_with_a_message(session):
    make_user(session, None, email="ann@test.ac.uk")
    with pytest.raises(InvalidInput) as refused:
        accounts_service.create_user(
            session, email="Ann@TEST.ac.uk", name="Ann", password="long password!", home_school=None
        )
    assert "already has an account" in refused.value.field_errors["email"][0]


def test_school_codes_are_unique(session):
    make_school(session, "CHEM")
    session.add(School(code="CHEM", name="Another chemistry"))
    with pytest.raises(IntegrityError):
        session.commit()


def test_asset_tags_are_unique_across_schools(session):
    a, b = make_school(session), make_school(session)
    make_asset(session, a, tag="TAG-1")
    session.add(Asset(school=b, tag="TAG-1", name="Clash"))
    with pytest.raises(IntegrityError):
        session.commit()


def test_a_booking_must_end_after_it_starts(session):
    school = make_school(session)
    asset, user = make_asset(session, school), make_user(session, school)
    with pytest.raises(IntegrityError):
        make_booking(session, asset, user, MONDAY_10, hours=-1)


def test_asset_status_must_be_a_known_status(session):
    from sqlalchemy import text

    school = make_school(session)
    asset = make_asset(session, school)
    with pytest.raises(IntegrityError):
        session.execute(text("UPDATE assets SET status = 'lost' WHERE id = :id"), {"id": asset.id})
        session.commit()


def test_naive_datetimes_are_refused_at_the_edge(session):
    school = make_school(session)
    asset, user = make_asset(session, school), make_user(session, school)
    with pytest.raises(Exception, match="naive datetime"):
        make_booking(session, asset, user, dt.datetime(2030, 1, 7, 10))


def test_times_come_back_aware_in_utc(session):
    school = make_school(session)
    asset, user = make_asset(session, school), make_user(session, school)
    london = dt.timezone(dt.timedelta(hours=1))
    booking = make_booking(session, asset, user, dt.datetime(2030, 6, 3, 11, tzinfo=london))
    see_committed(session)
    assert booking.start_at == dt.datetime(2030, 6, 3, 10, tzinfo=dt.UTC)
    assert booking.start_at.utcoffset() == dt.timedelta(0)


@pytest.mark.skipif(
    TEST_DB != "postgresql", reason="the exclusion constraint is PostgreSQL's; SQLite serialises writers"
)
def test_postgresql_refuses_overlapping_active_bookings_including_turnaround(session):
    school = make_school(session)
    asset = make_asset(session, school, turnaround_minutes=30)
    user = make_user(session, school)
    make_booking(session, asset, user, MONDAY_10, hours=1)  # blocks until 11:30
    with pytest.raises(IntegrityError) as clash:
        make_booking(session, asset, user, MONDAY_10 + dt.timedelta(minutes=80))
    assert "ex_bookings_no_overlap" in str(clash.value)
    session.rollback()
    # Half-open: the next booking may start exactly when the turnaround ends...
    make_booking(session, asset, user, MONDAY_10 + dt.timedelta(minutes=90))
    # ...and pending or cancelled requests never hold the asset.
    make_booking(session, asset, user, MONDAY_10, status=BookingStatus.PENDING)
    make_booking(session, asset, user, MONDAY_10, status=BookingStatus.CANCELLED)
