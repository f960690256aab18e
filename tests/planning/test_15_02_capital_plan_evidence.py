"""Issue 15, point 2: the capital plan uses the report's evidence rule. "Invest" needs the asset to
be saturated (booked at or above 80 %, or at least 8 h turned away for want of free time from at
least 2 people) and people of at least KITSHARE_PLANNING_INVEST_SCHOOLS Schools turned away for
want of free time: refused because the time was already booked, or waitlisted and never served.
A manager's rejection never makes "Invest". The evidence lists the refusals it counts, with their
reasons and Schools, and the others apart, as not counted. The decision box starts at "no
decision", and sending it so records nothing.

The evidence year is 18 March 2025 to 17 March 2026 (conftest): an asset open Monday to Friday
09:00-17:00 has 2,088 hours in it. Each refusal below starts at 09:00 on a day in November 2025.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

import pytest
from sqlalchemy import select

from bookings.models import DemandSource, UnmetDemand
from planning import service
from planning.models import PlanningDecision, Recommendation
from tests.conftest import see_committed, sign_in
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

INVEST, SHARE, DISPOSE = Recommendation.INVEST, Recommendation.SHARE, Recommendation.DISPOSE


def waitlisted(session, asset, person, day: dt.date, hours: int) -> None:
    """A waitlist place from 09:00 on ``day`` that was never served."""
    session.add(
        UnmetDemand(
            asset_id=asset.id,
            requester_id=person.id,
            requester_school_id=person.home_school_id,
            start_at=local(day, 9),
            end_at=local(day, 9 + hours),
            minutes=hours * 60,
            source=DemandSource.WAITLISTED,
            reasons=["waitlisted"],
        )
    )
    session.commit()


def rejected(session, asset, person, day: dt.date, hours: int) -> None:
    session.add(
        UnmetDemand(
            asset_id=asset.id,
            requester_id=person.id,
            requester_school_id=person.home_school_id,
            start_at=local(day, 9),
            end_at=local(day, 9 + hours),
            minutes=hours * 60,
            source=DemandSource.REJECTED,
            reasons=["rejected"],
        )
    )
    session.commit()


def plan_for(session, people, **config):
    plan = service.build_plan(
        session,
        people.finance,
        school_id=None,
        category_id=None,
        years=5,
        config=replace(CONFIG, **config),
        today=TODAY,
        now=NOW,
    )
    return {(item.asset.tag, item.kind): item for item in plan.recommendations}, plan


def kinds_for(found, tag):
    return {kind for (each, kind) in found if each == tag}


def evidence(plan, item):
    from planning.recommendations import evidence_lines

    return dict(evidence_lines(item.evidence, plan.evidence.schools_by_id, plan.today))


NOV = dt.date(2025, 11, 3)  # a Monday


def test_invest_lists_the_refusals_it_counts_and_those_it_does_not(session, people):
    sequencer = asset(
        session, people.chem, tag="CHEM-SEQ", category=people.centrifuges, purchase_date=dt.date(2023, 1, 1)
    )
    book_weekdays(session, sequencer, people.chemist, YEAR_FROM, YEAR_TO, 9, 17)  # 100 %
    turned_away(session, sequencer, people.physicist, NOV, 5, ["overlap"])
    turned_away(session, sequencer, people.physicist, NOV + dt.timedelta(days=1), 3, ["overlap"])
    waitlisted(session, sequencer, people.biologist, NOV + dt.timedelta(days=2), 2)
    rejected(session, sequencer, people.biologist, NOV + dt.timedelta(days=3), 4)
    turned_away(session, sequencer, people.physicist, NOV + dt.timedelta(days=4), 2, ["training"])
    found, plan = plan_for(session, people)
    assert kinds_for(found, "CHEM-SEQ") == {INVEST}
    item = found[("CHEM-SEQ", INVEST)]
    # Saturated twice over: by its use, and by 10 h turned away from 2 people (at least 8 h, 2 people).
    assert item.reasons == [
        "Saturated: 100.0% booked (at or above 80.0%); 10.0 h turned away for want of free time "
        "(already booked 8.0 h; waitlisted, never served 2.0 h) from 2 people",
        "Turned away for want of free time, people of 2 Schools (at least 2): 3 requests, 10.0 h — "
        "already booked 2 (PHYS 8.0 h); waitlisted, never served 1 (BIO 2.0 h)",
    ]
    shown = evidence(plan, item)
    assert shown["Turned away for want of free time (counted as capacity demand)"] == (
        "3 requests, 10.0 h — already booked 2 (PHYS 8.0 h); waitlisted, never served 1 (BIO 2.0 h)"
    )
    assert shown["Other unmet demand (not counted as capacity demand)"] == (
        "2 requests, 6.0 h — rejected by a manager 1 (BIO 4.0 h); training needed 1 (PHYS 2.0 h)"
    )


def test_demand_turned_away_alone_makes_invest_at_little_use(session, people):
    # Nothing booked, but 9 h turned away for want of free time from 2 people of 2 Schools:
    # saturated, so not idle (no share, no dispose), and wanted by 2 Schools: invest.
    rig = asset(
        session, people.chem, tag="CHEM-RIG", category=people.centrifuges, purchase_date=dt.date(2023, 1, 1)
    )
    waitlisted(session, rig, people.physicist, NOV, 5)
    turned_away(session, rig, people.biologist, NOV, 4, ["overlap"])
    found, _ = plan_for(session, people)
    assert kinds_for(found, "CHEM-RIG") == {INVEST}
    assert found[("CHEM-RIG", INVEST)].reasons[0] == (
        "Saturated: 9.0 h turned away for want of free time (already booked 4.0 h; waitlisted, never served 5.0 h) "
        "from 2 people"
    )


def test_invest_needs_capacity_refusals_from_the_stated_number_of_schools(session, people):
    rig = asset(
        session, people.chem, tag="CHEM-RIG", category=people.centrifuges, purchase_date=dt.date(2023, 1, 1)
    )
    waitlisted(session, rig, people.physicist, NOV, 5)
    turned_away(session, rig, people.biologist, NOV, 4, ["overlap"])
    found, _ = plan_for(session, people, KITSHARE_PLANNING_INVEST_SCHOOLS=3)
    assert INVEST not in kinds_for(found, "CHEM-RIG")  # 2 Schools of the 3 needed


def test_saturated_by_the_demand_of_one_school_is_no_case_for_investment(session, people):
    rig = asset(
        session, people.chem, tag="CHEM-RIG", category=people.centrifuges, purchase_date=dt.date(2023, 1, 1)
    )
    turned_away(session, rig, people.physicist, NOV, 5, ["overlap"])
    turned_away(session, rig, people.phys_manager, NOV, 4, ["overlap"])  # 9 h, 2 people, both PHYS
    found, plan = plan_for(session, people)
    [rig_evidence] = [e for e in plan.evidence.assets if e.asset.tag == "CHEM-RIG"]
    assert rig_evidence.figures.saturated
    assert INVEST not in kinds_for(found, "CHEM-RIG")


def test_demand_a_manager_rejected_never_makes_invest(session, people):
    # The Sorvall case: little used, and its requests rejected by a manager, from 2 Schools.
    sorvall = asset(
        session, people.chem, tag="CHEM-SOR", category=people.centrifuges, purchase_date=dt.date(2023, 1, 1)
    )
    book_weekdays(
        session, sorvall, people.chemist, dt.date(2025, 6, 2), dt.date(2025, 6, 13), 9, 14
    )  # 50 h: 2.4 %
    for day in range(5):
        rejected(session, sorvall, people.physicist, NOV + dt.timedelta(days=day), 6)
        rejected(session, sorvall, people.biologist, NOV + dt.timedelta(days=7 + day), 6)
    # And one that is busy all the time, its requests rejected by a manager from 2 Schools too.
    busy = asset(
        session, people.chem, tag="CHEM-BUSY", category=people.centrifuges, purchase_date=dt.date(2023, 1, 1)
    )
    book_weekdays(session, busy, people.chemist, YEAR_FROM, YEAR_TO, 9, 17)
    rejected(session, busy, people.physicist, NOV, 8)
    rejected(session, busy, people.biologist, NOV, 8)
    found, plan = plan_for(session, people)
    assert INVEST not in kinds_for(found, "CHEM-SOR")
    assert INVEST not in kinds_for(found, "CHEM-BUSY")
    [sorvall_evidence] = [e for e in plan.evidence.assets if e.asset.tag == "CHEM-SOR"]
    assert sorvall_evidence.figures.utilisation == pytest.approx(50 / 2088)
    assert not sorvall_evidence.figures.saturated
    # It is idle, and other Schools wanted it: share it.
    assert SHARE in kinds_for(found, "CHEM-SOR")
    item = found[("CHEM-SOR", SHARE)]
    shown = evidence(plan, item)
    assert shown["Turned away for want of free time (counted as capacity demand)"] == "None"
    assert shown["Other unmet demand (not counted as capacity demand)"] == (
        "10 requests, 60.0 h — rejected by a manager 10 (BIO 30.0 h, PHYS 30.0 h)"
    )


# --- The decision box ----------------------------------------------------------------------------


@pytest.fixture
def printer(session, people):
    """An idle printer in CHEM in service all year: disposal is recommended."""
    return asset(
        session,
        people.chem,
        tag="CHEM-PRN",
        name="Chem printer",
        category=people.printers,
        purchase_date=dt.date(2019, 4, 1),
    )


def test_the_decision_box_starts_at_no_decision(client, people, printer, on_today):
    sign_in(client, people.chem_manager.email)
    html = client.get("/planning").get_data(as_text=True)
    box = html[html.index(f'id="outcome-{printer.id}-dispose"') :]
    box = box[: box.index("</select>")]
    assert '<option selected value="">— no decision —</option>' in box
    assert box.count("selected") == 1


def test_sending_no_decision_records_nothing_and_says_so(client, session, people, printer, on_today):
    sign_in(client, people.chem_manager.email)
    response = client.post(
        "/planning/decisions",
        data={
            "asset_id": printer.id,
            "recommendation": "dispose",
            "outcome": "",
            "note": "",
            "back": "",
        },
    )
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"#rec-{printer.id}-dispose")
    see_committed(session)
    assert session.scalars(select(PlanningDecision)).all() == []
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Nothing recorded: choose accept, defer or decline to record a decision." in page
