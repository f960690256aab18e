"""Issue 14, point 11: nobody decides their own request.

A manager who asks for her own School's equipment that needs approval waits like anyone else:
another manager of the School, or an admin, approves or rejects it. Her pages offer her no way to
decide it and say who can; the API answers her own token's approve or reject with 403.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import urllib.error
import urllib.request

from sqlalchemy import select

from accounts.models import User
from accounts.service import create_api_token
from bookings.models import Booking, BookingStatus
from bookings.rules import check_booking, next_free_slots
from core.db import utcnow
from core.timeutil import to_local
from inventory.models import Asset, AssetStatus, School


def _user(session, name: str, demo) -> User:
    return session.scalar(select(User).where(User.email == demo.email(name)))


def _bookable_slot(session, requester: User, school_code: str) -> tuple[Asset, dt.datetime, dt.datetime]:
    """An asset of the School that needs approval, and a free hour the requester may book."""
    now = utcnow()
    assets = session.scalars(
        select(Asset)
        .join(Asset.school)
        .where(
            School.code == school_code,
            Asset.requires_approval.is_(True),
            Asset.bookable.is_(True),
            Asset.status == AssetStatus.AVAILABLE,
        )
        .order_by(Asset.id)
    )
    for asset in assets:
        for slot in next_free_slots(
            session, asset, dt.timedelta(hours=1), now + dt.timedelta(days=3), now, count=3
        ):
            violations, _ = check_booking(session, requester, asset, slot.start_at, slot.end_at, now)
            if not violations:
                return asset, slot.start_at, slot.end_at
    raise AssertionError(f"No {school_code} asset needing approval has a free hour its manager may book")


def _wall(moment: dt.datetime) -> str:
    return to_local(moment).strftime("%Y-%m-%dT%H:%M")


def _request_through_the_page(demo, who: str, school_code: str):
    """``who`` books an asset of ``school_code`` that needs approval, through the booking form."""
    session = demo.session()
    requester = _user(session, who, demo)
    asset, start_at, end_at = _bookable_slot(session, requester, school_code)
    session.rollback()
    page = demo.page(sign_in=who)
    page.goto(f"/assets/{asset.id}/book")
    page.get_by_label("Start").fill(_wall(start_at))
    page.get_by_label("End").fill(_wall(end_at))
    page.get_by_label("What is it for?").fill("Calibration run for my own group")
    page.get_by_role("button", name="Book").click()
    page.wait_for_url(re.compile(r"/bookings/\d+$"))
    booking_id = int(page.url.rsplit("/", 1)[1])
    session.rollback()
    session.expire_all()
    booking = session.get(Booking, booking_id)
    assert booking.status == BookingStatus.PENDING and booking.requester_id == requester.id
    return page, session, booking_id


def _api_post(demo, token: str, path: str, body: dict) -> tuple[int, str, dict]:
    request = urllib.request.Request(
        demo.url + path,
        data=json.dumps(body).encode(),
        method="POST",
        headers={
            "Authorization": f"Bearer {token}",
            "Content-Type": "application/json",
            "Accept": "application/json",
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.headers["Content-Type"], json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, error.headers["Content-Type"], json.loads(error.read())


def test_a_manager_cannot_decide_her_own_request_and_another_manager_does(demo):
    # Dr Ruth Campbell manages BIOS (with Ngozi Eze) and asks for BIOS kit that needs approval.
    page, session, booking_id = _request_through_the_page(demo, "manager.bios", "BIOS")

    # Her booking's page offers no decision, and says who decides.
    assert page.get_by_role("link", name="Approve…").count() == 0
    assert page.get_by_role("button", name="Reject").count() == 0
    decide = page.locator("section", has=page.get_by_role("heading", name="Who decides"))
    assert "Nobody decides their own request" in decide.inner_text()
    assert "Ngozi Eze" in decide.inner_text()

    # In the approval queue her request has no Approve or Decide link either. The queue shows
    # the oldest request first, 25 to a page; the demo's busiest assets fill a page on their
    # own, so she narrows it to the asset and the day, as she would to find it.
    booking = session.get(Booking, booking_id)
    day = to_local(booking.start_at).date().isoformat()
    page.goto(f"/approvals?asset={booking.asset_id}&from={day}&to={day}")
    row = page.locator("tr", has=page.locator(f'a[href="/bookings/{booking_id}"]'))
    assert row.count() == 1
    assert row.get_by_role("link", name=re.compile("^(Approve|Decide)")).count() == 0
    assert "Ngozi Eze" in row.inner_text()

    # The approval page itself refuses her.
    response = page.goto(f"/bookings/{booking_id}/approve")
    assert response.status == 403
    assert "Nobody decides their own request" in page.locator("main").inner_text()

    # Her own API token cannot approve or reject it: a 403 problem document.
    requester = _user(session, "manager.bios", demo)
    _, token = create_api_token(session, requester, name="Story token")
    session.commit()
    for action, body in (("approve", {}), ("reject", {"reason": "Changed my mind"})):
        status, content_type, problem = _api_post(
            demo, token, f"/api/v1/bookings/{booking_id}/{action}", body
        )
        assert status == 403, problem
        assert content_type.startswith("application/problem+json")
        assert problem["type"].endswith("/forbidden") and problem["status"] == 403
        assert "Nobody decides their own request" in problem["detail"]
    session.rollback()
    session.expire_all()
    assert session.get(Booking, booking_id).status == BookingStatus.PENDING

    # Ngozi Eze, the other BIOS manager, approves it from its page.
    other = demo.page(sign_in="ngozi.eze")
    other.goto(f"/bookings/{booking_id}")
    other.get_by_role("link", name="Approve…").click()
    other.get_by_role("button", name="Approve").click()
    other.wait_for_url(re.compile(r"/approvals"))
    session.rollback()
    session.expire_all()
    booking = session.get(Booking, booking_id)
    assert booking.status == BookingStatus.CONFIRMED
    assert booking.decided_by_id == _user(session, "ngozi.eze", demo).id


def test_the_only_manager_of_a_school_waits_for_an_admin(demo):
    # Dr Helen Marsh is CHEM's only manager: an admin decides her request.
    page, session, booking_id = _request_through_the_page(demo, "manager.chem", "CHEM")
    decide = page.locator("section", has=page.get_by_role("heading", name="Who decides"))
    assert "an admin" in decide.inner_text()
    assert page.get_by_role("link", name="Approve…").count() == 0

    admin = demo.page(sign_in="admin")
    admin.goto(f"/bookings/{booking_id}")
    admin.get_by_role("link", name="Approve…").click()
    admin.get_by_role("button", name="Approve").click()
    admin.wait_for_url(re.compile(r"/approvals"))
    session.rollback()
    session.expire_all()
    booking = session.get(Booking, booking_id)
    assert booking.status == BookingStatus.CONFIRMED
    assert booking.decided_by_id == _user(session, "admin", demo).id
