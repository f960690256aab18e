"""Commands that change an asset and settle the bookings it leaves behind, in one transaction.

Editing an asset's rules and hours, putting it in or out of service, and deleting it are asset
changes, but each has consequences for bookings (narrower hours or maintenance leave bookings
outside them; retiring cancels what is still to come; a booked asset cannot be deleted). So the
commands live here, above inventory: inventory/service.py keeps the asset's own rules (who may
change it, the version check, validating and applying its settings) and knows nothing of
bookings; these call it, then ``bookings/disruption.py`` to settle what is affected.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from accounts.models import User
from accounts.permissions import require_school_manager
from bookings.disruption import Decisions, Settlement, affected_by_hours, affected_by_status, settle
from bookings.models import Booking
from core.db import utcnow
from core.errors import InvalidInput
from inventory.models import Asset, AssetStatus
from inventory.service import (
    AssetInput,
    apply_asset_input,
    check_version,
    format_weekly_hours,
    lock_asset,
    validate_asset_input,
)


def update_asset(
    session: Session,
    actor: User,
    asset: Asset,
    data: AssetInput,
    decisions: Decisions | None = None,
    now: dt.datetime | None = None,
    *,
    expected_version: int | None = None,
) -> Settlement:
    """Change an asset's details and booking rules; only its School's managers (or admins).

    The asset's row is locked first (``lock_asset``); with ``expected_version`` (the version the
    form or client read), an asset changed since is refused with StaleVersion and nothing is
    changed. Narrower bookable hours can leave confirmed bookings still to come outside them: in
    the same transaction each is cancelled or kept as ``decisions`` say (none given: kept, and
    its holder told), see ``bookings/disruption.py``. Returns what was done to them.
    """
    require_school_manager(actor, asset.school_id)
    lock_asset(session, asset)
    check_version(asset, expected_version)
    errors = validate_asset_input(session, asset.school, data, asset)
    if errors:
        raise InvalidInput(field_errors=errors)
    now = now or utcnow()
    affected = affected_by_hours(session, asset, data.weekly_hours, now)
    apply_asset_input(asset, data, actor, now)
    session.flush()
    new_hours = format_weekly_hours(data.weekly_hours) or "none"
    return settle(
        session, actor, affected, decisions, f"{asset.name}'s bookable hours changed to {new_hours}.",
        "it now falls outside the asset's bookable hours.", now,
    )


def change_asset_status(
    session: Session,
    actor: User,
    asset: Asset,
    status: AssetStatus,
    reason: str,
    decisions: Decisions | None = None,
    now: dt.datetime | None = None,
    *,
    expected_version: int | None = None,
) -> Settlement:
    """Put an asset in or out of service. A reason is required for anything but 'available'.

    Retiring keeps the asset and all its history; it simply can no longer be booked. In the same
    transaction the bookings it leaves behind are settled (``bookings/disruption.py``): retiring
    cancels every confirmed booking still to come and rejects every pending request, with the
    reason; maintenance or out of service cancels or keeps each confirmed booking still to come
    as ``decisions`` say (none given: keep them, and tell their holders). Returns what was done.
    """
    require_school_manager(actor, asset.school_id)
    lock_asset(session, asset)
    check_version(asset, expected_version)
    reason = reason.strip()
    if status != AssetStatus.AVAILABLE and not reason:
        raise InvalidInput(field_errors={"reason": [f"Say why the asset is {status.label.lower()}."]})
    if status == asset.status and reason == asset.status_reason:
        return Settlement()
    now = now or utcnow()
    affected = affected_by_status(session, asset, status, now)
    # Disposing of a retired asset keeps the day it left service.
    was_withdrawn = asset.status.withdrawn
    asset.status = status
    asset.status_reason = reason
    asset.status_changed_at = now
    if not status.withdrawn:
        asset.retired_at = None
    elif not was_withdrawn or asset.retired_at is None:
        asset.retired_at = now
    session.flush()
    return settle(
        session, actor, affected, decisions, reason,
        f"{asset.name} has been taken out of use ({status.label.lower()}), so it may not be usable then.", now,
    )


def delete_asset(session: Session, actor: User, asset: Asset) -> None:
    """Remove an asset entered by mistake. One that has ever been booked is retired instead,
    so its history stays (the database's foreign keys refuse the delete as well)."""
    require_school_manager(actor, asset.school_id)
    if session.scalar(select(Booking.id).where(Booking.asset_id == asset.id).limit(1)) is not None:
        raise InvalidInput("This asset has bookings, so it cannot be deleted. Retire it instead: its history is kept.")
    session.delete(asset)
    session.flush()
