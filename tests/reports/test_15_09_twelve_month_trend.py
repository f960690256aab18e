"""Issue 15, point 9: utilisation by month over the last twelve months, per School and overall,
as a chart with its table (/reports/trend).

Today is Sunday 6 December 2026, so the trend covers the twelve whole months before December:
1 December 2025 to 30 November 2026.

Two Schools, one asset each, both open Monday to Friday 09:00-17:00 (8 h a weekday), in service
since 2020:

    weekdays      Dec 2025: 23 -> 184 h   Oct 2026: 22 -> 176 h   Nov 2026: 21 -> 168 h

    ALPHA's microscope  Oct 2026: 26-29 Oct, 8 h each = 32 h   32 / 176 = 18.2%
                        Nov 2026: 2-6 Nov, 8 h each, and 9 Nov 09:00-11:00 = 42 h   42 / 168 = 25.0%
    BETA's centrifuge   Nov 2026: 16-20 and 23-27 Nov, 8 h each, and 30 Nov 09:00-13:00 = 84 h
                        84 / 168 = 50.0%
    All                 Oct 2026: 32 / 352 = 9.1%;  Nov 2026: 126 / 336 = 37.5%;  Dec 2025: 0 / 368 = 0.0%
"""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine

from accounts.models import Role
from bookings.models import BookingStatus
from core.timeutil import local_to_utc
from tests.conftest import sign_in
from tests.factories import make_asset, make_booking, make_school, make_user
from tests.reports.helpers import page_tables

TODAY = dt.datetime(2026, 12, 6, 10, 0, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def on_sunday_6_december():
    with time_machine.travel(TODAY, tick=False):
        yield


@pytest.fixture
def two_schools(session):
    alpha, beta = make_school(session, "ALPHA"), make_school(session, "BETA")
    since = dt.date(2020, 1, 1)
    microscope = make_asset(session, alpha, tag="ALPHA-1", name="Microscope", purchase_date=since)
    centrifuge = make_asset(session, beta, tag="BETA-1", name="Centrifuge", purchase_date=since)
    alice = make_user(session, alpha, name="Alice")
    bob = make_user(session, beta, name="Bob")

    def book(asset, person, day: dt.date, start_hour: int, hours: float):
        start = local_to_utc(dt.datetime.combine(day, dt.time(start_hour)))
        make_booking(session, asset, person, start, hours, BookingStatus.COMPLETED)

    for day in (26, 27, 28, 29):
        book(microscope, alice, dt.date(2026, 10, day), 9, 8)
    for day in (2, 3, 4, 5, 6):
        book(microscope, alice, dt.date(2026, 11, day), 9, 8)
    book(microscope, alice, dt.date(2026, 11, 9), 9, 2)
    for day in (16, 17, 18, 19, 20, 23, 24, 25, 26, 27):
        book(centrifuge, bob, dt.date(2026, 11, day), 9, 8)
    book(centrifuge, bob, dt.date(2026, 11, 30), 9, 4)
    return alpha, beta


def test_finance_sees_each_month_per_school_and_overall(client, session, two_schools):
    finance = make_user(session, None, Role.FINANCE, name="Fiona Finance")
    sign_in(client, finance.email)
    response = client.get("/reports/trend")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "1 Dec 2025 – 30 Nov 2026" in html  # which twelve months, in words
    rows = page_tables(html)["table-twelve"]
    assert rows[0] == ["Month", "ALPHA", "BETA", "All"]
    assert [row[0] for row in rows[1:]] == [
        "Dec 2025",
        "Jan 2026",
        "Feb 2026",
        "Mar 2026",
        "Apr 2026",
        "May 2026",
        "Jun 2026",
        "Jul 2026",
        "Aug 2026",
        "Sep 2026",
        "Oct 2026",
        "Nov 2026",
    ]
    by_month = {row[0]: row[1:] for row in rows[1:]}
    assert by_month["Dec 2025"] == ["0.0% 0.0 of 184.0 h", "0.0% 0.0 of 184.0 h", "0.0% 0.0 of 368.0 h"]
    assert by_month["Oct 2026"] == ["18.2% 32.0 of 176.0 h", "0.0% 0.0 of 176.0 h", "9.1% 32.0 of 352.0 h"]
    assert by_month["Nov 2026"] == [
        "25.0% 42.0 of 168.0 h",
        "50.0% 84.0 of 168.0 h",
        "37.5% 126.0 of 336.0 h",
    ]


def test_the_chart_is_an_svg_image_drawn_on_the_server_with_its_numbers_in_words(
    client, session, two_schools
):
    finance = make_user(session, None, Role.FINANCE, name="Fiona Finance")
    sign_in(client, finance.email)
    html = client.get("/reports/trend").get_data(as_text=True)
    assert '<title id="chart-twelve-title">Utilisation by month, per School and overall</title>' in html
    assert 'class="chart chart-narrow"' in html  # a phone's own drawing
    assert "<script" not in html.split("<main", 1)[1]
    assert "BETA: Dec 2025 0.0%" in html and "Nov 2026 50.0%" in html  # the description, for screen readers


def test_a_manager_sees_only_their_schools(client, session, two_schools):
    alpha, _beta = two_schools
    manager = make_user(session, alpha, Role.MANAGER, name="Alpha Manager")
    sign_in(client, manager.email)
    rows = page_tables(client.get("/reports/trend").get_data(as_text=True))["table-twelve"]
    assert rows[0] == ["Month", "ALPHA", "All"]
    assert rows[-1] == ["Nov 2026", "25.0% 42.0 of 168.0 h", "25.0% 42.0 of 168.0 h"]


def test_people_without_reports_may_not_see_it(client, session, two_schools):
    alpha, _beta = two_schools
    technician = make_user(session, alpha, name="Tess Technician")
    sign_in(client, technician.email)
    assert client.get("/reports/trend").status_code == 403


def test_the_report_page_links_to_it(client, session, two_schools):
    finance = make_user(session, None, Role.FINANCE, name="Fiona Finance")
    sign_in(client, finance.email)
    html = client.get("/reports/utilisation").get_data(as_text=True)
    assert 'href="/reports/trend"' in html
