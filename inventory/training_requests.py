"""Training requests: a person asks to be trained on equipment that needs it; its School decides.

Someone who lacks training for an asset learns it before they try to book (``training_need``)
and may ask for it (``request_training``): the managers of the asset's owning School are told,
and see the open requests on the asset's and the School's training pages. Granting one
(``grant_training_request``) records the authorisation through ``training.grant_training``, for the
asset or its category within the School; any authorisation that covers an open request, however
it was granted, closes that request and tells the person (``close_requests_covered_by``).
Declining says why (``decline_training_request``). One open request per person per asset.

Requesting, granting and declining are commands (``core/db.py``): each opens its own unit of
work. Notices go through ``notifications.service.notify`` (the generic channel, below inventory),
inside that unit, so they exist exactly when the change does. ``close_requests_covered_by`` is a
step of ``training.grant_training``, not a command.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from sqlalchemy import and_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, joinedload

from accounts.models import User
from accounts.permissions import require_school_manager
from core.config import site_url
from core.db import atomic, utcnow
from core.errors import InvalidInput, NotFound
from core.timeutil import format_day, local_today, to_local
from inventory.models import (
    Asset,
    School,
    TrainingAuthorisation,
    TrainingRequest,
    TrainingRequestStatus,
)
from inventory.service import asset_technicians, school_managers_of
from inventory.training import grant_training, has_current_training
from notifications.service import notify

#: The longest message a person may send with a request.
MAX_MESSAGE = 1000
#: Scopes a manager may grant from a request: the asset, or its category within its School.
SCOPES = ("asset", "category")


@dataclass(frozen=True)
class TrainingNeed:
    """A person needs training they lack before they may book an asset: what they asked so far."""

    open_request: TrainingRequest | None
    last_declined: TrainingRequest | None
    #: The people who look after the asset, whom a request reaches beside the School's managers.
    technicians: list[User] = field(default_factory=list)


def _base_url(base_url: str | None) -> str:
    return (base_url or site_url()).rstrip("/")


def _with_people():
    return (
        joinedload(TrainingRequest.user).joinedload(User.home_school),
        joinedload(TrainingRequest.asset).joinedload(Asset.category),
        joinedload(TrainingRequest.asset).joinedload(Asset.school),
    )


def _open_request(session: Session, user: User, asset: Asset) -> TrainingRequest | None:
    return session.scalar(
        select(TrainingRequest).where(
            TrainingRequest.user_id == user.id,
            TrainingRequest.asset_id == asset.id,
            TrainingRequest.status == TrainingRequestStatus.OPEN,
        )
    )


def training_need(
    session: Session, user: User, asset: Asset, today: dt.date | None = None
) -> TrainingNeed | None:
    """None when ``user`` may book ``asset`` as far as training goes (it needs none, or they hold
    current training for it); otherwise their open request, if any, and the last declined one."""
    today = today or local_today()
    if not asset.training_required or has_current_training(session, user, asset, today):
        return None
    open_request = _open_request(session, user, asset)
    last_declined = None
    if open_request is None:
        last_declined = session.scalar(
            select(TrainingRequest)
            .where(
                TrainingRequest.user_id == user.id,
                TrainingRequest.asset_id == asset.id,
                TrainingRequest.status == TrainingRequestStatus.DECLINED,
            )
            .order_by(TrainingRequest.decided_at.desc(), TrainingRequest.id.desc())
            .limit(1)
        )
    technicians, _ = request_goes_to(session, asset, user)
    return TrainingNeed(open_request=open_request, last_declined=last_declined, technicians=technicians)


def _already_asked(request: TrainingRequest, asset: Asset) -> InvalidInput:
    return InvalidInput(
        f"You asked for training on {asset.name} on {format_day(to_local(request.created_at).date())}; "
        f"the managers of {asset.school.code} have not answered yet."
    )


def request_training(
    session: Session,
    user: User,
    asset: Asset,
    message: str = "",
    today: dt.date | None = None,
    base_url: str | None = None,
) -> tuple[TrainingRequest, int]:
    """``user`` asks to be trained on ``asset``, with an optional short message (at most
    ``MAX_MESSAGE`` characters). The request goes to the people who look after the asset (its
    contact and named technicians, who give the induction) and to every active manager of the
    owning School (who records the authorisation), each told once, in the app and by e-mail; the
    asker is never told of their own request. Returns the request and how many people were told.

    Refused: an asset that needs no training, is not bookable or retired, or is not shared with
    the person's School (training would not let them book it); a person who already holds
    current training for it; and a second request while one is open.
    """
    with atomic(session, user):
        today = today or local_today()
        message = (message or "").replace("\x00", "").strip()  # PostgreSQL text holds no NUL
        if not asset.training_required:
            raise InvalidInput(f"{asset.name} needs no training: you may book it directly.")
        if not asset.bookable or asset.status.withdrawn:
            raise InvalidInput(
                f"{asset.name} is not bookable in Kitshare, so there is no training to ask for."
            )
        if not asset.shareable and user.home_school_id != asset.school_id:
            raise InvalidInput(f"{asset.school.name} does not share {asset.name} with other Schools.")
        if has_current_training(session, user, asset, today):
            raise InvalidInput(f"You are already authorised to use {asset.name}.")
        if len(message) > MAX_MESSAGE:
            raise InvalidInput(field_errors={"message": [f"Use at most {MAX_MESSAGE} characters."]})
        existing = _open_request(session, user, asset)
        if existing is not None:
            raise _already_asked(existing, asset)
        training_request = TrainingRequest(user_id=user.id, asset_id=asset.id, message=message)
        try:
            with session.begin_nested():  # the partial unique index: one open request per person per asset
                session.add(training_request)
        except IntegrityError:
            existing = _open_request(session, user, asset)
            if existing is None:
                raise
            raise _already_asked(existing, asset) from None
        return training_request, _tell_trainers(session, training_request, user, asset, base_url)


def _tell_trainers(
    session: Session, training_request: TrainingRequest, user: User, asset: Asset, base_url: str | None
) -> int:
    """Tell the asset's technicians and the School's managers, each once (a technician who also
    manages the School is told as a manager, who can act on it)."""
    where = f"{user.name}" + (f" ({user.home_school.code})" if user.home_school else "")
    title = f"Training requested: {asset.name} ({asset.tag}), by {user.name}"
    asks = f"{where} asks to be trained on {asset.name} ({asset.tag}) so that they can book it."
    if training_request.message:
        asks += f"\nTheir message: {training_request.message}"
    base = _base_url(base_url)
    technicians, managers = request_goes_to(session, asset, user)
    told = [
        (
            manager,
            asks + "\n\nGrant or decline it on the asset's training page:",
            f"{base}/assets/{asset.id}/training#training-requests",
        )
        for manager in managers
    ] + [
        (
            technician,
            asks + f"\n\nYou look after {asset.name}: arrange the induction with them; a manager of "
            f"{asset.school.code} records the authorisation when it is done.",
            f"{base}/assets/{asset.id}",
        )
        for technician in technicians
    ]
    for person, body, link in told:
        notify(
            session,
            person,
            "training_requested",
            title,
            body,
            link,
            dedupe_key=f"training-request:{training_request.id}:{person.id}",
        )
    return len(told)


def request_goes_to(session: Session, asset: Asset, asker: User) -> tuple[list[User], list[User]]:
    """Who a training request for ``asset`` would reach: (its technicians, the School's managers)."""
    managers = [m for m in school_managers_of(session, asset.school_id) if m.id != asker.id]
    manager_ids = {m.id for m in managers}
    technicians = [
        t for t in asset_technicians(session, asset) if t.id != asker.id and t.id not in manager_ids
    ]
    return technicians, managers


def open_training_requests(
    session: Session, *, asset: Asset | None = None, school: School | None = None
) -> list[TrainingRequest]:
    """Requests waiting for a decision, oldest first: for one asset, or every asset of a School."""
    query = (
        select(TrainingRequest)
        .join(TrainingRequest.asset)
        .options(*_with_people())
        .where(TrainingRequest.status == TrainingRequestStatus.OPEN)
        .order_by(TrainingRequest.created_at, TrainingRequest.id)
    )
    if asset is not None:
        query = query.where(TrainingRequest.asset_id == asset.id)
    if school is not None:
        query = query.where(Asset.school_id == school.id)
    return list(session.scalars(query))


def get_training_request(session: Session, request_id: int) -> TrainingRequest:
    training_request = session.scalar(
        select(TrainingRequest).options(*_with_people()).where(TrainingRequest.id == request_id)
    )
    if training_request is None:
        raise NotFound("There is no such training request.")
    return training_request


def _require_open(training_request: TrainingRequest) -> None:
    if training_request.status != TrainingRequestStatus.OPEN:
        raise InvalidInput(
            f"This request was already {training_request.status.value}"
            + (f" by {training_request.decided_by.name}" if training_request.decided_by else "")
            + "."
        )


def grant_training_request(
    session: Session,
    actor: User,
    training_request: TrainingRequest,
    *,
    scope: str = "asset",
    expires_on: dt.date | None = None,
    note: str = "",
    today: dt.date | None = None,
) -> TrainingAuthorisation:
    """A manager of the asset's School grants an open request: an authorisation, trained today,
    for the asset (``scope="asset"``) or every asset of its category within its School
    (``scope="category"``), made by ``training.grant_training`` with its rules. The request (and
    any other open request the authorisation covers) is closed and the person is told."""
    with atomic(session, actor):
        asset = training_request.asset
        require_school_manager(actor, asset.school_id)
        _require_open(training_request)
        today = today or local_today()
        if scope not in SCOPES:
            raise InvalidInput(field_errors={"scope": ["Choose what to authorise from the list."]})
        if scope == "category" and asset.category is None:
            raise InvalidInput(field_errors={"scope": [f"{asset.name} has no category; authorise it alone."]})
        note = (note or "").strip() or f"Granted on {training_request.user.name}'s request."
        if scope == "asset":
            return grant_training(
                session,
                actor,
                training_request.user,
                asset=asset,
                granted_on=today,
                expires_on=expires_on,
                note=note,
                today=today,
            )
        return grant_training(
            session,
            actor,
            training_request.user,
            category=asset.category,
            school=asset.school,
            granted_on=today,
            expires_on=expires_on,
            note=note,
            today=today,
        )


def close_requests_covered_by(
    session: Session,
    actor: User,
    grant: TrainingAuthorisation,
    today: dt.date | None = None,
    now: dt.datetime | None = None,
    base_url: str | None = None,
) -> list[TrainingRequest]:
    """Open requests of the grant's holder that a current authorisation now covers are granted:
    each records the authorisation, and its requester is told they may book. Returns them."""
    today = today or local_today()
    if not grant.is_current(today):
        return []  # recorded in hindsight, already over: it lets nobody book
    covered = (
        TrainingRequest.asset_id == grant.asset_id
        if grant.asset_id is not None
        else and_(Asset.category_id == grant.category_id, Asset.school_id == grant.school_id)
    )
    requests = list(
        session.scalars(
            select(TrainingRequest)
            .join(TrainingRequest.asset)
            .options(*_with_people())
            .where(
                TrainingRequest.user_id == grant.user_id,
                TrainingRequest.status == TrainingRequestStatus.OPEN,
                covered,
            )
            .order_by(TrainingRequest.id)
        )
    )
    now = now or utcnow()
    for training_request in requests:
        asset = training_request.asset
        training_request.status = TrainingRequestStatus.GRANTED
        training_request.decided_at = now
        training_request.decided_by_id = actor.id
        training_request.authorisation = grant
        until = f" It is current until {format_day(grant.expires_on)}." if grant.expires_on else ""
        notify(
            session,
            training_request.user,
            "training_decided",
            f"Training granted: {asset.name} ({asset.tag})",
            f"{actor.name} authorised you to use {asset.name} ({asset.tag}).{until}\nYou can book it now:",
            f"{_base_url(base_url)}/assets/{asset.id}",
            dedupe_key=f"training-decision:{training_request.id}",
        )
    session.flush()
    return requests


def decline_training_request(
    session: Session,
    actor: User,
    training_request: TrainingRequest,
    reason: str = "",
    now: dt.datetime | None = None,
    base_url: str | None = None,
) -> TrainingRequest:
    """A manager of the asset's School declines an open request, saying why if they wish (at
    most 2000 characters); the person is told, and may ask again later."""
    with atomic(session, actor):
        asset = training_request.asset
        require_school_manager(actor, asset.school_id)
        _require_open(training_request)
        reason = (reason or "").replace("\x00", "").strip()
        if len(reason) > 2000:
            raise InvalidInput(field_errors={"reason": ["Use at most 2000 characters."]})
        training_request.status = TrainingRequestStatus.DECLINED
        training_request.decided_at = now or utcnow()
        training_request.decided_by_id = actor.id
        training_request.decision_reason = reason
        notify(
            session,
            training_request.user,
            "training_decided",
            f"Training request declined: {asset.name} ({asset.tag})",
            f"{actor.name} declined your request for training on {asset.name} ({asset.tag})."
            + (f"\nReason: {reason}" if reason else ""),
            f"{_base_url(base_url)}/assets/{asset.id}",
            dedupe_key=f"training-decision:{training_request.id}",
        )
        session.flush()
        return training_request
