"""A loan from request to approval, and a clash, in a real browser."""

from accounts.models import Role
from tests.conftest import PASSWORD
from tests.e2e.conftest import screenshot, serious_accessibility_violations, sign_in_as
from tests.factories import make_asset, make_school, make_user


def test_a_technician_requests_another_schools_asset_and_its_manager_approves_it(new_page, session):
    chem, phys = (
        make_school(session, "CHEM", "School of Chemistry"),
        make_school(session, "PHYS", "School of Physics"),
    )
    technician = make_user(session, chem, name="Chloe Chemist")
    rival = make_user(session, chem, name="Rory Rival")
    manager = make_user(session, phys, Role.MANAGER, name="Pavel Physics")
    make_asset(session, phys, name="Oscilloscope Tektronix MDO34", manufacturer="Tektronix")

    page = new_page()
    sign_in_as(page, technician.email, PASSWORD)
    page.get_by_role("link", name="Find equipment").click()
    page.get_by_label("Search", exact=True).fill("tektronix")
    page.get_by_role("button", name="Search").click()
    screenshot(page, "catalogue")
    assert "Your booking would need approval from PHYS (a loan request)" in page.content()
    page.get_by_role("link", name="Oscilloscope Tektronix MDO34").click()
    screenshot(page, "asset")
    page.get_by_role("link", name="Book (request)").click()
    page.get_by_label("Start").fill("2030-01-07T10:00")
    page.get_by_label("End").fill("2030-01-07T12:00")
    page.get_by_label("What is it for?").fill("Characterising a filter board")
    screenshot(page, "booking-form")
    page.get_by_role("button", name="Request booking").click()
    assert "a manager of PHYS will approve or reject it" in page.content()
    assert "Pending" in page.locator(".lead").inner_text()

    manager_page = new_page()
    sign_in_as(manager_page, manager.email, PASSWORD)
    screenshot(manager_page, "manager-home")
    manager_page.get_by_role("link", name="Approvals").click()
    screenshot(manager_page, "approvals")
    assert "Characterising a filter board" in manager_page.content()
    manager_page.get_by_role("link", name="Decide on Chloe Chemist's request").click()
    manager_page.get_by_role("link", name="Approve…").click()
    manager_page.get_by_role("button", name="Approve").click()
    assert "Approved Chloe Chemist's booking" in manager_page.content()

    page.reload()
    assert "Confirmed" in page.locator(".lead").inner_text()

    rival_page = new_page()
    sign_in_as(rival_page, rival.email, PASSWORD)
    rival_page.goto(page.url.rsplit("/bookings", 1)[0] + "/catalogue?q=tektronix")
    rival_page.get_by_role("link", name="Oscilloscope Tektronix MDO34").click()
    rival_page.get_by_role("link", name="Book (request)").click()
    rival_page.get_by_label("Start").fill("2030-01-07T11:00")
    rival_page.get_by_label("End").fill("2030-01-07T12:00")
    rival_page.get_by_label("What is it for?").fill("Quick check")
    rival_page.get_by_role("button", name="Request booking").click()
    content = rival_page.content()
    assert "This booking cannot be made" in content and "It overlaps another booking" in content
    assert "Free at these times instead" in content
    screenshot(rival_page, "booking-refused")
    rival_page.get_by_role("button", name="Mon 07 Jan 2030, 12:00 to 13:00").first.click()
    assert rival_page.get_by_label("Start").input_value() == "2030-01-07T12:00"
    assert rival_page.get_by_label("What is it for?").input_value() == "Quick check"


def test_the_sign_in_form_works_with_the_keyboard_alone(new_page, session):
    user = make_user(session, make_school(session), name="Kim Keyboard")
    page = new_page()
    page.goto("/sign-in")
    page.keyboard.press("Tab")  # the skip link comes first
    assert page.evaluate("document.activeElement.textContent").strip() == "Skip to main content"
    page.get_by_label("Email address").focus()
    page.keyboard.type(user.email)
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url("**/")
    assert "Hello, Kim Keyboard" in page.content()


def test_form_errors_are_announced_and_tied_to_their_fields(new_page, session):
    page = new_page()
    page.goto("/sign-in")
    page.get_by_role("button", name="Sign in").click()
    summary = page.get_by_role("alert")
    assert "There is a problem" in summary.inner_text()
    email = page.get_by_label("Email address")
    assert email.get_attribute("aria-invalid") == "true"
    described_by = email.get_attribute("aria-describedby")
    assert "Enter your email address." in page.locator(f"#{described_by}").inner_text()
    assert serious_accessibility_violations(page) == []
