"""Issue 16, point 7: the form shows every span of a day, so the form, the API and the import
share one limit on spans a day (12): more is refused with a message, not a broken edit page."""

from __future__ import annotations

import datetime as dt

from accounts.models import Role
from inventory.models import BookableHours
from inventory.service import MAX_SPANS_A_DAY, weekly_hours_problems
from tests.conftest import sign_in
from tests.factories import make_asset, make_school, make_user, replace_hours


def _half_hours(count: int) -> list[tuple[int, dt.time, dt.time]]:
    return [(0, dt.time(6 + n), dt.time(6 + n, 30)) for n in range(count)]


def test_twelve_spans_a_day_are_fine_and_thirteen_are_refused():
    assert MAX_SPANS_A_DAY == 12
    assert weekly_hours_problems(_half_hours(12)) == []
    assert weekly_hours_problems(_half_hours(13)) == [
        "On Mon there are 13 spans of bookable hours: at most 12."
    ]


def test_the_edit_page_shows_all_twelve_spans_and_keeps_them(client, session):
    chem = make_school(session, "CHEM")
    manager = make_user(session, chem, Role.MANAGER)
    asset = make_asset(session, chem)
    replace_hours(
        session, asset, [BookableHours(weekday=d, opens=o, closes=c) for d, o, c in _half_hours(12)]
    )
    session.commit()
    sign_in(client, manager.email)
    page = client.get(f"/assets/{asset.id}/edit")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert 'name="hours-0-extra-10-opens"' in html and 'value="17:00"' in html  # the twelfth span
    assert 'name="hours-0-extra-11-opens"' in html  # and a blank row, refused if filled (13 spans)
