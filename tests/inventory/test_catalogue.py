"""The cross-School catalogue: search, every filter, sorting and pagination."""

import datetime as dt

import pytest

from bookings.models import BookingStatus
from inventory.catalogue import CatalogueFilters, parse_filters, search
from inventory.models import AssetStatus, Category, Location, MaintenanceWindow
from tests.conftest import sign_in
from tests.factories import make_asset, make_booking, make_school, make_user

UTC = dt.UTC
MONDAY_10 = dt.datetime(2030, 1, 7, 10, tzinfo=UTC)


@pytest.fixture
def world(session):
    chem, phys = make_school(session, "CHEM"), make_school(session, "PHYS")
    microscopes, printers = Category(name="Microscopes"), Category(name="3D printers")
    chem_lab = Location(school=chem, building="Dalton", room="1.01")
    phys_lab = Location(school=phys, building="Rutherford", room="B12")
    session.add_all([microscopes, printers, chem_lab, phys_lab])
    assets = {
        "confocal": make_asset(
            session,
            chem,
            name="Confocal microscope",
            manufacturer="Zeiss",
            model="LSM 980",
            category=microscopes,
            location=chem_lab,
        ),
        "sem": make_asset(
            session,
            chem,
            name="Scanning electron microscope",
            description="Tabletop SEM for 50%_samples",
            category=microscopes,
            location=chem_lab,
            shareable=False,
        ),
        "printer": make_asset(
            session,
            phys,
            name="Ultimaker S5",
            manufacturer="Ultimaker",
            category=printers,
            location=phys_lab,
            requires_approval=True,
        ),
        "broken": make_asset(
            session,
            phys,
            name="Old microscope",
            category=microscopes,
            location=phys_lab,
            status=AssetStatus.OUT_OF_SERVICE,
        ),
        "retired": make_asset(
            session, phys, name="Retired microscope", category=microscopes, status=AssetStatus.RETIRED
        ),
        "hidden": make_asset(
            session, phys, name="Not bookable microscope", category=microscopes, bookable=False
        ),
    }
    user = make_user(session, chem)
    return {
        "chem": chem,
        "phys": phys,
        "user": user,
        "microscopes": microscopes,
        "phys_lab": phys_lab,
        **assets,
    }


def names(page):
    return sorted(asset.name for asset in page.items)


def test_the_catalogue_lists_bookable_assets_of_every_school_and_hides_retired_and_unbookable(session, world):
    page = search(session, world["user"], CatalogueFilters())
    assert names(page) == [
        "Confocal microscope",
        "Old microscope",
        "Scanning electron microscope",
        "Ultimaker S5",
    ]


@pytest.mark.parametrize(
    "q, expected",
    [
        ("confocal", ["Confocal microscope"]),  # name
        ("ZEISS", ["Confocal microscope"]),  # manufacturer, any case
        ("lsm 980", ["Confocal microscope"]),  # model, every word must match
        ("tabletop", ["Scanning electron microscope"]),  # description
        ("PHYS-", ["Old microscope", "Ultimaker S5"]),  # asset tag
        ("50%_", ["Scanning electron microscope"]),  # LIKE wildcards are plain text
        ("'; DROP TABLE assets; --", []),  # SQL metacharacters are plain text
    ],
)
def test_free_text_search(session, world, q, expected):
    assert names(search(session, world["user"], CatalogueFilters(q=q))) == expected


def test_filter_by_school_category_location_and_status(session, world):
    user = world["user"]
    assert names(search(session, user, CatalogueFilters(school_id=world["phys"].id))) == [
        "Old microscope",
        "Ultimaker S5",
    ]
    assert "Ultimaker S5" not in names(
        search(session, user, CatalogueFilters(category_id=world["microscopes"].id))
    )
    assert names(search(session, user, CatalogueFilters(location_id=world["phys_lab"].id))) == [
        "Old microscope",
        "Ultimaker S5",
    ]
    assert names(search(session, user, CatalogueFilters(status=AssetStatus.OUT_OF_SERVICE))) == [
        "Old microscope"
    ]


def test_shareable_with_my_school_keeps_my_schools_own_unshared_kit(session, world):
    chem_user = world["user"]
    phys_user = make_user(session, world["phys"])
    assert "Scanning electron microscope" in names(
        search(session, chem_user, CatalogueFilters(shareable_with_me=True))
    )
    assert "Scanning electron microscope" not in names(
        search(session, phys_user, CatalogueFilters(shareable_with_me=True))
    )


def test_free_from_to_excludes_booked_maintained_and_unavailable_assets(session, world):
    user = world["user"]
    make_booking(session, world["confocal"], user, MONDAY_10, hours=2)  # 10:00-12:00
    make_booking(session, world["printer"], user, MONDAY_10, hours=2, status=BookingStatus.CANCELLED)
    session.add(
        MaintenanceWindow(asset=world["sem"], start_at=MONDAY_10, end_at=MONDAY_10 + dt.timedelta(days=1))
    )
    session.commit()
    window = CatalogueFilters(
        free_from=MONDAY_10 + dt.timedelta(hours=1), free_to=MONDAY_10 + dt.timedelta(hours=3)
    )
    assert names(search(session, user, window)) == ["Ultimaker S5"]  # old microscope is out of service
    # Half-open: free from the moment the booking ends.
    after = CatalogueFilters(
        free_from=MONDAY_10 + dt.timedelta(hours=2), free_to=MONDAY_10 + dt.timedelta(hours=3)
    )
    assert "Confocal microscope" in names(search(session, user, after))


def test_free_window_respects_turnaround(session, world):
    user = world["user"]
    asset = make_asset(session, world["chem"], name="Centrifuge", turnaround_minutes=30)
    make_booking(session, asset, user, MONDAY_10, hours=1)  # blocked until 11:30
    during = CatalogueFilters(
        q="centrifuge",
        free_from=MONDAY_10 + dt.timedelta(minutes=75),
        free_to=MONDAY_10 + dt.timedelta(hours=2),
    )
    assert names(search(session, user, during)) == []


def test_sorting(session, world):
    user = world["user"]
    by_name = [a.name for a in search(session, user, CatalogueFilters(sort="name")).items]
    assert by_name == sorted(by_name)
    by_school = [a.school.code for a in search(session, user, CatalogueFilters(sort="school")).items]
    assert by_school == ["CHEM", "CHEM", "PHYS", "PHYS"]
    newest = search(session, user, CatalogueFilters(sort="newest")).items
    assert newest[0].id > newest[-1].id


def test_pagination_past_page_one(session):
    school = make_school(session)
    user = make_user(session, school)
    for n in range(45):
        make_asset(session, school, name=f"Pipette {n:02d}")
    first = search(session, user, CatalogueFilters(per_page=20, page=1))
    third = search(session, user, CatalogueFilters(per_page=20, page=3))
    assert first.total == third.total == 45
    assert first.pages == 3 and first.has_next and not first.has_previous
    assert [a.name for a in third.items] == [
        "Pipette 40",
        "Pipette 41",
        "Pipette 42",
        "Pipette 43",
        "Pipette 44",
    ]
    assert not third.has_next


def test_bad_filter_values_are_reported_not_fatal():
    filters, problems = parse_filters(
        {"status": "lost", "sort": "price", "free_from": "2030-01-07T10:00", "page": "x"}
    )
    assert (
        filters.status is None and filters.sort == "name" and filters.free_from is None and filters.page == 1
    )
    assert any("not a status" in p for p in problems)
    assert any("both a start and an end" in p for p in problems)


def test_free_times_are_read_in_local_time():
    filters, problems = parse_filters({"free_from": "2030-07-01T09:00", "free_to": "2030-07-01T10:00"})
    assert problems == []
    assert filters.free_from == dt.datetime(2030, 7, 1, 8, tzinfo=UTC)  # BST


def test_the_catalogue_page_shows_school_status_and_approval_need(client, session, world):
    sign_in(client, world["user"].email)
    page = client.get("/catalogue?q=ultimaker").text
    assert "Ultimaker S5" in page and "School of Testing PHYS" in page
    assert "Available" in page
    assert "Your booking would need approval from PHYS (a loan request)" in page
    own = client.get("/catalogue?q=confocal").text
    assert "You can book this straight away" in own


def test_the_catalogue_page_links_to_the_next_page_keeping_the_filters(client, session):
    school = make_school(session)
    user = make_user(session, school)
    for n in range(25):
        make_asset(session, school, name=f"Balance {n:02d}")
    sign_in(client, user.email)
    page1 = client.get("/catalogue?q=balance").text
    assert "Page 1 of 2" in page1
    assert "q=balance" in page1 and "page=2" in page1
    page2 = client.get("/catalogue?q=balance&page=2").text
    assert "Balance 24" in page2 and "Balance 00" not in page2


def test_the_catalogue_needs_sign_in(client, session):
    assert client.get("/catalogue").status_code == 302


def test_the_window_searched_for_is_carried_to_the_asset_page_and_its_booking_form(client, session, world):
    sign_in(client, world["user"].email)
    page = client.get(
        "/catalogue", query_string={"free_from": "2030-07-01T10:00", "free_to": "2030-07-01T12:00"}
    ).text
    confocal = world["confocal"].id
    # Summer: London is UTC+1, and the window is carried in local time, as it was typed.
    assert f'href="/assets/{confocal}?start=2030-07-01T10:00&amp;end=2030-07-01T12:00"' in page
    assert (
        f'href="/assets/{confocal}/book?start=2030-07-01T10:00&amp;end=2030-07-01T12:00">Book for this time'
        in page
    )
    assert (
        f'href="/assets/{world["sem"].id}/book?' in page
    )  # the SEM is CHEM's own: bookable by this CHEM user
    assert f'href="/assets/{world["printer"].id}/book?' in page
    asset_page = client.get(f"/assets/{confocal}?start=2030-07-01T10:00&end=2030-07-01T12:00").text
    assert f'href="/assets/{confocal}/book?start=2030-07-01T10:00&amp;end=2030-07-01T12:00"' in asset_page
    form = client.get(f"/assets/{confocal}/book?start=2030-07-01T10:00&end=2030-07-01T12:00").text
    assert 'value="2030-07-01T10:00"' in form and 'value="2030-07-01T12:00"' in form


def test_a_window_not_shareable_with_me_offers_no_booking_link(client, session, world):
    other = make_user(session, world["phys"])
    sign_in(client, other.email)
    page = client.get(
        "/catalogue", query_string={"free_from": "2030-07-01T10:00", "free_to": "2030-07-01T12:00"}
    ).text
    assert f'href="/assets/{world["sem"].id}/book?' not in page
    assert f'href="/assets/{world["printer"].id}/book?' in page


@pytest.mark.parametrize(
    "start, end",
    [
        ("2030-07-01T12:00", "2030-07-01T10:00"),
        ("soon", "later"),
        ("2030-07-01T10:00+05:00", "2030-07-01T12:00"),
        ("", ""),
    ],
)
def test_an_unreadable_window_is_not_handed_on(client, session, world, start, end):
    sign_in(client, world["user"].email)
    asset_page = client.get(f"/assets/{world['confocal'].id}", query_string={"start": start, "end": end}).text
    assert f'href="/assets/{world["confocal"].id}/book"' in asset_page
