"""Every change to assets and bookings leaves an audit row, in the same transaction."""

import datetime as dt

import pytest
from sqlalchemy import select

from bookings.models import BookingStatus
from bookings.service import change_status
from core.audit import AuditEntry
from core.db import atomic
from inventory.models import AssetStatus, MaintenanceWindow
from tests.factories import make_asset, make_booking, make_school, make_user

START = dt.datetime(2030, 1, 7, 10, tzinfo=dt.UTC)


def _entries(session, object_type, object_id):
    return session.scalars(
        select(AuditEntry)
        .where(AuditEntry.object_type == object_type, AuditEntry.object_id == object_id)
        .order_by(AuditEntry.id)
    ).all()


def test_creating_and_changing_an_asset_is_logged_with_who_and_what(session):
    school = make_school(session)
    manager = make_user(session, school)
    asset = make_asset(session, school, name="Confocal")
    with atomic(session, manager):
        asset.status = AssetStatus.MAINTENANCE
        asset.status_reason = "Laser alignment"
    created, *rest = _entries(session, "asset", asset.id)
    assert created.action == "created"
    assert created.changes["name"] == [None, "Confocal"]
    update = rest[-1]
    assert update.action == "updated"
    assert update.actor_id == manager.id
    assert update.changes == {
        "status": ["available", "maintenance"],
        "status_reason": ["", "Laser alignment"],
    }
    assert update.at.tzinfo is not None


def test_a_rolled_back_change_leaves_no_audit_row(session):
    school = make_school(session)
    asset = make_asset(session, school)
    before = len(_entries(session, "asset", asset.id))
    with pytest.raises(RuntimeError), atomic(session):
        asset.name = "Renamed"
        session.flush()
        raise RuntimeError("something failed later in the same unit of work")
    assert len(_entries(session, "asset", asset.id)) == before
    session.refresh(asset)
    assert asset.name != "Renamed"


def test_a_maintenance_window_is_logged_against_its_asset(session):
    school = make_school(session)
    asset = make_asset(session, school)
    with atomic(session):
        session.add(
            MaintenanceWindow(
                asset=asset, start_at=START, end_at=START + dt.timedelta(hours=2), reason="Service"
            )
        )
    last = _entries(session, "asset", asset.id)[-1]
    assert any(key.startswith("maintenance[") and key.endswith(".reason") for key in last.changes)


def test_booking_status_changes_are_logged_and_kept_in_the_booking_history(session):
    school = make_school(session)
    user = make_user(session, school)
    booking = make_booking(session, make_asset(session, school), user, START, status=BookingStatus.PENDING)
    with atomic(session, user):
        change_status(booking, BookingStatus.CANCELLED, by=user, reason="Plans changed")
    audit = _entries(session, "booking", booking.id)[-1]
    assert audit.changes["status"] == ["pending", "cancelled"]
    assert audit.actor_id == user.id
    [step] = booking.history
    assert (step.from_status, step.to_status, step.by_id, step.reason) == (
        BookingStatus.PENDING,
        BookingStatus.CANCELLED,
        user.id,
        "Plans changed",
    )
