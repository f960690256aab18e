"""Issue 14, point 7: training a person lacks is said before they try to book, and can be asked for.

Tom Whitfield (a CHEM technician in the demo) ticks "Only equipment I can book": kit that needs
training he does not hold is not offered. Its page says so before any form, and lets him request
training with a short message. A manager of the owning School is told, finds the request, and
grants it; Tom is told, and books the equipment.
"""

from __future__ import annotations

import datetime as dt
import re
from urllib.parse import urlsplit

from sqlalchemy import select

from accounts.models import User, school_managers
from bookings.models import Booking, BookingStatus
from bookings.rules import check_booking, next_free_slots
from core.db import utcnow
from core.timeutil import local_today, to_local
from inventory.models import Asset, AssetStatus, School
from inventory.training import has_current_training
from notifications.models import Notification
from tests.e2e.conftest import screenshot, serious_accessibility_violations
from tests.stories.conftest import _demo_email

NOT_AUTHORISED = "Training required: you are not authorised to book this yet"


def _person(session, name: str) -> User:
    return session.scalar(select(User).where(User.email == _demo_email(name)))


def _kit_tom_is_not_trained_on(session, tom: User) -> tuple[Asset, dt.datetime, dt.datetime]:
    """Equipment of Tom's own School that needs training he lacks, and an hour that training
    is the only thing keeping him from booking."""
    now, today = utcnow(), local_today()
    candidates = session.scalars(
        select(Asset)
        .join(Asset.school)
        .where(
            Asset.school_id == tom.home_school_id,
            Asset.training_required.is_(True),
            Asset.bookable.is_(True),
            Asset.status == AssetStatus.AVAILABLE,
            Asset.portable.is_(False),
        )
        .order_by(Asset.tag)
    ).all()
    for asset in candidates:
        if has_current_training(session, tom, asset, today):
            continue
        for slot in next_free_slots(
            session, asset, dt.timedelta(hours=1), now + dt.timedelta(days=3), now, count=3
        ):
            violations, _ = check_booking(session, tom, asset, slot.start_at, slot.end_at, now)
            if [v.code for v in violations] == ["training"]:
                return asset, slot.start_at, slot.end_at
    raise AssertionError("the demo has no CHEM equipment needing training that Tom lacks")


def _wall(moment: dt.datetime) -> str:
    return to_local(moment).strftime("%Y-%m-%dT%H:%M")


def _catalogue_tags(page) -> str:
    return page.locator("main").inner_text()


def test_a_technician_asks_for_training_a_manager_grants_it_and_he_books(demo):
    session = demo.session()
    tom = _person(session, "tom.whitfield")
    helen = _person(session, "manager.chem")
    asset, start_at, end_at = _kit_tom_is_not_trained_on(session, tom)
    assert session.scalar(
        select(school_managers.c.user_id).where(
            school_managers.c.school_id == asset.school_id, school_managers.c.user_id == helen.id
        )
    ), "Dr Helen Marsh manages the owning School"
    school_code = session.get(School, asset.school_id).code
    session.rollback()

    # The catalogue: the equipment is found, but not under "Only equipment I can book".
    page = demo.page(sign_in="tom.whitfield")
    page.get_by_role("link", name="Find equipment").click()
    page.get_by_role("searchbox", name="Search").fill(asset.tag)
    page.get_by_role("button", name="Search").click()
    assert page.locator("main").get_by_role("link", name=asset.name).count() >= 1
    page.get_by_label("Only equipment I can book").check()
    page.get_by_role("button", name="Search").click()
    page.wait_for_url(re.compile(r"shareable=1"))
    assert page.locator("main").get_by_role("link", name=asset.name).count() == 0

    # The asset's page says so before any booking form, and offers to request training.
    page.goto(f"/assets/{asset.id}")
    notice = page.get_by_role("region", name=re.compile("^Training required"))
    assert NOT_AUTHORISED in notice.inner_text()
    assert page.locator("main").get_by_role("link", name=re.compile("^Book")).count() == 0
    assert serious_accessibility_violations(page) == []
    screenshot(page, "story-14-07-training-required")
    notice.get_by_label("Message to the managers").fill(
        "I used one like it during my PhD; happy to be shown again."
    )
    notice.get_by_role("button", name="Request training").click()
    assert (
        f"managers of {school_code}" in page.locator(".flash, [role=status], [role=alert]").first.inner_text()
    )
    notice = page.get_by_role("region", name=re.compile("^Training required"))
    assert "You asked for training" in notice.inner_text()
    assert notice.get_by_role("button", name="Request training").count() == 0  # not twice while one is open

    # The booking form says the same before the form.
    page.goto(f"/assets/{asset.id}/book")
    text = page.locator("main").inner_text()
    assert text.index(NOT_AUTHORISED) < text.index("What is it for?")

    # Dr Helen Marsh is told, opens the request from her notifications and grants it.
    session.rollback()
    session.expire_all()
    told = session.scalars(
        select(Notification).where(
            Notification.user_id == helen.id, Notification.event == "training_requested"
        )
    ).all()
    assert len(told) == 1 and asset.name in told[0].title
    manager = demo.page(sign_in="manager.chem")
    manager.get_by_role("navigation", name="Main").get_by_role(
        "link", name=re.compile("^Notifications")
    ).click()
    link = manager.get_by_role("link", name=told[0].title).get_attribute("href")
    # Links in notices are absolute, on KITSHARE_BASE_URL; this served copy has a port of its own.
    manager.goto(urlsplit(link).path)
    assert urlsplit(link).path == f"/assets/{asset.id}/training"
    requests = manager.get_by_role("region", name=re.compile("^Training requests"))
    assert "Tom Whitfield" in requests.inner_text()
    assert "happy to be shown again" in requests.inner_text()
    assert serious_accessibility_violations(manager) == []
    screenshot(manager, "story-14-07-training-requests")
    requests.get_by_role("button", name=re.compile("^Grant")).first.click()
    assert "Tom Whitfield is now authorised" in manager.locator("main").inner_text()
    assert (
        manager.get_by_role("region", name=re.compile("^Training requests"))
        .get_by_role("button", name=re.compile("^Grant"))
        .count()
        == 0
    )

    # Tom is told, and now books it.
    session.rollback()
    session.expire_all()
    assert session.scalars(
        select(Notification).where(Notification.user_id == tom.id, Notification.event == "training_decided")
    ).all()
    page.goto(f"/assets/{asset.id}")
    assert NOT_AUTHORISED not in page.locator("main").inner_text()
    page.locator("main").get_by_role("link", name=re.compile("^Book")).first.click()
    page.get_by_label("Start").fill(_wall(start_at))
    page.get_by_label("End").fill(_wall(end_at))
    page.get_by_label("What is it for?").fill("First run after the induction")
    page.locator("main form").get_by_role("button", name=re.compile("^(Book|Request booking)$")).click()
    page.wait_for_url(re.compile(r"/bookings/\d+$"))
    session.rollback()
    booking = session.get(Booking, int(page.url.rsplit("/", 1)[1]))
    assert booking.requester_id == tom.id and booking.asset_id == asset.id
    assert booking.status in (BookingStatus.CONFIRMED, BookingStatus.PENDING)
