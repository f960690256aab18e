"""Issue 16, point 6: two simultaneous changes of one asset's weekly hours are made one after
the other, never mixed; and overlapping hours are impossible in the database itself.

Before: two PATCHes with different ``weekly_hours`` sent at once on PostgreSQL both answered
200 and left both sets of hours, overlapping, in 10 rounds of 10; every later edit of the asset
was then refused. Now the asset's row is locked for each change, and the database refuses
overlapping spans (an exclusion constraint on PostgreSQL, triggers on SQLite).
"""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from inventory.models import Asset, BookableHours
from tests.stories.asset_changes import api, api_token, chem_asset, hours_body, hours_of, see_committed

ROUNDS = 10
MORNINGS = [[day, "08:00", "12:00"] for day in range(5)]
DAYS = [[day, "10:00", "18:00"] for day in range(5)]


def test_two_simultaneous_hours_changes_leave_one_whole_set(demo):
    session = demo.session()
    asset = chem_asset(session)
    manager, admin = api_token(demo, "manager.chem"), api_token(demo, "admin")
    for round_ in range(ROUNDS):
        answers: dict[str, tuple[int, dict]] = {}
        start = threading.Barrier(2)

        def send(name: str, token: str, hours: list[list]) -> None:
            start.wait()
            answers[name] = api(
                demo, token, "PATCH", f"/api/v1/assets/{asset.id}", {"weekly_hours": hours_body(hours)}
            )

        threads = [
            threading.Thread(target=send, args=("mornings", manager, MORNINGS)),
            threading.Thread(target=send, args=("days", admin, DAYS)),
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        assert {name: status for name, (status, _) in answers.items()} == {"mornings": 200, "days": 200}, (
            answers
        )
        see_committed(session)
        assert hours_of(session, asset.id) in (sorted(MORNINGS), sorted(DAYS)), f"round {round_}: hours mixed"

    # The asset can still be edited afterwards.
    status, body = api(
        demo, manager, "PATCH", f"/api/v1/assets/{asset.id}", {"description": "Still editable."}
    )
    assert status == 200, body


def test_the_database_refuses_overlapping_spans_of_one_day(demo):
    session = demo.session()
    asset = chem_asset(session)
    monday = next(h for h in session.get(Asset, asset.id).bookable_hours if h.weekday == 0)
    session.add(BookableHours(asset_id=asset.id, weekday=0, opens=dt.time(16), closes=dt.time(18)))
    with pytest.raises(IntegrityError):
        session.commit()
    session.rollback()

    # Touching spans are fine (half-open), and so is the same time on another asset or day.
    session.add(BookableHours(asset_id=asset.id, weekday=0, opens=monday.closes, closes=dt.time(23)))
    session.commit()
    see_committed(session)
    # Moving a span onto another is refused too.
    evening = session.scalar(
        select(BookableHours).where(
            BookableHours.asset_id == asset.id,
            BookableHours.weekday == 0,
            BookableHours.closes == dt.time(23),
        )
    )
    evening.opens = dt.time(12)
    with pytest.raises(IntegrityError):
        session.commit()
    session.rollback()
