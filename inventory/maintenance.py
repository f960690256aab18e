"""Maintenance windows: times an asset is out of service for work on it, and the bookings they clash with.

Every change here is made by a manager of the asset's owning School (or an admin), through the
ORM, inside the caller's ``atomic(session, actor)``: the ``Audited`` models then leave their audit
rows in the same transaction. Maintenance windows are aware UTC instants.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from accounts.models import User
from accounts.permissions import require_school_manager
from core.db import utcnow
from core.errors import InvalidInput, NotFound
from inventory.models import Asset, MaintenanceWindow
from core.timeutil import format_local

if TYPE_CHECKING:  # bookings builds on inventory: imported where used
    from bookings.disruption import Decisions


def _require_aware(moment: dt.datetime) -> None:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"naive datetime {moment!r}: convert to UTC at the edge")


def schedule_maintenance(
    session: Session,
    actor: User,
    asset: Asset,
    start_at: dt.datetime,
    end_at: dt.datetime,
    reason: str,
    cost_pence: int | None = None,
    decisions: "Decisions | None" = None,
    now: dt.datetime | None = None,
) -> MaintenanceWindow:
    """Plan time when ``asset`` is out for maintenance; the window blocks bookings. Its cost,
    where known, counts in capital planning as maintenance spending on the asset.

    Managers of the owning School (or admins) only. The window must end after it starts and say
    why. A window in the past is accepted, so that maintenance already done can be recorded.

    Confirmed bookings still to come that overlap the window are cancelled or kept, as
    ``decisions`` say (none given: kept, and their holders told), in the same transaction
    (``bookings/disruption.py``); ``window.settlement`` says what was done to them.
    """
    from bookings.disruption import affected_by_window, settle

    require_school_manager(actor, asset.school_id)
    reason = (reason or "").strip()
    errors: dict[str, list[str]] = {}
    if start_at is None:
        errors["start_at"] = ["Enter when the maintenance starts."]
    if end_at is None:
        errors["end_at"] = ["Enter when the maintenance ends."]
    if start_at is not None and end_at is not None:
        _require_aware(start_at)
        _require_aware(end_at)
        if end_at <= start_at:
            errors["end_at"] = ["The maintenance must end after it starts."]
    if not reason:
        errors["reason"] = ["Say what the maintenance is for, such as 'Annual service by the manufacturer'."]
    elif len(reason) > 2000:
        errors["reason"] = ["Use at most 2000 characters."]
    if cost_pence is not None and cost_pence < 0:
        errors["cost"] = ["A cost cannot be negative."]
    if errors:
        raise InvalidInput(field_errors=errors)
    window = MaintenanceWindow(
        asset_id=asset.id, start_at=start_at, end_at=end_at, reason=reason, cost_pence=cost_pence,
        created_by_id=actor.id,
    )
    now = now or utcnow()
    affected = affected_by_window(session, asset, start_at, end_at, now)
    session.add(window)
    session.flush()
    when = f"{format_local(start_at)} to {format_local(end_at)}"
    window.settlement = settle(
        session, actor, affected, decisions, f"Maintenance of {asset.name}, {when}: {reason}",
        f"maintenance of {asset.name} is planned during it ({when}).", now,
    )
    return window


def cancel_maintenance(session: Session, actor: User, window: MaintenanceWindow, now: dt.datetime | None = None) -> None:
    """Delete a planned window that has not ended yet (one under way may be cut short this way).

    A window that is over is kept as the record of maintenance done. Managers of the asset's
    School (or admins) only. The audit log keeps what the deleted window was.
    """
    require_school_manager(actor, window.asset.school_id)
    now = now or utcnow()
    if window.end_at <= now:
        raise InvalidInput("This maintenance window is over; it is kept as a record and cannot be cancelled.")
    session.delete(window)
    session.flush()


def maintenance_windows(
    session: Session, asset: Asset, from_: dt.datetime, to: dt.datetime
) -> list[MaintenanceWindow]:
    """The asset's windows overlapping [from_, to), earliest first."""
    return list(
        session.scalars(
            select(MaintenanceWindow)
            .where(MaintenanceWindow.asset_id == asset.id, MaintenanceWindow.start_at < to, MaintenanceWindow.end_at > from_)
            .order_by(MaintenanceWindow.start_at, MaintenanceWindow.id)
        )
    )


def get_maintenance_window(session: Session, asset: Asset, window_id: int) -> MaintenanceWindow:
    window = session.get(MaintenanceWindow, window_id)
    if window is None or window.asset_id != asset.id:
        raise NotFound("There is no such maintenance window for this asset.")
    return window


def bookings_clashing_with(session: Session, asset: Asset, start: dt.datetime, end: dt.datetime) -> list:
    """Active bookings (confirmed, checked out) of ``asset`` whose booked time overlaps [start, end).

    The booked time is what the person asked for, [start_at, end_at): the turnaround after it is
    the owner's own time, so maintenance may start in it without spoiling anyone's booking.
    """
    from bookings.models import ACTIVE_STATUSES, Booking

    return list(
        session.scalars(
            select(Booking)
            .options(joinedload(Booking.requester))
            .where(
                Booking.asset_id == asset.id,
                Booking.status.in_(ACTIVE_STATUSES),
                Booking.start_at < end,
                Booking.end_at > start,
            )
            .order_by(Booking.start_at, Booking.id)
        )
    )
