"""Issue 14, point 12: the approval queue can be filtered, and a request approved from it.

Dr Helen Marsh manages CHEM, whose queue holds about a hundred requests in the demo. She narrows
it by asset, by the School the requests come from and by the day they are for; the oldest
request waiting comes first; she approves one from the list after one confirmation that names it,
and lands back on the list as she had filtered it.
"""

from __future__ import annotations

import re
from collections import Counter

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from accounts.models import User
from bookings import service
from bookings.models import Booking, BookingStatus
from bookings.rules import check_booking
from core.db import utcnow
from core.timeutil import to_local
from inventory.models import Asset, School
from tests.e2e.conftest import screenshot


def _waiting(session, school_code: str) -> list[Booking]:
    """CHEM's queue as the database has it: pending, not over, oldest request first."""
    return list(
        session.scalars(
            select(Booking)
            .join(Booking.asset)
            .join(Asset.school)
            .options(
                joinedload(Booking.asset), joinedload(Booking.requester), joinedload(Booking.requester_school)
            )
            .where(
                School.code == school_code, Booking.status == BookingStatus.PENDING, Booking.end_at > utcnow()
            )
            .order_by(Booking.created_at, Booking.id)
        ).unique()
    )


def _listed_ids(page) -> list[int]:
    """The requests on the page, in order, from the links to their pages ("Decide on ...", or
    "Your request" on the manager's own, which she may not decide)."""
    hrefs = page.locator("table tbody tr").evaluate_all(
        "rows => rows.map(row => [...row.querySelectorAll('a')].map(a => a.getAttribute('href'))"
        ".find(href => /^\\/bookings\\/\\d+$/.test(href)))"
    )
    return [int(href.rsplit("/", 1)[1]) for href in hrefs]


def _filter(page, **choices: str) -> None:
    page.get_by_role("link", name="Clear").click()
    for label, value in choices.items():
        field = page.get_by_label(label, exact=True)
        if label in ("From", "To"):
            field.fill(value)
        else:
            field.select_option(value=value)
    page.get_by_role("button", name="Filter").click()


def _approvable(session, booking: Booking) -> bool:
    violations, _ = check_booking(
        session,
        booking.requester,
        booking.asset,
        booking.start_at,
        booking.end_at,
        utcnow(),
        ignore_booking_id=booking.id,
        check_notice=False,
    )
    return not violations and not service.overlapping_pending(session, booking)


def test_a_manager_filters_the_queue_and_approves_one_request_from_it(demo):
    session = demo.session()
    waiting = _waiting(session, "CHEM")
    assert len(waiting) > 50  # the demo's long queue

    page = demo.page(sign_in="manager.chem")
    page.get_by_role("link", name="Approvals").first.click()
    page.wait_for_url("**/approvals")
    screenshot(page, "story-14-12-approvals")
    assert f"{len(waiting)} requests are waiting" in page.get_by_role("status").first.inner_text()
    # Oldest waiting first, a page at a time.
    assert _listed_ids(page) == [b.id for b in waiting[:25]]
    assert page.get_by_role("navigation", name="Pages of results").is_visible()
    page.get_by_role("link", name="Next page").click()
    assert _listed_ids(page) == [b.id for b in waiting[25:50]]

    # By asset: the one with the most requests waiting.
    asset_id, _ = Counter(b.asset_id for b in waiting).most_common(1)[0]
    _filter(page, Asset=str(asset_id))
    expected = [b.id for b in waiting if b.asset_id == asset_id]
    assert _listed_ids(page) == expected[:25]
    assert f"asset={asset_id}" in page.url

    # By the School the requests come from: loans asked by another School.
    loans = [b for b in waiting if b.requester_school_id not in (None, b.asset.school_id)]
    school_id, _ = Counter(b.requester_school_id for b in loans).most_common(1)[0]
    _filter(page, **{"Requesting School": str(school_id)})
    expected = [b.id for b in waiting if b.requester_school_id == school_id]
    assert _listed_ids(page) == expected[:25]
    school_name = session.get(School, school_id).name
    for row in page.locator("table tbody tr").all():
        assert f"{school_name} (loan)" in row.inner_text()

    # By day: the day with the most requests waiting.
    day, _ = Counter(to_local(b.start_at).date() for b in waiting).most_common(1)[0]
    _filter(page, From=day.isoformat(), To=day.isoformat())
    on_the_day = [b for b in waiting if to_local(b.start_at).date() == day]
    assert _listed_ids(page) == [b.id for b in on_the_day][:25]
    assert page.url.endswith(f"from={day.isoformat()}&to={day.isoformat()}")

    # Approve one of that day's requests from the list: one confirmation, naming it.
    chosen = next(b for b in on_the_day if _approvable(session, b))
    session.rollback()
    row = page.locator("table tbody tr", has=page.locator(f'a[href="/bookings/{chosen.id}"]'))
    row.get_by_role("link", name=re.compile(r"^Approve…")).click()
    heading = page.get_by_role("heading", level=1)
    assert heading.inner_text() == f"Approve {chosen.requester.name}'s request?"
    assert chosen.asset.name in page.locator("main").inner_text()
    page.get_by_role("button", name="Approve").click()

    # Back on the list as it was filtered, without the approved request.
    page.wait_for_url(re.compile(rf"/approvals\?.*from={day.isoformat()}"))
    assert (
        f"Approved {chosen.requester.name}'s booking of {chosen.asset.name}"
        in page.locator("main").inner_text()
    )
    assert chosen.id not in _listed_ids(page)
    assert _listed_ids(page) == [b.id for b in on_the_day if b.id != chosen.id][:25]
    session.rollback()
    session.expire_all()
    approved = session.get(Booking, chosen.id)
    helen = session.scalar(select(User).where(User.email == demo.email("manager.chem")))
    assert approved.status == BookingStatus.CONFIRMED and approved.decided_by_id == helen.id


def test_the_decide_links_still_open_the_request(demo):
    session = demo.session()
    oldest = _waiting(session, "CHEM")[0]
    page = demo.page(sign_in="manager.chem")
    page.goto("/approvals")
    page.get_by_role("link", name=f"Decide on {oldest.requester.name}'s request").first.click()
    page.wait_for_url(re.compile(r"/bookings/\d+$"))
    assert page.get_by_role("link", name="Approve…").is_visible()
    assert page.get_by_role("button", name="Reject").is_visible()


def test_bad_filters_are_explained_not_failed(demo):
    page = demo.page(sign_in="manager.chem")
    response = page.goto("/approvals?asset=%C2%B2&from=2026-02-30&page=999")
    assert response.status == 200
    text = page.locator("main").inner_text()
    assert "is not an asset" in text and "as a date" in text


def test_the_queue_fits_a_phone(demo):
    page = demo.page(viewport="phone", sign_in="manager.chem")
    page.goto("/approvals")
    assert page.get_by_role("link", name=re.compile(r"^Approve…")).first.is_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    screenshot(page, "story-14-12-approvals")
