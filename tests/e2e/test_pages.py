"""Every main page: no serious or critical axe-core violations, on a desktop and on a phone,
with a screenshot of each kept in test-output/screenshots/ for people to look at."""

import datetime as dt

import pytest

from accounts.models import Role
from bookings import service as bookings
from inventory.models import Category, Location
from tests.conftest import PASSWORD
from tests.e2e.conftest import screenshot, serious_accessibility_violations, sign_in_as
from tests.factories import make_asset, make_school, make_user

UTC = dt.UTC
NOW = dt.datetime(2029, 12, 28, 12, tzinfo=UTC)


@pytest.fixture
def campus(session):
    chem, phys = (
        make_school(session, "CHEM", "School of Chemistry"),
        make_school(session, "PHYS", "School of Physics"),
    )
    location = Location(school=chem, building="Dalton Building", room="1.04", site="Main campus")
    category = Category(name="Microscopes", description="Light and electron microscopes")
    session.add_all([location, category])
    session.commit()  # before the commands below, which each open their own unit of work
    people = {
        "technician": make_user(session, chem, name="Chloe Chemist"),
        "manager": make_user(session, chem, Role.MANAGER, name="Carla Manager"),
        "finance": make_user(session, chem, Role.FINANCE, name="Fin Ance"),
        "admin": make_user(session, phys, Role.ADMIN, name="Ada Admin"),
    }
    scope = make_asset(
        session,
        chem,
        name="Confocal microscope",
        manufacturer="Zeiss",
        model="LSM 980",
        location=location,
        category=category,
        description="Four lasers and an Airyscan detector.",
    )
    printer = make_asset(session, phys, name="Ultimaker S5")
    booking = bookings.request_booking(
        session,
        people["technician"],
        scope.id,
        dt.datetime(2030, 1, 7, 10, tzinfo=UTC),
        dt.datetime(2030, 1, 7, 12, tzinfo=UTC),
        "Imaging",
        NOW,
    )
    bookings.request_booking(
        session,
        people["technician"],
        printer.id,
        dt.datetime(2030, 1, 8, 10, tzinfo=UTC),
        dt.datetime(2030, 1, 8, 12, tzinfo=UTC),
        "Printing a part",
        NOW,
    )
    return {"people": people, "scope": scope, "booking": booking, "chem": chem}


PAGES = {
    "technician": [
        "/",
        "/catalogue",
        "/assets/{scope}",
        "/assets/{scope}/book",
        "/assets/{scope}/week",
        "/bookings",
        "/bookings/{booking}",
        "/profile",
        "/schools",
    ],
    "manager": [
        "/",
        "/approvals",
        "/register",
        "/assets/{scope}",
        "/assets/{scope}/edit",
        "/assets/{scope}/maintenance",
        "/assets/{scope}/inspections",
        "/assets/{scope}/training",
        "/schools/{chem}",
        "/schools/{chem}/import",
        "/labels",
    ],
    "finance": ["/"],
    "admin": ["/", "/admin/users", "/admin/users/new", "/schools"],
}


def test_the_sign_in_page_is_accessible_on_desktop_and_phone(new_page, session):
    for viewport in ("desktop", "phone"):
        page = new_page(viewport)
        page.goto("/sign-in")
        screenshot(page, "sign-in")
        assert serious_accessibility_violations(page) == []


@pytest.mark.parametrize("role", list(PAGES))
def test_main_pages_have_no_serious_accessibility_violations(new_page, session, campus, role):
    ids = {"scope": campus["scope"].id, "booking": campus["booking"].id, "chem": campus["chem"].id}
    failures = {}
    for viewport in ("desktop", "phone"):
        page = new_page(viewport)
        sign_in_as(page, campus["people"][role].email, PASSWORD)
        for path in PAGES[role]:
            url = path.format(**ids)
            response = page.goto(url)
            assert response.status == 200, url
            screenshot(page, f"{role}{url.replace('/', '_') or '_home'}")
            violations = serious_accessibility_violations(page)
            if violations:
                failures[f"{viewport} {url}"] = violations
    assert failures == {}


#: The forms people fill in most, by who fills them in.
KEYBOARD_FORMS = {
    "technician": ["/assets/{scope}/book", "/profile"],
    "manager": [
        "/assets/{scope}/edit",
        "/assets/{scope}/maintenance",
        "/assets/{scope}/training",
        "/schools/{chem}/import",
    ],
}

#: What identifies a form control as the Tab key reaches it; a radio group is one stop.
CONTROL_KEY = """e => e.type === 'radio' ? 'radio:' + e.name
    : (e.id || e.name || (e.textContent || '').trim() || e.value)"""


@pytest.mark.parametrize("role", list(KEYBOARD_FORMS))
def test_every_control_of_the_main_forms_is_reached_with_the_tab_key(new_page, session, campus, role):
    ids = {"scope": campus["scope"].id, "chem": campus["chem"].id}
    page = new_page()
    sign_in_as(page, campus["people"][role].email, PASSWORD)
    for path in KEYBOARD_FORMS[role]:
        url = path.format(**ids)
        assert page.goto(url).status == 200, url
        wanted = set(
            page.eval_on_selector_all(
                "main form :is(input:not([type=hidden]), select, textarea, button):not([disabled])",
                f"els => els.filter(e => e.offsetParent !== null).map({CONTROL_KEY})",
            )
        )
        assert wanted, url
        reached = set()
        # Well past the form (the page's links come too); a time input takes a Tab for its hours and one for its minutes.
        for _ in range(len(wanted) * 4 + 40):
            page.keyboard.press("Tab")
            key = page.evaluate(
                f"() => {{ const e = document.activeElement; return e && e.closest('main form') ? ({CONTROL_KEY})(e) : null; }}"
            )
            if key:
                reached.add(key)
            if reached >= wanted:
                break
        assert wanted - reached == set(), f"{url}: not reached with Tab: {sorted(wanted - reached)}"
