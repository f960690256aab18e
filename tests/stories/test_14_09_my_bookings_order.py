"""Issue 14, point 9: on My bookings a new request comes first, not below ~75 confirmed rows.

Tom Whitfield (a CHEM technician in the demo) holds dozens of confirmed bookings. He asks for
another School's equipment; on /bookings his requests waiting for approval come first, then his
upcoming bookings, then the past ones, each under its own heading, the long lists a page at a
time; and the home page's "waiting for approval" item opens the request itself.
"""

from __future__ import annotations

import datetime as dt
import re

from sqlalchemy import func, select

from accounts.models import User
from bookings.models import ACTIVE_STATUSES, Booking, BookingStatus
from bookings.rules import check_booking, next_free_slots
from core.db import utcnow
from core.timeutil import to_local
from inventory.models import Asset, AssetStatus, School


def _tom(session) -> User:
    from tests.stories.conftest import _demo_email

    return session.scalar(select(User).where(User.email == _demo_email("tom.whitfield")))


def _another_schools_free_hour(session, tom: User) -> tuple[Asset, dt.datetime, dt.datetime]:
    """An asset of another School Tom may ask for, and an hour it is free a few days ahead."""
    now = utcnow()
    candidates = session.scalars(
        select(Asset)
        .join(Asset.school)
        .where(
            Asset.school_id != tom.home_school_id,
            Asset.shareable.is_(True),
            Asset.bookable.is_(True),
            Asset.status == AssetStatus.AVAILABLE,
            Asset.training_required.is_(False),
            Asset.portable.is_(False),
        )
        .order_by(School.code, Asset.tag)
    ).all()
    for asset in candidates:
        for slot in next_free_slots(
            session, asset, dt.timedelta(hours=1), now + dt.timedelta(days=3), now, count=3
        ):
            violations, _ = check_booking(session, tom, asset, slot.start_at, slot.end_at, now)
            if not violations:
                return asset, slot.start_at, slot.end_at
    raise AssertionError("the demo has no free shareable equipment of another School")


def _wall(moment: dt.datetime) -> str:
    return to_local(moment).strftime("%Y-%m-%dT%H:%M")


def test_a_new_request_comes_first_on_my_bookings_and_the_home_page_links_to_it(demo):
    session = demo.session()
    tom = _tom(session)
    upcoming_count = session.scalar(
        select(func.count())
        .select_from(Booking)
        .where(Booking.requester_id == tom.id, Booking.status.in_(ACTIVE_STATUSES), Booking.end_at > utcnow())
    )
    assert upcoming_count >= 50, "the story needs a technician with many confirmed bookings"
    asset, start_at, end_at = _another_schools_free_hour(session, tom)
    session.rollback()

    # Tom asks for another School's asset: a request that waits for its managers.
    page = demo.page(sign_in="tom.whitfield")
    page.goto(f"/assets/{asset.id}/book")
    page.get_by_label("Start").fill(_wall(start_at))
    page.get_by_label("End").fill(_wall(end_at))
    page.get_by_label("What is it for?").fill("Calibration run for the thesis chapter")
    page.get_by_role("button", name="Request booking").click()
    page.wait_for_url(re.compile(r"/bookings/\d+$"))
    booking_id = int(page.url.rsplit("/", 1)[1])
    session.rollback()
    session.expire_all()
    assert session.get(Booking, booking_id).status == BookingStatus.PENDING

    # My bookings: requests first, then upcoming, then past, each under its heading.
    page.get_by_role("navigation", name="Main").get_by_role("link", name="My bookings").click()
    page.wait_for_url(re.compile(r"/bookings$"))
    main = page.locator("main")
    headings = main.locator("h2").all_inner_texts()
    order = [
        next(i for i, h in enumerate(headings) if h.startswith(word))
        for word in ("Waiting", "Upcoming", "Past")
    ]
    assert order == sorted(order), headings
    pending = main.locator(
        "section", has=page.get_by_role("heading", name=re.compile("^Waiting for approval"))
    )
    new_request = pending.locator(f"a[href$='/bookings/{booking_id}']")
    assert new_request.count() == 1
    # It is on the screen as the page opens: no scrolling past dozens of confirmed rows.
    box = new_request.bounding_box()
    assert box is not None and box["y"] < page.viewport_size["height"] * 3

    # The upcoming bookings come a page at a time; the next page keeps the requests first.
    upcoming = main.locator("section", has=page.get_by_role("heading", name=re.compile("^Upcoming")))
    first_page_rows = upcoming.locator("tbody tr").count()
    assert 0 < first_page_rows < upcoming_count
    first_page_links = upcoming.locator("tbody a").evaluate_all(
        "links => links.map(a => a.getAttribute('href'))"
    )
    upcoming.get_by_role("link", name=re.compile("^Next")).click()
    page.wait_for_url(re.compile(r"/bookings\?(.*&)?page=2"))
    upcoming = page.locator("main section", has=page.get_by_role("heading", name=re.compile("^Upcoming")))
    second_page_links = upcoming.locator("tbody a").evaluate_all(
        "links => links.map(a => a.getAttribute('href'))"
    )
    assert second_page_links and not set(second_page_links) & set(first_page_links)
    assert page.locator("main h2").first.inner_text().startswith("Waiting for approval")
    assert page.locator(f"main a[href$='/bookings/{booking_id}']").count() == 1

    # The past is paged on its own, keeping the page of upcoming bookings in the address.
    past = page.locator("main section", has=page.get_by_role("heading", name=re.compile("^Past")))
    past.get_by_role("link", name=re.compile("^Next")).click()
    page.wait_for_url(re.compile(r"past_page=2"))
    assert "page=2" in page.url.replace("past_page=2", "")
    past = page.locator("main section", has=page.get_by_role("heading", name=re.compile("^Past")))
    assert past.locator("tbody tr").count() > 0

    # Home: the request waiting for approval links to its own page.
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Home").click()
    waiting = page.locator("main section", has=page.get_by_role("heading", name="Your next bookings"))
    link = waiting.locator(f"a[href$='/bookings/{booking_id}']")
    assert link.count() == 1
    link.click()
    page.wait_for_url(re.compile(rf"/bookings/{booking_id}$"))
    assert (
        asset.name in page.locator("main h1").inner_text() or asset.name in page.locator("main").inner_text()
    )
