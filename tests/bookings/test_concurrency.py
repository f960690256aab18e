"""No double booking gets through, however many people ask at the same moment.

A real HTTP server (werkzeug, one thread per request) serves the app; 20 clients, each signed in
as a different person, post overlapping requests for one asset at the same instant.
"""

import datetime as dt
import http.cookiejar
import threading
import urllib.error
import urllib.parse
import urllib.request

from sqlalchemy import func, select
from sqlalchemy.orm import aliased

from bookings.models import ACTIVE_STATUSES, Booking, UnmetDemand
from tests.conftest import PASSWORD
from tests.factories import make_asset, make_school, make_user

CLIENTS = 20


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def _client(base: str, email: str):
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar), NoRedirect)

    def post(path: str, data: dict) -> tuple[int, str]:
        body = urllib.parse.urlencode(data).encode()
        try:
            with opener.open(base + path, body, timeout=60) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode()

    status, _ = post("/sign-in", {"email": email, "password": PASSWORD})
    assert status == 302
    return post


def test_twenty_simultaneous_overlapping_requests_make_exactly_one_booking(live_server, session):
    school = make_school(session)
    asset = make_asset(session, school, name="Shared confocal", turnaround_minutes=15)
    people = [make_user(session, school) for _ in range(CLIENTS)]
    clients = [_client(live_server, person.email) for person in people]
    barrier = threading.Barrier(CLIENTS)
    results: list[tuple[int, str]] = [(0, "")] * CLIENTS

    def attempt(n: int) -> None:
        start = dt.datetime(2030, 1, 7, 10) + dt.timedelta(minutes=5 * n)  # all overlap 11:35-12:00
        form = {
            "start": start.strftime("%Y-%m-%dT%H:%M"),
            "end": (start + dt.timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M"),
            "purpose": f"Attempt {n}",
            "repeat": "none",
        }
        barrier.wait()
        results[n] = clients[n](f"/assets/{asset.id}/book", form)

    threads = [threading.Thread(target=attempt, args=(n,)) for n in range(CLIENTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    statuses = sorted(status for status, _ in results)
    assert statuses == [302] + [409] * (CLIENTS - 1), statuses
    for status, body in results:
        if status == 409:
            assert "This booking cannot be made" in body and "It overlaps another booking" in body

    other = aliased(Booking)
    overlapping = session.scalar(
        select(func.count())
        .select_from(Booking)
        .join(other, (other.asset_id == Booking.asset_id) & (other.id < Booking.id))
        .where(
            Booking.status.in_(ACTIVE_STATUSES),
            other.status.in_(ACTIVE_STATUSES),
            Booking.start_at < other.blocked_until,
            other.start_at < Booking.blocked_until,
        )
    )
    assert overlapping == 0
    assert session.scalar(select(func.count(Booking.id))) == 1
    assert session.scalar(select(func.count(UnmetDemand.id))) == CLIENTS - 1
