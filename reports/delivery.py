"""Scheduled reports: each subscription's report for each finished period, delivered exactly once.

``deliver_due`` is the scheduler's job. For every active subscription it finds the periods
(weeks Monday to Sunday, months, quarters, in local dates) that ended before today, from the one
the subscription was made (or resumed) in, and delivers each one not yet sent.

Exactly once, however many schedulers run and wherever one dies:

* One delivery is one transaction (``atomic``): claim the (subscription, period) row, build the
  report, store its snapshot, put the e-mail with the XLSX in the outbox, mark the row SENT.
  A crash anywhere before the commit rolls all of it back, so nothing was claimed and the next
  run does it again; nothing is ever left half-done. (So CLAIMED is only ever seen inside that
  transaction; a CLAIMED row found committed is treated like a failure to retry.)
* The claim is ``INSERT ... ON CONFLICT DO NOTHING`` on the unique (subscription, period start).
  On PostgreSQL a second scheduler's insert waits for the first one's transaction and then finds
  the row, SENT, and moves on; if the first one rolled back, the second one claims it. On SQLite
  the transactions take the write lock in turn (BEGIN IMMEDIATE), with the same outcome.
* The outbox message has the dedupe key ``report:<subscription>:<period start>`` as well.
* A delivery that fails (the report or the e-mail raised) is rolled back and recorded FAILED in a
  transaction of its own, then retried by later runs, up to ``MAX_ATTEMPTS`` in all. A refusal
  that retrying cannot cure (the subscriber may no longer see those Schools, or their account
  is deactivated) is recorded FAILED at once, with the reason, and not retried. Either way the
  subscriptions page shows it, so no period is skipped silently.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from core.config import Config
from core.db import atomic, utcnow
from core.errors import NotAllowed
from core.timeutil import to_local
from notifications.service import notify
from reports.figures import Report, ReportSettings, report_scope_for, utilisation_report
from reports.models import DeliveryStatus, ReportDelivery, ReportSubscription
from reports.periods import describe_period, finished_periods
from reports.render import XLSX_CONTENT_TYPE, file_name, percent
from reports.service import store_snapshot

log = logging.getLogger("kitshare.reports")

#: Attempts at one delivery before it stays FAILED (the job runs hourly: about five hours).
MAX_ATTEMPTS = 5
EVENT = "report_delivery"


class PermanentFailure(Exception):
    """The delivery cannot succeed by trying again."""


@dataclass
class DeliveryRun:
    """What one run of ``deliver_due`` did."""

    sent: int = 0
    skipped: int = 0  # another scheduler delivered it first
    failed: int = 0


def _insert_for(session: Session) -> Any:
    if session.get_bind().dialect.name == "postgresql":
        return postgresql.insert
    return sqlite.insert


#: More lines for one subscriber's e-mail: (session, subscriber, the subscription's School ids,
#: now) -> lines. The scheduler passes planning's forecast (``planning.service.forecast_appendix``):
#: reports sits below planning, so it is handed the appendix rather than importing it.
Appendix = Callable[[Session, Any, list[int], dt.datetime], list[str]]


def deliver_due(
    session: Session,
    now: dt.datetime | None = None,
    config: Config | None = None,
    *,
    appendix: Appendix | None = None,
) -> DeliveryRun:
    """Deliver every subscription's report for every finished period not delivered yet, each
    e-mail followed by ``appendix``'s lines for its subscriber.

    Called bare, like every command (``core/db.py``); as a batch job it owns one unit of work
    per delivery, so it refuses to run inside a caller's unit.
    """
    if session.info.get("atomic_depth"):
        raise RuntimeError("deliver_due commits once per delivery; do not call it inside atomic().")
    now = now or utcnow()
    config = config or Config()
    settings = ReportSettings.from_config(config)
    base_url = config.base_url
    today = to_local(now).date()
    subscriptions = [
        (subscription.id, subscription.frequency, to_local(subscription.created_at).date())
        for subscription in session.scalars(
            select(ReportSubscription).where(ReportSubscription.active.is_(True))
        )
    ]
    finished = {
        (delivery.subscription_id, delivery.period_start): delivery
        for delivery in session.scalars(
            select(ReportDelivery).where(
                ReportDelivery.subscription_id.in_([sid for sid, _, _ in subscriptions])
            )
        )
        if delivery.status == DeliveryStatus.SENT or delivery.attempts >= MAX_ATTEMPTS
    }
    session.rollback()  # end the read; each delivery is a transaction of its own
    run = DeliveryRun()
    # Subscribers to the same Schools and period get the same report: build it once per run.
    reports: dict[tuple[Any, ...], Report] = {}
    for subscription_id, frequency, since in subscriptions:
        for period_start, period_end in finished_periods(frequency, since, today):
            if (subscription_id, period_start) in finished:
                continue
            try:
                if deliver(
                    session,
                    subscription_id,
                    period_start,
                    period_end,
                    now,
                    settings,
                    base_url,
                    reports,
                    appendix=appendix,
                ):
                    run.sent += 1
                else:
                    run.skipped += 1
            except Exception as error:  # noqa: BLE001 - recorded and retried; one bad report must not stop the rest
                run.failed += 1
                log.exception("report delivery %s for %s failed", subscription_id, period_start)
                record_failure(session, subscription_id, period_start, period_end, now, error)
    if run.sent or run.failed:
        log.info("report deliveries: %d sent, %d skipped, %d failed", run.sent, run.skipped, run.failed)
    return run


def claim(
    session: Session, subscription_id: int, period_start: dt.date, period_end: dt.date, now: dt.datetime
) -> ReportDelivery | None:
    """Take the (subscription, period) delivery for this transaction, or None if it is sent (or
    has failed for good). Call it inside ``atomic``: the claim lasts as long as the transaction."""
    insert = _insert_for(session)
    new_id = session.execute(
        insert(ReportDelivery)
        .values(
            subscription_id=subscription_id,
            period_start=period_start,
            period_end=period_end,
            status=DeliveryStatus.CLAIMED,
            claimed_at=now,
            attempts=1,
            last_error="",
        )
        .on_conflict_do_nothing(index_elements=["subscription_id", "period_start"])
        .returning(ReportDelivery.id)
    ).scalar()
    if new_id is not None:
        return session.get(ReportDelivery, new_id)
    existing = session.scalars(
        select(ReportDelivery)
        .where(ReportDelivery.subscription_id == subscription_id, ReportDelivery.period_start == period_start)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one()
    if existing.status == DeliveryStatus.SENT or existing.attempts >= MAX_ATTEMPTS:
        return None
    # A failed attempt (or a claim committed by an older, two-step run): try again.
    existing.status = DeliveryStatus.CLAIMED
    existing.claimed_at = now
    existing.attempts += 1
    return existing


def deliver(
    session: Session,
    subscription_id: int,
    period_start: dt.date,
    period_end: dt.date,
    now: dt.datetime,
    settings: ReportSettings,
    base_url: str,
    reports: dict[tuple[Any, ...], Report] | None = None,
    *,
    appendix: Appendix | None = None,
) -> bool:
    """Deliver one subscription's report for one period, in one transaction. Returns False if
    it was already delivered (or the subscription is gone or paused). ``reports`` keeps the
    reports built so far in this run, by Schools and period, to reuse."""
    with atomic(session):
        subscription = session.get(ReportSubscription, subscription_id, populate_existing=True)
        if subscription is None or not subscription.active:
            return False
        delivery = claim(session, subscription_id, period_start, period_end, now)
        if delivery is None:
            return False
        user = subscription.user
        if not user.active:
            raise PermanentFailure(f"{user.email}'s account is deactivated.")
        try:
            scope = report_scope_for(user, subscription.school_ids)
        except NotAllowed as refused:
            raise PermanentFailure(
                f"{user.email} may no longer see this report: {refused.message}"
            ) from refused
        key = (tuple(sorted(scope)) if scope is not None else None, period_start, period_end)
        report = (reports or {}).get(key) or utilisation_report(
            session, period_start, period_end, scope, settings, now=now
        )
        if reports is not None:
            reports[key] = report
        snapshot = store_snapshot(session, report, user)
        figures = snapshot.figures
        link = f"{base_url}/reports/snapshots/{snapshot.id}"
        title = f"{subscription.frequency.value.capitalize()} utilisation report, {describe_period(period_start, period_end)}"
        body = _body(figures, subscription.frequency.value, link, base_url)
        extra = appendix(session, user, list(subscription.school_ids or []), now) if appendix else []
        if extra:  # e.g. the capital-planning forecast, for those who may see it (the scheduler's)
            body += "\n\n" + "\n".join(extra)
        _enqueue(
            session,
            user,
            title,
            body,
            link,
            figures,
            snapshot.xlsx or b"",
            f"report:{subscription_id}:{period_start.isoformat()}",
        )
        delivery.status = DeliveryStatus.SENT
        delivery.sent_at = now
        delivery.snapshot_id = snapshot.id
        delivery.last_error = ""
    return True


def _enqueue(
    session: Session,
    user: Any,
    title: str,
    body: str,
    link: str,
    figures: dict[str, Any],
    xlsx: bytes,
    dedupe_key: str,
) -> None:
    """Tell the subscriber through the generic channel: the notice, and the e-mail with the XLSX
    (named for the outbox it fills: tests stand in for it to fail a delivery at this point)."""
    notify(
        session,
        user,
        EVENT,
        title,
        body,
        link,
        dedupe_key=dedupe_key,
        attachment=(file_name(figures, "xlsx"), XLSX_CONTENT_TYPE, xlsx),
    )


def _body(figures: dict[str, Any], frequency: str, link: str, base_url: str) -> str:
    totals = figures["totals"]
    return "\n".join(
        [
            f"Your {frequency} utilisation report for {figures['scope']['label']} is attached as a spreadsheet.",
            "",
            f"Period: {figures['period']['from']} to {figures['period']['to']}",
            f"Assets: {totals['assets']}",
            f"Booked: {totals['booked_hours']:,.1f} of {totals['available_hours']:,.1f} available hours "
            f"(utilisation {percent(totals['utilisation'])})",
            f"Idle assets: {len(figures['idle'])}. Saturated assets: {len(figures['saturated'])}.",
            *(
                [
                    f"Bookings outside the bookable hours in force on their days: {totals['outside_hours_bookings']:,}."
                ]
                if totals.get("outside_hours_bookings")
                else []
            ),
            "",
            f"The report as it was sent, with what every figure means: {link}",
            f"Your report subscriptions: {base_url}/reports/subscriptions",
        ]
    )


def record_failure(
    session: Session,
    subscription_id: int,
    period_start: dt.date,
    period_end: dt.date,
    now: dt.datetime,
    error: BaseException,
) -> None:
    """Record a failed delivery (its own transaction), never over one another run has sent."""
    permanent = isinstance(error, PermanentFailure)
    message = (str(error) if permanent else f"{type(error).__name__}: {error}")[:2000]
    insert = _insert_for(session)
    statement = insert(ReportDelivery).values(
        subscription_id=subscription_id,
        period_start=period_start,
        period_end=period_end,
        status=DeliveryStatus.FAILED,
        claimed_at=now,
        attempts=MAX_ATTEMPTS if permanent else 1,
        last_error=message,
    )
    table = ReportDelivery.__table__
    statement = statement.on_conflict_do_update(
        index_elements=["subscription_id", "period_start"],
        set_={
            "status": DeliveryStatus.FAILED,
            "attempts": MAX_ATTEMPTS if permanent else table.c.attempts + 1,
            "last_error": message,
        },
        where=table.c.status != DeliveryStatus.SENT,
    )
    try:
        with atomic(session):
            session.execute(statement)
    except Exception:  # noqa: BLE001 - the next run retries the delivery anyway
        log.exception("could not record the failed delivery %s for %s", subscription_id, period_start)
