"""Who may see which report, report subscriptions, and stored snapshots.

The figures themselves are in ``reports.figures``; the scheduled delivery in ``reports.delivery``.
Storing a snapshot and creating, pausing, resuming or deleting a subscription are commands
(``core/db.py``): each opens its own unit of work, so views call them bare.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from accounts.models import User
from core.db import atomic, utcnow
from core.errors import InvalidInput, NotAllowed, NotFound
from inventory.models import School
from reports.figures import Report, report_scope_for
from reports.figures_json import report_to_json
from reports.models import Frequency, ReportDelivery, ReportSnapshot, ReportSubscription
from reports.render import render_xlsx

#: How many past deliveries the subscriptions page lists for each subscription.
RECENT_DELIVERIES = 6


def may_use_reports(actor: User) -> bool:
    """Finance staff, administrators and School managers see reports; technicians do not."""
    return bool(actor.is_admin or actor.is_finance or actor.managed_school_ids)


def require_reports(actor: User) -> None:
    if not may_use_reports(actor):
        raise NotAllowed("Utilisation reports are for finance staff, administrators and School managers.")


def require_scope(actor: User, school_ids: Iterable[int] | None) -> None:
    """Raise NotAllowed unless ``actor`` may see a report of exactly these Schools (None or
    empty: every School, which only finance staff and administrators may see)."""
    wanted = set(school_ids or ())
    if not wanted:
        if not (actor.is_admin or actor.is_finance):
            raise NotAllowed("Only finance staff and administrators can see the report for every School.")
        return
    report_scope_for(actor, wanted)


def schools_for_picker(session: Session, actor: User) -> list[School]:
    """The Schools ``actor`` may choose from: all for finance and admins, else those managed."""
    require_reports(actor)
    query = select(School).order_by(School.code)
    if not (actor.is_admin or actor.is_finance):
        query = query.where(School.id.in_(actor.managed_school_ids))
    return list(session.scalars(query))


def _check_schools(session: Session, school_ids: Iterable[int]) -> list[int]:
    wanted = sorted(set(school_ids))
    if wanted:
        known = set(session.scalars(select(School.id).where(School.id.in_(wanted))))
        if set(wanted) - known:
            raise InvalidInput(field_errors={"schools": ["Choose Schools from the list."]})
    return wanted


# --- Snapshots -----------------------------------------------------------------------------------


def store_snapshot(
    session: Session, report: Report, created_by: User | None, title: str | None = None
) -> ReportSnapshot:
    """Keep a report as it is now: its figures and its XLSX, to open later unchanged. A command:
    its own unit of work (``core/db.py``), which a delivery's unit joins."""
    with atomic(session, created_by):
        figures = report_to_json(report)
        snapshot = ReportSnapshot(
            period_start=report.period_from,
            period_end=report.period_to,
            school_ids=list(report.school_ids or []),
            title=(title or f"{figures['title']} ({figures['scope']['label']})")[:250],
            figures=figures,
            xlsx=render_xlsx(figures),
            created_by_id=created_by.id if created_by else None,
            created_at=report.generated_at,
        )
        session.add(snapshot)
        session.flush()
        return snapshot


def get_snapshot(session: Session, viewer: User, snapshot_id: int) -> ReportSnapshot:
    """A stored report, for someone who may see a report of its Schools today."""
    snapshot = session.get(ReportSnapshot, snapshot_id)
    if snapshot is None:
        raise NotFound("There is no such stored report.")
    require_scope(viewer, snapshot.school_ids)
    return snapshot


# --- Subscriptions -------------------------------------------------------------------------------


def list_subscriptions(session: Session, actor: User) -> list[ReportSubscription]:
    """The actor's own subscriptions; an administrator sees everyone's."""
    require_reports(actor)
    query = (
        select(ReportSubscription)
        .options(joinedload(ReportSubscription.user))
        .order_by(ReportSubscription.id)
    )
    if not actor.is_admin:
        query = query.where(ReportSubscription.user_id == actor.id)
    return list(session.scalars(query))


def recent_deliveries(session: Session, subscription_ids: list[int]) -> dict[int, list[ReportDelivery]]:
    result: dict[int, list[ReportDelivery]] = {sid: [] for sid in subscription_ids}
    if not subscription_ids:
        return result
    for delivery in session.scalars(
        select(ReportDelivery)
        .where(ReportDelivery.subscription_id.in_(subscription_ids))
        .order_by(ReportDelivery.period_start.desc())
    ):
        if len(result[delivery.subscription_id]) < RECENT_DELIVERIES:
            result[delivery.subscription_id].append(delivery)
    return result


def create_subscription(
    session: Session, actor: User, frequency: str | None, school_ids: Iterable[int] | None
) -> ReportSubscription:
    """Subscribe ``actor`` to the report every week, month or quarter, for some Schools or (none
    chosen) every School they may see. Managers may choose only Schools they manage."""
    with atomic(session, actor):
        require_reports(actor)
        try:
            chosen = Frequency(frequency or "")
        except ValueError:
            raise InvalidInput(field_errors={"frequency": ["Choose weekly, monthly or quarterly."]}) from None
        wanted = _check_schools(session, school_ids or ())
        report_scope_for(actor, wanted)
        subscription = ReportSubscription(user_id=actor.id, frequency=chosen, school_ids=wanted, active=True)
        session.add(subscription)
        session.flush()
        return subscription


def get_subscription(session: Session, actor: User, subscription_id: int) -> ReportSubscription:
    """One's own subscription; an administrator may manage anyone's."""
    subscription = session.get(ReportSubscription, subscription_id)
    if subscription is None:
        raise NotFound("There is no such subscription.")
    if subscription.user_id != actor.id and not actor.is_admin:
        raise NotAllowed("You can manage only your own subscriptions.")
    return subscription


def set_active(session: Session, actor: User, subscription_id: int, active: bool) -> ReportSubscription:
    """Pause or resume a subscription. Periods that end while it is paused are not sent later;
    a resumed subscription starts again with the period under way."""
    with atomic(session, actor):
        subscription = get_subscription(session, actor, subscription_id)
        if subscription.active == active:
            return subscription
        subscription.active = active
        if active:
            # Deliveries start from created_at's period (reports.delivery): resuming starts afresh.
            subscription.created_at = utcnow()
        session.flush()
        return subscription


def delete_subscription(session: Session, actor: User, subscription_id: int) -> None:
    """Stop a subscription for good. Its deliveries go with it; the snapshots they made stay."""
    with atomic(session, actor):
        subscription = get_subscription(session, actor, subscription_id)
        session.delete(subscription)
        session.flush()


def describe_subscription(subscription: ReportSubscription, schools_by_id: dict[int, School]) -> str:
    if not subscription.school_ids:
        scope = "all the Schools its owner may see"
    else:
        scope = ", ".join(schools_by_id[s].code for s in subscription.school_ids if s in schools_by_id)
    return f"{subscription.frequency.value.capitalize()}, {scope}"
