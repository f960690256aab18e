"""A reminder before a confirmed booking starts: once, only for confirmed bookings in the window."""

import datetime as dt

import pytest
from sqlalchemy import select

from bookings.models import Booking, BookingStatus
from bookings.notices import send_booking_reminders
from core.config import Config, ConfigError
from core.db import atomic
from tests.conftest import see_committed
from tests.factories import make_booking
from tests.notifications.conftest import mails, notices

UTC = dt.UTC
NOW = dt.datetime(2030, 1, 7, 9, tzinfo=UTC)


def remind(session, now=NOW, hours=24):
    with atomic(session):
        return send_booking_reminders(session, now, hours)


def test_a_confirmed_booking_starting_within_the_window_is_reminded_once(session, world, base_url):
    booking = make_booking(session, world["scope"], world["chemist"], NOW + dt.timedelta(hours=5))
    assert remind(session) == 1
    assert remind(session, NOW + dt.timedelta(minutes=5)) == 0
    assert notices(session, world["chemist"]) == [
        ("booking_reminder", "Reminder: Confocal microscope, Mon 07 Jan 2030, 14:00 to 15:00")
    ]
    (mail,) = mails(session, world["chemist"])
    assert mail.dedupe_key == f"reminder:{booking.id}"
    assert f"{base_url}/bookings/{booking.id}" in mail.body_text
    see_committed(session)
    assert session.get(Booking, booking.id).reminder_sent_at == NOW


def test_only_confirmed_bookings_inside_the_window_are_reminded(session, world):
    inside = make_booking(session, world["scope"], world["chemist"], NOW + dt.timedelta(hours=23))
    make_booking(session, world["scope"], world["chemist"], NOW + dt.timedelta(hours=25))
    make_booking(
        session, world["scope"], world["chemist"], NOW + dt.timedelta(hours=2), status=BookingStatus.PENDING
    )
    make_booking(
        session, world["scope"], world["chemist"], NOW + dt.timedelta(hours=3), status=BookingStatus.CANCELLED
    )
    make_booking(session, world["scope"], world["chemist"], NOW - dt.timedelta(minutes=30))  # already started
    assert remind(session) == 1
    see_committed(session)
    reminded = session.scalars(select(Booking.id).where(Booking.reminder_sent_at.is_not(None))).all()
    assert reminded == [inside.id]


def test_the_window_is_the_configured_number_of_hours(session, world):
    make_booking(session, world["scope"], world["chemist"], NOW + dt.timedelta(hours=30))
    assert remind(session, hours=24) == 0
    assert remind(session, hours=48) == 1


def test_a_person_who_turned_reminders_off_still_sees_the_notice(session, world):
    world["chemist"].email_preferences = {"booking_reminder": False}
    session.commit()
    make_booking(session, world["scope"], world["chemist"], NOW + dt.timedelta(hours=5))
    assert remind(session) == 1
    assert [event for event, _ in notices(session, world["chemist"])] == ["booking_reminder"]
    assert mails(session, world["chemist"]) == []


def test_a_reminder_window_under_an_hour_is_refused_at_start_up():
    with pytest.raises(ConfigError, match="KITSHARE_REMINDER_HOURS"):
        Config(KITSHARE_ENV="testing", KITSHARE_REMINDER_HOURS=0).flask_settings()
    six_hours = Config.from_env({"KITSHARE_ENV": "testing", "KITSHARE_REMINDER_HOURS": "6"})
    six_hours.check()
    assert six_hours.KITSHARE_REMINDER_HOURS == 6
