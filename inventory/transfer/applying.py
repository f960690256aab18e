"""Applying a planned import: every change in one transaction, all or nothing."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload, selectinload

from accounts.models import User
from accounts.permissions import require_school_manager
from bookings import asset_changes
from core.db import atomic
from core.errors import InvalidInput, NotAllowed
from inventory import service
from inventory.models import Asset, Category, Location, School
from inventory.transfer.columns import COLUMN_FOR_FIELD
from inventory.transfer.planning import ImportPlan, LocationKey


def apply_import(session: Session, actor: User, school: School, plan: ImportPlan) -> Iterator[int]:
    """Make the changes a checked plan describes, yielding the number of rows done so far.

    A command (``core/db.py``): the whole iteration is one unit of work, committed when the
    last row is done; if any row fails (or the iteration is abandoned), nothing is imported. The
    import job (``inventory.import_jobs``) holds one unit around checking and applying, which
    this joins. Each asset goes through the inventory service's own rules again, so
    changes made since the plan was checked cannot slip through. New locations are added first;
    status changes carry the row's Status reason, or "Imported from <file>".
    """
    with atomic(session, actor):
        require_school_manager(actor, school.id)
        if plan.school_id != school.id:
            raise NotAllowed("That import was checked for another School.")
        if not plan.ok:
            raise InvalidInput(f"{plan.filename} has problems, so nothing was imported.")
        location_ids: dict[LocationKey, int] = {}
        for key, (site, building, room) in plan.new_locations.items():
            try:
                location_ids[key] = service.add_location(session, actor, school, site, building, room).id
            except InvalidInput as error:
                raise InvalidInput(
                    f"Could not add the location {building}, {room}: {_messages(error)}"
                ) from None
        assets = _assets_by_id(
            session, [row.asset_id for row in plan.rows if row.action == "update" and row.asset_id]
        )
        # The service looks categories, locations and contacts up by id for every row; holding them
        # here keeps them in the session's (weak) identity map, so that costs no query after the first.
        referenced = _load_referenced(session, school, plan)  # noqa: F841
        done = 0
        for row in plan.rows:
            if row.action != "unchanged":
                data = row.data
                if row.new_location is not None:
                    data = replace(data, location_id=location_ids[row.new_location])
                try:
                    if row.action == "create":
                        asset = service.create_asset(session, actor, school, data)
                    else:
                        asset = assets.get(row.asset_id or 0)
                        if asset is None or asset.school_id != school.id:
                            raise InvalidInput(
                                f"The asset {row.tag} is no longer on {school.name}'s register."
                            )
                        asset_changes.update_asset(session, actor, asset, data)
                    if (row.status, row.status_reason) != (asset.status, asset.status_reason):
                        asset_changes.change_asset_status(
                            session, actor, asset, row.status, row.status_reason
                        )
                except InvalidInput as error:
                    raise InvalidInput(f"Line {row.line} ({row.tag}): {_messages(error)}") from None
            done += 1
            yield done


def _messages(error: InvalidInput) -> str:
    parts = [
        f"{COLUMN_FOR_FIELD.get(name, name.replace('_', ' ').capitalize())}: {message}"
        for name, messages in error.field_errors.items()
        for message in messages
    ]
    return " ".join(parts) if parts else error.message


def _load_referenced(session: Session, school: School, plan: ImportPlan) -> list[Any]:
    contact_ids = sorted({row.data.contact_id for row in plan.rows if row.data.contact_id is not None})
    held: list[Any] = [
        *session.scalars(select(Category)),
        *session.scalars(select(Location).where(Location.school_id == school.id)),
    ]
    for start in range(0, len(contact_ids), 500):
        held.extend(session.scalars(select(User).where(User.id.in_(contact_ids[start : start + 500]))))
    return held


def _assets_by_id(session: Session, ids: list[int]) -> dict[int, Asset]:
    assets: dict[int, Asset] = {}
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        for asset in session.scalars(
            select(Asset)
            .options(selectinload(Asset.bookable_hours), joinedload(Asset.school))
            .where(Asset.id.in_(chunk))
        ).unique():
            assets[asset.id] = asset
    return assets
