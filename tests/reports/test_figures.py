"""The utilisation figures, checked against the week worked out by hand in conftest.py."""

from __future__ import annotations

import datetime as dt

import pytest

from bookings.models import BookingStatus
from core.errors import InvalidInput
from inventory.models import BookableHours
from reports.figures import ReportSettings, pence_for, utilisation_report
from reports.intervals import is_late_cancellation
from tests.factories import make_asset, make_booking, make_school, make_user, replace_hours
from tests.reports.conftest import AFTER, MONDAY, SUNDAY, bst

H = 3600


def report(session, school_ids=None, settings=None, first=MONDAY, last=SUNDAY, now=AFTER):
    return utilisation_report(session, first, last, school_ids, settings or ReportSettings(), now=now)


def by_tag(result):
    return {asset.tag: asset for asset in result.assets}


def test_available_hours_follow_weekly_hours_maintenance_and_the_clock_change(session, week):
    assets = by_tag(report(session))
    assert assets["CHEM-A"].available_seconds == (5 * 8 - 2) * H  # less the 2 h maintenance window
    assert assets["CHEM-B"].available_seconds == (6 * 24 + 25) * H  # Sunday 25 October has 25 hours


def test_only_days_in_service_count_for_a_retired_or_newly_bought_asset(session, week):
    assets = by_tag(report(session))
    assert assets["PHYS-C"].available_seconds == 3 * 8 * H  # retired on Thursday: Mon-Wed
    assert assets["BIO-D"].available_seconds == 3 * 8 * H  # bought on Wednesday: Wed-Fri


def test_an_asset_not_bookable_in_kitshare_is_left_out(session, week):
    assert "CHEM-E" not in by_tag(report(session))


def test_booked_hours_count_held_bookings_clipped_to_the_available_hours(session, week):
    assets = by_tag(report(session))
    # 2 + 4 + (2 less the hour under maintenance); cancelled, pending and no-show do not count.
    assert assets["CHEM-A"].booked_seconds == 7 * H
    assert assets["CHEM-A"].utilisation == pytest.approx(7 / 38)


def test_bookings_straddling_the_period_edges_count_only_inside_it(session, week):
    plotter = by_tag(report(session))["CHEM-B"]
    assert plotter.booked_seconds == (36 + 2) * H
    assert plotter.utilisation == pytest.approx(38 / 169)


def test_a_booking_of_a_retired_asset_counts_on_its_days_in_service(session, week):
    centrifuge = by_tag(report(session))["PHYS-C"]
    assert centrifuge.booked_seconds == 2 * H
    assert centrifuge.utilisation == pytest.approx(2 / 24)


def test_actual_use_counts_check_ins_and_loans(session, week):
    assets = by_tag(report(session))
    assert assets["CHEM-A"].actual_seconds == int(5.75 * H)  # 1 h 45 from a late check-in, 4 h early
    assert assets["CHEM-A"].actual_utilisation == pytest.approx(5.75 / 38)
    assert assets["CHEM-B"].actual_seconds == 36 * H  # the loan, from Monday 00:00 until its return
    assert assets["BIO-D"].actual_utilisation is None  # no check-in or loans: not recorded


def test_no_show_and_late_cancellation_rates(session, week):
    confocal = by_tag(report(session))["CHEM-A"]
    assert (confocal.due, confocal.no_shows) == (4, 1)
    assert confocal.no_show_rate == pytest.approx(1 / 4)
    assert (confocal.cancellation_base, confocal.late_cancellations) == (6, 1)
    assert confocal.late_cancellation_rate == pytest.approx(1 / 6)


def test_bookings_and_distinct_users(session, week):
    result = report(session)
    assets = by_tag(result)
    assert (assets["CHEM-A"].bookings, assets["CHEM-A"].users) == (3, 2)
    assert (assets["CHEM-B"].bookings, assets["CHEM-B"].users) == (2, 2)
    assert (result.total.bookings, result.total.users) == (6, 2)  # the same two people throughout


def test_unmet_demand_hours_by_reason(session, week):
    result = report(session)
    confocal = by_tag(result)["CHEM-A"]
    assert (confocal.unmet_seconds, confocal.unmet_requests) == (5 * H, 2)
    reasons = {r.reason: (r.requests, r.seconds) for r in result.unmet_by_reason}
    # A request refused for two reasons counts under each.
    assert reasons == {"rejected": (1, 2 * H), "overlap": (1, 3 * H), "min_notice": (1, 3 * H)}


def test_cost_recovery_is_booked_hours_times_the_rate_in_pence(session, week):
    result = report(session)
    assets = by_tag(result)
    assert assets["CHEM-A"].cost_recovery_pence == 7 * 3000
    assert assets["CHEM-B"].cost_recovery_pence == 38 * 1250
    assert result.total.cost_recovery_pence == 21000 + 47500


def test_school_rollups_are_hour_weighted_not_a_mean_of_percentages(session, week):
    chem = next(g for g in report(session).schools if g.code == "CHEM")
    assert (chem.available_seconds, chem.booked_seconds) == ((38 + 169) * H, (7 + 38) * H)
    assert chem.utilisation == pytest.approx(
        45 / 207
    )  # 21.7 %, where the mean of 18.4 % and 22.5 % is 20.5 %
    assert chem.users == 2


def test_category_rollups_sum_across_schools(session, week):
    microscopes = next(g for g in report(session).categories if g.label == "Microscopes")
    assert microscopes.assets == 2
    assert (microscopes.available_seconds, microscopes.booked_seconds) == ((38 + 24) * H, (7 + 2) * H)
    assert microscopes.utilisation == pytest.approx(9 / 62)


def test_totals(session, week):
    total = report(session).total
    assert (total.available_seconds, total.booked_seconds) == (255 * H, 47 * H)
    assert (total.due, total.no_shows, total.cancellation_base, total.late_cancellations) == (6, 1, 8, 1)
    assert total.actual_available_seconds == (38 + 169) * H  # only the assets that record use
    assert total.actual_seconds == int((5.75 + 36) * H)


def test_sharing_matrix_is_owner_by_borrower(session, week):
    result = report(session)
    chem, phys = week.chem.id, week.phys.id
    assert result.sharing == {(chem, chem): 5 * H, (chem, phys): 40 * H, (phys, chem): 2 * H}


def test_idle_and_saturated_assets_use_the_thresholds(session, week):
    result = report(session)
    assert [a.tag for a in result.idle] == ["BIO-D", "PHYS-C"]  # 0 % and 8.3 %, under 10 %
    # CHEM-A (18 %) has unmet demand, but a manager's rejection and a refusal for overlap and too
    # little notice are not demand turned away for want of free time: it is not saturated.
    assert [a.tag for a in result.saturated] == []
    stricter = report(session, settings=ReportSettings(idle_threshold=0.20, saturated_threshold=0.22))
    assert [a.tag for a in stricter.idle] == ["BIO-D", "PHYS-C", "CHEM-A"]
    assert [a.tag for a in stricter.saturated] == ["CHEM-B"]  # 22.5 % is at or above 22 %


def test_a_report_for_some_schools_covers_only_their_assets(session, week):
    result = report(session, school_ids={week.phys.id})
    assert [a.tag for a in result.assets] == ["PHYS-C"]
    assert result.total.booked_seconds == 2 * H


def test_no_utilisation_where_nothing_was_available(session, week):
    weekend = report(session, first=dt.date(2026, 10, 24), last=dt.date(2026, 10, 24))
    confocal = by_tag(weekend)["CHEM-A"]
    assert confocal.available_seconds == 0
    assert confocal.utilisation is None
    assert not confocal.idle


def test_monthly_trend_splits_a_booking_across_the_month_end(session):
    school = make_school(session, "ENG")
    person = make_user(session, school)
    asset = make_asset(session, school, purchase_date=dt.date(2020, 1, 1))
    replace_hours(
        session, asset, [BookableHours(weekday=d, opens=dt.time(0), closes=dt.time(23, 59)) for d in range(7)]
    )
    session.commit()
    # Saturday 31 October 22:00 GMT to Sunday 1 November 02:00 GMT: 2 hours in each month.
    make_booking(
        session,
        asset,
        person,
        dt.datetime(2026, 10, 31, 22, tzinfo=dt.UTC),
        hours=4,
        status=BookingStatus.COMPLETED,
    )
    result = report(session, first=dt.date(2026, 10, 1), last=dt.date(2026, 11, 30))
    months = result.total.months
    assert [m.span.key for m in months] == ["2026-10", "2026-11"]
    assert [(m.available_seconds, m.booked_seconds) for m in months] == [
        ((31 * 24 + 1) * H, 2 * H),
        (30 * 24 * H, 2 * H),
    ]
    assert result.total.booked_seconds == 4 * H
    assert result.assets[0].bookings == 1  # counted once, though it is in two months


def _round_the_clock(session, school, **fields):
    asset = make_asset(session, school, **fields)
    replace_hours(
        session, asset, [BookableHours(weekday=d, opens=dt.time(0), closes=dt.time(23, 59)) for d in range(7)]
    )
    session.commit()
    return asset


def test_a_booking_over_several_months_fills_the_months_between(session):
    school = make_school(session, "ENG")
    person = make_user(session, school)
    asset = _round_the_clock(session, school, purchase_date=dt.date(2020, 1, 1))
    # 30 September 20:00 BST to 2 December 03:00 GMT: 4 h in September, all of October and
    # November, 27 h in December.
    start = dt.datetime(2026, 9, 30, 19, tzinfo=dt.UTC)
    end = dt.datetime(2026, 12, 2, 3, tzinfo=dt.UTC)
    make_booking(
        session, asset, person, start, hours=(end - start).total_seconds() / H, status=BookingStatus.COMPLETED
    )
    result = report(session, first=dt.date(2026, 9, 1), last=dt.date(2026, 12, 31))
    booked = [m.booked_seconds for m in result.assets[0].months]
    assert booked == [4 * H, (31 * 24 + 1) * H, 30 * 24 * H, 27 * H]
    assert result.assets[0].bookings == 1


def test_an_asset_bought_in_the_period_counts_from_its_purchase_across_months(session):
    school = make_school(session, "ENG")
    person = make_user(session, school)
    bought = _round_the_clock(session, school, purchase_date=dt.date(2026, 10, 31))
    always = _round_the_clock(session, school, purchase_date=dt.date(2020, 1, 1))
    # From Friday 30 October 22:00 GMT to Sunday 1 November 02:00: the day before purchase does not count.
    for asset in (bought, always):
        make_booking(
            session,
            asset,
            person,
            dt.datetime(2026, 10, 30, 22, tzinfo=dt.UTC),
            hours=28,
            status=BookingStatus.COMPLETED,
        )
    result = by_tag(report(session, first=dt.date(2026, 10, 1), last=dt.date(2026, 11, 30)))
    assert [m.booked_seconds for m in result[bought.tag].months] == [24 * H, 2 * H]
    assert [m.available_seconds for m in result[bought.tag].months] == [24 * H, 30 * 24 * H]
    assert [m.booked_seconds for m in result[always.tag].months] == [26 * H, 2 * H]
    assert result[bought.tag].bookings == result[always.tag].bookings == 1


def test_an_asset_out_of_service_all_period_is_left_out_with_its_bookings(session):
    school = make_school(session, "ENG")
    person = make_user(session, school)
    later = _round_the_clock(session, school, purchase_date=dt.date(2027, 1, 1))
    kept = _round_the_clock(session, school, purchase_date=dt.date(2020, 1, 1))
    for asset in (later, kept):  # a booking recorded before the purchase date (bad data) must not count
        make_booking(
            session,
            asset,
            person,
            dt.datetime(2026, 11, 2, 9, tzinfo=dt.UTC),
            hours=2,
            status=BookingStatus.COMPLETED,
        )
    result = report(session, first=dt.date(2026, 11, 1), last=dt.date(2026, 11, 30))
    assert [a.tag for a in result.assets] == [kept.tag]
    assert result.total.booked_seconds == 2 * H
    assert result.total.bookings == 1 and result.total.users == 1


def test_a_period_ending_before_it_starts_is_refused(session):
    with pytest.raises(InvalidInput) as refused:
        report(session, first=dt.date(2026, 10, 2), last=dt.date(2026, 10, 1))
    assert "on or after the first day" in refused.value.field_errors["period_to"][0]


def test_late_cancellation_counts_working_hours_only():
    monday_ten = dt.datetime(2026, 10, 26, 10, tzinfo=dt.UTC)  # after the clocks went back: GMT
    friday = bst(23, 10)  # 14 working hours to Saturday, 10 more on Monday: 24 in all
    assert not is_late_cancellation(friday - dt.timedelta(minutes=1), monday_ten, 24)
    assert is_late_cancellation(friday + dt.timedelta(minutes=1), monday_ten, 24)


def test_cost_in_pence_rounds_half_a_penny_up():
    assert pence_for(1800, 1001) == 501  # half an hour at £10.01 is 500.5 p
    assert pence_for(3 * 3600, 1250) == 3750


def test_demand_refused_for_want_of_training_does_not_make_an_asset_saturated(session, week):
    from bookings.models import DemandSource, UnmetDemand

    session.add(
        UnmetDemand(
            asset_id=week.balance.id,
            requester_id=week.chemist.id,
            start_at=bst(22, 10),
            end_at=bst(22, 11),
            minutes=60,
            source=DemandSource.REFUSED,
            reasons=["training"],
        )
    )
    session.commit()
    balance = by_tag(report(session))["BIO-D"]
    assert balance.unmet_seconds == H
    assert not balance.saturated


def test_late_cancellations_at_the_edges_of_the_notice_through_the_report(session, week):
    """Cancellations at the edges of the notice, read through the report's SQL (their times as
    the database returns them), count as ``is_late_cancellation`` says.
    On the Balance (BIO-D), with 24 hours' notice: cancelled exactly 24 calendar (and working)
    hours before is in time; a minute less is late; 72 hours before, in time; Friday 09:59 for
    Saturday 10:00 (24 calendar hours, 14 working hours) late; ten days before, in time."""
    from tests.reports.conftest import _booking, _cancel

    wednesday_ten = bst(21, 10)
    cancellations = [
        (wednesday_ten, bst(20, 10), False),
        (wednesday_ten + dt.timedelta(hours=2), bst(20, 12, 1), True),
        (bst(22, 10), bst(19, 10), False),  # Thursday 10:00, cancelled 72 h before on Monday
        (bst(24, 10), bst(23, 10) - dt.timedelta(minutes=1), True),  # Saturday: no working hours
        (bst(25, 10), bst(15, 10), False),
    ]
    for start, cancelled, _late in cancellations:
        booking = _booking(
            session,
            week.balance,
            week.biologist,
            start,
            start + dt.timedelta(hours=1),
            BookingStatus.CANCELLED,
        )
        _cancel(session, booking, cancelled)
    expected = sum(is_late_cancellation(cancelled, start, 24) for start, cancelled, _ in cancellations)
    assert expected == sum(late for *_, late in cancellations) == 2
    balance = by_tag(report(session, settings=ReportSettings(late_cancel_hours=24)))["BIO-D"]
    assert balance.late_cancellations == expected
