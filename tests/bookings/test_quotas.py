"""Quotas: a School caps the hours one person books per week or month."""

import datetime as dt

import pytest
from sqlalchemy import select

from bookings import quotas, service
from bookings.models import BookingStatus, Quota, QuotaPeriod
from bookings.rules import BookingRefused
from core.db import atomic
from core.errors import InvalidInput, NotAllowed
from inventory.models import Category
from tests.bookings.conftest import MONDAY, NOW, at
from tests.conftest import see_committed, sign_in
from tests.factories import make_asset

TUESDAY, WEDNESDAY = MONDAY + dt.timedelta(days=1), MONDAY + dt.timedelta(days=2)
NEXT_MONDAY = MONDAY + dt.timedelta(weeks=1)


def add_quota(session, world, **fields):
    values = {
        "asset_id": None,
        "category_id": None,
        "period": "week",
        "own_school_minutes": None,
        "other_school_minutes": None,
    }
    values.update(fields)
    with atomic(session, world["chem_manager"]):
        return quotas.create_quota(session, world["chem_manager"], world["chem"].id, **values)


def book(session, user, asset, start, end):
    return service.request_booking(session, user, asset.id, start, end, "Imaging", NOW)


def test_a_request_over_the_weekly_quota_is_refused_with_the_cap_the_use_and_the_reset(session, world):
    add_quota(session, world, asset_id=world["scope"].id, own_school_minutes=4 * 60)
    book(session, world["chemist"], world["scope"], at(MONDAY, 10), at(MONDAY, 13))
    with pytest.raises(BookingRefused) as refusal:
        book(session, world["chemist"], world["scope"], at(WEDNESDAY, 10), at(WEDNESDAY, 12))
    assert refusal.value.codes == ["quota"]
    assert refusal.value.status_code == 422
    assert refusal.value.violations[0].message == (
        "Your weekly quota for Confocal microscope is 4 hours: you have booked 3 hours that week, "
        "and this booking needs 2 hours. It resets on Mon 14 Jan."
    )


def test_a_booking_that_fits_the_quota_is_made(session, world):
    add_quota(session, world, asset_id=world["scope"].id, own_school_minutes=4 * 60)
    book(session, world["chemist"], world["scope"], at(MONDAY, 10), at(MONDAY, 13))
    assert (
        book(session, world["chemist"], world["scope"], at(TUESDAY, 10), at(TUESDAY, 11)).status
        == BookingStatus.CONFIRMED
    )


def test_the_quota_resets_with_the_week(session, world):
    add_quota(session, world, asset_id=world["scope"].id, own_school_minutes=4 * 60)
    book(session, world["chemist"], world["scope"], at(MONDAY, 10), at(MONDAY, 14))
    assert book(session, world["chemist"], world["scope"], at(NEXT_MONDAY, 10), at(NEXT_MONDAY, 14)).id


def test_each_person_has_their_own_quota(session, world):
    add_quota(session, world, asset_id=world["scope"].id, own_school_minutes=4 * 60)
    book(session, world["chemist"], world["scope"], at(MONDAY, 10), at(MONDAY, 14))
    assert book(session, world["chemist2"], world["scope"], at(TUESDAY, 10), at(TUESDAY, 14)).id


def test_other_schools_people_have_their_own_cap(session, world):
    add_quota(session, world, asset_id=world["scope"].id, own_school_minutes=8 * 60, other_school_minutes=60)
    with pytest.raises(BookingRefused) as refusal:
        book(session, world["physicist"], world["scope"], at(MONDAY, 10), at(MONDAY, 12))
    assert "quota for Confocal microscope (for people from other Schools) is 1 hour" in refusal.value.message
    assert book(session, world["chemist"], world["scope"], at(MONDAY, 10), at(MONDAY, 12)).id


def test_pending_requests_count_and_cancelled_bookings_do_not(session, world):
    add_quota(session, world, asset_id=world["scope"].id, other_school_minutes=3 * 60)
    pending = book(session, world["physicist"], world["scope"], at(MONDAY, 10), at(MONDAY, 12))
    assert pending.status == BookingStatus.PENDING
    with pytest.raises(BookingRefused):
        book(session, world["physicist"], world["scope"], at(TUESDAY, 10), at(TUESDAY, 12))
    with atomic(session, world["physicist"]):
        service.cancel(session, world["physicist"], pending.id, now=NOW)
    assert book(session, world["physicist"], world["scope"], at(TUESDAY, 10), at(TUESDAY, 12)).id


def test_approving_a_request_does_not_count_it_twice(session, world):
    add_quota(session, world, asset_id=world["scope"].id, other_school_minutes=2 * 60)
    pending = book(session, world["physicist"], world["scope"], at(MONDAY, 10), at(MONDAY, 12))
    assert (
        service.approve(session, world["chem_manager"], pending.id, now=NOW).status == BookingStatus.CONFIRMED
    )


def test_a_category_quota_counts_the_schools_assets_in_it_together(session, world):
    confocals = Category(name="Confocal microscopes")
    first = make_asset(session, world["chem"], name="Confocal A", category=confocals)
    second = make_asset(session, world["chem"], name="Confocal B", category=confocals)
    add_quota(session, world, category_id=confocals.id, period="month", own_school_minutes=3 * 60)
    book(session, world["chemist"], first, at(MONDAY, 10), at(MONDAY, 12))
    with pytest.raises(BookingRefused) as refusal:
        book(session, world["chemist"], second, at(TUESDAY, 10), at(TUESDAY, 12))
    assert refusal.value.violations[0].message == (
        "Your monthly quota for Confocal microscopes equipment of CHEM is 3 hours: you have booked 2 hours that month, "
        "and this booking needs 2 hours. It resets on Fri 01 Feb."
    )


def test_the_quota_period_is_the_local_week_or_month(session):
    start, end, resets = quotas.period_bounds(
        QuotaPeriod.WEEK, dt.datetime(2030, 7, 3, 23, 30, tzinfo=dt.UTC)
    )
    # 00:30 on Thursday 4 July in London: the week of Monday 1 July, from midnight BST.
    assert (start, end, resets) == (
        dt.datetime(2030, 6, 30, 23, tzinfo=dt.UTC),
        dt.datetime(2030, 7, 7, 23, tzinfo=dt.UTC),
        dt.date(2030, 7, 8),
    )
    assert quotas.period_bounds(QuotaPeriod.MONTH, dt.datetime(2030, 12, 31, 12, tzinfo=dt.UTC))[
        2
    ] == dt.date(2031, 1, 1)


def test_a_quota_needs_a_cap_and_one_of_the_schools_assets(session, world):
    with pytest.raises(InvalidInput) as refusal:
        add_quota(session, world, asset_id=world["printer"].id)
    assert refusal.value.field_errors["scope"] == ["Choose one of the School's assets."]
    assert "Set a cap" in refusal.value.field_errors["own_school_minutes"][0]


def test_a_manager_of_another_school_cannot_set_quotas(session, world):
    with pytest.raises(NotAllowed):
        with atomic(session, world["phys_manager"]):
            quotas.create_quota(
                session,
                world["phys_manager"],
                world["chem"].id,
                asset_id=world["scope"].id,
                category_id=None,
                period="week",
                own_school_minutes=60,
                other_school_minutes=None,
            )


# --- Pages -----------------------------------------------------------------------------------


def test_a_manager_adds_and_deletes_a_quota_on_the_page(client, session, world):
    sign_in(client, world["chem_manager"].email)
    url = f"/schools/{world['chem'].id}/quotas"
    assert "No quotas" in client.get(url).text
    bad = client.post(
        url, data={"scope": f"asset:{world['scope'].id}", "period": "week", "own_school_hours": "lots"}
    )
    assert bad.status_code == 400 and "Enter hours such as 8, 7.5 or 7:30" in bad.text
    response = client.post(
        url,
        data={
            "scope": f"asset:{world['scope'].id}",
            "period": "week",
            "own_school_hours": "7.5",
            "other_school_hours": "2:30",
        },
        follow_redirects=True,
    )
    assert (
        "Added the quota." in response.text
        and "7 h 30 min" in response.text
        and "2 h 30 min" in response.text
    )
    see_committed(session)
    quota = session.scalars(select(Quota)).one()
    assert (quota.own_school_minutes, quota.other_school_minutes, quota.period) == (
        450,
        150,
        QuotaPeriod.WEEK,
    )
    client.post(f"/quotas/{quota.id}/delete")
    see_committed(session)
    assert session.scalars(select(Quota)).all() == []


def test_another_schools_manager_gets_403_on_the_quota_pages(client, session, world):
    quota = add_quota(session, world, asset_id=world["scope"].id, own_school_minutes=60)
    sign_in(client, world["phys_manager"].email)
    url = f"/schools/{world['chem'].id}/quotas"
    assert client.get(url).status_code == 403
    assert (
        client.post(
            url, data={"scope": f"asset:{world['scope'].id}", "period": "week", "own_school_hours": "1"}
        ).status_code
        == 403
    )
    assert client.post(f"/quotas/{quota.id}/delete").status_code == 403
    see_committed(session)
    assert session.scalars(select(Quota)).one().id == quota.id


def test_the_booking_form_shows_the_quota_refusal(client, session, world):
    add_quota(session, world, asset_id=world["scope"].id, own_school_minutes=60)
    sign_in(client, world["chemist"].email)
    response = client.post(
        f"/assets/{world['scope'].id}/book",
        data={"start": "2030-01-07T10:00", "end": "2030-01-07T12:00", "purpose": "Imaging", "repeat": "none"},
    )
    assert response.status_code == 422
    assert "Your weekly quota for Confocal microscope is 1 hour" in response.text
    assert "It resets on Mon 14 Jan." in response.text
