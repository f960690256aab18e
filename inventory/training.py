"""Training authorisations: who may use which assets (one asset, a category, or a School's kit), and
until when.

Every change here is made by a manager of the asset's owning School (or an admin), through the
ORM. Each public function that writes is a command (``core/db.py``): it opens its own
``atomic(session, actor)``, so callers call it bare, and the ``Audited`` models leave their audit
rows in the same transaction. Dates are the university's local dates.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session, joinedload

from accounts.models import User
from accounts.permissions import require_school_manager
from core.db import atomic
from core.errors import InvalidInput, NotFound
from core.timeutil import format_day, local_today
from inventory.models import Asset, Category, School, TrainingAuthorisation


def person_by_email(session: Session, email: str, field: str = "email") -> User:
    """The active person with this e-mail address (any case), or InvalidInput on ``field``."""
    email = (email or "").strip()
    if not email:
        raise InvalidInput(field_errors={field: ["Enter the person's e-mail address."]})
    person = session.scalar(select(User).where(func.lower(User.email) == email.lower()))
    if person is None:
        raise InvalidInput(field_errors={field: [f"Nobody in Kitshare has the address {email}."]})
    if not person.active:
        raise InvalidInput(field_errors={field: [f"{person.name}'s account is deactivated."]})
    return person


def describe_scope(grant: TrainingAuthorisation) -> str:
    if grant.asset is not None:
        return f"{grant.asset.name} ({grant.asset.tag})"
    return f"every {grant.category.name if grant.category else 'category'} asset of {grant.school.name}"


def grant_training(
    session: Session,
    actor: User,
    user: User,
    *,
    asset: Asset | None = None,
    category: Category | None = None,
    school: School | None = None,
    granted_on: dt.date,
    expires_on: dt.date | None = None,
    note: str = "",
    today: dt.date | None = None,
) -> TrainingAuthorisation:
    """Authorise ``user`` to use one asset, or every asset of a category within a School.

    Exactly one scope: ``asset``, or ``category`` with ``school``. The actor must manage the
    asset's School (or the given School). ``granted_on`` is when the training happened (not in the
    future); ``expires_on``, if any, is on or after it.

    A person who already holds a current authorisation for the same scope (not revoked, not
    expired on ``granted_on``) is refused rather than given a second one: to record a refresher
    with new dates, revoke the old authorisation first, so each record keeps its own terms.

    The person's open training requests that the new authorisation covers are granted by it, and
    they are told (``inventory.training_requests.close_requests_covered_by``).
    """
    with atomic(session, actor):
        if (asset is None) == (category is None):
            raise InvalidInput("Grant training for one asset, or for a category within a School.")
        if asset is not None:
            school_id = asset.school_id
        else:
            if school is None:
                raise InvalidInput("A category authorisation needs the School it applies within.")
            school_id = school.id
        require_school_manager(actor, school_id)
        today = today or local_today()
        note = (note or "").strip()
        errors: dict[str, list[str]] = {}
        if not user.active:
            errors["email"] = [f"{user.name}'s account is deactivated."]
        if granted_on is None:
            errors["granted_on"] = ["Enter the date of the training."]
        elif granted_on > today:
            errors["granted_on"] = ["The training date cannot be in the future."]
        elif expires_on is not None and expires_on < granted_on:
            errors["expires_on"] = ["The authorisation cannot expire before it was granted."]
        if len(note) > 2000:
            errors["note"] = ["Use at most 2000 characters."]
        if errors:
            raise InvalidInput(field_errors=errors)

        same_scope = select(TrainingAuthorisation).where(
            TrainingAuthorisation.user_id == user.id,
            TrainingAuthorisation.revoked_at.is_(None),
            or_(TrainingAuthorisation.expires_on.is_(None), TrainingAuthorisation.expires_on >= granted_on),
        )
        if asset is not None:
            same_scope = same_scope.where(TrainingAuthorisation.asset_id == asset.id)
        else:
            same_scope = same_scope.where(
                TrainingAuthorisation.category_id == category.id, TrainingAuthorisation.school_id == school_id
            )
        existing = session.scalars(same_scope.order_by(TrainingAuthorisation.granted_on.desc())).first()
        if existing is not None:
            until = f"until {format_day(existing.expires_on)}" if existing.expires_on else "with no expiry"
            raise InvalidInput(
                field_errors={
                    "email": [
                        f"{user.name} is already authorised for {describe_scope(existing)} "
                        f"(granted {format_day(existing.granted_on)}, {until}). "
                        "To record a refresher with new dates, revoke that authorisation first."
                    ]
                }
            )
        grant = TrainingAuthorisation(
            user_id=user.id,
            school_id=school_id,
            asset_id=asset.id if asset is not None else None,
            category_id=category.id if category is not None else None,
            granted_on=granted_on,
            expires_on=expires_on,
            granted_by_id=actor.id,
            note=note,
        )
        session.add(grant)
        session.flush()
        # inventory.training_requests imports this module (granting a request grants training);
        # a grant also closes the requests it covers, so the cycle is broken here.
        from inventory.training_requests import close_requests_covered_by

        close_requests_covered_by(session, actor, grant, today=today)
        return grant


def _covering(asset: Asset):
    """Authorisations whose scope covers ``asset``: for it, or for its category in its School."""
    scopes = [TrainingAuthorisation.asset_id == asset.id]
    if asset.category_id is not None:
        scopes.append(
            (TrainingAuthorisation.category_id == asset.category_id)
            & (TrainingAuthorisation.school_id == asset.school_id)
        )
    return or_(*scopes)


def _current_on(today: dt.date):
    return (TrainingAuthorisation.revoked_at.is_(None)) & (
        TrainingAuthorisation.expires_on.is_(None) | (TrainingAuthorisation.expires_on >= today)
    )


def holds_training_for(user: User, today: dt.date):
    """A condition on ``Asset`` rows (correlated, for a catalogue query): ``user`` holds a
    current authorisation for the asset, as ``has_current_training`` decides for one asset."""
    return (
        select(TrainingAuthorisation.id)
        .where(
            TrainingAuthorisation.user_id == user.id,
            or_(
                TrainingAuthorisation.asset_id == Asset.id,
                (TrainingAuthorisation.category_id == Asset.category_id)
                & (TrainingAuthorisation.school_id == Asset.school_id),
            ),
            _current_on(today),
        )
        .exists()
    )


def has_current_training(session: Session, user: User, asset: Asset, today: dt.date) -> bool:
    """True if ``user`` holds a current authorisation for ``asset`` on ``today``: one for the asset
    itself, or for its category within the asset's School; not revoked, and not expired before
    today (an authorisation expiring today is still current today)."""
    return (
        session.scalar(
            select(TrainingAuthorisation.id)
            .where(TrainingAuthorisation.user_id == user.id, _covering(asset), _current_on(today))
            .limit(1)
        )
        is not None
    )


def _with_people():
    return (
        joinedload(TrainingAuthorisation.user),
        joinedload(TrainingAuthorisation.category),
        joinedload(TrainingAuthorisation.asset),
        joinedload(TrainingAuthorisation.school),
        joinedload(TrainingAuthorisation.granted_by),
        joinedload(TrainingAuthorisation.revoked_by),
    )


def authorised_people(session: Session, asset: Asset, today: dt.date) -> list[TrainingAuthorisation]:
    """Current authorisations covering ``asset`` (directly or by category), of active people, by name."""
    return list(
        session.scalars(
            select(TrainingAuthorisation)
            .join(TrainingAuthorisation.user)
            .options(*_with_people())
            .where(_covering(asset), _current_on(today), User.active.is_(True))
            .order_by(User.name, TrainingAuthorisation.asset_id.is_(None), TrainingAuthorisation.id)
        )
    )


def training_records(session: Session, asset: Asset) -> list[TrainingAuthorisation]:
    """Every authorisation covering ``asset``, revoked and expired ones too, newest first (for managers)."""
    return list(
        session.scalars(
            select(TrainingAuthorisation)
            .options(*_with_people())
            .where(_covering(asset))
            .order_by(TrainingAuthorisation.granted_on.desc(), TrainingAuthorisation.id.desc())
        )
    )


def school_training_records(session: Session, school: School) -> list[TrainingAuthorisation]:
    """Every category-level authorisation within ``school``, newest first (for managers)."""
    return list(
        session.scalars(
            select(TrainingAuthorisation)
            .options(*_with_people())
            .where(
                TrainingAuthorisation.school_id == school.id, TrainingAuthorisation.category_id.is_not(None)
            )
            .order_by(TrainingAuthorisation.granted_on.desc(), TrainingAuthorisation.id.desc())
        )
    )


def get_training_authorisation(session: Session, authorisation_id: int) -> TrainingAuthorisation:
    grant = session.scalar(
        select(TrainingAuthorisation)
        .options(*_with_people())
        .where(TrainingAuthorisation.id == authorisation_id)
    )
    if grant is None:
        raise NotFound("There is no such training authorisation.")
    return grant


@dataclass(frozen=True)
class TrainingState:
    """How an authorisation reads on a page: 'Current', 'Expired' or 'Revoked'."""

    label: str
    badge: str


def training_state(grant: TrainingAuthorisation, today: dt.date) -> TrainingState:
    if grant.revoked_at is not None:
        return TrainingState("Revoked", "cancelled")
    if grant.expires_on is not None and grant.expires_on < today:
        return TrainingState("Expired", "no_show")
    return TrainingState("Current", "available")
