"""Calendar feeds: parsed back with the icalendar library as a calendar program would read them."""

import datetime as dt

import icalendar

from accounts.models import User
from bookings import service
from bookings.models import BookingStatus
from core.db import atomic
from inventory.models import Asset
from tests.bookings.conftest import MONDAY, NOW, at
from tests.conftest import see_committed, settings_of, sign_in
from tests.factories import make_booking


def feed(client, url):
    response = client.get(url)
    assert response.status_code == 200, response.text
    return icalendar.Calendar.from_ical(response.data)


def events_by_uid(calendar):
    return {str(event["UID"]): event for event in calendar.walk("VEVENT")}


def user_feed_url(session, user):
    see_committed(session)
    return f"/calendar/user/{session.get(User, user.id).calendar_token}.ics"


def asset_feed_url(session, asset):
    see_committed(session)
    return f"/calendar/asset/{session.get(Asset, asset.id).calendar_token}.ics"


def book(session, user, asset, start, end, purpose="Imaging zebrafish"):
    return service.request_booking(session, user, asset.id, start, end, purpose, NOW)


def test_the_feed_is_an_icalendar_file_anyone_with_the_address_can_fetch(client, session, world):
    response = client.get(user_feed_url(session, world["chemist"]))  # no sign-in: calendar programs cannot
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/calendar; charset=utf-8"
    calendar = icalendar.Calendar.from_ical(response.data)
    assert (str(calendar["VERSION"]), str(calendar["METHOD"])) == ("2.0", "PUBLISH")


def test_event_times_are_the_bookings_utc_times(client, session, world):
    booking = book(session, world["chemist"], world["scope"], at(MONDAY, 10), at(MONDAY, 12, 30))
    (event,) = feed(client, user_feed_url(session, world["chemist"])).walk("VEVENT")
    assert event.decoded("DTSTART") == booking.start_at == dt.datetime(2030, 1, 7, 10, tzinfo=dt.UTC)
    assert event.decoded("DTEND") == booking.end_at
    assert event.decoded("DTSTART").utcoffset() == dt.timedelta(0)
    assert b"DTSTART:20300107T100000Z" in client.get(user_feed_url(session, world["chemist"])).data


def test_a_summer_booking_is_written_in_utc_not_local_time(client, session, world):
    summer = dt.datetime(2030, 7, 1, 9, tzinfo=dt.UTC)  # 10:00 in London (BST)
    make_booking(session, world["scope"], world["chemist"], summer, hours=2)
    (event,) = feed(client, user_feed_url(session, world["chemist"])).walk("VEVENT")
    assert event.decoded("DTSTART") == summer
    assert event.decoded("DTEND") == summer + dt.timedelta(hours=2)


def test_an_event_names_the_asset_place_status_and_links_back(client, session, world, app):
    booking = book(session, world["chemist"], world["scope"], at(MONDAY, 10), at(MONDAY, 12))
    (event,) = feed(client, user_feed_url(session, world["chemist"])).walk("VEVENT")
    base = settings_of(app).base_url
    location = world["scope"].location
    assert str(event["SUMMARY"]) == "Confocal microscope (confirmed)"
    assert str(event["LOCATION"]) == f"{location.building}, {location.room}, {location.site}"
    assert str(event["URL"]) == f"{base}/bookings/{booking.id}"
    assert "Purpose: Imaging zebrafish" in str(event["DESCRIPTION"])
    assert str(event["STATUS"]) == "CONFIRMED"
    host = base.split("://")[1].split(":")[0].split("/")[0]
    assert str(event["UID"]) == f"booking-{booking.id}@{host}"


def test_a_pending_request_is_tentative_and_its_approval_updates_the_same_event(client, session, world):
    booking = book(session, world["chemist"], world["printer"], at(MONDAY, 10), at(MONDAY, 12))
    url = user_feed_url(session, world["chemist"])
    (pending,) = feed(client, url).walk("VEVENT")
    assert str(pending["STATUS"]) == "TENTATIVE" and str(pending["SUMMARY"]) == "Ultimaker S5 (pending)"
    service.approve(session, world["phys_manager"], booking.id, now=NOW)
    (approved,) = feed(client, url).walk("VEVENT")
    assert str(approved["UID"]) == str(pending["UID"])
    assert str(approved["STATUS"]) == "CONFIRMED"
    assert approved.decoded("SEQUENCE") > pending.decoded("SEQUENCE")


def test_cancelled_and_rejected_bookings_are_sent_as_cancelled(client, session, world):
    cancelled = book(session, world["chemist"], world["scope"], at(MONDAY, 10), at(MONDAY, 11))
    rejected = book(session, world["chemist"], world["printer"], at(MONDAY, 14), at(MONDAY, 15))
    kept = book(session, world["chemist"], world["scope"], at(MONDAY, 16), at(MONDAY, 17))
    with atomic(session, world["chemist"]):
        service.cancel(session, world["chemist"], cancelled.id, "", NOW)
    with atomic(session, world["phys_manager"]):
        service.reject(session, world["phys_manager"], rejected.id, "Needed for teaching", NOW)
    events = feed(client, user_feed_url(session, world["chemist"])).walk("VEVENT")
    status = {str(e["URL"]).rsplit("/", 1)[1]: str(e["STATUS"]) for e in events}
    assert status == {
        str(cancelled.id): "CANCELLED",
        str(rejected.id): "CANCELLED",
        str(kept.id): "CONFIRMED",
    }


def test_bookings_that_ended_more_than_90_days_ago_are_left_out(client, session, world):
    now = dt.datetime.now(dt.UTC)
    make_booking(
        session, world["scope"], world["chemist"], now - dt.timedelta(days=91), status=BookingStatus.COMPLETED
    )
    recent = make_booking(
        session, world["scope"], world["chemist"], now - dt.timedelta(days=89), status=BookingStatus.COMPLETED
    )
    urls = [str(e["URL"]) for e in feed(client, user_feed_url(session, world["chemist"])).walk("VEVENT")]
    assert [url.rsplit("/", 1)[1] for url in urls] == [str(recent.id)]  # not the old one


def test_only_the_persons_own_bookings_are_in_their_feed(client, session, world):
    book(session, world["chemist2"], world["scope"], at(MONDAY, 10), at(MONDAY, 11), "Someone else's")
    assert feed(client, user_feed_url(session, world["chemist"])).walk("VEVENT") == []


def test_an_unknown_address_is_404(client, session, world):
    assert client.get("/calendar/user/not-a-real-token-at-all-0123456789.ics").status_code == 404
    assert client.get("/calendar/asset/not-a-real-token-at-all-0123456789.ics").status_code == 404


def test_after_a_reset_the_old_address_is_404_and_the_new_one_works(client, session, world):
    book(session, world["chemist"], world["scope"], at(MONDAY, 10), at(MONDAY, 11))
    old_url = user_feed_url(session, world["chemist"])
    sign_in(client, world["chemist"].email)
    response = client.post("/profile/calendar-token/reset", follow_redirects=True)
    assert "the old one no longer works" in response.text
    client.post("/sign-out")
    assert client.get(old_url).status_code == 404
    new_url = user_feed_url(session, world["chemist"])
    assert new_url != old_url
    assert len(feed(client, new_url).walk("VEVENT")) == 1


def test_a_deactivated_persons_feed_is_404(client, session, world):
    url = user_feed_url(session, world["chemist"])
    world["chemist"].active = False
    session.commit()
    assert client.get(url).status_code == 404


def test_the_profile_shows_the_feed_address_absolute_and_as_webcal(client, session, world, app):
    sign_in(client, world["chemist"].email)
    page = client.get("/profile").text
    token = session.get(User, world["chemist"].id).calendar_token
    base = settings_of(app).base_url
    assert f"{base}/calendar/user/{token}.ics" in page
    assert f'href="webcal://{base.split("://", 1)[1]}/calendar/user/{token}.ics"' in page


def test_the_asset_feed_shows_busy_times_without_names_or_purposes(client, session, world):
    book(session, world["chemist"], world["scope"], at(MONDAY, 10), at(MONDAY, 11), "Secret project Zebra")
    book(session, world["physicist"], world["scope"], at(MONDAY, 13), at(MONDAY, 14), "Secret project Yak")
    response = client.get(asset_feed_url(session, world["scope"]))
    assert response.status_code == 200
    calendar = icalendar.Calendar.from_ical(response.data)
    assert sorted((str(e["SUMMARY"]), str(e["STATUS"])) for e in calendar.walk("VEVENT")) == [
        ("Booked", "CONFIRMED"),
        ("Requested", "TENTATIVE"),
    ]
    text = response.data.decode()
    for private in ("Chloe", "Chemist", "Priya", "Physicist", "Secret project", world["chemist"].email):
        assert private not in text


def test_the_asset_page_shows_its_feed_to_everyone_signed_in(client, session, world):
    sign_in(client, world["physicist"].email)
    page = client.get(f"/assets/{world['scope'].id}").text
    see_committed(session)
    assert f"/calendar/asset/{session.get(Asset, world['scope'].id).calendar_token}.ics" in page
    assert "Get a new feed address" not in page  # only managers may reset it


def test_a_manager_of_the_owning_school_resets_the_asset_feed(client, session, world):
    old_url = asset_feed_url(session, world["scope"])
    sign_in(client, world["chem_manager"].email)
    response = client.post(f"/assets/{world['scope'].id}/calendar-token/reset", follow_redirects=True)
    assert "has a new address" in response.text
    assert client.get(old_url).status_code == 404
    assert client.get(asset_feed_url(session, world["scope"])).status_code == 200


def test_only_managers_of_the_owning_school_can_reset_an_asset_feed(client, session, world):
    url = asset_feed_url(session, world["scope"])
    for person in ("phys_manager", "chemist"):
        sign_in(client, world[person].email)
        assert client.post(f"/assets/{world['scope'].id}/calendar-token/reset").status_code == 403
        client.post("/sign-out")
    assert client.get(url).status_code == 200
    assert asset_feed_url(session, world["scope"]) == url
