"""Listing bookings: a person sees their own; a manager, with scope managed, their Schools' assets'."""

import datetime as dt

import pytest

from accounts.models import Role
from bookings.listing import MANAGED, BookingFilters, list_bookings
from core.errors import NotAllowed
from tests.factories import make_asset, make_booking, make_school, make_user

MONDAY = dt.datetime(2030, 1, 7, 10, tzinfo=dt.UTC)


def test_a_manager_lists_their_schools_bookings_not_others(session):
    chem, phys = make_school(session), make_school(session)
    manager = make_user(session, chem, Role.MANAGER)
    borrower = make_user(session, phys)
    ours = make_booking(session, make_asset(session, chem), borrower, MONDAY)
    make_booking(session, make_asset(session, phys), borrower, MONDAY)
    page = list_bookings(session, manager, BookingFilters(scope=MANAGED), page=1, per_page=20)
    assert [b.id for b in page.items] == [ours.id] and page.total == 1


def test_a_person_lists_only_their_own_bookings_earliest_first(session):
    school = make_school(session)
    person, other = make_user(session, school), make_user(session, school)
    asset = make_asset(session, school)
    later = make_booking(session, asset, person, MONDAY + dt.timedelta(days=1))
    earlier = make_booking(session, asset, person, MONDAY)
    make_booking(session, asset, other, MONDAY + dt.timedelta(hours=3))
    page = list_bookings(session, person, BookingFilters(), page=1, per_page=20)
    assert [b.id for b in page.items] == [earlier.id, later.id]


def test_only_managers_may_list_their_schools_bookings(session):
    person = make_user(session, make_school(session))
    with pytest.raises(NotAllowed):
        list_bookings(session, person, BookingFilters(scope=MANAGED), page=1, per_page=20)
