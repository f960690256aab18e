"""Commands that change an asset and settle the bookings it leaves behind, in one transaction.

Editing an asset's rules and hours, putting it in or out of service, deleting it, planning its
maintenance and revoking someone's training on it are asset changes, but each has consequences
for bookings (narrower hours or maintenance leave bookings outside them; retiring cancels what is
still to come; a booked asset cannot be deleted; a revoked person may no longer use it). So the
commands live here, above inventory: inventory's modules keep the asset's own rules (who may
change it, the version check, validating and applying its settings, windows and training
records) and know nothing of bookings; these call them, then ``bookings/disruption.py`` to settle
what is affected.

Each is a command (``core/db.py``): it opens its own unit of work, so the change and its
settlement commit together or not at all. A view that must also check the manager confirmed
every affected booking (``inventory.views.affected``) holds one unit around the listing, the
command and that check, which the command joins.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from accounts.models import User
from accounts.permissions import require_school_manager
from bookings.disruption import (
    Decisions,
    Settlement,
    affected_by_hours,
    affected_by_revocation,
    affected_by_status,
    affected_by_window,
    settle,
)
from bookings.models import ACTIVE_STATUSES, Booking
from core.db import atomic, utcnow
from core.errors import InvalidInput
from core.timeutil import format_local
from inventory import media
from inventory.models import Asset, AssetStatus, MaintenanceWindow, TrainingAuthorisation
from inventory.service import (
    AssetInput,
    apply_asset_input,
    check_version,
    format_weekly_hours,
    lock_asset,
    validate_asset_input,
)
from inventory.training import describe_scope


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
    with atomic(session, actor):
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
            session,
            actor,
            affected,
            decisions,
            f"{asset.name}'s bookable hours changed to {new_hours}.",
            "it now falls outside the asset's bookable hours.",
            now,
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
    with atomic(session, actor):
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
            session,
            actor,
            affected,
            decisions,
            reason,
            f"{asset.name} has been taken out of use ({status.label.lower()}), so it may not be usable then.",
            now,
        )


def delete_asset(
    session: Session, actor: User, asset: Asset, instance_path: str | Path | None = None
) -> None:
    """Remove an asset entered by mistake. One that has ever been booked is retired instead,
    so its history stays (the database's foreign keys refuse the delete as well). With
    ``instance_path``, its photo goes too (the files once the deletion commits), in the same unit."""
    with atomic(session, actor):
        require_school_manager(actor, asset.school_id)
        if instance_path is not None:
            media.remove_photo(session, actor, asset, instance_path)
        if session.scalar(select(Booking.id).where(Booking.asset_id == asset.id).limit(1)) is not None:
            raise InvalidInput(
                "This asset has bookings, so it cannot be deleted. Retire it instead: its history is kept."
            )
        session.delete(asset)
        session.flush()


# --- Maintenance windows and training ---------------------------------------------------------


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
    decisions: Decisions | None = None,
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
    with atomic(session, actor):
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
            errors["reason"] = [
                "Say what the maintenance is for, such as 'Annual service by the manufacturer'."
            ]
        elif len(reason) > 2000:
            errors["reason"] = ["Use at most 2000 characters."]
        if cost_pence is not None and cost_pence < 0:
            errors["cost"] = ["A cost cannot be negative."]
        if errors:
            raise InvalidInput(field_errors=errors)
        window = MaintenanceWindow(
            asset_id=asset.id,
            start_at=start_at,
            end_at=end_at,
            reason=reason,
            cost_pence=cost_pence,
            created_by_id=actor.id,
        )
        now = now or utcnow()
        affected = affected_by_window(session, asset, start_at, end_at, now)
        session.add(window)
        session.flush()
        when = f"{format_local(start_at)} to {format_local(end_at)}"
        window.settlement = settle(  # type: ignore[assignment]  # a plain attribute, not a column
            session,
            actor,
            affected,
            decisions,
            f"Maintenance of {asset.name}, {when}: {reason}",
            f"maintenance of {asset.name} is planned during it ({when}).",
            now,
        )
        return window


def bookings_clashing_with(session: Session, asset: Asset, start: dt.datetime, end: dt.datetime) -> list:
    """Active bookings (confirmed, checked out) of ``asset`` whose booked time overlaps [start, end).

    The booked time is what the person asked for, [start_at, end_at): the turnaround after it is
    the owner's own time, so maintenance may start in it without spoiling anyone's booking.
    """
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


def revoke_training(
    session: Session,
    actor: User,
    authorisation: TrainingAuthorisation,
    reason: str,
    now: dt.datetime | None = None,
    decisions: Decisions | None = None,
) -> TrainingAuthorisation:
    """Withdraw an authorisation, saying why. It is kept (with who revoked it and when), never deleted.

    Managers of the School the authorisation belongs to (or admins) only. The person's confirmed
    bookings still to come that it alone allowed are cancelled or kept, as ``decisions`` say
    (none given: kept, and the person told), in the same transaction (``bookings/disruption.py``);
    ``authorisation.settlement`` says what was done to them.
    """
    with atomic(session, actor):
        require_school_manager(actor, authorisation.school_id)
        reason = (reason or "").strip()
        if authorisation.revoked_at is not None:
            raise InvalidInput("This authorisation has already been revoked.")
        if not reason:
            raise InvalidInput(field_errors={"reason": ["Say why the authorisation is revoked."]})
        if len(reason) > 2000:
            raise InvalidInput(field_errors={"reason": ["Use at most 2000 characters."]})
        now = now or utcnow()
        affected = affected_by_revocation(session, authorisation, now)
        authorisation.revoked_at = now
        authorisation.revoked_by_id = actor.id
        authorisation.revoke_reason = reason
        session.flush()
        authorisation.settlement = settle(  # type: ignore[assignment]  # a plain attribute, not a column
            session,
            actor,
            affected,
            decisions,
            f"Training authorisation for {describe_scope(authorisation)} revoked: {reason}",
            f"your training authorisation for {describe_scope(authorisation)} has been revoked.",
            now,
        )
        return authorisation
