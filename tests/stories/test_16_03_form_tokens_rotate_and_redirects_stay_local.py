"""Story 16.3: the form token changes at sign-in and sign-out, and forms only send people on to
pages of this site.

A form token seen before Tom Whitfield signs in (on a shared computer, or planted by someone who
fixed his session) is no use once he is signed in, nor one from his signed-in session after he
signs out. A link that makes him cancel a booking, or sign in, with a "next" address elsewhere
leaves him on Kitshare.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from accounts.models import User
from bookings.models import Booking, BookingStatus
from core.db import utcnow
from inventory.models import Asset
from tests.factories import make_booking
from tests.stories.web_client import WebClient

FOREIGN = [
    "https://evil.example/phish",
    "//evil.example/phish",
    "/\\evil.example/phish",
    "javascript:alert(1)",
]


def test_a_form_token_from_before_sign_in_or_sign_out_is_refused_after_it(demo):
    tom = WebClient(demo.url)
    before = tom.get("/sign-in").csrf_token()
    assert (
        tom.post(
            "/sign-in",
            {"csrf_token": before, "email": demo.email("tom.whitfield"), "password": demo.password},
        ).status
        == 302
    )

    stale = tom.post("/profile/calendar-token/reset", {"csrf_token": before})
    assert stale.status == 400 and "The form has expired" in stale.text
    signed_in = tom.get("/profile").csrf_token()
    assert tom.post("/profile/calendar-token/reset", {"csrf_token": signed_in}).status == 302

    assert tom.post("/sign-out", {"csrf_token": signed_in}).status == 302
    after = tom.post(
        "/sign-in", {"csrf_token": signed_in, "email": demo.email("tom.whitfield"), "password": demo.password}
    )
    assert after.status == 400 and "The form has expired" in after.text
    assert tom.sign_in(demo.email("tom.whitfield"), demo.password).status == 302


def test_cancelling_a_booking_never_sends_the_person_to_another_site(demo):
    with demo.session() as session:
        tom = session.scalars(select(User).where(User.email == demo.email("tom.whitfield"))).one()
        asset = session.scalars(
            select(Asset).where(Asset.school_id == tom.home_school_id).order_by(Asset.id)
        ).first()
        start = (utcnow() + dt.timedelta(days=400)).replace(hour=10, minute=0, second=0, microsecond=0)
        bookings = [
            make_booking(session, asset, tom, start + dt.timedelta(days=i)).id
            for i in range(len(FOREIGN) + 1)
        ]

    client = WebClient(demo.url)
    client.sign_in(demo.email("tom.whitfield"), demo.password)
    for booking_id, target in zip(bookings, FOREIGN):
        token = client.get(f"/bookings/{booking_id}").csrf_token()
        answer = client.post(
            f"/bookings/{booking_id}/cancel", {"csrf_token": token, "reason": "", "next": target}
        )
        assert answer.status == 302 and answer.location == "/bookings", (target, answer.location)
    # A path on this site is still followed.
    token = client.get(f"/bookings/{bookings[-1]}").csrf_token()
    answer = client.post(
        f"/bookings/{bookings[-1]}/cancel", {"csrf_token": token, "reason": "", "next": "/assets"}
    )
    assert answer.status == 302 and answer.location == "/assets"
    with demo.session() as session:
        statuses = session.scalars(select(Booking.status).where(Booking.id.in_(bookings))).all()
        assert statuses == [BookingStatus.CANCELLED] * len(bookings)


def test_sign_in_follows_only_a_next_address_on_this_site(demo):
    for target in FOREIGN:
        client = WebClient(demo.url)
        token = client.get("/sign-in").csrf_token()
        answer = client.post(
            "/sign-in?next=" + target.replace("/", "%2F").replace("\\", "%5C").replace(":", "%3A"),
            {"csrf_token": token, "email": demo.email("tom.whitfield"), "password": demo.password},
        )
        assert answer.status == 302 and answer.location == "/", (target, answer.location)
