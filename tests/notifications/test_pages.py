"""The in-app notification list, the unread count in the navigation, and e-mail preferences."""

import datetime as dt

from sqlalchemy import select

from bookings import service
from core.db import atomic
from notifications.models import Notification
from notifications.service import EVENTS, notify
from tests.bookings.conftest import MONDAY, NOW, at
from tests.conftest import see_committed, sign_in
from tests.notifications.conftest import mails, notices

UTC = dt.UTC


def tell(session, user, title, minutes_ago=0, read=False):
    with atomic(session):
        notice = notify(session, user, "booking_decided", title, "Body text", "http://kit.test/bookings/1")
        notice.created_at = NOW - dt.timedelta(minutes=minutes_ago)
        notice.read_at = NOW if read else None
    return notice


def test_the_list_shows_newest_first_and_marks_unread_ones_in_words(client, session, world):
    tell(session, world["chemist"], "Older and read", minutes_ago=60, read=True)
    tell(session, world["chemist"], "Newest and unread", minutes_ago=1)
    tell(session, world["chemist2"], "Somebody else's")
    sign_in(client, world["chemist"].email)
    page = client.get("/notifications").text
    assert page.index("Newest and unread") < page.index("Older and read")
    assert "Somebody else" not in page
    newest = page[page.index("notice-unread") : page.index("Older and read")]
    assert "New" in newest and "not read yet" in newest


def test_the_navigation_counts_unread_notices(client, session, world):
    tell(session, world["chemist"], "One")
    tell(session, world["chemist"], "Two")
    tell(session, world["chemist"], "Read", read=True)
    sign_in(client, world["chemist"].email)
    page = client.get("/bookings").text
    assert 'Notifications <span class="badge">2<span class="visually-hidden"> unread</span>' in page


def test_mark_all_read_empties_the_count(client, session, world):
    tell(session, world["chemist"], "One")
    tell(session, world["chemist2"], "Not mine")
    sign_in(client, world["chemist"].email)
    response = client.post("/notifications/read-all", follow_redirects=True)
    assert "Marked 1 notification read." in response.text
    assert 'visually-hidden"> unread' not in response.text
    see_committed(session)
    unread = session.scalars(select(Notification.user_id).where(Notification.read_at.is_(None))).all()
    assert unread == [world["chemist2"].id]


def test_one_notice_can_be_marked_read_but_not_someone_elses(client, session, world):
    mine = tell(session, world["chemist"], "Mine")
    theirs = tell(session, world["chemist2"], "Theirs")
    sign_in(client, world["chemist"].email)
    assert client.post(f"/notifications/{theirs.id}/read").status_code == 404
    assert client.post(f"/notifications/{mine.id}/read").status_code == 302
    see_committed(session)
    assert session.get(Notification, mine.id).read_at is not None
    assert session.get(Notification, theirs.id).read_at is None


def test_the_preferences_page_has_a_labelled_checkbox_per_event_all_ticked_at_first(client, session, world):
    sign_in(client, world["chemist"].email)
    page = client.get("/notifications/preferences").text
    assert "<legend>E-mail me when</legend>" in page
    for label in EVENTS.values():
        assert label in page
    assert page.count('type="checkbox"') == len(EVENTS) and page.count("checked") == len(EVENTS)


def test_turning_an_email_off_keeps_the_in_app_notice(client, session, world):
    sign_in(client, world["chemist"].email)
    wanted = [event for event in EVENTS if event != "booking_decided"]
    response = client.post("/notifications/preferences", data={"events": wanted}, follow_redirects=True)
    assert "Your e-mail preferences are saved." in response.text
    see_committed(session)
    booking = service.request_booking(
        session, world["chemist"], world["printer"].id, at(MONDAY, 10), at(MONDAY, 12), "Prints", NOW
    )
    service.approve(session, world["phys_manager"], booking.id, now=NOW)
    assert [event for event, _ in notices(session, world["chemist"])] == ["booking_decided"]
    assert mails(session, world["chemist"]) == []
    # ... and the page shows the choice as it was saved.
    page = client.get("/notifications/preferences").text
    assert page.count("checked") == len(EVENTS) - 1


def test_an_unknown_event_is_refused_with_a_message(client, session, world):
    sign_in(client, world["chemist"].email)
    response = client.post("/notifications/preferences", data={"events": ["booking_decided", "free_pizza"]})
    assert response.status_code == 400
    assert "not a valid choice" in response.text


def test_the_profile_links_to_the_email_preferences(client, session, world):
    sign_in(client, world["chemist"].email)
    page = client.get("/profile").text
    assert 'href="/notifications/preferences"' in page
