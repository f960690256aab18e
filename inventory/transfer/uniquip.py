"""Uniquip: the register in equipment.data.ac.uk's layout, for its harvester."""

from __future__ import annotations

import html
from collections.abc import Callable

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from accounts.models import User, school_managers
from inventory.models import WITHDRAWN_STATUSES, Asset, School
from inventory.transfer.export import write_csv

UNIQUIP_COLUMNS = (
    "Type",
    "Name",
    "Description",
    "Related Facility ID",
    "Technique",
    "Location",
    "Contact Name",
    "Contact Telephone",
    "Contact URL",
    "Contact Email",
    "Secondary Contact Name",
    "Secondary Contact Telephone",
    "Secondary Contact URL",
    "Secondary Contact Email",
    "ID",
    "Photo",
    "Department",
    "Site Location",
    "Building",
    "Service Level",
    "Web Address",
)
DEFAULT_SITE = "Main campus"


def uniquip_assets(session: Session) -> list[Asset]:
    """What the university offers to others: shareable, bookable assets that are not retired,
    of every School, ordered by School and name."""
    return list(
        session.scalars(
            select(Asset)
            .join(Asset.school)
            .options(
                joinedload(Asset.school),
                joinedload(Asset.category),
                joinedload(Asset.location),
                joinedload(Asset.contact),
            )
            .where(
                Asset.shareable.is_(True), Asset.bookable.is_(True), Asset.status.not_in(WITHDRAWN_STATUSES)
            )
            .order_by(School.name, Asset.name, Asset.id)
        ).unique()
    )


def _first_managers(session: Session) -> dict[int, User]:
    """Each School's first active manager by name: the contact for assets without their own."""
    firsts: dict[int, User] = {}
    rows = session.execute(
        select(school_managers.c.school_id, User)
        .join(User, User.id == school_managers.c.user_id)
        .where(User.active.is_(True))
        .order_by(User.name, User.id)
    ).all()
    for school_id, user in rows:
        firsts.setdefault(school_id, user)
    return firsts


def uniquip_rows(
    session: Session,
    *,
    base_url: str,
    location_url: str = "",
    photo_url: Callable[[Asset], str] | None = None,
) -> list[list[str]]:
    """The shareable assets as Uniquip rows, in ``UNIQUIP_COLUMNS`` order.

    ``base_url`` is the public address (asset pages are ``<base_url>/assets/<id>``),
    ``location_url`` the Wikipedia page of the nearest town, and ``photo_url`` gives a photo's
    public address (None when photos are not published). The mapping is in docs/uniquip-mapping.md.
    """
    base_url = base_url.rstrip("/")
    managers = _first_managers(session)
    rows = []
    for asset in uniquip_assets(session):
        contact = asset.contact if asset.contact is not None and asset.contact.active else None
        contact = contact or managers.get(asset.school_id)
        page = f"{base_url}/assets/{asset.id}"
        location = asset.location
        rows.append(
            [
                "equipment",
                asset.name,
                html.escape(asset.description),
                "",
                asset.category.name if asset.category else "",
                location_url,
                contact.name if contact else f"{asset.school.name} technical staff",
                "",
                page,
                contact.email if contact else "",
                "",
                "",
                "",
                "",
                asset.tag,
                photo_url(asset) if photo_url and asset.photo_filename else "",
                asset.school.name,
                (location.site if location and location.site else "") or DEFAULT_SITE,
                location.building if location else "",
                "",
                page,
            ]
        )
    return rows


def uniquip_csv(
    session: Session,
    *,
    base_url: str,
    location_url: str = "",
    photo_url: Callable[[Asset], str] | None = None,
) -> str:
    """The Uniquip export as CSV, with the header row equipment.data.ac.uk expects."""
    return write_csv(
        UNIQUIP_COLUMNS,
        uniquip_rows(session, base_url=base_url, location_url=location_url, photo_url=photo_url),
    )
