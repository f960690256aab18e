"""The capital-planning page: who may see and decide what, decisions and their history, and
downloads that agree with the page."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from inventory.models import Asset, Category
from planning.models import DecisionOutcome, PlanningDecision, Recommendation
from tests.conftest import see_committed, sign_in
from tests.planning.conftest import asset, turned_away
from tests.reports.helpers import (
    csv_sections,
    page_tables,
    to_one_decimal,
    to_the_pound,
    xlsx_formats,
    xlsx_sheets,
)

pytestmark = pytest.mark.usefixtures("on_today")


@pytest.fixture
def idle(session, people):
    """An idle printer in each of CHEM and PHYS, in service all year: both to be disposed of."""
    chem = asset(
        session,
        people.chem,
        tag="CHEM-PRN",
        name="Chem printer",
        category=people.printers,
        purchase_date=dt.date(2019, 4, 1),
        purchase_cost_pence=250_000,
    )
    phys = asset(
        session,
        people.phys,
        tag="PHYS-PRN",
        name="Phys printer",
        category=people.printers,
        purchase_date=dt.date(2019, 4, 1),
        purchase_cost_pence=250_000,
    )
    return chem, phys


def decide(client, asset, recommendation="dispose", outcome="deferred", note="", back=""):
    return client.post(
        "/planning/decisions",
        data={
            "asset_id": asset.id,
            "recommendation": recommendation,
            "outcome": outcome,
            "note": note,
            "back": back,
        },
    )


def decisions(session):
    see_committed(session)
    return session.scalars(select(PlanningDecision).order_by(PlanningDecision.id)).all()


# --- Who may see ---------------------------------------------------------------------------------


def test_a_manager_sees_only_their_own_schools_plan(client, people, idle):
    sign_in(client, people.chem_manager.email)
    response = client.get("/planning")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "CHEM-PRN" in html and "PHYS-PRN" not in html


def test_a_manager_asking_for_another_schools_plan_is_refused(client, people, idle):
    sign_in(client, people.chem_manager.email)
    assert client.get(f"/planning?school={people.phys.id}").status_code == 403
    assert client.get(f"/planning.csv?school={people.phys.id}").status_code == 403
    assert client.get(f"/planning.xlsx?school={people.phys.id}").status_code == 403


def test_technicians_cannot_see_capital_planning(client, people, idle):
    sign_in(client, people.technician.email)
    assert client.get("/planning").status_code == 403
    assert client.get("/planning.csv").status_code == 403


def test_finance_sees_every_school(client, people, idle):
    sign_in(client, people.finance.email)
    html = client.get("/planning").get_data(as_text=True)
    assert "CHEM-PRN" in html and "PHYS-PRN" in html


def test_managers_and_finance_find_the_page_in_the_menu_and_technicians_do_not(client, people):
    for person, sees in ((people.chem_manager, True), (people.finance, True), (people.technician, False)):
        sign_in(client, person.email)
        html = client.get("/").get_data(as_text=True)
        assert ('href="/planning"' in html) is sees, person.name
        client.post("/sign-out")


def test_an_unknown_category_is_a_clear_error_not_a_crash(client, people, idle):
    sign_in(client, people.finance.email)
    response = client.get("/planning?category=9999")
    assert response.status_code == 400
    assert "Choose a category from the list." in response.get_data(as_text=True)


# --- Who may decide ------------------------------------------------------------------------------


def test_a_manager_cannot_decide_on_another_schools_recommendation(client, session, people, idle):
    _, phys_printer = idle
    sign_in(client, people.chem_manager.email)
    assert decide(client, phys_printer, outcome="accepted").status_code == 403
    assert decisions(session) == []


def test_a_manager_gets_a_decision_form_beside_their_schools_recommendations(client, people, idle):
    sign_in(client, people.chem_manager.email)
    html = client.get("/planning").get_data(as_text=True)
    assert f'id="outcome-{idle[0].id}-dispose"' in html
    assert f'<label class="label" for="outcome-{idle[0].id}-dispose">Decision</label>' in html


def test_a_manager_records_a_decision_with_a_note_on_their_schools_recommendation(
    client, session, people, idle
):
    chem_printer, _ = idle
    sign_in(client, people.chem_manager.email)
    response = decide(
        client, chem_printer, outcome="accepted", note="Offer it to Engineering first.", back="years=3"
    )
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/planning?years=3#rec-{chem_printer.id}-dispose")
    [decision] = decisions(session)
    assert (decision.asset_id, decision.recommendation, decision.outcome) == (
        chem_printer.id,
        Recommendation.DISPOSE,
        DecisionOutcome.ACCEPTED,
    )
    assert decision.note == "Offer it to Engineering first."
    assert decision.decided_by_id == people.chem_manager.id


def test_finance_may_decide_for_any_school(client, session, people, idle):
    sign_in(client, people.finance.email)
    assert decide(client, idle[1], outcome="declined").status_code == 302
    assert [d.outcome for d in decisions(session)] == [DecisionOutcome.DECLINED]


def test_technicians_cannot_decide(client, session, people, idle):
    sign_in(client, people.technician.email)
    assert decide(client, idle[0]).status_code == 403
    assert decisions(session) == []


def test_a_decision_on_a_recommendation_the_evidence_does_not_make_is_refused(client, session, people, idle):
    sign_in(client, people.finance.email)
    response = decide(client, idle[0], recommendation="invest")
    assert response.status_code == 302
    assert decisions(session) == []
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "no longer recommends “invest” for Chem printer (CHEM-PRN)" in page


def test_a_bad_outcome_is_refused_with_a_message(client, session, people, idle):
    sign_in(client, people.finance.email)
    response = decide(client, idle[0], outcome="maybe")
    assert decisions(session) == []
    assert "Choose accept, defer or decline." in client.get(response.headers["Location"]).get_data(
        as_text=True
    )


def test_every_decision_is_kept_and_the_latest_is_current(client, session, people, idle):
    chem_printer, _ = idle
    sign_in(client, people.chem_manager.email)
    decide(client, chem_printer, outcome="deferred", note="Wait for the teaching timetable.")
    decide(client, chem_printer, outcome="accepted", note="Nobody booked it this term either.")
    assert [(d.outcome, d.note) for d in decisions(session)] == [
        (DecisionOutcome.DEFERRED, "Wait for the teaching timetable."),
        (DecisionOutcome.ACCEPTED, "Nobody booked it this term either."),
    ]
    html = client.get("/planning").get_data(as_text=True)
    assert "Decision history (2)" in html
    current = html.index("<strong>Decision:</strong>")
    assert html.index("Accepted", current) < html.index("Decision history (2)")
    assert "Wait for the teaching timetable." in html


def test_the_evidence_is_shown_beside_each_recommendation(client, session, people, idle):
    turned_away(session, idle[1], people.chemist, dt.date(2025, 11, 3), 3, ["not_shared"])
    sign_in(client, people.finance.email)
    html = client.get("/planning").get_data(as_text=True)
    card = html[html.index(f'id="rec-{idle[0].id}-dispose"') :]
    card = card[: card.index("</article>")]
    for shown in (
        "Idle for the whole year",
        "Utilisation",
        "0.0%: 0.0 h booked of 2,088.0 h available",
        "Unmet demand",
        "Age and remaining life",
        "Failed inspections",
        "Replacement estimate",
    ):
        assert shown in card


# --- Downloads -----------------------------------------------------------------------------------


def test_csv_and_xlsx_show_what_the_page_shows(client, session, people, idle):
    asset(
        session,
        people.phys,
        tag="PHYS-OLD",
        name="=cmd|' /C calc'!A0",
        category=people.microscopes,
        purchase_date=dt.date(2016, 9, 1),
        purchase_cost_pence=1_000_000,
    )
    sign_in(client, people.finance.email)
    page = page_tables(client.get("/planning?years=3").get_data(as_text=True))
    csv_response = client.get("/planning.csv?years=3")
    xlsx_response = client.get("/planning.xlsx?years=3")
    assert csv_response.mimetype == "text/csv"
    assert xlsx_response.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    sections = csv_sections(csv_response.get_data(as_text=True))
    sheets = xlsx_sheets(xlsx_response.data)
    for key, title in (("totals", "Totals by year"), ("forecast", "Forecast"), ("assets", "Assets")):
        page_rows, csv_rows, xlsx_rows = page[f"table-{key}"], sections[title], sheets[title]
        assert len(page_rows) == len(csv_rows) == len(xlsx_rows) > 1, title
        for page_row, csv_row, xlsx_row in zip(page_rows[1:], csv_rows[1:], xlsx_rows[1:]):
            for heading, shown, plain, stored in zip(csv_rows[0], page_row, csv_row, xlsx_row):
                if heading.endswith("(£)"):  # the page to the pound, the files to the penny
                    assert shown == (to_the_pound(plain) if plain else "")
                    assert stored == (float(plain) if plain else None)
                elif heading.endswith("(%)"):
                    assert shown == (f"{plain}%" if plain else "–")
                elif isinstance(stored, float):  # hours: one decimal on the page
                    assert shown == to_one_decimal(plain) and float(plain) == stored
                elif isinstance(stored, int):
                    assert float(shown.replace(",", "")) == float(plain) == stored
                else:
                    assert shown.lstrip("'") == plain.lstrip("'") == (stored or "").lstrip("'")
    # 2026/27: PHYS-OLD's £10,000.00 of 2016/17 raised 3 % a year for 10 years: x 1.343916 = £13,439.16.
    assert ["2026/27", "2026-08-01", "2027-07-31", "1", "13439.16"] == sections["Totals by year"][3][:5]


def test_the_xlsx_keeps_money_as_numbers_in_pounds_and_text_harmless(client, session, people, idle):
    asset(
        session,
        people.phys,
        tag="PHYS-OLD",
        name='=HYPERLINK("x")',
        category=people.microscopes,
        purchase_date=dt.date(2016, 9, 1),
        purchase_cost_pence=1_000_000,
    )
    sign_in(client, people.finance.email)
    data = client.get("/planning.xlsx").data
    totals = xlsx_sheets(data)["Totals by year"]
    assert totals[3][4] == 13439.16
    assert xlsx_formats(data, "Totals by year")[3][4] == '"£"#,##0.00'
    assets = xlsx_sheets(data)["Assets"]
    assert '\'=HYPERLINK("x")' in [row[1] for row in assets]


# --- Useful lives -------------------------------------------------------------------------------


def test_finance_sets_a_categorys_useful_life(client, session, people):
    sign_in(client, people.finance.email)
    response = client.post(f"/planning/lives/{people.printers.id}", data={"years": "6"})
    assert response.status_code == 302
    see_committed(session)
    assert session.get(Category, people.printers.id).default_useful_life_years == 6


def test_a_useful_life_out_of_range_is_refused_with_a_message(client, session, people):
    sign_in(client, people.finance.email)
    response = client.post(f"/planning/lives/{people.printers.id}", data={"years": "0"})
    assert response.status_code == 400
    assert "Enter a whole number of years from 1 to 100." in response.get_data(as_text=True)


def test_managers_cannot_set_a_categorys_useful_life(client, session, people):
    sign_in(client, people.chem_manager.email)
    assert client.post(f"/planning/lives/{people.printers.id}", data={"years": "6"}).status_code == 403


def test_a_manager_records_an_assets_useful_life_and_replacement_cost_on_its_form(
    client, session, people, idle
):
    chem_printer, _ = idle
    sign_in(client, people.chem_manager.email)
    form = client.get(f"/assets/{chem_printer.id}/edit").get_data(as_text=True)
    assert 'name="useful_life_years"' in form and 'name="replacement_cost"' in form
    data = {
        "tag": "CHEM-PRN",
        "name": "Chem printer",
        "category_id": people.printers.id,
        "location_id": chem_printer.location_id,
        "contact_id": 0,
        "purchase_date": "2019-04-01",
        "purchase_cost": "2500.00",
        "hourly_rate": "0",
        "bookable": "y",
        "shareable": "y",
        "min_notice_minutes": "0",
        "turnaround_minutes": "0",
        "useful_life_years": "7",
        "replacement_cost": "3,100.50",
        **{f"hours-{d}-opens": "09:00" for d in range(5)},
        **{f"hours-{d}-closes": "17:00" for d in range(5)},
    }
    assert client.post(f"/assets/{chem_printer.id}/edit", data=data).status_code == 302
    see_committed(session)
    saved = session.get(Asset, chem_printer.id)
    assert (saved.useful_life_years, saved.replacement_cost_pence) == (7, 310_050)


@pytest.mark.parametrize(
    "query, message",
    [
        ("years=abc", "Choose from the list."),
        ("years=9", "Choose from 1 to 5 financial years."),
        ("on=31-07-2026", "Enter a date such as 2026-09-01."),
        ("school=9999", "Choose a School from the list."),
    ],
)
def test_hand_edited_filters_get_a_clear_message(client, people, query, message):
    sign_in(client, people.finance.email)
    response = client.get(f"/planning?{query}")
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)


def test_managers_read_the_useful_lives_and_technicians_cannot(client, people):
    sign_in(client, people.chem_manager.email)
    html = client.get("/planning/lives").get_data(as_text=True)
    rows = page_tables(html)["table-lives"]
    assert ["Centrifuges", "8 years"] in rows and ["Printers", "The default (10 years)"] in rows
    assert 'name="years"' not in html  # finance and admins change them
    client.post("/sign-out")
    sign_in(client, people.technician.email)
    assert client.get("/planning/lives").status_code == 403
