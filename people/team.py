"""A School's technical team and its coverage, for the School's managers and administrators:
who is in the team with their specialisms, and which assets depend on no named technician or on
only one (a risk to keeping the skill to run them)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from accounts.models import User
from core.errors import NotAllowed, NotFound
from inventory.models import WITHDRAWN_STATUSES, Asset, AssetTechnician, School
from people.service import PersonView, people_views


@dataclass
class Coverage:
    asset: Asset
    technicians: list[User]

    @property
    def flag(self) -> str:
        """ "none", "one" or "" (covered by two or more)."""
        return {0: "none", 1: "one"}.get(len(self.technicians), "")


@dataclass
class Team:
    school: School
    members: list[PersonView]
    coverage: list[Coverage]

    @property
    def uncovered(self) -> list[Coverage]:
        return [c for c in self.coverage if c.flag == "none"]

    @property
    def single(self) -> list[Coverage]:
        return [c for c in self.coverage if c.flag == "one"]


def asset_coverage(session: Session, school_id: int) -> list[Coverage]:
    """Each of the School's assets in use with its active technicians (its contact and named
    technicians), the least covered first, then by name."""
    assets = list(
        session.scalars(
            select(Asset)
            .options(joinedload(Asset.contact))
            .where(Asset.school_id == school_id, Asset.status.not_in(WITHDRAWN_STATUSES))
        )
    )
    named: dict[int, list[User]] = {asset.id: [] for asset in assets}
    if assets:
        rows = session.execute(
            select(AssetTechnician.asset_id, User)
            .join(User, User.id == AssetTechnician.user_id)
            .where(AssetTechnician.asset_id.in_(named), User.active.is_(True))
            .order_by(User.name)
        ).all()
        for asset_id, person in rows:
            named[asset_id].append(person)
    coverage = []
    for asset in assets:
        people = [asset.contact] if asset.contact is not None and asset.contact.active else []
        people += [p for p in named[asset.id] if p not in people]
        coverage.append(Coverage(asset, people))
    coverage.sort(key=lambda c: (min(len(c.technicians), 2), c.asset.name.casefold(), c.asset.id))
    return coverage


def school_team(session: Session, viewer: User, school_id: int) -> Team:
    """The team view of a School, for its managers and the administrators (NotAllowed for others)."""
    school = session.get(School, school_id)
    if school is None:
        raise NotFound("No such School.")
    if not viewer.manages(school_id):
        raise NotAllowed("Only the School's managers and the administrators can see its team.")
    people = list(
        session.scalars(
            select(User)
            .options(joinedload(User.home_school))
            .where(User.home_school_id == school_id, User.active.is_(True))
            .order_by(User.name, User.id)
        ).unique()
    )
    return Team(school, people_views(session, viewer, people), asset_coverage(session, school_id))
