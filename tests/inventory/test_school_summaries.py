"""The Schools page's figures: each School's assets and managers, and the requests waiting."""

import datetime as dt

from accounts.models import Role
from bookings.approvals import waiting_by_school
from bookings.models import BookingStatus
from inventory.models import AssetStatus
from inventory.service import school_summaries
from tests.factories import make_asset, make_booking, make_school, make_user

UTC = dt.UTC
NOW = dt.datetime(2029, 12, 28, 12, tzinfo=UTC)


def test_each_school_with_its_assets_and_active_managers(session):
    chem, phys = make_school(session, "CHEM", "Chemistry"), make_school(session, "PHYS", "Physics")
    make_asset(session, chem)
    make_asset(session, chem, status=AssetStatus.MAINTENANCE)
    make_asset(session, chem, status=AssetStatus.RETIRED)
    zoe = make_user(session, chem, Role.MANAGER, name="Zoe Zhang")
    adam = make_user(session, phys, Role.MANAGER, name="Adam Ash", manages=[chem, phys])
    gone = make_user(session, chem, Role.MANAGER, name="Gone Person")
    gone.active = False
    session.commit()
    summaries = {s.school.code: s for s in school_summaries(session)}
    assert [s.school.code for s in school_summaries(session)] == ["CHEM", "PHYS"]  # by name
    assert (summaries["CHEM"].assets, summaries["CHEM"].managers) == (2, [adam, zoe])
    assert (summaries["PHYS"].assets, summaries["PHYS"].managers) == (0, [adam])


def test_requests_waiting_are_pending_and_not_over_by_owning_school(session):
    chem, phys = make_school(session, "CHEM"), make_school(session, "PHYS")
    scope = make_asset(session, chem)
    chemist, physicist = make_user(session, chem), make_user(session, phys)
    make_booking(session, scope, physicist, NOW + dt.timedelta(days=1), status=BookingStatus.PENDING)
    make_booking(session, scope, chemist, NOW + dt.timedelta(days=2), status=BookingStatus.PENDING)
    make_booking(session, scope, chemist, NOW - dt.timedelta(days=1), status=BookingStatus.PENDING)  # over
    make_booking(session, scope, chemist, NOW + dt.timedelta(days=3))  # confirmed
    assert waiting_by_school(session, NOW) == {chem.id: 2}
