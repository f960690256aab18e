"""When an asset stops being available: the bookings a change touches, and settling them
(bookings/disruption.py), through the inventory services that make the changes."""

import datetime as dt

import pytest

from bookings import asset_changes, disruption
from bookings.disruption import CANCEL, KEEP, Decisions
from bookings.models import BookingStatus, UnmetDemand
from core.db import atomic
from core.errors import InvalidInput
from inventory import service
from inventory.models import AssetStatus, TrainingAuthorisation
from notifications.models import Notification
from tests.bookings.conftest import MONDAY, NOW, at
from tests.factories import make_booking


def _events(session, user):
    return [n.event for n in session.query(Notification).filter_by(user_id=user.id)]


def test_retiring_cancels_confirmed_and_rejects_pending_bookings_to_come_with_the_reason(session, world):
    scope = world["scope"]
    past = make_booking(session, scope, world["chemist"], at(MONDAY, 10) - dt.timedelta(days=30))
    confirmed = make_booking(session, scope, world["chemist"], at(MONDAY, 10))
    pending = make_booking(session, scope, world["physicist"], at(MONDAY, 14), status=BookingStatus.PENDING)

    with atomic(session, world["chem_manager"]):
        settled = asset_changes.change_asset_status(
            session, world["chem_manager"], scope, AssetStatus.RETIRED, "Beyond repair", now=NOW
        )

    assert settled.cancelled == [confirmed] and settled.rejected == [pending] and settled.kept == []
    assert confirmed.status == BookingStatus.CANCELLED and confirmed.history[-1].reason == "Beyond repair"
    assert pending.status == BookingStatus.REJECTED and pending.decision_reason == "Beyond repair"
    assert past.status == BookingStatus.CONFIRMED  # history is not rewritten
    assert "booking_cancelled" in _events(session, world["chemist"])
    assert "booking_decided" in _events(session, world["physicist"])
    assert session.query(UnmetDemand).filter_by(booking_id=pending.id).count() == 1


def test_retiring_ignores_a_choice_to_keep(session, world):
    confirmed = make_booking(session, world["scope"], world["chemist"], at(MONDAY, 10))
    with atomic(session, world["chem_manager"]):
        asset_changes.change_asset_status(
            session,
            world["chem_manager"],
            world["scope"],
            AssetStatus.RETIRED,
            "Sold",
            Decisions(KEEP),
            now=NOW,
        )
    assert confirmed.status == BookingStatus.CANCELLED


def test_a_retirement_refused_for_want_of_a_reason_touches_no_booking(session, world):
    confirmed = make_booking(session, world["scope"], world["chemist"], at(MONDAY, 10))
    with pytest.raises(InvalidInput), atomic(session, world["chem_manager"]):
        asset_changes.change_asset_status(
            session, world["chem_manager"], world["scope"], AssetStatus.RETIRED, " ", now=NOW
        )
    session.refresh(confirmed)
    assert confirmed.status == BookingStatus.CONFIRMED


def test_maintenance_status_keeps_bookings_and_tells_their_holders_unless_told_to_cancel(session, world):
    kept = make_booking(session, world["scope"], world["chemist"], at(MONDAY, 10))
    cancelled = make_booking(session, world["scope"], world["chemist2"], at(MONDAY, 14))
    with atomic(session, world["chem_manager"]):
        settled = asset_changes.change_asset_status(
            session,
            world["chem_manager"],
            world["scope"],
            AssetStatus.MAINTENANCE,
            "Laser realignment",
            Decisions(KEEP, {cancelled.id: CANCEL}),
            now=NOW,
        )
    assert settled.kept == [kept] and settled.cancelled == [cancelled]
    assert kept.status == BookingStatus.CONFIRMED
    assert _events(session, world["chemist"]) == ["booking_affected"]
    assert _events(session, world["chemist2"]) == ["booking_cancelled"]
    assert "out of use (maintenance): Laser realignment" in " ".join(
        disruption.clashes_for(session, kept, NOW)
    )


def test_a_maintenance_window_touches_only_the_bookings_it_overlaps(session, world):
    inside = make_booking(session, world["scope"], world["chemist"], at(MONDAY, 10))
    after = make_booking(session, world["scope"], world["chemist2"], at(MONDAY, 15))
    with atomic(session, world["chem_manager"]):
        window = asset_changes.schedule_maintenance(
            session,
            world["chem_manager"],
            world["scope"],
            at(MONDAY, 9),
            at(MONDAY, 12),
            "Service",
            decisions=Decisions(CANCEL),
            now=NOW,
        )
    assert window.settlement.cancelled == [inside]
    assert after.status == BookingStatus.CONFIRMED
    assert inside.history[-1].reason.startswith("Maintenance of Confocal microscope")


def test_a_maintenance_window_over_a_request_rejects_it_or_keeps_it_waiting_as_chosen(session, world):
    """A request still waiting under new maintenance is offered the same choice: rejected with the
    reason (and the requester told), or kept waiting with a notice; never left silently."""
    rejected = make_booking(
        session, world["scope"], world["physicist"], at(MONDAY, 10), status=BookingStatus.PENDING
    )
    waiting = make_booking(
        session, world["scope"], world["chemist2"], at(MONDAY, 13), status=BookingStatus.PENDING
    )
    listed = disruption.affected_by_window(session, world["scope"], at(MONDAY, 9), at(MONDAY, 17), NOW)
    assert listed.pending == [rejected, waiting] and listed.confirmed == []
    assert listed.summary() == "2 requests are affected by this change."
    with atomic(session, world["chem_manager"]):
        window = asset_changes.schedule_maintenance(
            session,
            world["chem_manager"],
            world["scope"],
            at(MONDAY, 9),
            at(MONDAY, 17),
            "Service",
            decisions=Decisions(KEEP, {rejected.id: CANCEL}),
            now=NOW,
        )
    assert window.settlement.rejected == [rejected] and window.settlement.kept == [waiting]
    assert rejected.status == BookingStatus.REJECTED and rejected.decision_reason.startswith("Maintenance of")
    assert waiting.status == BookingStatus.PENDING
    assert "booking_decided" in _events(session, world["physicist"])
    assert _events(session, world["chemist2"]) == ["booking_affected"]


def test_narrower_hours_touch_only_bookings_that_fitted_the_old_hours_but_not_the_new(session, world):
    scope = world["scope"]
    morning = make_booking(session, scope, world["chemist"], at(MONDAY, 10))
    late = make_booking(session, scope, world["chemist2"], at(MONDAY, 15))
    data = service.AssetInput.from_asset(scope)
    data.weekly_hours = [(d, o, dt.time(15) if d == 0 else c) for d, o, c in data.weekly_hours]
    with atomic(session, world["chem_manager"]):
        settled = asset_changes.update_asset(session, world["chem_manager"], scope, data, now=NOW)
    assert settled.kept == [late] and not settled.cancelled
    assert morning.status == late.status == BookingStatus.CONFIRMED
    assert _events(session, world["chemist2"]) == ["booking_affected"]
    assert "outside Confocal microscope's bookable hours" in " ".join(
        disruption.clashes_for(session, late, NOW)
    )


def test_revoked_training_touches_the_persons_bookings_unless_another_authorisation_covers_them(
    session, world
):
    scope, chemist, chemist2 = world["scope"], world["chemist"], world["chemist2"]
    scope.training_required = True
    grants = {}
    for who in (chemist, chemist2):
        grants[who.id] = TrainingAuthorisation(
            user_id=who.id,
            school_id=scope.school_id,
            asset_id=scope.id,
            granted_on=MONDAY - dt.timedelta(days=100),
        )
        session.add(grants[who.id])
    session.add(
        TrainingAuthorisation(
            user_id=chemist2.id,
            school_id=scope.school_id,
            category_id=scope.category_id,
            granted_on=MONDAY - dt.timedelta(days=100),
        )
    )
    session.commit()
    mine = make_booking(session, scope, chemist, at(MONDAY, 10))
    covered = make_booking(session, scope, chemist2, at(MONDAY, 14))

    assert disruption.affected_by_revocation(session, grants[chemist.id], NOW).confirmed == [mine]
    assert disruption.affected_by_revocation(session, grants[chemist2.id], NOW).confirmed == []
    with atomic(session, world["chem_manager"]):
        asset_changes.revoke_training(
            session, world["chem_manager"], grants[chemist.id], "Left", now=NOW, decisions=Decisions(CANCEL)
        )
    assert mine.status == BookingStatus.CANCELLED
    assert covered.status == BookingStatus.CONFIRMED


def test_an_unknown_choice_is_refused():
    with pytest.raises(InvalidInput):
        Decisions("delete")
