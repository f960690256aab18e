"""Maintenance windows: times an asset is out of service for work on it, and the bookings they clash with.

Every change here is made by a manager of the asset's owning School (or an admin), through the
ORM. Each public function that writes is a command (``core/db.py``): it opens its own
``atomic(session, actor)``, so callers call it bare, and the ``Audited`` models leave their audit
rows in the same transaction. Maintenance windows are aware UTC instants.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from accounts.models import User
from accounts.permissions import require_school_manager
from core.db import atomic, utcnow
from core.errors import InvalidInput, NotFound
from inventory.models import Asset, MaintenanceWindow


def cancel_maintenance(
    session: Session, actor: User, window: MaintenanceWindow, now: dt.datetime | None = None
) -> None:
    """Delete a planned window that has not ended yet (one under way may be cut short this way).

    A window that is over is kept as the record of maintenance done. Managers of the asset's
    School (or admins) only. The audit log keeps what the deleted window was.
    """
    with atomic(session, actor):
        require_school_manager(actor, window.asset.school_id)
        now = now or utcnow()
        if window.end_at <= now:
            raise InvalidInput(
                "This maintenance window is over; it is kept as a record and cannot be cancelled."
            )
        session.delete(window)
        session.flush()


def maintenance_windows(
    session: Session, asset: Asset, from_: dt.datetime, to: dt.datetime
) -> list[MaintenanceWindow]:
    """The asset's windows overlapping [from_, to), earliest first."""
    return list(
        session.scalars(
            select(MaintenanceWindow)
            .where(
                MaintenanceWindow.asset_id == asset.id,
                MaintenanceWindow.start_at < to,
                MaintenanceWindow.end_at > from_,
            )
            .order_by(MaintenanceWindow.start_at, MaintenanceWindow.id)
        )
    )


def get_maintenance_window(session: Session, asset: Asset, window_id: int) -> MaintenanceWindow:
    window = session.get(MaintenanceWindow, window_id)
    if window is None or window.asset_id != asset.id:
        raise NotFound("There is no such maintenance window for this asset.")
    return window
