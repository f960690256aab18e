"""Managers keep their School's register; nobody changes another School's assets."""

import datetime as dt

import pytest
from sqlalchemy import func, select

from accounts.models import Role
from core.audit import AuditEntry
from inventory import service
from inventory.models import Asset, AssetStatus, Category, Location
from tests.conftest import see_committed, sign_in
from tests.factories import make_asset, make_booking, make_school, make_user

UTC = dt.UTC


@pytest.fixture
def schools(session):
    a, b = make_school(session, "CHEM"), make_school(session, "PHYS")
    return {
        "a": a,
        "b": b,
        "manager_a": make_user(session, a, Role.MANAGER),
        "manager_b": make_user(session, b, Role.MANAGER),
        "category": Category(name="Centrifuges"),
    }


def asset_form(**overrides):
    data = {
        "tag": "CHEM-0100",
        "name": "Benchtop centrifuge",
        "category_id": 0,
        "location_id": 0,
        "contact_id": 0,
        "manufacturer": "Eppendorf",
        "model": "5810 R",
        "serial_number": "SN-1",
        "description": "Refrigerated.",
        "purchase_date": "2022-03-01",
        "purchase_cost": "12,499.99",
        "funding_source": "EPSRC EP/X000001/1",
        "hourly_rate": "7.50",
        "bookable": "y",
        "shareable": "y",
        "min_notice_minutes": "60",
        "max_booking_minutes": "240",
        "turnaround_minutes": "15",
    }
    for day in range(7):
        data[f"hours-{day}-opens"] = "09:00" if day < 5 else ""
        data[f"hours-{day}-closes"] = "17:00" if day < 5 else ""
    data.update(overrides)
    return data


def test_a_manager_adds_an_asset_with_every_field_and_rule(client, session, schools):
    sign_in(client, schools["manager_a"].email)
    response = client.post(
        f"/schools/{schools['a'].id}/assets/new",
        data=asset_form(**{"hours-5-opens": "10:00", "hours-5-closes": "14:00"}),
    )
    assert response.status_code == 302, response.text
    asset = session.scalar(select(Asset).where(Asset.tag == "CHEM-0100"))
    assert asset.school_id == schools["a"].id
    assert (asset.purchase_cost_pence, asset.hourly_rate_pence) == (1249999, 750)
    assert asset.purchase_date == dt.date(2022, 3, 1)
    assert (asset.min_notice_minutes, asset.max_booking_minutes, asset.turnaround_minutes) == (60, 240, 15)
    assert asset.bookable and asset.shareable and not asset.requires_approval
    assert service.format_weekly_hours([(h.weekday, h.opens, h.closes) for h in asset.bookable_hours]) == (
        "Mon 09:00-17:00; Tue 09:00-17:00; Wed 09:00-17:00; Thu 09:00-17:00; Fri 09:00-17:00; Sat 10:00-14:00"
    )


def test_a_new_asset_form_defaults_to_weekday_office_hours(client, session, schools):
    sign_in(client, schools["manager_a"].email)
    page = client.get(f"/schools/{schools['a'].id}/assets/new").text
    assert page.count('value="09:00"') == 5 and page.count('value="17:00"') == 5


def test_bad_values_are_reported_beside_their_fields_and_nothing_is_saved(client, session, schools):
    make_asset(session, schools["b"], tag="TAKEN-1")
    sign_in(client, schools["manager_a"].email)
    response = client.post(
        f"/schools/{schools['a'].id}/assets/new",
        data=asset_form(
            tag="TAKEN-1",
            purchase_cost="twelve",
            turnaround_minutes="-5",
            **{"hours-0-opens": "18:00", "hours-1-closes": ""},
        ),
    )
    assert response.status_code == 400
    assert "is not an amount in pounds" in response.text
    assert "Use 0 or more minutes." in response.text
    assert "Tuesday: Give both the opening and closing time, or neither." in response.text
    ok_otherwise = client.post(
        f"/schools/{schools['a'].id}/assets/new", data=asset_form(tag="TAKEN-1", **{"hours-0-opens": "18:00"})
    )
    assert "already used by" in ok_otherwise.text
    assert "must open before it closes" in ok_otherwise.text
    assert session.scalar(select(func.count(Asset.id))) == 1


def test_a_manager_edits_rules_and_the_change_is_audited(client, session, schools):
    asset = make_asset(session, schools["a"], tag="CHEM-0100")
    sign_in(client, schools["manager_a"].email)
    form = asset_form(requires_approval="y", training_required="y", max_booking_minutes="")
    assert client.post(f"/assets/{asset.id}/edit", data=form).status_code == 302
    see_committed(session)
    asset = session.get(Asset, asset.id)
    assert asset.requires_approval and asset.training_required and asset.max_booking_minutes is None
    entry = session.scalars(
        select(AuditEntry).where(AuditEntry.object_id == asset.id, AuditEntry.action == "updated")
    ).all()[-1]
    assert entry.actor_id == schools["manager_a"].id
    page = client.get(f"/assets/{asset.id}").text
    assert "Change history" in page and "requires approval" in page


def test_status_changes_need_a_reason_and_retiring_keeps_the_asset(client, session, schools):
    asset = make_asset(session, schools["a"])
    booking = make_booking(session, asset, schools["manager_a"], dt.datetime(2030, 1, 7, 10, tzinfo=UTC))
    sign_in(client, schools["manager_a"].email)
    client.post(f"/assets/{asset.id}/status", data={"status": "maintenance", "reason": ""})
    see_committed(session)
    assert session.get(Asset, asset.id).status == AssetStatus.AVAILABLE
    retire = {"status": "retired", "reason": "Replaced by a newer model"}
    # Retiring ends the bookings to come (issue 14, point 3): the page first says how many.
    first = client.post(f"/assets/{asset.id}/status", data=retire)
    assert "This will cancel 1 confirmed booking and reject 0 requests." in first.text
    see_committed(session)
    assert session.get(Asset, asset.id).status == AssetStatus.AVAILABLE
    client.post(f"/assets/{asset.id}/status", data=retire | {"affected_confirmed": "1"})
    see_committed(session)
    retired = session.get(Asset, asset.id)
    assert retired.status == AssetStatus.RETIRED and retired.retired_at is not None
    assert retired.status_reason == "Replaced by a newer model"
    assert session.get(type(booking), booking.id).status.value == "cancelled"


def test_an_asset_with_bookings_is_never_hard_deleted(client, session, schools):
    asset = make_asset(session, schools["a"])
    make_booking(session, asset, schools["manager_a"], dt.datetime(2030, 1, 7, 10, tzinfo=UTC))
    sign_in(client, schools["manager_a"].email)
    response = client.post(f"/assets/{asset.id}/delete", follow_redirects=True)
    assert "cannot be deleted" in response.text
    see_committed(session)
    assert session.get(Asset, asset.id) is not None


def test_an_asset_entered_by_mistake_can_be_deleted(client, session, schools):
    asset_id = make_asset(session, schools["a"]).id
    sign_in(client, schools["manager_a"].email)
    assert client.post(f"/assets/{asset_id}/delete").status_code == 302
    see_committed(session)
    assert session.scalar(select(Asset).where(Asset.id == asset_id)) is None


def test_a_manager_of_another_school_can_neither_see_the_forms_nor_change_anything(client, session, schools):
    asset = make_asset(session, schools["b"], name="Physics laser")
    before = (asset.name, asset.status)
    sign_in(client, schools["manager_a"].email)
    page = client.get(f"/assets/{asset.id}").text
    assert (
        "Edit details and rules" not in page and "Change status" not in page and "Change history" not in page
    )
    assert client.get(f"/assets/{asset.id}/edit").status_code == 403
    assert (
        client.post(f"/assets/{asset.id}/edit", data=asset_form(tag=asset.tag, name="Hijacked")).status_code
        == 403
    )
    assert (
        client.post(f"/assets/{asset.id}/status", data={"status": "retired", "reason": "x"}).status_code
        == 403
    )
    assert client.post(f"/assets/{asset.id}/delete").status_code == 403
    assert client.get(f"/schools/{schools['b'].id}/assets/new").status_code == 403
    assert client.post(f"/schools/{schools['b'].id}/assets/new", data=asset_form()).status_code == 403
    assert client.get(f"/register?school={schools['b'].id}").status_code == 403
    see_committed(session)
    asset = session.get(Asset, asset.id)
    assert (asset.name, asset.status) == before
    assert session.scalar(select(func.count(Asset.id))) == 1


def test_the_register_shows_only_the_managers_schools_including_retired(client, session, schools):
    make_asset(session, schools["a"], name="Our retired scope", status=AssetStatus.RETIRED)
    make_asset(session, schools["b"], name="Their scope")
    sign_in(client, schools["manager_a"].email)
    page = client.get("/register").text
    assert "Our retired scope" in page and "Their scope" not in page


def test_technicians_cannot_open_the_register(client, session, schools):
    sign_in(client, make_user(session, schools["a"]).email)
    assert client.get("/register").status_code == 403


def test_the_asset_page_shows_every_field_rules_and_the_next_two_weeks(client, session, schools):
    location = Location(school=schools["a"], building="Dalton", room="1.01", site="North campus")
    session.add(location)
    asset = make_asset(
        session,
        schools["a"],
        name="Confocal",
        manufacturer="Zeiss",
        model="LSM 980",
        serial_number="Z-77",
        description="Four lasers.",
        location=location,
        category=schools["category"],
        contact=schools["manager_a"],
        hourly_rate_pence=4500,
        min_notice_minutes=1440,
        max_booking_minutes=240,
        turnaround_minutes=30,
    )
    booker = make_user(session, schools["b"], name="Visiting Researcher")
    tomorrow = dt.datetime.now(UTC).replace(hour=10, minute=0, second=0, microsecond=0) + dt.timedelta(days=1)
    make_booking(session, asset, booker, tomorrow)
    technician = make_user(session, schools["a"])
    sign_in(client, technician.email)
    page = client.get(f"/assets/{asset.id}").text
    for text in (
        "Confocal",
        "Zeiss",
        "LSM 980",
        "Z-77",
        "Four lasers.",
        "Dalton, 1.01, North campus",
        "Centrifuges",
        "£45.00",
        "1 day",
        "4 hours",
        "30 minutes",
        "Monday 09:00–17:00",
        "The next two weeks",
    ):
        assert text in page, text
    assert "Booked" in page and "Visiting Researcher" not in page  # not the viewer's to know
    client.post("/sign-out")
    sign_in(client, schools["manager_a"].email)
    assert "Visiting Researcher" in client.get(f"/assets/{asset.id}").text


def test_an_unknown_asset_is_a_404(client, session, schools):
    sign_in(client, schools["manager_a"].email)
    assert client.get("/assets/99999").status_code == 404
    assert client.get("/assets/99999/edit").status_code == 404


def test_managers_add_categories(client, session, schools):
    sign_in(client, schools["manager_a"].email)
    client.post("/categories", data={"name": "Spectrometers"})
    duplicate = client.post("/categories", data={"name": "spectrometers"}, follow_redirects=True)
    assert "already a category called spectrometers" in duplicate.text
    assert session.scalar(select(func.count(Category.id)).where(Category.name == "Spectrometers")) == 1


def test_weekly_hours_round_trip_through_text():
    hours = service.parse_weekly_hours("Mon 09:00-17:00; sat 8:30-12:00")
    assert service.format_weekly_hours(hours) == "Mon 09:00-17:00; Sat 08:30-12:00"
    with pytest.raises(ValueError):
        service.parse_weekly_hours("Funday 09:00-17:00")
    with pytest.raises(ValueError):
        service.parse_weekly_hours("Mon 25:00-26:00")
