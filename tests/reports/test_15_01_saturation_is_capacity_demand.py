"""Issue 15, point 1: an asset is saturated when it is booked at or above the threshold, or when
demand turned away for want of free time (refused because the time was already booked, or
waitlisted and never served) reaches a stated minimum of hours and of distinct people. A
manager's rejection, training, notice and requests not decided in time are unmet demand by
reason, never capacity. No asset is both idle and saturated; each listed asset says why.

The week is Monday 2 to Sunday 8 November 2026 (London is on GMT: local time is UTC). Every
asset is open Monday to Friday 09:00-17:00 and was bought long before: 40 available hours each.
The defaults: idle under 10 %, saturated at or above 80 %, or at least 8 h from at least 2 people.

Assets, and the answer worked out by hand:

LASER   6 h booked (15.0 %); one 10 h request rejected by a manager ("Reserved for teaching").
        Neither idle nor saturated.
TROTEC  nothing booked (0.0 %); three rejections of 4 h each from three people. Idle only.
EXACT   32 h booked: 80.0 % exactly. Saturated: "80.0% booked (at or above 80.0%)".
BUSY2   8 h booked (20 %); 5 h refused for overlap to Ann, 4 h to Bob: 9 h from 2 people.
        Saturated: "9.0 h turned away for want of free time (already booked 9.0 h) from 2 people".
BUSY1   8 h booked (20 %); 5 h and 4 h refused for overlap, both to Ann: 9 h from 1 person. Neither.
WAIT    8 h booked (20 %); 6 h refused for overlap to Ann; 3 h waitlisted and never served for Bob.
        Saturated: "9.0 h turned away for want of free time (already booked 6.0 h; waitlisted,
        never served 3.0 h) from 2 people".
MIXED   8 h booked (20 %); 9 h refused for overlap AND training, from 2 people (5 h + 4 h): free
        time would not have served them. Neither.
LAPSE   0 h booked (0.0 %); 10 h of requests not decided in time from 3 people. Idle only; its
        unmet demand shows "Not decided in time".
"""

from __future__ import annotations

import datetime as dt

import pytest

from bookings.models import BookingStatus, DemandSource, UnmetDemand
from core.config import Config
from reports.figures import ReportSettings, utilisation_report
from reports.figures_json import report_to_json
from reports.render import definitions
from tests.factories import make_asset, make_booking, make_school, make_user

UTC = dt.UTC
H = 3600
MONDAY, SUNDAY = dt.date(2026, 11, 2), dt.date(2026, 11, 8)
AFTER = dt.datetime(2026, 11, 20, 12, tzinfo=UTC)


def at(day: int, hour: int) -> dt.datetime:
    """A wall-clock time in London in November 2026 (GMT: the same as UTC)."""
    return dt.datetime(2026, 11, day, hour, tzinfo=UTC)


def book(session, asset, person, day: int, start: int, hours: float) -> None:
    make_booking(session, asset, person, at(day, start), hours, BookingStatus.COMPLETED)


def unmet(
    session, asset, person, day: int, start: int, hours: int, reasons: list[str], source=DemandSource.REFUSED
) -> None:
    session.add(
        UnmetDemand(
            asset_id=asset.id,
            requester_id=person.id,
            requester_school_id=person.home_school_id,
            start_at=at(day, start),
            end_at=at(day, start + hours),
            minutes=hours * 60,
            source=source,
            reasons=reasons,
        )
    )
    session.commit()


@pytest.fixture
def world(session):
    ecs, chem = make_school(session, "ECS"), make_school(session, "CHEM")
    owner = make_user(session, ecs, name="Owen Owner")
    ann = make_user(session, ecs, name="Ann")
    bob = make_user(session, chem, name="Bob")
    cat = make_user(session, chem, name="Cat")
    long_ago = dt.date(2020, 1, 1)
    assets = {
        tag: make_asset(session, ecs, tag=tag, name=tag.capitalize(), purchase_date=long_ago)
        for tag in ("LASER", "TROTEC", "EXACT", "BUSY2", "BUSY1", "WAIT", "MIXED", "LAPSE")
    }

    book(session, assets["LASER"], owner, 2, 9, 6)
    unmet(session, assets["LASER"], bob, 3, 9, 8, ["rejected"], DemandSource.REJECTED)
    unmet(session, assets["LASER"], bob, 4, 9, 2, ["rejected"], DemandSource.REJECTED)

    for person, day in ((ann, 2), (bob, 3), (cat, 4)):
        unmet(session, assets["TROTEC"], person, day, 9, 4, ["rejected"], DemandSource.REJECTED)

    for day in (2, 3, 4, 5):
        book(session, assets["EXACT"], owner, day, 9, 8)

    for tag in ("BUSY2", "BUSY1", "WAIT", "MIXED"):
        book(session, assets[tag], owner, 2, 9, 8)
    unmet(session, assets["BUSY2"], ann, 2, 9, 5, ["overlap"])
    unmet(session, assets["BUSY2"], bob, 2, 12, 4, ["overlap"])
    unmet(session, assets["BUSY1"], ann, 2, 9, 5, ["overlap"])
    unmet(session, assets["BUSY1"], ann, 2, 12, 4, ["overlap"])
    unmet(session, assets["WAIT"], ann, 2, 9, 6, ["overlap"])
    unmet(session, assets["WAIT"], bob, 2, 13, 3, ["waitlisted"], DemandSource.WAITLISTED)
    unmet(session, assets["MIXED"], ann, 2, 9, 5, ["overlap", "training"])
    unmet(session, assets["MIXED"], bob, 2, 12, 4, ["overlap", "training"])

    for person, day, hours in ((ann, 2, 4), (bob, 3, 3), (cat, 4, 3)):
        unmet(session, assets["LAPSE"], person, day, 9, hours, ["not_decided"], DemandSource.LAPSED)
    return assets


def run(session, settings=None):
    return utilisation_report(session, MONDAY, SUNDAY, None, settings or ReportSettings(), now=AFTER)


def flags(report):
    return {a.tag: (a.idle, a.saturated) for a in report.assets}


def test_a_managers_rejection_is_not_capacity_demand(session, world):
    laser = {a.tag: a for a in run(session).assets}["LASER"]
    assert laser.utilisation == pytest.approx(0.15)
    assert laser.unmet_seconds == 10 * H
    assert laser.capacity_unmet_seconds == 0
    assert (laser.idle, laser.saturated) == (False, False)


def test_an_asset_at_nothing_booked_with_rejections_is_idle_only(session, world):
    assert flags(run(session))["TROTEC"] == (True, False)


def test_eighty_percent_exactly_is_saturated(session, world):
    exact = {a.tag: a for a in run(session).assets}["EXACT"]
    assert (exact.booked_seconds, exact.available_seconds) == (32 * H, 40 * H)
    assert (exact.idle, exact.saturated) == (False, True)


def test_nine_hours_turned_away_from_two_people_is_saturated_from_one_person_not(session, world):
    report = run(session)
    assert flags(report)["BUSY2"] == (False, True)
    assert flags(report)["BUSY1"] == (False, False)
    busy1 = {a.tag: a for a in report.assets}["BUSY1"]
    assert (busy1.capacity_unmet_seconds, busy1.capacity_people) == (9 * H, 1)


def test_waitlisted_and_never_served_counts_as_capacity_demand(session, world):
    wait = {a.tag: a for a in run(session).assets}["WAIT"]
    assert (wait.capacity_unmet_seconds, wait.capacity_people) == (9 * H, 2)
    assert wait.capacity_by_reason == {"overlap": 6 * H, "waitlisted": 3 * H}
    assert wait.saturated


def test_a_refusal_free_time_would_not_have_served_is_not_capacity_demand(session, world):
    mixed = {a.tag: a for a in run(session).assets}["MIXED"]
    assert mixed.unmet_by_reason == {"overlap": 9 * H, "training": 9 * H}
    assert mixed.capacity_unmet_seconds == 0
    assert not mixed.saturated


def test_no_asset_is_both_idle_and_saturated(session, world):
    # With both thresholds at 25 %, the assets saturated by demand alone (20 %) are under the
    # idle threshold: they stay off the idle list.
    strict = ReportSettings(idle_threshold=0.25, saturated_threshold=0.25)
    report = run(session, strict)
    assert not any(a.idle and a.saturated for a in report.assets)
    assert flags(report)["BUSY2"] == (False, True)
    assert flags(report)["WAIT"] == (False, True)
    assert flags(report)["BUSY1"] == (True, False)


def test_the_lists_say_in_one_line_why_each_asset_is_there(session, world):
    figures = report_to_json(run(session))
    assert {a["tag"]: a["why"] for a in figures["saturated"]} == {
        "EXACT": "80.0% booked (at or above 80.0%)",
        "BUSY2": "9.0 h turned away for want of free time (already booked 9.0 h) from 2 people",
        "WAIT": "9.0 h turned away for want of free time (already booked 6.0 h; waitlisted, never served 3.0 h) from 2 people",
    }
    assert {a["tag"]: a["why"] for a in figures["idle"]} == {
        "TROTEC": "0.0% booked (under 10.0%)",
        "LAPSE": "0.0% booked (under 10.0%)",
    }


def test_unmet_demand_by_reason_keeps_every_reason_with_its_label(session, world):
    figures = report_to_json(run(session))
    by_reason = {
        row["reason"]: (row["label"], row["requests"], row["hours"]) for row in figures["unmet_demand"]
    }
    assert by_reason == {
        "rejected": ("Rejected by a manager", 5, 22.0),
        "overlap": ("Already booked", 7, 33.0),
        "waitlisted": ("Waitlisted, never served", 1, 3.0),
        "training": ("Training needed", 2, 9.0),
        "not_decided": ("Not decided in time", 3, 10.0),
    }


def test_the_minimums_are_settings(session, world):
    report = run(session, ReportSettings(saturated_min_unmet_hours=10, saturated_min_people=1))
    assert flags(report)["BUSY2"] == (False, False)  # 9 h: under 10
    looser = run(session, ReportSettings(saturated_min_unmet_hours=9, saturated_min_people=1))
    assert flags(looser)["BUSY1"] == (False, True)  # 9 h from 1 person: enough at 9 h and 1 person
    configured = Config.from_env(
        {
            "KITSHARE_ENV": "development",
            "KITSHARE_SATURATED_MIN_UNMET_HOURS": "12.5",
            "KITSHARE_SATURATED_MIN_PEOPLE": "3",
        }
    )
    configured.check()
    settings = ReportSettings.from_config(configured)
    assert (settings.saturated_min_unmet_hours, settings.saturated_min_people) == (12.5, 3)
    assert (ReportSettings().saturated_min_unmet_hours, ReportSettings().saturated_min_people) == (8.0, 2)


def test_the_definitions_state_the_rule(session, world):
    stated = dict(definitions(report_to_json(run(session))))
    assert stated["Saturated"].startswith(
        "Utilisation at or above 80.0%; or demand turned away for want of free time"
    )
    assert "at least 8 hours in the period from at least 2 different people" in stated["Saturated"]
    assert "A manager's rejection" in stated["Saturated"]
    assert stated["Idle"].startswith("Utilisation under 10.0%, and not saturated")
