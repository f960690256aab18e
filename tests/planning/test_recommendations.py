"""One test for each recommendation, with the evidence it shows beside it.

The evidence year is 18 March 2025 to 17 March 2026 (conftest). An asset open Monday to Friday
09:00-17:00 has 2,088 hours in it; booked 09:00-14:00 every weekday it has 1,305 (62.5 %).
"""

from __future__ import annotations

import datetime as dt

from inventory.models import (
    InspectionKind,
    InspectionOutcome,
    InspectionRecord,
    InspectionSchedule,
    MaintenanceWindow,
)
from planning import service
from planning.models import Recommendation
from tests.planning.conftest import (
    CONFIG,
    NOW,
    TODAY,
    YEAR_FROM,
    YEAR_TO,
    asset,
    book_weekdays,
    local,
    turned_away,
)

REPLACE, INVEST, SHARE, DISPOSE = (
    Recommendation.REPLACE,
    Recommendation.INVEST,
    Recommendation.SHARE,
    Recommendation.DISPOSE,
)


def recommendations(session, people):
    plan = service.build_plan(
        session,
        people.finance,
        school_id=None,
        category_id=None,
        years=5,
        config=CONFIG,
        today=TODAY,
        now=NOW,
    )
    return {(item.asset.tag, item.kind): item for item in plan.recommendations}, plan


def kinds_for(found, tag):
    return {kind for (each, kind) in found if each == tag}


def evidence(plan, item):
    from planning.recommendations import evidence_lines

    return dict(evidence_lines(item.evidence, plan.evidence.schools_by_id, plan.today))


def test_replace_an_asset_near_the_end_of_its_life_that_is_well_used(session, people):
    # A microscope (10 years) bought 1 June 2016: its life ends 1 June 2026, within 12 months.
    scope = asset(
        session,
        people.chem,
        tag="CHEM-OLD",
        category=people.microscopes,
        purchase_date=dt.date(2016, 6, 1),
        purchase_cost_pence=5_000_000,
    )
    book_weekdays(session, scope, people.chemist, YEAR_FROM, YEAR_TO, 9, 14)
    found, plan = recommendations(session, people)
    assert kinds_for(found, "CHEM-OLD") == {REPLACE}
    item = found[("CHEM-OLD", REPLACE)]
    assert item.reasons == [
        "Its life ends on 01 Jun 2026, within 12 months, and it is well used: 62.5% utilisation (at least 50.0%)"
    ]
    shown = evidence(plan, item)
    assert shown["Utilisation"] == "62.5%: 1,305.0 h booked of 2,088.0 h available"
    assert shown["Age and remaining life"] == (
        "Bought 01 Jun 2016, 9 years 9 months old; useful life 10 years (its category's); 2 months left, to 01 Jun 2026"
    )


def test_an_asset_near_the_end_of_its_life_but_little_used_is_not_replaced(session, people):
    asset(
        session, people.chem, tag="CHEM-QUIET", category=people.microscopes, purchase_date=dt.date(2016, 6, 1)
    )
    found, _ = recommendations(session, people)
    assert REPLACE not in kinds_for(found, "CHEM-QUIET")


def test_replace_an_asset_failing_its_inspections(session, people):
    cupboard = asset(
        session,
        people.phys,
        tag="PHYS-HOOD",
        category=people.printers,
        bookable=False,
        purchase_date=dt.date(2022, 1, 10),
    )
    schedule = InspectionSchedule(
        asset_id=cupboard.id,
        kind=InspectionKind.FUME_CUPBOARD,
        interval_days=365,
        last_done_on=dt.date(2026, 2, 10),
        next_due_on=dt.date(2027, 2, 10),
    )
    schedule.records = [
        InspectionRecord(
            done_on=dt.date(2025, 2, 3), performed_by="Contractor", outcome=InspectionOutcome.PASS
        ),
        InspectionRecord(
            done_on=dt.date(2026, 2, 10),
            performed_by="Contractor",
            outcome=InspectionOutcome.FAIL,
            note="Face velocity too low",
        ),
    ]
    session.add(schedule)
    session.commit()
    found, plan = recommendations(session, people)
    assert kinds_for(found, "PHYS-HOOD") == {REPLACE}
    item = found[("PHYS-HOOD", REPLACE)]
    assert item.reasons == [
        "Failing inspections: Fume-cupboard examination failed on 10 Feb 2026 (not passed since)"
    ]
    assert (
        evidence(plan, item)["Failed inspections"]
        == "Fume-cupboard examination failed on 10 Feb 2026 (not passed since)"
    )


def test_the_evidence_counts_maintenance_and_inspection_costs_in_the_year_and_since_bought(session, people):
    hood = asset(
        session,
        people.phys,
        tag="PHYS-HOOD",
        category=people.printers,
        bookable=False,
        purchase_date=dt.date(2022, 1, 10),
    )
    schedule = InspectionSchedule(
        asset_id=hood.id,
        kind=InspectionKind.FUME_CUPBOARD,
        interval_days=365,
        last_done_on=dt.date(2026, 2, 10),
        next_due_on=dt.date(2027, 2, 10),
    )
    schedule.records = [
        InspectionRecord(
            done_on=dt.date(2025, 2, 3),
            performed_by="Contractor",
            outcome=InspectionOutcome.PASS,
            cost_pence=15_000,
        ),  # before the evidence year
        InspectionRecord(
            done_on=dt.date(2026, 2, 10),
            performed_by="Contractor",
            outcome=InspectionOutcome.FAIL,
            cost_pence=20_000,
        ),
    ]
    session.add_all(
        [
            schedule,
            MaintenanceWindow(
                asset_id=hood.id,
                start_at=local(dt.date(2025, 11, 4), 9),
                end_at=local(dt.date(2025, 11, 4), 17),
                reason="Fan motor replaced",
                cost_pence=45_000,
            ),
            MaintenanceWindow(
                asset_id=hood.id,
                start_at=local(dt.date(2026, 4, 1), 9),
                end_at=local(dt.date(2026, 4, 1), 17),
                reason="Service visit",
            ),  # planned: no cost yet
        ]
    )
    session.commit()
    found, plan = recommendations(session, people)
    shown = evidence(plan, found[("PHYS-HOOD", REPLACE)])
    assert (
        shown["Maintenance and inspection costs"] == "£650 in the year, £800 since bought"
    )  # to the pound (issue 15.10)


def test_invest_in_a_saturated_asset_with_unmet_demand_from_several_schools(session, people):
    sequencer = asset(
        session, people.chem, tag="CHEM-SEQ", category=people.centrifuges, purchase_date=dt.date(2023, 1, 1)
    )
    book_weekdays(session, sequencer, people.chemist, YEAR_FROM, YEAR_TO, 9, 17)
    turned_away(session, sequencer, people.physicist, dt.date(2025, 11, 3), 3, ["overlap"])
    turned_away(session, sequencer, people.biologist, dt.date(2025, 11, 4), 2, ["overlap"])
    found, plan = recommendations(session, people)
    assert kinds_for(found, "CHEM-SEQ") == {INVEST}
    item = found[("CHEM-SEQ", INVEST)]
    # Saturated by its use; the 5 h turned away (under 8 h) would not make it so alone, but they
    # come from 2 Schools, which the case for investment needs.
    assert item.reasons == [
        "Saturated: 100.0% booked (at or above 80.0%)",
        "Turned away for want of free time, people of 2 Schools (at least 2): 2 requests, 5.0 h — "
        "already booked 2 (PHYS 3.0 h, BIO 2.0 h)",
    ]
    assert evidence(plan, item)["Unmet demand"] == "5.0 h, from PHYS 3.0 h, BIO 2.0 h"


def test_a_saturated_asset_wanted_by_one_school_only_is_no_case_for_investment(session, people):
    busy = asset(
        session, people.chem, tag="CHEM-BUSY", category=people.centrifuges, purchase_date=dt.date(2023, 1, 1)
    )
    book_weekdays(session, busy, people.chemist, YEAR_FROM, YEAR_TO, 9, 17)
    turned_away(session, busy, people.physicist, dt.date(2025, 11, 3), 3, ["overlap"])
    found, _ = recommendations(session, people)
    assert INVEST not in kinds_for(found, "CHEM-BUSY")


def test_demand_another_school_could_not_meet_for_want_of_training_is_no_case_for_investment(session, people):
    busy = asset(
        session, people.chem, tag="CHEM-BUSY", category=people.centrifuges, purchase_date=dt.date(2023, 1, 1)
    )
    book_weekdays(session, busy, people.chemist, YEAR_FROM, YEAR_TO, 9, 17)
    turned_away(session, busy, people.physicist, dt.date(2025, 11, 3), 3, ["overlap"])
    turned_away(session, busy, people.biologist, dt.date(2025, 11, 4), 2, ["training"])
    found, _ = recommendations(session, people)
    assert INVEST not in kinds_for(found, "CHEM-BUSY")


def test_share_an_idle_asset_that_other_schools_asked_for(session, people):
    camera = asset(
        session, people.chem, tag="CHEM-CAM", category=people.printers, purchase_date=dt.date(2021, 5, 1)
    )
    turned_away(session, camera, people.physicist, dt.date(2025, 10, 6), 4, ["training"])
    found, plan = recommendations(session, people)
    assert kinds_for(found, "CHEM-CAM") == {SHARE}
    item = found[("CHEM-CAM", SHARE)]
    assert item.reasons == [
        "Idle in CHEM (0.0% utilisation, under 10.0%) but in demand elsewhere: PHYS 4.0 h turned away"
    ]
    assert evidence(plan, item)["Unmet demand"] == "4.0 h, from PHYS 4.0 h"


def test_share_an_idle_asset_not_yet_open_to_other_schools(session, people):
    # Bought in October: not a whole year in service, so it is no case for disposal yet.
    asset(
        session,
        people.chem,
        tag="CHEM-PRIV",
        category=people.printers,
        shareable=False,
        purchase_date=dt.date(2025, 10, 1),
    )
    found, plan = recommendations(session, people)
    assert kinds_for(found, "CHEM-PRIV") == {SHARE}
    item = found[("CHEM-PRIV", SHARE)]
    assert item.reasons == [
        "Idle (0.0% utilisation, under 10.0%) and could be shared, but is not yet open to other Schools"
    ]
    assert evidence(plan, item)["Used by other Schools"] == "None: not open to other Schools"


def test_dispose_of_an_asset_idle_all_year_with_no_unmet_demand(session, people):
    printer = asset(
        session, people.chem, tag="CHEM-PRN", category=people.printers, purchase_date=dt.date(2019, 4, 1)
    )
    book_weekdays(session, printer, people.chemist, dt.date(2025, 6, 2), dt.date(2025, 6, 6), 9, 11)  # 10 h
    found, plan = recommendations(session, people)
    assert kinds_for(found, "CHEM-PRN") == {DISPOSE}
    item = found[("CHEM-PRN", DISPOSE)]
    assert item.reasons == [
        "Idle for the whole year: 0.5% utilisation (under 10.0%), 10.0 h booked of 2,088.0 h, and no unmet demand"
    ]
    assert evidence(plan, item)["Unmet demand"] == "None"


def test_an_idle_asset_with_unmet_demand_is_not_disposed_of(session, people):
    printer = asset(
        session, people.chem, tag="CHEM-PRN", category=people.printers, purchase_date=dt.date(2019, 4, 1)
    )
    turned_away(session, printer, people.chemist, dt.date(2025, 6, 2), 2, ["min_notice"])
    found, _ = recommendations(session, people)
    assert DISPOSE not in kinds_for(found, "CHEM-PRN")


def test_an_asset_idle_for_less_than_a_year_is_not_disposed_of(session, people):
    asset(session, people.chem, tag="CHEM-NEW", category=people.printers, purchase_date=dt.date(2025, 9, 1))
    found, _ = recommendations(session, people)
    assert DISPOSE not in kinds_for(found, "CHEM-NEW")


def test_an_asset_added_to_kitshare_less_than_a_year_ago_is_not_disposed_of(session, people):
    # Kitshare has a year of records (others' assets), but this one's use before September is not known.
    asset(session, people.phys, tag="PHYS-PRN", category=people.printers, purchase_date=dt.date(2019, 4, 1))
    asset(
        session,
        people.chem,
        tag="CHEM-LATE",
        category=people.printers,
        purchase_date=dt.date(2019, 4, 1),
        created_at=dt.datetime(2025, 9, 1, 9, tzinfo=dt.UTC),
    )
    found, _ = recommendations(session, people)
    assert DISPOSE not in kinds_for(found, "CHEM-LATE")
    assert DISPOSE in kinds_for(found, "PHYS-PRN")


def test_the_evidence_starts_when_kitshares_records_began(session, people):
    # Kitshare went live on 1 October 2025: the months before are not counted as unused.
    went_live = dt.datetime(2025, 10, 1, 8, tzinfo=dt.UTC)
    scope = asset(
        session,
        people.chem,
        tag="CHEM-OLD",
        category=people.microscopes,
        purchase_date=dt.date(2016, 6, 1),
        created_at=went_live,
    )
    book_weekdays(session, scope, people.chemist, dt.date(2025, 10, 1), YEAR_TO, 9, 14)
    found, plan = recommendations(session, people)
    assert (plan.evidence.period_from, plan.evidence.period_to) == (dt.date(2025, 10, 1), YEAR_TO)
    assert "62.5% utilisation" in found[("CHEM-OLD", REPLACE)].why
