"""The demo's training: who holds an authorisation for kit that needs training (everyone who
booked it), for a whole category, expiring, expired or revoked.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Sequence
from dataclasses import dataclass

from accounts.models import User
from bookings.models import Booking
from core.timeutil import to_local
from demo.world import TEXTS, Kit, People
from inventory.models import Asset, AssetStatus, TrainingAuthorisation

# --- Training -------------------------------------------------------------------------------------

TRAINED_MEMBERS_SHARE = (0.3, 0.6)  # of the owning School's people
TRAINED_OUTSIDERS = (1, 2)  # people of other Schools trained on a shared asset
TRAINED_BEFORE_FIRST_BOOKING_DAYS = (3, 60)
TRAINED_LONG_AGO_DAYS = (30, 700)  # for people who have not booked it, or trained for a category
TWO_YEARS = dt.timedelta(days=730)
EXPIRING_SHARE = 0.35  # of authorisations, which last two years
CATEGORY_GRANTS = 5  # (School, category) pairs whose people are trained for the whole category
CATEGORY_TRAINED_PEOPLE = (1, 2)  # for each pair
EXPIRED_COUNT = 5
EXPIRED_DAYS_AGO = (3, 120)
REVOKED_DAYS_AGO = (3, 60)
TRAINING_NOTES = TEXTS["training_notes"]
CATEGORY_TRAINING_NOTE = "Trained for every instrument of the School in the category {category}."
REVOKE_REASONS = TEXTS["revoke_reasons"]  # one authorisation revoked for each


def draw_category_training(
    rng: random.Random, register: list[tuple[Kit, Asset]], people: People, launched_at: dt.datetime
) -> list[TrainingAuthorisation]:
    """A few (School, category) pairs of kit that needs training, whose people (one or two each)
    were trained for every such instrument of the School long before the demo went live."""
    launched_on = to_local(launched_at).date()
    scopes = sorted(
        {
            (asset.school_id, asset.category.id): asset.category.name
            for _, asset in register
            if needs_training(asset)
        }.items()
    )
    grants = []
    for (school_id, category_id), category in rng.sample(scopes, min(CATEGORY_GRANTS, len(scopes))):
        for user in rng.sample(people.members[school_id], rng.randint(*CATEGORY_TRAINED_PEOPLE)):
            grants.append(
                TrainingAuthorisation(
                    user_id=user.id,
                    school_id=school_id,
                    asset_id=None,
                    category_id=category_id,
                    granted_on=launched_on - dt.timedelta(days=rng.randint(*TRAINED_LONG_AGO_DAYS)),
                    expires_on=None,
                    granted_by_id=rng.choice(people.managers[school_id]).id,
                    note=CATEGORY_TRAINING_NOTE.format(category=category),
                )
            )
    return grants


def needs_training(asset: Asset) -> bool:
    return asset.training_required and asset.status != AssetStatus.RETIRED


def draw_trained_people(
    rng: random.Random, asset: Asset, people: People, category_grants: Sequence[TrainingAuthorisation]
) -> list[User]:
    """The people trained on an asset that needs training, the only ones who book it: 30-60% of
    the owning School's people and, for shared kit, a person or two from other Schools; and those
    trained for its whole category in the School."""
    members = people.members[asset.school_id]
    trained = rng.sample(members, max(1, round(len(members) * rng.uniform(*TRAINED_MEMBERS_SHARE))))
    if asset.shareable:
        trained += rng.sample(people.outsiders(asset.school_id), rng.randint(*TRAINED_OUTSIDERS))
    by_category = {
        grant.user_id
        for grant in category_grants
        if (grant.school_id, grant.category_id) == (asset.school_id, asset.category.id)
    }
    trained += [user for user in members if user.id in by_category]
    return list(dict.fromkeys(trained))


@dataclass(frozen=True)
class _Use:
    """Someone's use of an asset that needs training: their first request, and the last day they
    have it booked."""

    first_asked_on: dt.date
    last_booked_on: dt.date


def draw_training(
    rng: random.Random,
    register: list[tuple[Kit, Asset]],
    trained_of: dict[str, list[User]],
    bookings_of: dict[str, list[Booking]],
    category_grants: Sequence[TrainingAuthorisation],
    people: People,
    now: dt.datetime,
) -> list[tuple[Asset | None, TrainingAuthorisation]]:
    """Every training authorisation, with its asset (None for a category's), granted by a manager
    of the asset's School: the category ones, then one for each person trained on an asset who is
    not trained for its whole category.

    Whoever asked to book such an asset was trained before their first request and is still
    authorised on the last day they have it booked, as the booking rules require. Of the people
    trained who never booked it, a few authorisations have expired and a couple were revoked.
    """
    today = to_local(now).date()
    grants: list[tuple[Asset | None, TrainingAuthorisation]] = [(None, grant) for grant in category_grants]
    never_booked: list[tuple[Asset, TrainingAuthorisation]] = []
    for _, asset in register:
        if not needs_training(asset):
            continue
        uses: dict[int, _Use] = {}
        for booking in sorted(bookings_of[asset.tag], key=lambda booking: booking.created_at):
            use = uses.get(booking.requester_id)
            asked_on, booked_on = to_local(booking.created_at).date(), to_local(booking.start_at).date()
            uses[booking.requester_id] = _Use(
                use.first_asked_on if use else asked_on,
                max(use.last_booked_on, booked_on) if use else booked_on,
            )
        for user in trained_of[asset.tag]:
            if any(_covers(grant, None, asset, user, today) for grant in category_grants):
                continue
            use = uses.get(user.id)
            if use is not None:
                granted_on = use.first_asked_on - dt.timedelta(
                    days=rng.randint(*TRAINED_BEFORE_FIRST_BOOKING_DAYS)
                )
                expires_on = granted_on + TWO_YEARS if rng.random() < EXPIRING_SHARE else None
                if expires_on is not None and expires_on < use.last_booked_on:
                    expires_on = None
            else:
                granted_on = today - dt.timedelta(days=rng.randint(*TRAINED_LONG_AGO_DAYS))
                expires_on = granted_on + TWO_YEARS if rng.random() < EXPIRING_SHARE else None
            grant = TrainingAuthorisation(
                user_id=user.id,
                school_id=asset.school_id,
                asset_id=asset.id,
                category_id=None,
                granted_on=granted_on,
                expires_on=expires_on,
                granted_by_id=rng.choice(people.managers[asset.school_id]).id,
                note=rng.choice(TRAINING_NOTES),
                # Rows that name the same columns can be inserted in one batch: name them all, always.
                revoked_at=None,
                revoked_by_id=None,
                revoke_reason="",
            )
            grants.append((asset, grant))
            if use is None:
                never_booked.append((asset, grant))

    lapsed = rng.sample(never_booked, min(EXPIRED_COUNT + len(REVOKE_REASONS), len(never_booked)))
    expired, revoked = lapsed[:EXPIRED_COUNT], lapsed[EXPIRED_COUNT:]
    for _, grant in expired:
        grant.expires_on = today - dt.timedelta(days=rng.randint(*EXPIRED_DAYS_AGO))
        grant.granted_on = grant.expires_on - TWO_YEARS
    for (asset, grant), reason in zip(revoked, REVOKE_REASONS[: len(revoked)], strict=True):
        revoked_at = now - dt.timedelta(days=rng.randint(*REVOKED_DAYS_AGO), minutes=rng.randrange(0, 600, 5))
        grant.granted_on = min(
            grant.granted_on, to_local(revoked_at).date() - dt.timedelta(days=TRAINED_LONG_AGO_DAYS[0])
        )
        grant.expires_on = None
        grant.revoked_at = revoked_at
        grant.revoked_by_id = rng.choice(people.managers[asset.school_id]).id
        grant.revoke_reason = reason
    return grants


def _covers(
    grant: TrainingAuthorisation, scope: Asset | None, asset: Asset, user: User, day: dt.date
) -> bool:
    """Whether ``grant`` (for the asset ``scope``, or its category when None) lets ``user`` use
    ``asset`` on ``day``."""
    if grant.user_id != user.id or grant.granted_on > day:
        return False
    if grant.revoked_at is not None and to_local(grant.revoked_at).date() <= day:
        return False
    if grant.expires_on is not None and grant.expires_on < day:
        return False
    if scope is not None:
        return scope is asset
    return grant.category_id == asset.category.id and grant.school_id == asset.school_id


def is_trained(
    grants: Sequence[tuple[Asset | None, TrainingAuthorisation]], asset: Asset, user: User, day: dt.date
) -> bool:
    return not asset.training_required or any(
        _covers(grant, scope, asset, user, day) for scope, grant in grants
    )
